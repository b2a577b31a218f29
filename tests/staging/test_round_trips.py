"""The fixed costs of a `bmr stage` (fast tier, local folders): every round trip a small point pays counts on a
network share, so the plan reads the target by folder listings rather than a stat of each file and of its partial
copy, nothing removes a file that is not there (the lock's temporary name after its rename, proofs that never
existed on a fresh target), and the target folder is looked at once."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from restore.demo.sample import PointSpec, write_machine
from restore.staging.names import partial_name
from restore.staging.planner import choose, make_plan, measure, plan_copy
from restore.staging.stage import open_target, run_stage
from share import connect, errors
from share.base import Entry
from share.connect import Access, open_backend, parse_location
from share.local import LocalBackend
from share.location import Location
from share.writetest import STEM


class Counting(LocalBackend):
    """A local folder that counts what it is asked: stats by path, listings by folder, removes of missing files."""

    def __init__(self, root: Path) -> None:
        super().__init__(parse_location(str(root)))
        self.stats: Counter[str] = Counter()
        self.lists: Counter[str] = Counter()
        self.missing_removes: list[str] = []

    def stat(self, path: str) -> Entry:
        self.stats[path] += 1
        return super().stat(path)

    def list(self, path: str) -> list[Entry]:
        self.lists[path] += 1
        return super().list(path)

    def remove(self, path: str) -> None:
        try:
            super().remove(path)
        except errors.NotFound:
            self.missing_removes.append(path)
            raise


def _point(tmp_path: Path) -> Path:
    tree = tmp_path / "source" / "WindowsImageBackup"
    tree.mkdir(parents=True)
    write_machine(tree, "DC01", PointSpec())
    return tmp_path / "source"


def test_the_plan_lists_each_folder_once_and_stats_no_planned_file(tmp_path: Path) -> None:
    source = open_backend(parse_location(str(_point(tmp_path))), Access())
    target_root = tmp_path / "target"
    target = Counting(target_root)
    choice = choose(source, None, None, 4)
    planned = plan_copy(choice)
    whole, partial = planned[0], planned[-1]  # one copied before, one interrupted half-way
    (target_root / whole.target_path).parent.mkdir(parents=True, exist_ok=True)
    (target_root / whole.target_path).write_bytes(b"x" * whole.size)
    (target_root / partial_name(partial.target_path)).parent.mkdir(parents=True, exist_ok=True)
    (target_root / partial_name(partial.target_path)).write_bytes(b"x" * (partial.size // 2))

    plan = make_plan(choice, target, force=False, margin=1.1, space=measure(target), target_name="t")

    actions = {a.path: (a.action, a.held) for a in plan.files}
    assert actions.pop(whole.target_path) == ("compare", whole.size)
    assert actions.pop(partial.target_path) == ("resume", partial.size // 2)
    assert set(actions.values()) == {("copy", 0)}
    files = {p.target_path for p in planned} | {partial_name(p.target_path) for p in planned}
    assert not files & set(target.stats), "a stat per file: two round trips a file on a share"
    folders = {p.target_path.rpartition("/")[0] for p in planned} - {"WindowsImageBackup/DC01"}  # (write test)
    assert folders and all(target.lists[f] == 1 for f in folders), target.lists


def test_a_fresh_stage_removes_no_file_that_is_not_there(tmp_path: Path) -> None:
    source = open_backend(parse_location(str(_point(tmp_path))), Access())
    (tmp_path / "target").mkdir()
    target = Counting(tmp_path / "target")

    result = run_stage(source, target)

    assert result.ok
    assert (tmp_path / "target" / "SHA256SUMS").is_file()
    assert not (tmp_path / "target" / "bmr-stage.lock").exists()
    ours = [p for p in target.missing_removes if not p.rpartition("/")[2].startswith(STEM)]  # (the write test's)
    assert ours == [], "a remove of a missing file is a round trip for nothing"


def test_the_target_folder_is_looked_at_once_and_made_when_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Counting] = []

    def counting(location: Location, access: Access) -> Counting:
        opened.append(Counting(Path(location.path)))
        return opened[-1]

    monkeypatch.setitem(connect.SCHEMES, "local", replace(connect.SCHEMES["local"], open=counting))
    (tmp_path / "there").mkdir()
    with open_target(parse_location(str(tmp_path / "there")), Access()):
        pass
    assert [b.stats[""] for b in opened] == [1], "open_backend has looked at the folder already"

    opened.clear()
    with open_target(parse_location(str(tmp_path / "a" / "b")), Access()):
        pass
    assert (tmp_path / "a" / "b").is_dir()
