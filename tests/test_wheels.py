"""Every dependency installs from wheels: no compiler on Linux (x86_64, aarch64) or Windows, Python 3.11-3.13.

The cheap form of scripts/fresh-root-check.sh. Both ask PyPI (or the pip configuration CI installs with), so they
are in the full tier; each is bounded in time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tomllib
import venv
import zipfile
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


def _index(root: Path) -> Path:
    """A local package index: 'purepkg' (a py3-none-any wheel needing 'needsc' on Windows only) and 'needsc' (only
    a source package, as libvsmbr-python is on PyPI for Linux)."""
    simple = root / "simple"
    (simple / "purepkg").mkdir(parents=True)
    (simple / "needsc").mkdir()
    dist = "purepkg-1.0.dist-info"
    files = {
        "purepkg.py": "",
        f"{dist}/METADATA": "Metadata-Version: 2.1\nName: purepkg\nVersion: 1.0\n"
        'Requires-Dist: needsc>=0.1; sys_platform == "win32"\nRequires-Dist: needsc; extra == "never"\n',
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{dist}/RECORD"] = "".join(f"{name},,\n" for name in files) + f"{dist}/RECORD,,\n"
    with zipfile.ZipFile(simple / "purepkg" / "purepkg-1.0-py3-none-any.whl", "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
    source = root / "needsc-0.1"
    source.mkdir()
    (source / "setup.py").write_text('from setuptools import setup\nsetup(name="needsc", version="0.1")\n')
    with tarfile.open(simple / "needsc" / "needsc-0.1.tar.gz", "w:gz") as tar:
        tar.add(source, arcname="needsc-0.1")
    for project in ("purepkg", "needsc"):  # what pip reads for a file: index's project page
        links = "".join(f'<a href="{f.name}">{f.name}</a>' for f in (simple / project).iterdir())
        (simple / project / "index.html").write_text(f"<!DOCTYPE html><html><body>{links}</body></html>")
    return simple


@pytest.mark.servers  # pip subprocesses, several seconds
@pytest.mark.timeout(300)
def test_wheel_check_follows_markers_and_names_a_source_only_dependency(tmp_path: Path) -> None:
    """Offline, from a local index: Linux needs only purepkg (a wheel); Windows also needs needsc, which has none."""
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["purepkg>=1"]\n')
    index = _index(tmp_path)
    done = subprocess.run(
        [sys.executable, str(CHECK), "--pyproject", str(pyproject), "--python", "3.12", "--target", "linux-aarch64",
         "--target", "win-amd64"],
        capture_output=True, text=True, timeout=200, check=False,
        env={**os.environ, "WHEEL_CHECK_INDEX": index.as_uri()},
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == "wheel-check: no wheel on win-amd64 for Python 3.12: needsc>=0.1"
    assert "| purepkg | 1.0 py3-none-any | 1.0 py3-none-any |" in done.stdout
    assert "| needsc | - | NO WHEEL |" in done.stdout
