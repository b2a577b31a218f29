"""Every rendering of one plan agrees (the fast tier: local folders and the memory backend, no server).

For every tree and share layout the suite builds (sample trees, the evidence trees, misplaced, nested and misnamed
trees, shares inside a tree, damaged and empty folders, missing folders and stores, a memory store whose link
drops), and for options Hypothesis chooses (purpose, computer, version, --deep): `bmr preflight`, `bmr commands`,
`bmr checklist` and `bmr versions`, run through the command line, state the same verdict, point, warnings and
failures (their JSON's "plan"), and exit with the same code (versions, a listing, with 0 where the others say 1).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from restore.cli.app import app
from restore.demo.sample import bmr_dc, files_only, system_state_only, write_machine, write_tree
from share import memory
from tests.lib import evidence_trees as ev
from tests.lib.memory import folder_in_memory

runner = CliRunner()
SHARE = ["--share-unc", "\\\\10.0.0.5\\restore", "--user", "CORP\\svc-restore"]
CODE = {"ok": 0, "failed": 1, "unreachable": 3}
FAULTS: dict[str, Callable[[], memory.Faults]] = {}  # fresh faults before every command: each meets the same link


def _dc(root: Path) -> str:
    write_tree(root, {"DC01": bmr_dc()})
    return str(root)


def _broken(root: Path) -> str:
    write_tree(root, {"DC01": bmr_dc()})
    next(root.rglob("*.vhdx")).unlink()
    return str(root)


def _empty(root: Path) -> str:
    root.mkdir(parents=True, exist_ok=True)
    return str(root)


def _in_memory(name: str, *, cut: bool = False) -> Callable[[Path], str]:
    def build(root: Path) -> str:
        write_tree(root, {"DC01": bmr_dc(), "APP01": system_state_only()})
        store = folder_in_memory(root).store
        if cut:  # the link drops at the first byte read, every time: reading the tree cannot finish
            FAULTS[f"plan-{name}"] = lambda: memory.Faults(cut_after=0, cuts=10**9)
        memory.STORES[f"plan-{name}"] = store
        return f"memory://plan-{name}/"

    return build


LAYOUTS: dict[str, Callable[[Path], str]] = {
    "dc": _dc,
    "state": lambda r: (write_tree(r, {"APP01": system_state_only()}), str(r))[1],
    "files": lambda r: (write_tree(r, {"FS01": files_only()}), str(r))[1],
    "two-computers": lambda r: (write_tree(r, {"DC01": bmr_dc(), "APP01": system_state_only()}), str(r))[1],
    "misnamed": lambda r: (write_machine(r / "WindowsImageBackup - Copy", "DC01", bmr_dc()), str(r))[1],
    "nested": lambda r: (write_tree(r / "MABS" / "RP-01", {"DC01": bmr_dc()}), str(r))[1],
    "inside-tree": lambda r: _dc(r) + "/WindowsImageBackup",
    "inside-computer": lambda r: _dc(r) + "/WindowsImageBackup/DC01",
    "image-missing": _broken,
    "empty": _empty,
    "missing-folder": lambda r: str(r / "gone"),
    "evidence-a1": lambda r: (ev.write_a1(r), str(r))[1],
    "evidence-a2": lambda r: (ev.write_a2(r), str(r))[1],
    "evidence-a4": lambda r: (ev.write_a4(r), str(r))[1],
    "memory": _in_memory("ok"),
    "memory-link-drops": _in_memory("cut", cut=True),
    "memory-no-store": lambda r: "memory://plan-no-such-store/",
    "memory-missing-folder": lambda r: (_in_memory("gone")(r), "memory://plan-gone/nowhere")[1],
}


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    base = tmp_path_factory.mktemp("layouts")
    built = {name: build(base / name) for name, build in LAYOUTS.items()}
    yield built
    for name in [n for n in memory.STORES if n.startswith("plan-")]:
        del memory.STORES[name]
    shutil.rmtree(base, ignore_errors=True)


def _run(args: list[str]) -> tuple[int, dict[str, Any]]:
    for name, faults in FAULTS.items():
        memory.STORES[name].faults = faults()
    result = runner.invoke(app, [*args, "--json"])
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result.exit_code, json.loads(result.stdout)


def _agree(location: str, purpose: str, machine: str | None, version: str | None, deep: bool) -> None:
    picks = [*(["--machine", machine] if machine else []), *(["--version", version] if version else [])]
    deep_flag = ["--deep"] if deep else []
    code, preflight = _run(["preflight", location, "--for", purpose, *SHARE, *picks, *deep_flag])
    plan = preflight.get("plan")
    if plan is None:  # stopped before any check: the location itself cannot be used, the same way everywhere
        assert code == 3, preflight
        kind = preflight["error"]["type"]
    else:
        assert code == CODE[plan["outcome"]]
        assert (plan["verdict"] == "fail") == bool(plan["failing"]) == (code != 0)
        kind = None
    renderings = [["checklist", "--format", "md", *deep_flag]] + ([] if deep else [["commands"]])
    for command, *extra in renderings:
        got, data = _run([command, location, "--for", purpose, *SHARE, *picks, *extra, "--force"])
        assert got == code, (command, data)
        if "error" in data:  # nothing can be rendered: the reason is the plan's (or the same error)
            assert code != 0 and (kind is None or data["error"]["type"] == kind), (command, data)
            continue
        assert plan is not None and data["plan"] == plan, (command, data["plan"], plan)
        assert data["warnings"] == plan["warnings"]
        if command == "commands":
            forced = [line for line in data["lines"] if line.startswith("REM FAIL ")]
            assert forced == [f"REM {line}" for line in plan["failing"]]
            assert [line for line in data["lines"] if line.startswith("REM bmr: warning: ")] == [
                f"REM bmr: warning: {w}" for w in plan["warnings"]
            ]
        else:
            assert data["blocking"] == plan["failing"]
            assert data["document"].startswith("> **FAIL") == bool(plan["failing"])
    listed, versions = _run(["versions", location, *SHARE, *(["--machine", machine] if machine else [])])
    if code == 3:
        assert listed == 3, versions
    else:
        assert listed in (0, 1), versions  # a listing: it lists whatever the plan's verdict (1: nothing to list)
    if listed == 0 and plan is not None and plan["machine"] is not None:
        assert (versions["plan"]["machine"], versions["plan"]["version"]) == (plan["machine"], plan["version"])


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_layout_renders_one_plan(layouts: dict[str, str], layout: str) -> None:
    _agree(layouts[layout], "bmr", None, None, False)
    _agree(layouts[layout], "systemstate", None, None, False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    layout=st.sampled_from(sorted(LAYOUTS)),
    purpose=st.sampled_from(["bmr", "systemstate"]),
    machine=st.sampled_from([None, "DC01", "app01", "NOPE"]),
    version=st.sampled_from([None, "10/04/2020-17:48", "01/01/2001-00:00"]),
    deep=st.booleans(),
)
def test_every_rendering_agrees(
    layouts: dict[str, str], layout: str, purpose: str, machine: str | None, version: str | None, deep: bool
) -> None:
    _agree(layouts[layout], purpose, machine, version, deep)
