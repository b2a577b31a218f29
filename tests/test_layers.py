"""Imports point down only: share imports neither restore nor winre; winre imports neither and does no I/O; inside
restore each folder imports only folders below it. Read from the source, so a new module is checked too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# restore's folders, bottom first: a module may import its own folder and any folder ranked below it.
RANK = {
    "outcome": 0, "units": 0, "tree": 1, "checks": 2, "staging": 3, "boottest": 3, "plan": 3, "guide": 4,
    "drill": 5, "demo": 5, "cli": 6,
}  # fmt: skip
IO_MODULES = {"os", "io", "socket", "subprocess", "shutil", "tempfile", "pathlib", "urllib", "http", "smbclient"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("share"), ids=lambda p: str(p.relative_to(ROOT)))
def test_share_imports_nothing_above_it(path: Path) -> None:
    assert not [m for m in _imports(path) if m.split(".")[0] in ("restore", "winre")]


@pytest.mark.parametrize("path", _modules("winre"), ids=lambda p: str(p.relative_to(ROOT)))
def test_winre_is_pure(path: Path) -> None:
    imported = _imports(path)
    assert not [m for m in imported if m.split(".")[0] in ("restore", "share")]
    assert not [m for m in imported if m.split(".")[0] in IO_MODULES], "winre turns values into text; no I/O"
    calls = [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)]
    assert not [c for c in calls if isinstance(c.func, ast.Name) and c.func.id in ("open", "print", "input")]


def _folder(path: Path) -> str:
    parts = path.relative_to(ROOT / "restore").parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


@pytest.mark.parametrize(
    "path",
    [p for p in _modules("restore") if _folder(p) in RANK],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_restore_imports_point_down(path: Path) -> None:
    mine = _folder(path)
    for module in _imports(path):
        parts = module.split(".")
        if parts[0] != "restore" or len(parts) < 2 or parts[1] not in RANK or parts[1] == mine:
            continue
        assert RANK[parts[1]] < RANK[mine], f"{path.relative_to(ROOT)} imports {module}, which is not below it"


def test_every_restore_module_has_a_rank() -> None:
    loose = {p.name for p in (ROOT / "restore").glob("*.py")} - {"__init__.py", "__main__.py"}
    folders = {p.name for p in (ROOT / "restore").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert {n.removesuffix(".py") for n in loose} | folders <= set(RANK)


def test_no_type_ignore_in_restore_or_winre() -> None:
    found = [
        f"{p.relative_to(ROOT)}:{n}"
        for package in ("restore", "winre")
        for p in _modules(package)
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if "type: ignore" in line
    ]
    assert not found


def test_no_scheme_tests_outside_share() -> None:
    found = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in _modules("restore")
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if ".scheme ==" in line or ".scheme !=" in line or ".scheme in" in line
    ]
    assert not found, "ask the location's or backend's declared capabilities instead"
