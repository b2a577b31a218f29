"""What one `bmr stage` will do, decided once: the real run executes this plan, `--dry-run` prints it.

The plan is made from listings and sizes on both sides: which point, every file and what happens to it (copy,
resume a partial copy under its partial_name(), compare a same-size file), the other points --force replaces, the
free space, and every refusal in the order the run meets them. The write test (a small file created and deleted
on the target) is its only write, in the dry run too: a copy that cannot write would fail anyway. (Before the
plan, both runs make the same-folder probe of restore.staging.overlap.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from restore.outcome import Outcome
from restore.staging.names import partial_name, unfit_paths
from restore.tree.choose import Choice, choose_machine, choose_point
from restore.tree.find import inspect_location
from restore.tree.identifiers import looks_like_backup_folder
from restore.tree.model import TREE_NAME as TREE
from restore.tree.model import Inside
from restore.tree.points import read_folder
from restore.units import human_bytes
from share import errors, paths
from share.base import Backend, Entry, Kind
from share.writetest import write_test


class StageRefused(errors.BmrError):
    """Nothing was copied; the message says why."""


@dataclass(frozen=True)
class PlannedFile:
    source_path: str  # in the source backend
    target_path: str  # in the target backend: WindowsImageBackup/<Computer>/...
    size: int


@dataclass(frozen=True)
class PlannedAction:
    path: str
    size: int
    action: str  # "copy", "resume" (a partial copy is there), "compare" (the same size is there)
    held: int  # bytes already on the target that may be reused after comparison


@dataclass(frozen=True)
class Refusal:
    """Why the run stops before copying: the message, what to do, and the error the run raises for it."""

    message: str
    hint: str
    raises: type[errors.ShareError] | None = None  # the share error the run raises (exit 3), else StageRefused (1)

    def error(self) -> errors.BmrError:
        if self.raises is not None:
            return self.raises(self.message, hint=self.hint)
        return StageRefused(self.message, hint=self.hint)


@dataclass(frozen=True)
class StagePlan:
    target: str
    machine: str
    version: str | None
    folder: str  # the point's Backup folder name
    files: tuple[PlannedAction, ...]
    bytes_total: int
    bytes_to_write: int  # at most: files found already there are compared first and may need nothing
    space_needed: int
    free: int | None
    free_note: str | None  # why the free space is not known (free is None), else None
    replaced: tuple[str, ...]  # other points of this computer, removed after the copy verified (--force)
    refusals: tuple[Refusal, ...]  # why the real run would stop before copying, in the order it checks
    target_exists: bool = True

    @property
    def outcome(self) -> Outcome:
        if not self.refusals:
            return Outcome.OK
        return Outcome.UNREACHABLE if self.refusals[0].raises is not None else Outcome.FAILED

    def count(self, action: str) -> int:
        return sum(1 for f in self.files if f.action == action)

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": True,
            "target": self.target,
            "target_exists": self.target_exists,
            "machine": self.machine,
            "version": self.version,
            "folder": self.folder,
            "files": [{"path": f.path, "size": f.size, "action": f.action, "held": f.held} for f in self.files],
            "bytes_total": self.bytes_total,
            "bytes_to_write": self.bytes_to_write,
            "space_needed": self.space_needed,
            "free": self.free,
            "free_note": self.free_note,
            "replaced": list(self.replaced),
            "refusals": [r.message for r in self.refusals],
        }


def choose(source: Backend, machine: str | None, version: str | None, depth: int) -> Choice:
    inspection = inspect_location(source, depth)
    tree, found = choose_machine(inspection, machine)
    return Choice(tree, found, choose_point(found, version))


def plan_copy(choice: Choice) -> list[PlannedFile]:
    """Every file of the chosen point, from its place in the source to WindowsImageBackup/<Computer>/... ."""
    machine, point, tree = choice.machine, choice.point, choice.tree
    planned = []
    for relative, size in point.files:
        # When the location is the Backup folder itself, its files sit at the root, without the folder name.
        source = (
            paths.join(*relative.split("/")[1:]) if tree.inside is Inside.BACKUP else paths.join(machine.path, relative)
        )
        planned.append(PlannedFile(source, paths.join(TREE, machine.name, relative), size))
    return planned


def extensions_of(planned: list[PlannedFile]) -> list[str]:
    """The name endings the copy will write (``.vhdx``, ``.xml``, ``""`` for none): what the write test tries."""
    found = {paths.name(p.target_path).rpartition(".") for p in planned}
    return sorted({dot + ext.lower() if dot else "" for _, dot, ext in found})[:8] or [".vhdx"]


def other_points(target: Backend, machine: str, keep: str) -> list[str]:
    """Backup folders of this computer already on the target, other than the one being staged."""
    problems: list[Any] = []
    try:
        entries = read_folder(target, paths.join(TREE, machine), problems)
    except errors.NotFound:
        return []
    return sorted(
        paths.join(TREE, machine, e.name)
        for e in entries.values()
        if e.kind is Kind.DIR and looks_like_backup_folder(e.name) and e.name.lower() != keep.lower()
    )


class TargetFiles:
    """What the target holds where the point's files go: one listing per folder of the point, read on first use,
    instead of a stat of each file and of its partial copy (two round trips a file on a network share)."""

    def __init__(self, target: Backend) -> None:
        self.target = target
        self._fold = target.features.case_insensitive  # names compare as the backend's stat would find them
        self._folders: dict[str, dict[str, Entry]] = {}

    def find(self, path: str) -> Entry | None:
        """The entry at ``path`` as stat would give it, or None where there is none."""
        folder = paths.parent(path)
        entries = self._folders.get(folder)
        if entries is None:
            try:
                listed = self.target.list(folder)
            except errors.NotFound:
                listed = []
            entries = self._folders[folder] = {self._key(e.name): e for e in listed}
        return entries.get(self._key(paths.name(path)))

    def _key(self, name: str) -> str:
        return name.lower() if self._fold else name


def action_for(target: Backend | TargetFiles | None, item: PlannedFile) -> PlannedAction:
    """What the copy does with one file, from what the target holds: the rules of Transfer.hash_existing (a file
    of the same size is compared) and Transfer.copy (a partial copy under partial_name() is resumed)."""
    if target is None:
        return PlannedAction(item.target_path, item.size, "copy", 0)
    files = target if isinstance(target, TargetFiles) else TargetFiles(target)
    there = files.find(item.target_path)
    if there is not None and there.size == item.size:
        return PlannedAction(item.target_path, item.size, "compare", item.size)
    partial = files.find(partial_name(item.target_path))
    held = min(partial.size, item.size) if partial is not None else 0
    return PlannedAction(item.target_path, item.size, "resume" if held else "copy", held)


def remaining_bytes(target: Backend, planned: list[PlannedFile]) -> int:
    """Bytes still to write: files not already there at full size, less what partial copies hold."""
    files = TargetFiles(target)
    return sum(a.size - a.held for a in (action_for(files, item) for item in planned))


@dataclass(frozen=True)
class Space:
    """The free space that counts for the target, or why it is not known."""

    free: int | None
    note: str | None = None


def measure(backend: Backend, folder: str = "") -> Space:
    if not backend.features.free_space:
        return Space(None, f"{backend.describe()} does not report free space")
    try:
        return Space(backend.space(folder).free)
    except errors.ShareError as exc:
        return Space(None, f"{backend.describe(folder)} did not report its free space: {exc}")


def make_plan(
    choice: Choice,
    target: Backend | None,
    *,
    force: bool,
    margin: float,
    space: Space,
    target_name: str,
) -> StagePlan:
    """The plan for staging ``choice`` onto ``target`` (None: the target folder does not exist yet; the run
    creates it, and ``space`` was measured on the folder that will hold it)."""
    point = choice.point
    refusals: list[Refusal] = []
    if point.errors and not force:
        details = "; ".join(f"{p.code}: {p.message}" for p in point.errors)
        refusals.append(
            Refusal(
                f"the source point {point.folder} is incomplete: {details}",
                "Copy a complete point (see bmr inspect); --force copies this one anyway, if you are sure.",
            )
        )
    planned = plan_copy(choice)
    unfit = unfit_paths([p.target_path for p in planned])
    if unfit:
        more = f" (and {len(unfit) - 10} more)" if len(unfit) > 10 else ""
        refusals.append(
            Refusal(
                f"{len(unfit)} file name(s) of the point cannot be held by a Windows share or read by the restore; "
                f"nothing was copied: {'; '.join(unfit[:10])}{more}",
                "Rename them in the source only if you know the restore does not need them; bmr copies names as "
                "they are.",
            )
        )
    others: list[str] = []
    if target is not None:
        tested = write_test(target, paths.join(TREE, choice.machine.name), extensions=extensions_of(planned))
        if not tested.ok:
            refusals.append(
                Refusal(
                    f"cannot write to {target.describe()}: {tested.why}",
                    tested.hint or "Check the share and folder permissions.",
                    tested.error or errors.AccessDenied,
                )
            )
        others = other_points(target, choice.machine.name, point.folder)
        if others and not force:
            refusals.append(
                Refusal(
                    f"{target.describe()} already holds a different recovery point of {choice.machine.name} "
                    f"({', '.join(paths.name(o) for o in others)})",
                    "--force replaces it (only that computer's other point, only after the new copy verified); "
                    "or stage into another folder.",
                )
            )
    files = TargetFiles(target) if target is not None else None
    actions = tuple(action_for(files, item) for item in planned)
    to_write = sum(a.size - a.held for a in actions)
    need = int(to_write * margin)
    if space.free is not None and space.free < need:
        refusals.append(
            Refusal(
                f"{target_name} has {human_bytes(space.free)} free; this copy needs {human_bytes(need)} "
                f"({margin:g} x the {human_bytes(to_write)} still to write)",
                "Free space on the target (or raise its quota), or stage to another share; --force does not "
                "override this. --margin lowers the headroom asked for.",
            )
        )
    return StagePlan(
        target=target_name,
        machine=choice.machine.name,
        version=point.version,
        folder=point.folder,
        files=actions,
        bytes_total=sum(a.size for a in actions),
        bytes_to_write=to_write,
        space_needed=need,
        free=space.free,
        free_note=space.note,
        replaced=tuple(others) if force else (),
        refusals=tuple(refusals),
        target_exists=target is not None,
    )
