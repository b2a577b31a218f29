"""`bmr stage --dry-run` (what would happen, nothing written) and `--bwlimit` (a token bucket in the copy engine,
measured on the in-memory backend, also across a resume after a cut link)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from restore.cli.app import app
from restore.demo.sample import PointSpec, VolumeSpec, write_tree
from restore.staging.transfer import CHUNK, PARTIAL_SUFFIX, FileJob, RateLimit, Transfer
from restore.units import parse_rate
from share.memory import Faults, MemoryBackend, MemoryStore
from tests.lib.memory import one_file
from tests.lib.servers import SambaServer

runner = CliRunner()
MiB = 1024 * 1024


def _no_sleep(_seconds: float) -> None:
    pass


@pytest.mark.parametrize("verify", [False, True])
def test_bwlimit_paces_copy_and_read_back(verify: bool) -> None:
    size, rate = 2 * CHUNK, 32 * MiB  # 8 MiB at 32 MiB/s: 0.25 s a pass
    data = os.urandom(size)
    moved: dict[str, int] = {}

    def record(phase: str, count: int) -> None:
        moved[phase] = moved.get(phase, 0) + count

    engine = Transfer(one_file(data), MemoryBackend(), verify=verify, bwlimit=rate, sleep=_no_sleep, progress=record)
    began = time.monotonic()
    engine.copy(FileJob("image.vhdx", "out.vhdx", size))
    elapsed = time.monotonic() - began
    # Every pass over the wire is paced: the copy, the read-back, and the source read again where its time stamps
    # cannot prove it unchanged (the memory backend has none).
    assert moved["copy"] == size and moved.get("verify", 0) == (size if verify else 0)
    expected = sum(moved.values()) / rate
    assert 0.85 * expected <= elapsed <= 1.5 * expected + 0.2, (elapsed, expected, moved)


def test_bwlimit_holds_across_a_resume() -> None:
    size, rate = 3 * CHUNK, 48 * MiB
    data = os.urandom(size)
    target = MemoryBackend(MemoryStore(faults=Faults(cut_after=CHUNK + 7, cuts=1)))
    engine = Transfer(one_file(data), target, verify=False, bwlimit=rate, sleep=_no_sleep)
    began = time.monotonic()
    engine.copy(FileJob("image.vhdx", "out.vhdx", size))
    elapsed = time.monotonic() - began
    assert target.store.faults.cuts_done == 1 and bytes(target.store.files["out.vhdx"]) == data
    assert 0.85 * size / rate <= elapsed <= 1.5 * (size + 2 * CHUNK) / rate + 0.2, elapsed


def test_the_bucket_never_sleeps_long_at_once() -> None:
    now = [0.0]
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        now[0] += seconds

    bucket = RateLimit(1024.0, clock=lambda: now[0], sleep=sleep)
    bucket.take(10 * 1024)
    assert max(naps) <= RateLimit.MAX_SLEEP and abs(sum(naps) - 10.0) < 1e-6


@pytest.mark.parametrize(
    ("text", "rate"), [("50M", 50 * MiB), ("1.5G", 1.5 * 1024**3), ("800K", 800 * 1024), ("1000", 1000.0),
                       ("50MiB/s", 50 * MiB), ("2mb", 2 * MiB)],
)  # fmt: skip
def test_rates(text: str, rate: float) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("bad", ["fast", "0", "-5M", "5T", "", "inf"])
def test_a_bad_rate_is_a_usage_error(bad: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["stage", str(tmp_path), str(tmp_path), "--bwlimit", bad, "--json"])
    assert result.exit_code == 2 and "--bwlimit" in json.loads(result.stdout)["error"]["message"]


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    spec = PointSpec(volumes=[VolumeSpec("", "EFI", virtual_mb=100), VolumeSpec("C:", "System", virtual_mb=200)])
    spec.pad_mb = 9
    write_tree(tmp_path / "src", {"DC01": spec})
    return tmp_path / "src"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_bwlimit_through_the_cli(sample: Path, tmp_path: Path) -> None:
    target = tmp_path / "paced"
    target.mkdir()
    total = sum(p.stat().st_size for p in _files(sample))
    rate = 2 * total  # copy + read-back: about one second
    result = runner.invoke(app, ["stage", str(sample), str(target), "--bwlimit", str(rate), "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    seconds = json.loads(result.stdout)["seconds"]
    assert 0.85 <= seconds <= 3.0, seconds


def test_dry_run_writes_nothing_and_says_what_would_happen(sample: Path, tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    first = runner.invoke(app, ["stage", str(sample), str(target), "--dry-run", "--json"])
    assert first.exit_code == 0, first.stdout + first.stderr
    plan = json.loads(first.stdout)
    assert plan["dry_run"] and {f["action"] for f in plan["files"]} == {"copy"} and plan["refusals"] == []
    assert plan["bytes_to_write"] == plan["bytes_total"] > 0 and plan["space_needed"] > plan["bytes_to_write"]
    assert _files(target) == []  # not even the write test's file is left
    missing = runner.invoke(app, ["stage", str(sample), str(tmp_path / "new" / "folder"), "--dry-run"])
    assert missing.exit_code == 0 and "Nothing was copied." in missing.stdout
    assert not (tmp_path / "new").exists()
    # After a real run everything is there at full size: compared, not copied; a partial one is resumed.
    assert runner.invoke(app, ["stage", str(sample), str(target), "-q"]).exit_code == 0
    before = {p: p.stat().st_mtime_ns for p in _files(target)}
    big = max(_files(target), key=lambda p: p.stat().st_size)
    os.rename(big, str(big) + PARTIAL_SUFFIX)
    again = json.loads(runner.invoke(app, ["stage", str(sample), str(target), "--dry-run", "--json"]).stdout)
    actions = {f["path"]: f["action"] for f in again["files"]}
    assert actions.pop(str(big.relative_to(target))) == "resume" and set(actions.values()) == {"compare"}
    assert again["bytes_to_write"] == 0
    os.rename(str(big) + PARTIAL_SUFFIX, big)
    assert before == {p: p.stat().st_mtime_ns for p in _files(target)}


def test_dry_run_names_what_the_real_run_would_refuse(sample: Path, samba: SambaServer, password_env: str) -> None:
    result = runner.invoke(app, ["stage", str(sample), samba.url("small"), "--dry-run", "--password-env", password_env])
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "REFUSED:" in result.stdout and "free; this copy needs" in result.stdout
    assert not [p for p in samba.shares["small"].path.iterdir() if p.name != "lost+found"]
