"""What a copy says while it runs and afterwards: progress lines without a terminal, bars in binary units on one,
-q, -v, --log-file (JSON lines, library messages included, never on the terminal), and the copy rate."""

from __future__ import annotations

import io
import json
import logging
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from restore.cli import progress
from restore.cli.app import app
from restore.cli.progress import Counts, Tracker, progress_line
from restore.cli.text import format_stage
from restore.demo.sample import PointSpec, VolumeSpec, write_tree
from restore.staging import transfer
from restore.staging.stage import StageResult
from restore.staging.transfer import FileOutcome
from share import memory
from tests.lib.servers import SMB_PASSWORD

runner = CliRunner()


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    spec = PointSpec(volumes=[VolumeSpec("", "EFI", virtual_mb=100), VolumeSpec("C:", "System", virtual_mb=200)])
    spec.pad_mb = 9
    write_tree(tmp_path / "src", {"DC01": spec})
    return tmp_path / "src"


def test_without_a_terminal_progress_comes_as_lines(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    (tmp_path / "dst").mkdir()
    result = runner.invoke(app, ["stage", str(sample), str(tmp_path / "dst")])
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("bmr: ")]
    assert any(line.startswith("bmr: copying file 1/") for line in lines), result.stderr
    assert any(line.startswith("bmr: reading back file") for line in lines), result.stderr
    assert all("MiB" in line or "KiB" in line or " B " in line for line in lines)
    assert all("/s" in line and "ETA" in line and "elapsed" in line for line in lines)
    assert "MB/s" not in result.stderr  # one unit system: binary
    # -q: the result only.
    (tmp_path / "dst2").mkdir()
    quiet = runner.invoke(app, ["stage", str(sample), str(tmp_path / "dst2"), "-q"])
    assert quiet.exit_code == 0 and quiet.stderr == "" and "Staged DC01" in quiet.stdout


def test_a_progress_line_says_files_bytes_rate_and_eta() -> None:
    counts = Counts(files=12, bytes_total=4 * 2**30, file_index=3, settled=2**30, copied=2**30, copy_seconds=8.0)
    counts.started = 0.0
    line = progress_line(counts, now=10.0)
    # ETA: 3 GiB still to copy and 4 GiB to read back, both at the copy rate until a read-back rate is known.
    assert line == "bmr: copying file 3/12, 1.0 GiB of 4.0 GiB, 128.0 MiB/s, 10 s elapsed, ETA 56 s"
    counts.verifying = False  # --no-verify
    assert progress_line(counts, now=10.0).endswith("ETA 24 s")
    counts.verifying, counts.phase, counts.read_back, counts.verify_seconds = True, "verify", 2**30, 4.0
    assert progress_line(counts, now=10.0) == (
        "bmr: reading back file 3/12, 1.0 GiB of 4.0 GiB, 256.0 MiB/s, 10 s elapsed, ETA 36 s"
    )


def test_on_a_terminal_two_bars_in_binary_units_and_none_before_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    refused = Tracker(terminal=True, quiet=False)
    refused.close()  # a refusal comes before the plan: no bar at all
    assert capsys.readouterr().err == ""
    tracker = Tracker(terminal=True, quiet=False)
    tracker.on_plan(2, 8 * 2**20)
    tracker.on_file("a", 4 * 2**20)
    tracker.progress("copy", 4 * 2**20)
    tracker.progress("verify", 4 * 2**20)
    assert tracker.bars["copy"].n == 4 * 2**20 and tracker.bars["verify"].n == 4 * 2**20
    tracker.close()
    err = capsys.readouterr().err
    assert "read back 4.0 MiB/8.0 MiB" in err and "copy      4.0 MiB/8.0 MiB" in err and "file 1/2" in err
    assert "MB/s" not in err and "MB " not in err
    only = Tracker(terminal=True, quiet=False, phases=("verify",))  # bmr verify: a read-back bar alone
    only.on_plan(1, 2**20)
    only.progress("verify", 2**20)
    assert list(only.bars) == ["verify"]
    only.close()
    capsys.readouterr()


def test_the_copy_rate_divides_by_copy_time_only() -> None:
    copied = FileOutcome("a.vhdx", 2 * 2**20, "s", "b", 2 * 2**20, 0, True)
    reused = FileOutcome("b.vhdx", 50 * 2**20, "s", "b", 0, 50 * 2**20, True)
    result = StageResult(
        backup_target="t", machine="DC01", version=None, files=(copied, reused), bytes_total=52 * 2**20,
        seconds=60.0, verified=True, manifest="m", replaced=(), checks=(), copy_seconds=2.0,
    )  # fmt: skip
    text = format_stage(result, lambda words, colour: words)
    assert "copy rate: 1.0 MiB/s" in text and "elapsed: 60 s" in text and "copying: 2 s" in text
    nothing = StageResult(
        backup_target="t", machine="DC01", version=None, files=(reused,), bytes_total=50 * 2**20,
        seconds=60.0, verified=True, manifest="m", replaced=(), checks=(),
    )  # fmt: skip
    assert "copy rate: - (nothing copied)" in format_stage(nothing, lambda words, colour: words)


