"""install.sh when pip fails: one line saying what failed and what to install, pip's output in a log, no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable


def _project(tmp_path: Path, dependencies: list[str]) -> Path:
    """A copy of install.sh beside a project that has ``dependencies``."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(ROOT / "install.sh", repo / "install.sh")
    deps = ", ".join(f'"{d}"' for d in dependencies)
    (repo / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
        f'[project]\nname = "bmr-install-probe"\nversion = "0"\ndependencies = [{deps}]\n'
        "[tool.setuptools]\npy-modules = []\n"
    )
    return repo


def _install(repo: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "HOME": str(tmp_path / "home"), "PYTHON": PYTHON, **env}
    environ.update(BMR_HOME=str(tmp_path / "bmr"), BMR_BIN=str(tmp_path / "bin"))
    environ.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        ["sh", str(repo / "install.sh")], capture_output=True, text=True, timeout=300, env=environ, check=False
    )


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    # The first line says where the log goes; the second is the verdict; nothing from pip in between.
    assert len(lines) == 2 and lines[0].startswith("install.sh: installing bmr"), lines
    return lines[1]


@pytest.mark.servers  # slow: builds a venv, and pip fetches setuptools from the configured index
@pytest.mark.timeout(400)
def test_a_dependency_without_wheel_and_no_compiler_is_named_in_one_line(tmp_path: Path) -> None:
    needsc = tmp_path / "needsc"
    needsc.mkdir()
    (needsc / "needsc.c").write_text("int needsc(void) { return 1; }\n")
    (needsc / "setup.py").write_text(
        'from setuptools import Extension, setup\nsetup(name="needsc", version="0.1", '
        'ext_modules=[Extension("needsc", ["needsc.c"])])\n'
    )
    (needsc / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    repo = _project(tmp_path, [f"needsc @ {needsc.as_uri()}"])
    # No compiler: the one setuptools would call is not there.
    done = _install(repo, tmp_path, CC=str(tmp_path / "no-such-cc"), LDSHARED=str(tmp_path / "no-such-cc"))
    line = _one_line(done)
    log = tmp_path / "bmr" / "install.log"
    assert line.startswith("install.sh: pip failed: needsc has no wheel for Python ")
    assert "building it needs a C compiler and Python's headers: apt-get install gcc python3-dev" in line
    assert line.endswith(f"(pip's output: {log})")
    assert "Building wheel for needsc" in log.read_text()


@pytest.mark.servers  # slow: builds a venv
@pytest.mark.timeout(400)
def test_no_index_reachable_is_said_in_one_line(tmp_path: Path) -> None:
    repo = _project(tmp_path, ["tqdm"])
    unreachable = {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_FIND_LINKS": "",
        "PIP_NO_CACHE_DIR": "1",
        "PIP_RETRIES": "1",
        "PIP_TIMEOUT": "3",
    }
    line = _one_line(_install(repo, tmp_path, **unreachable))
    assert line.startswith("install.sh: pip cannot reach PyPI (network, DNS or proxy)")
    # Without pip's own word on the connection, a release found nowhere says the same.
    line = _one_line(_install(repo, tmp_path, **{**unreachable, "PIP_RETRIES": "0"}))
    assert line.startswith("install.sh: pip found no release of setuptools>=68 at all: is the package index reachable")
