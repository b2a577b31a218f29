"""`bmr verify` on a local folder and on a real Samba share: a clean copy passes; a flipped byte, a missing file
and an extra file are each named, exit 1, in text, JSON and JUnit."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from restore.cli.app import app
from restore.demo.sample import PointSpec, VolumeSpec, write_tree
from tests.lib.servers import SMB_PASSWORD

runner = CliRunner()


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    spec = PointSpec(volumes=[VolumeSpec("", "EFI", virtual_mb=100), VolumeSpec("C:", "System", virtual_mb=200)])
    spec.pad_mb = 3
    write_tree(tmp_path / "src", {"DC01": spec})
    return tmp_path / "src"


def _damage(disk: Path) -> tuple[str, str, str]:
    """Flip a byte in the largest image, delete a small file, add a stray one; their manifest paths."""
    files = sorted((p for p in (disk / "WindowsImageBackup").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    big, small = files[-1], files[0]
    data = bytearray(big.read_bytes())
    data[len(data) // 2] ^= 0x01
    big.write_bytes(bytes(data))
    small.unlink()
    stray = disk / "WindowsImageBackup" / "DC01" / "stray.txt"
    stray.write_text("not part of the point")
    return tuple(str(p.relative_to(disk)) for p in (big, small, stray))  # type: ignore[return-value]


def _check(location: str, disk: Path, tmp_path: Path, *extra: str) -> None:
    clean = runner.invoke(app, ["verify", location, "--json", *extra])
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    data = json.loads(clean.stdout)
    assert data["ok"] and data["checked"] > 5 and data["proofs"] == ["SHA256SUMS", "bmr-manifest.json"]
    flipped, gone, stray = _damage(disk)
    junit = tmp_path / "verify.xml"
    bad = runner.invoke(app, ["verify", location, "--json", "--junit", str(junit), *extra])
    assert bad.exit_code == 1, bad.stdout + bad.stderr
    data = json.loads(bad.stdout)
    assert data["missing"] == [gone] and data["extra"] == [stray]
    assert data["differing"] == [{"path": flipped, "reason": "SHA-256 differs"}]
    failures = {c.get("name") for c in ET.parse(junit).getroot().iter("testcase") if c.find("failure") is not None}
    assert failures == {"missing", "extra", "contents"}
    text = runner.invoke(app, ["verify", location, *extra])
    assert text.exit_code == 1 and f"missing:   {gone}" in text.stdout and f"differs:   {flipped}" in text.stdout
    assert SMB_PASSWORD not in bad.stdout + bad.stderr + text.stdout + text.stderr + junit.read_text()


def test_verify_local(sample: Path, tmp_path: Path) -> None:
    target = tmp_path / "staged"
    target.mkdir()
    assert runner.invoke(app, ["stage", str(sample), str(target), "-q"]).exit_code == 0
    _check(str(target), target, tmp_path)


def test_verify_smb(sample: Path, smb_folder: tuple[str, Path], password_env: str, tmp_path: Path) -> None:
    url, disk = smb_folder
    staged = runner.invoke(app, ["stage", str(sample), url, "-q", "--password-env", password_env])
    assert staged.exit_code == 0, staged.stdout + staged.stderr
    _check(url, disk, tmp_path, "--password-env", password_env)


def test_verify_without_a_manifest(tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", str(tmp_path), "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["error"]["type"] == "NothingToVerify"


def test_a_manifest_that_disagrees_with_the_sums_is_named(sample: Path, tmp_path: Path) -> None:
    target = tmp_path / "staged"
    target.mkdir()
    assert runner.invoke(app, ["stage", str(sample), str(target), "-q"]).exit_code == 0
    sums = (target / "SHA256SUMS").read_text().splitlines()
    first = sums[0].split("  ", 1)
    sums[0] = "0" * 64 + "  " + first[1]
    (target / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    result = runner.invoke(app, ["verify", str(target), "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["disagreements"] == [first[1]]