def test_log_file_holds_start_files_retries_library_messages_and_summary(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"t-{uuid.uuid4().hex[:8]}"
    memory.STORES[name] = memory.MemoryStore(faults=memory.Faults(cut_after=5 * 1024 * 1024))
    monkeypatch.setattr(transfer.Transfer, "_recover", _logged_recover)
    log_file = tmp_path / "run.jsonl"
    result = runner.invoke(app, ["stage", str(sample), f"memory://{name}/", "--log-file", str(log_file)])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "library says" not in result.stderr  # never on the terminal
    records = [json.loads(line) for line in log_file.read_text().splitlines()]
    events = [r["event"] for r in records]
    assert events[0] == "start" and events[-1] == "end" and "summary" in events
    assert "retry" in events and events.count("file") >= 5 and events.count("file done") == events.count("file")
    done = [r for r in records if r["event"] == "file done"]
    assert all(r["verified"] and r["copied"] + r["reused"] >= r["size"] for r in done)
    assert any(r["logger"].startswith("paramiko") and r["event"] == "library says" for r in records)
    summary = next(r for r in records if r["event"] == "summary")
    assert summary["result"]["machine"] == "DC01" and summary["result"]["copy_seconds"] > 0


_original_recover = transfer.Transfer._recover


def _logged_recover(self: transfer.Transfer, attempt: int, exc: object = None) -> None:
    logging.getLogger("paramiko.transport").error("library says")  # a library complaining during a retry
    self.sleep = lambda _s: None
    _original_recover(self, attempt, exc)  # type: ignore[arg-type]


def test_library_loggers_never_print_to_the_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from restore.cli import probe as probe_module

    def noisy(*_args: object, **_kw: object) -> object:
        logging.getLogger("smbprotocol.connection").error("Unknown NtStatus error returned")
        raise KeyboardInterrupt

    monkeypatch.setattr(probe_module, "probe_location", noisy)
    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    result = runner.invoke(app, ["probe", str(tmp_path)])
    assert result.exit_code == 130
    assert "NtStatus" not in result.stderr + result.stdout + stderr.getvalue()


def test_verbose_shows_the_raw_error_the_message_hides(tmp_path: Path) -> None:
    plain = runner.invoke(app, ["probe", str(tmp_path / "gone")])
    verbose = runner.invoke(app, ["probe", str(tmp_path / "gone"), "-v"])
    assert plain.exit_code == verbose.exit_code == 3
    assert "raw:" not in plain.stderr and "raw: builtins.FileNotFoundError" in verbose.stderr


def test_the_password_is_in_no_output_and_no_log(
    sample: Path, smb_folder: tuple[str, Path], password_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _disk = smb_folder
    log_file = tmp_path / "smb.jsonl"
    staged = runner.invoke(app, ["stage", str(sample), url, "--password-env", password_env, "-v", "--log-file",
                                 str(log_file)])  # fmt: skip
    monkeypatch.setenv("BMR_WRONG", "Wr0ng-" + SMB_PASSWORD)
    refused = runner.invoke(app, ["probe", url, "--password-env", "BMR_WRONG", "-v", "--log-file", str(log_file)])
    assert staged.exit_code == 0 and refused.exit_code == 3, staged.stdout + staged.stderr + refused.stderr
    logged = log_file.read_text()
    assert '"event": "summary"' in logged and "AuthenticationFailed" in logged
    for text in (staged.stdout, staged.stderr, refused.stdout, refused.stderr, logged):
        assert SMB_PASSWORD not in text


def test_a_drill_without_a_terminal_reports_servers_done(capsys: pytest.CaptureFixture[str]) -> None:
    now = [0.0]
    servers = progress.ServerProgress(terminal=False, quiet=False, clock=lambda: now[0])
    servers.on_count(3)
    servers.on_done(False)  # too soon for a line
    now[0] = 6.0
    servers.on_done(True)
    servers.on_done(False)  # the last one always gets its line
    servers.close()
    assert capsys.readouterr().err.splitlines() == [
        "bmr: 2/3 servers done, 1 failing, 6 s elapsed",
        "bmr: 3/3 servers done, 1 failing, 6 s elapsed",
    ]
    quiet = progress.ServerProgress(terminal=True, quiet=True)
    quiet.on_count(1)
    quiet.on_done(False)
    quiet.close()
    assert capsys.readouterr().err == ""
