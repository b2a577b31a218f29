"""Does every runtime dependency of bmr (and theirs, all the way down) install from a wheel on each platform?

    python scripts/wheel-check.py [--target NAME ...] [--python 3.11 ...] [--json] [--pyproject FILE]

Targets: linux-x86_64 and linux-aarch64 (manylinux for glibc 2.36, Debian 12's; Debian 13 has 2.41) and
win-amd64; Python 3.11, 3.12 and 3.13 by default. For each target the requirements of pyproject.toml are
resolved level by level with `pip download --only-binary=:all: --no-deps --platform ... --python-version ...`:
each wheel's own Requires-Dist is read and its markers evaluated as that platform would (so Windows-only
dependencies are checked for Windows). Prints a table (package, version, one column per target: the wheel's
tag, or NO WHEEL) and exits 1 when any target lacks a wheel. Asks PyPI itself (https://pypi.org/simple, or
WHEEL_CHECK_INDEX), not the local pip configuration's extra indexes or find-links; proxy and certificate
settings from the environment still apply. Needs the network; each pip call is bounded (PIP_CALL_SECONDS, 180).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import email.parser
import json
import os
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parent.parent
GLIBC_MINOR = 36  # Debian 12's glibc is 2.36 (Debian 13's 2.41): a wheel for it or any older glibc installs


def _manylinux(arch: str) -> list[str]:
    """Every manylinux tag a glibc-2.36 machine accepts (pip expands only the legacy names by itself)."""
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(GLIBC_MINOR, 4, -1)]
    return [*tags, f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}"]


TARGETS = {
    "linux-x86_64": (_manylinux("x86_64"), {"sys_platform": "linux", "platform_system": "Linux",
                                            "platform_machine": "x86_64", "os_name": "posix"}),
    "linux-aarch64": (_manylinux("aarch64"), {"sys_platform": "linux", "platform_system": "Linux",
                                              "platform_machine": "aarch64", "os_name": "posix"}),
    "win-amd64": (["win_amd64"], {"sys_platform": "win32", "platform_system": "Windows",
                                  "platform_machine": "AMD64", "os_name": "nt"}),
}  # fmt: skip
PYTHONS = ("3.11", "3.12", "3.13")
MAX_LEVELS = 12  # dependency chains are a handful deep; more means a cycle the name check missed


@dataclass
class Result:
    target: str
    python: str
    wheels: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (version, tag)
    missing: dict[str, str] = field(default_factory=dict)  # name -> the requirement pip found no wheel for


PYPROJECT = ROOT / "pyproject.toml"


def project_requirements(pyproject: Path) -> list[Requirement]:
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return [Requirement(text) for text in data["project"]["dependencies"]]


def _environment(target: str, python: str) -> dict[str, str]:
    env = {"python_version": python, "python_full_version": f"{python}.0", "implementation_name": "cpython",
           "platform_python_implementation": "CPython", "platform_release": "", "platform_version": ""}  # fmt: skip
    env.update(TARGETS[target][1])
    return env


def _pip_environment() -> dict[str, str]:
    """This process's environment without the local pip configuration (config files, extra indexes, find-links)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") or k in ("PIP_CERT", "PIP_CLIENT_CERT")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _download(target: str, python: str, requirements: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    platforms = [arg for tag in TARGETS[target][0] for arg in ("--platform", tag)]
    index = os.environ.get("WHEEL_CHECK_INDEX", "https://pypi.org/simple")
    args = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-input", "-q",
            *platforms, "--python-version", python, "--implementation", "cp",
            "--index-url", index, "-d", str(folder), *requirements]  # fmt: skip
    seconds = float(os.environ.get("PIP_CALL_SECONDS", "180"))
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=seconds, env=_pip_environment())
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, 124, "", f"pip download took longer than {seconds:.0f} s")


def _requires(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        metadata = email.parser.BytesParser().parsebytes(archive.read(name), headersonly=True)
    return metadata.get_all("Requires-Dist") or []


def _applies(req: Requirement, env: dict[str, str], extras: set[str]) -> bool:
    if req.marker is None:
        return True
    return any(Marker.evaluate(req.marker, {**env, "extra": extra}) for extra in extras | {""})


def check(target: str, python: str, pyproject: Path = PYPROJECT) -> Result:
    """Resolve the project's requirements for one target, level by level, recording each wheel or its absence."""
    result = Result(target, python)
    env = _environment(target, python)
    wanted = {canonicalize_name(r.name): r for r in project_requirements(pyproject) if _applies(r, env, set())}
    done: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="wheel-check-") as scratch:
        for level in range(MAX_LEVELS):
            todo = {name: req for name, req in wanted.items() if name not in done}
            if not todo:
                break
            folder = Path(scratch) / str(level)
            folder.mkdir()
            texts = [str(Requirement(f"{req.name}{req.specifier}")) for req in todo.values()]
            if _download(target, python, texts, folder).returncode != 0:
                # One missing wheel fails the whole call: ask for each alone to name every one missing.
                for name, text in zip(todo, texts, strict=True):
                    if _download(target, python, [text], folder).returncode != 0:
                        result.missing[name] = text
            done |= set(todo)
            for wheel in folder.glob("*.whl"):
                name, version, _build, tags = parse_wheel_filename(wheel.name)
                tag = sorted(str(t) for t in tags)[0]
                result.wheels[name] = (str(version), tag)
                extras = set(todo[name].extras) if name in todo else set()
                for text in _requires(wheel):
                    req = Requirement(text)
                    key = canonicalize_name(req.name)
                    if key not in done and key not in wanted and _applies(req, env, extras):
                        wanted[key] = req
    return result


def _short(tag: str) -> str:
    """The tag in a table cell: interpreter-abi-platform, with the long manylinux aliases cut to one."""
    interpreter, abi, platform = tag.split("-")
    return f"{interpreter}-{abi}-{platform.split('.')[0]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), help="default: all")
    parser.add_argument("--python", action="append", choices=PYTHONS, help="default: all")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--pyproject", type=Path, default=PYPROJECT, help="the dependencies of this file instead")
    args = parser.parse_args()
    jobs = [(t, p) for t in args.target or TARGETS for p in args.python or PYTHONS]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda job: check(*job, args.pyproject), jobs))
    names = sorted({n for r in results for n in (*r.wheels, *r.missing)})
    if args.json:
        print(json.dumps([{"target": r.target, "python": r.python, "wheels": r.wheels, "missing": r.missing}
                          for r in results], indent=2))  # fmt: skip
    else:
        head = ["package"] + [f"{r.target} {r.python}" for r in results]
        rows = []
        for name in names:
            cells = []
            for r in results:
                if name in r.missing:
                    cells.append("NO WHEEL")
                elif name in r.wheels:
                    cells.append(f"{r.wheels[name][0]} {_short(r.wheels[name][1])}")
                else:
                    cells.append("-")  # not needed there (a marker leaves it out)
            rows.append([name, *cells])
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    bad = [(r.target, r.python, sorted(r.missing.values())) for r in results if r.missing]
    for target, python, missing in bad:
        print(f"wheel-check: no wheel on {target} for Python {python}: {', '.join(missing)}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
