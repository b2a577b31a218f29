"""Helpers of the staging-safety tests: trees holding several computers and points, and a hash of every file."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from restore.cli.app import app
from restore.demo.sample import PointSpec, write_machine
from tests.lib.servers import SMB_PASSWORD

runner = CliRunner()
OLD = datetime(2020, 10, 4, 17, 48, 38, tzinfo=UTC)
NEW = datetime(2021, 1, 1, tzinfo=UTC)


def two_computers(root: Path, *, points: tuple[datetime, ...] = (OLD, NEW)) -> Path:
    """``root/WindowsImageBackup`` with DC01 (one point per time in ``points``) and FS01 (one point)."""
    tree = root / "WindowsImageBackup"
    tree.mkdir(parents=True, exist_ok=True)
    for when in points:
        write_machine(tree, "DC01", PointSpec(when=when))
    write_machine(tree, "FS01", PointSpec(when=OLD))
    return root


def hashes(root: Path) -> dict[str, str]:
    """Every file below ``root`` (links not followed) -> its SHA-256; folders -> 'dir'."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            out[key] = "link"
        elif path.is_dir():
            out[key] = "dir"
        else:
            out[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def bmr(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    output = result.stdout + result.stderr
    assert SMB_PASSWORD not in output
    assert "Traceback" not in output, output
    return result.exit_code, output


def bmr_json(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    result = runner.invoke(app, [*args, "--json"], env=env)
    output = result.stdout + result.stderr
    assert SMB_PASSWORD not in output
    try:
        return result.exit_code, json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(output) from None


def force_keeps_everything_else(source: Path, target: str, disk: Path, *extra: str) -> None:
    """Stage FS01 to ``target`` (``disk`` is that folder on this machine), add an older DC01 point and a folder of
    the admin's, then stage DC01 with --force: only DC01's old point goes, the source and every other file of the
    target hash the same, FS01's proofs survive, and verify passes with nothing "extra"."""
    code, out = bmr("stage", str(source), target, "--machine", "FS01", *extra)
    assert code == 0, out
    write_machine(disk / "WindowsImageBackup", "DC01", PointSpec(when=OLD))
    (disk / "notes").mkdir()
    (disk / "notes" / "readme.txt").write_text("the admin's own file")
    src_before, dst_before = hashes(source), hashes(disk)
    code, data = bmr_json("stage", str(source), target, "--machine", "DC01", "--force", *extra)
    assert code == 0, data
    assert data["replaced"] == ["WindowsImageBackup/DC01/Backup 2020-10-04 174838"]
    assert hashes(source) == src_before
    after = hashes(disk)
    proofs = ("SHA256SUMS", "bmr-manifest.json")
    outside = {k: v for k, v in dst_before.items() if not k.startswith("WindowsImageBackup/DC01") and k not in proofs}
    assert {k: v for k, v in after.items() if k in outside} == outside  # every other file kept, unchanged
    assert not [k for k in after if k.startswith("WindowsImageBackup/DC01/Backup 2020")]
    check = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=disk, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    lines = (disk / "SHA256SUMS").read_text().splitlines()
    assert any("/FS01/" in line for line in lines) and any("/DC01/" in line for line in lines)
    code, result = bmr_json("verify", target, *extra)
    assert code == 0 and result["extra"] == [] and result["unmanaged"] == [], result
