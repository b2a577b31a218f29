"""Odd input anywhere on the command line ends in a message and a documented exit code, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from restore.cli.app import app

runner = CliRunner()

CASES = [
    ["probe", "\x00"], ["probe", "smb://"], ["probe", "smb://u@/s"], ["probe", "sftp://"], ["probe", "\\\\"],
    ["probe", "\\\\h"], ["inspect", "{tmp}", "--depth", "0"], ["probe", "{tmp}", "--timeout", "0"],
    ["versions", "{tmp}", "--tz", ""], ["verify", "memory://nope/"], ["probe", "memory://"],
    ["stage", "{tmp}", "{tmp}", "--bwlimit", "1e400"], ["stage", "{tmp}", "{tmp}", "--bwlimit", "nan"],
    ["stage", "{tmp}", "{tmp}", "--margin", "nan"], ["commands", "{tmp}", "--version", "13/45/2020-99:99"],
    ["probe", "smb://u@h/s", "--password-file", "/dev/null"], ["probe", "é://x"], ["drill", "/dev/null"],
    ["probe", "a" * 40000], ["preflight", "{tmp}", "--for", "bmr", "--stage-size", "-1"], ["verify", "{tmp}/a-file"],
]  # fmt: skip


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a)[:40])
def test_no_traceback(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    for extra in ([], ["--json"]):
        result = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in args] + extra)
        output = result.stdout + result.stderr
        assert result.exit_code in (1, 2, 3), output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in output and "bmr: error:" in result.stderr, output


def test_a_bug_is_a_message_and_a_logged_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from restore.cli import probe as probe_module

    def broken(*_args: object, **_kw: object) -> object:
        raise TypeError("unexpected None")

    monkeypatch.setattr(probe_module, "probe_location", broken)
    log_file = tmp_path / "bug.jsonl"
    result = runner.invoke(app, ["probe", str(tmp_path), "--json", "--log-file", str(log_file)])
    assert result.exit_code == 1 and "Traceback" not in result.stdout + result.stderr
    assert "InternalError" in result.stdout and "unexpected TypeError" in result.stderr
    assert "Traceback" in log_file.read_text() and "unexpected None" in log_file.read_text()
