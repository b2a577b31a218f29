"""Helpers of the staging-safety tests: trees holding several computers and points, and a hash of every file."""

from __future__ import annotations

import hashlib
import json
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
