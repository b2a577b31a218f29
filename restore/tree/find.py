"""Find WindowsImageBackup trees at, below or around a location, and inspect them.

A restore needs the share ROOT to hold ``WindowsImageBackup``. Users point at the tree itself, at a computer
folder, at a Backup folder, or one level too high (MABS "Copy to a network folder" nests the tree in folders
of its own). This module says which, and where the tree really starts.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from restore.tree.identifiers import folder_time, looks_like_backup_folder
from restore.tree.model import TREE_NAME, Inside, Inspection, Machine, Problem, Tree, error, up, warning
from restore.tree.points import MAX_POINT_ENTRIES, inspect_lone_point, inspect_machine, read_folder
from restore.tree.staged import staged_machines
from share import paths
from share.base import Backend, Kind
from share.connect import Access, open_backend
from share.location import Location

MAX_FOLDERS_SEARCHED = 2_000
# Azure Backup (MARS) system-state restores nest the tree six levels below the restore folder
# (<folder>\C_vol\Program Files\Microsoft Azure Recovery Services Agent\Scratch\SSBV\WindowsImageBackup,
# evidence.md); MABS's "Copy to a network folder" nesting is unpublished. 8 finds the first with room for the
# second; the folder cap and the time budget keep the search bounded on a big share.
DEFAULT_DEPTH = 8
MAX_SEARCH_SECONDS = 30.0


@dataclass(frozen=True)
class Spot:
    path: str  # backend-relative path of the tree folder ("" when the location is inside a tree)
    inside: Inside | None
    folder_name: str


def location_name(location: Location) -> str:
    """The last folder name of a location (the share name for a share root)."""
    parts = [p for p in location.path.replace("\\", "/").split("/") if p]
    if parts:
        return parts[-1]
    return location.share or ""


def location_parent_name(location: Location) -> str | None:
    parts = [p for p in location.path.replace("\\", "/").split("/") if p]
    if len(parts) >= 2:
        return parts[-2]
    if len(parts) == 1 and location.share:
        return location.share
    return None


def is_tree_name(name: str) -> bool:
    return name.lower() == TREE_NAME.lower()


def is_misnamed_tree(name: str) -> bool:
    """'WindowsImageBackup - Copy', 'WindowsImageBackup.old', 'windowsimagebackup2'…: close, but WinRE ignores them."""
    return name.lower().startswith(TREE_NAME.lower()) and not is_tree_name(name)


def _looks_like_computer(backend: Backend, path: str, problems: list[Problem]) -> bool:
    entries = read_folder(backend, path, problems)
    return any(e.kind is Kind.DIR and looks_like_backup_folder(e.name) for e in entries.values()) or (
        "catalog" in entries and "mediaid" in entries
    )


def find_trees(
    backend: Backend, depth: int = DEFAULT_DEPTH, seconds: float = MAX_SEARCH_SECONDS
) -> tuple[list[Spot], list[Problem]]:
    """Where the trees are, relative to the backend's root; breadth first, ``depth`` folder levels down, at most
    MAX_FOLDERS_SEARCHED folders listed and ``seconds`` spent (what was found by then is kept, with a warning)."""
    problems: list[Problem] = []
    here = location_name(backend.location)
    root = read_folder(backend, "", problems, MAX_POINT_ENTRIES)  # the location may be a Backup folder itself
    if "backupspecs.xml" in root or folder_time(here) is not None:
        return [Spot("", Inside.BACKUP, here)], problems
    if _looks_like_computer(backend, "", problems):
        return [Spot("", Inside.COMPUTER, here)], problems
    if is_tree_name(here) and not any(is_tree_name(n) for n in root):
        return [Spot("", Inside.TREE, here)], problems

    spots: list[Spot] = []
    queue: deque[tuple[str, int]] = deque([("", 0)])
    searched = 0
    deadline = time.monotonic() + seconds
    while queue:
        path, level = queue.popleft()
        searched += 1
        if searched > MAX_FOLDERS_SEARCHED:
            problems.append(warning("search-truncated", f"stopped after {MAX_FOLDERS_SEARCHED} folders"))
            break
        if searched > 1 and time.monotonic() > deadline:
            problems.append(
                warning(
                    "search-truncated",
                    f"stopped after {seconds:g} s and {searched - 1} folders: point at the folder nearer the tree, "
                    "or lower --depth",
                )
            )
            break
        entries = root if path == "" else read_folder(backend, path, problems)
        for entry in sorted(entries.values(), key=lambda e: e.name):
            if entry.kind is not Kind.DIR:
                continue
            child = paths.join(path, entry.name)
            if is_tree_name(entry.name) or is_misnamed_tree(entry.name):
                spots.append(Spot(child, None, entry.name))
            elif level + 1 < depth:
                queue.append((child, level + 1))
    if not spots:
        # No tree folder anywhere: perhaps the location IS one under another name (its children are computers).
        children = [e for e in root.values() if e.kind is Kind.DIR]
        if children and all(_looks_like_computer(backend, e.name, problems) for e in children[:20]):
            # At a share root the folder's own name is hidden behind the share's: do not call it misnamed.
            at_share_root = backend.location.windows_share and not backend.location.path
            spots.append(Spot("", Inside.TREE, TREE_NAME if at_share_root else here))
    return spots, problems


def _tree_problems(spot: Spot, location: Location, held: str | None = None) -> list[Problem]:
    problems: list[Problem] = []
    if spot.inside is not None:
        holder = up(spot.inside.levels_above)
        problems.append(
            warning(
                "inside-tree",
                f"the location points at {spot.inside.description}; for a restore the share root must be "
                f"the folder that holds WindowsImageBackup ({holder} from here)",
            )
        )
    parts = [p for p in location.path.replace("\\", "/").split("/") if p]
    hidden = (spot.inside is Inside.COMPUTER and not parts) or (spot.inside is Inside.BACKUP and len(parts) < 2)
    if hidden and location.windows_share:
        problems.append(
            warning(
                "machine-name-unknown",
                "the computer folder's own name (wbadmin's -machine:) cannot be seen from inside the share "
                f"'{location.share}'; the name shown stands in for it: read the folder's name on the file server",
            )
        )
    if is_misnamed_tree(spot.folder_name):
        problems.append(
            error(
                "misnamed-tree",
                f"the folder is named '{spot.folder_name}'; WinRE and wbadmin look only for 'WindowsImageBackup'",
            )
        )
    elif spot.inside is Inside.TREE and not is_tree_name(spot.folder_name):
        problems.append(
            error("misnamed-tree", f"the tree folder is named '{spot.folder_name}', not 'WindowsImageBackup'")
        )
    if held is not None:
        # Through a DFS link: the folder is a share on the link's target server, which is what WinRE must name.
        problems.append(
            warning(
                "dfs-link",
                f"the tree is reached through a DFS link; WinRE cannot resolve DFS namespaces, so the restore names "
                f"the target server's share: {held}",
            )
        )
    elif spot.inside is None and "/" in spot.path:
        problems.append(
            warning(
                "nested-tree",
                f"the tree is nested at {spot.path}; for a restore, share its parent folder "
                f"({paths.parent(spot.path)}) so that the share root holds WindowsImageBackup",
            )
        )
    return problems


def inspect_tree(backend: Backend, spot: Spot) -> Tree:
    location = backend.location
    machines: list[Machine] = []
    held = backend.dfs_target(paths.parent(spot.path)) if spot.inside is None and "/" in spot.path else None
    problems = _tree_problems(spot, location, held)
    if spot.inside is Inside.BACKUP:
        machines.append(inspect_lone_point(backend, location_parent_name(location) or "unknown"))
    elif spot.inside is Inside.COMPUTER:
        machines.append(inspect_machine(backend, "", location_name(location)))
    else:
        entries = read_folder(backend, spot.path, problems)
        for entry in sorted(entries.values(), key=lambda e: e.name.lower()):
            if entry.kind is Kind.DIR:
                machines.append(inspect_machine(backend, paths.join(spot.path, entry.name), entry.name))
        if not machines:
            problems.append(error("no-computers", "the WindowsImageBackup folder holds no computer folder"))
    relative = up(spot.inside.levels_above - 1) if spot.inside else spot.path
    staged = (
        spot.inside is None
        and is_tree_name(spot.folder_name)
        and bool(machines)
        and {m.name.lower() for m in machines} <= staged_machines(backend, paths.parent(spot.path))
    )
    return Tree(
        location=location.display(),
        relative_path=relative,
        inside=spot.inside,
        folder_name=spot.folder_name,
        path=spot.path,
        machines=tuple(machines),
        problems=tuple(problems),
        staged=staged,
    )


def inspect_at(location: Location, access: Access, depth: int = DEFAULT_DEPTH, *, deep: bool = False) -> Inspection:
    """Connect to ``location`` and inspect every tree there; with ``deep``, read inside the images too.
    Raises the share errors of connecting."""
    from restore.tree.contents import with_contents  # the image readers load only when asked for

    with open_backend(location, access) as backend:
        inspection = inspect_location(backend, depth)
        return with_contents(backend, inspection) if deep else inspection


def inspect_location(backend: Backend, depth: int = DEFAULT_DEPTH) -> Inspection:
    """Every tree at or below (or around) the backend's location, inspected."""
    spots, problems = find_trees(backend, depth)
    trees = tuple(inspect_tree(backend, spot) for spot in spots)
    if not trees:
        problems.append(
            error(
                "no-tree",
                f"no WindowsImageBackup folder within {depth} levels of {backend.describe()}: "
                "check the location, or raise --depth",
            )
        )
    return Inspection(backend.location.display(), trees, tuple(problems))
