"""`--json` holds for every way a command stops early: click's usage errors (a bad option value, a missing
argument, an unknown option), a bad location or version identifier, and Ctrl-C anywhere in the command."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from restore.cli import checklist as checklist_module
from restore.cli.app import app

runner = CliRunner()


def _error(args: list[str], code: int) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    output = result.stdout + result.stderr
    assert result.exit_code == code, output
    assert "Traceback" not in output and "Usage:" not in output
    error = json.loads(result.stdout)["error"]
    assert set(error) == {"type", "message", "hint", "retryable"}
    assert [line for line in result.stderr.splitlines() if line.startswith("bmr: ")], result.stderr
    return dict(error)


@pytest.mark.parametrize(
    ("args", "kind", "words"),
    [
        (["inspect", "/tmp", "--depth", "99"], "UsageError", "--depth"),
        (["inspect", "/tmp", "--depth", "deep"], "UsageError", "--depth"),
        (["stage", "/tmp"], "UsageError", "Missing argument"),
        (["probe"], "UsageError", "Missing argument"),
        (["probe", "/tmp", "--no-such-option"], "UsageError", "--no-such-option"),
        (["preflight", "/tmp", "--for", "everything"], "UsageError", "--for"),
        (["checklist", "/tmp", "--format", "docx"], "UsageError", "--format"),
        (["probe", "ftp://host/x"], "InvalidLocation", "ftp"),
        (["commands", "/tmp", "--version", "2020-10-04 17:48"], "UsageError", "MM/DD/YYYY-HH:MM"),
        (["versions", "/tmp", "--tz", "Mars/Olympus"], "UsageError", "IANA"),
    ],
)
def test_usage_errors_in_json(args: list[str], kind: str, words: str) -> None:
    error = _error(args, 2)
    assert error["type"] == kind and words in str(error["message"]) and error["retryable"] is False
    assert error["hint"]


def test_a_usage_error_without_json_is_one_line_and_a_hint() -> None:
    result = runner.invoke(app, ["inspect", "/tmp", "--depth", "99"])
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("bmr: error: ") and "--depth" in lines[0] and len(lines) == 2


def test_ctrl_c_outside_the_work_is_reported_in_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def interrupted(*_args: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(checklist_module, "render", interrupted)  # Ctrl-C while the runbook renders
    monkeypatch.setattr(checklist_module, "checklist_for", lambda *a: _FakeChecklist())
    error = _error(["checklist", str(tmp_path)], 130)
    assert error["type"] == "Interrupted" and "rerun" in str(error["hint"])


def test_ctrl_c_inside_the_work_is_reported_in_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(checklist_module, "checklist_for", interrupted)
    assert _error(["checklist", str(tmp_path)], 130)["type"] == "Interrupted"


class _FakeChecklist:
    runbook = SimpleNamespace(blocking=())


def test_a_real_ctrl_c_during_a_copy_is_reported_in_json(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from restore.demo.sample import PointSpec, VolumeSpec, write_tree

    spec = PointSpec(volumes=[VolumeSpec("", "EFI", virtual_mb=100), VolumeSpec("C:", "System", virtual_mb=200)])
    spec.pad_mb = 24
    write_tree(tmp_path / "src", {"DC01": spec})
    (tmp_path / "dst").mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "restore", "stage", str(tmp_path / "src"), str(tmp_path / "dst"), "--json",
         "--bwlimit", "4M"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list((tmp_path / "dst").rglob("*.bmr-partial")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert json.loads(out)["error"]["type"] == "Interrupted"
    assert "Traceback" not in err and "bmr: error: interrupted" in err and "rerun" in err.lower()
