"""Every dependency installs from wheels: no compiler on Linux (x86_64, aarch64) or Windows, Python 3.11-3.13.

The cheap form of scripts/fresh-root-check.sh. Both ask PyPI (or the pip configuration CI installs with), so they
are in the full tier; each is bounded in time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "scripts" / "wheel-check.py"


def _dependencies() -> list[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    deps: list[str] = data["project"]["dependencies"]
    return deps


def _wheel_check(*args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.servers  # needs PyPI
@pytest.mark.timeout(600)
def test_dependencies_install_with_only_binary_into_a_new_venv(tmp_path: Path) -> None:
    """`pip install --only-binary=:all:` of the dependencies, with the pip configuration (and cache) CI used."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--only-binary=:all:", "--no-input", "-q", *_dependencies()],
        capture_output=True,
        text=True,
        timeout=480,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # What deep inspection imports is there and loads (the libyal readers; the MBR is read in Python).
    probe = "import pyvhdi, pyvsgpt, pyfsntfs, pyfsfat, pyregf, pybde, blake3, paramiko, smbclient, fpdf"
    loaded = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert loaded.returncode == 0, loaded.stderr


@pytest.mark.servers  # needs PyPI
@pytest.mark.timeout(600)
def test_every_dependency_has_wheels_for_windows_and_linux() -> None:
    """win_amd64 (the MABS server is Windows) and manylinux x86_64/aarch64, each for Python 3.11, 3.12 and 3.13."""
    done = _wheel_check("--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    got = {(r["target"], r["python"]) for r in results}
    assert {("win-amd64", p) for p in ("3.11", "3.12", "3.13")} <= got
    assert len(got) == 9
    for result in results:
        assert not result["missing"]
        # Windows-only dependencies are resolved as Windows sees them (pyspnego's sspilib).
        assert ("sspilib" in result["wheels"]) == (result["target"] == "win-amd64")
        assert "libvsgpt-python" in result["wheels"] and "libvsmbr-python" not in result["wheels"]


@pytest.mark.servers  # needs PyPI
@pytest.mark.timeout(300)
def test_wheel_check_names_a_source_only_dependency(tmp_path: Path) -> None:
    """The check does fail: libvsmbr-python (only a source package on PyPI for Linux) is named."""
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["libvsmbr-python>=20240505", "tqdm"]\n')
    done = _wheel_check("--pyproject", str(pyproject), "--target", "linux-x86_64", "--python", "3.12", timeout=200)
    assert done.returncode == 1
    assert "no wheel on linux-x86_64 for Python 3.12: libvsmbr-python>=20240505" in done.stderr
    assert "| libvsmbr-python | NO WHEEL |" in done.stdout and "| tqdm | " in done.stdout
