"""Where WindowsImageBackup sits relative to the share root, and the fix when it is not right there.

Pure: from a location and an inspection to a check. WinRE and wbadmin find a tree only when the share ROOT
holds a folder named exactly WindowsImageBackup.
"""

from __future__ import annotations

from dataclasses import dataclass

from restore.checks import Check, failed, passed
from restore.layout import is_tree_name
from restore.model import Inspection, Tree
from share import paths
from share.location import Location

_UP = {"windowsimagebackup": 1, "computer": 2, "backup": 3}
_WHAT = {
    "windowsimagebackup": "the WindowsImageBackup folder itself",
    "computer": "a computer folder inside WindowsImageBackup",
    "backup": "a Backup folder inside WindowsImageBackup",
}


def holder_of(location: Location, tree: Tree) -> str | None:
    """Share-relative folder that holds the tree folder; None when that folder lies above the share."""
    if tree.inside is not None:
        parent = location.parent(_UP[tree.inside])
        return parent.path if parent is not None else None
    return location.child(paths.parent(tree.path)).path


def target_for(location: Location, host: str, folder: str = "") -> str:
    return location.unc(host, folder) if folder else "\\\\" + "\\".join([host, location.share or ""])


@dataclass(frozen=True)
class ShareRoot:
    check: Check
    tree: Tree | None
    backup_target: str | None


def _suggested_share(folder: str) -> str:
    name = paths.name(folder) or "restore"
    return "".join(c for c in name if c.isalnum() or c in "-_")[:40] or "restore"


def analyse(location: Location, inspection: Inspection, host: str, *, staging: bool) -> ShareRoot:
    """The ``share-root`` check for an SMB location; ``host`` is the IP WinRE will use."""
    here = target_for(location, host)
    trees = inspection.trees
    if not trees:
        if staging and not location.path:
            return ShareRoot(
                passed("share-root", f"the copy will create WindowsImageBackup at the root of {here}"), None, here
            )
        if staging:
            folder = location.path
            return ShareRoot(
                failed(
                    "share-root",
                    f"the copy would land in {location.unc(host)}\\WindowsImageBackup, below the share root",
                    f"stage into the share root ({here}), or share the folder '{folder}' as its own share and "
                    f"stage there",
                    folder=folder,
                ),
                None,
                None,
            )
        return ShareRoot(
            failed(
                "share-root",
                f"no WindowsImageBackup folder at or below {location.unc(host)}",
                "copy the recovery point here (bmr stage, or MABS 'Copy to a network folder'), "
                "or point at the share that holds it",
            ),
            None,
            None,
        )
    if len(trees) > 1:
        places = ", ".join(t.relative_path for t in trees)
        return ShareRoot(
            failed(
                "share-root",
                f"{len(trees)} tree folders here ({places}); WinRE looks for exactly one WindowsImageBackup at the "
                "share root",
                "give each tree its own share whose root holds it, and remove or rename the copies",
                trees=[t.relative_path for t in trees],
            ),
            trees[0],
            None,
        )
    tree = trees[0]
    holder = holder_of(location, tree)
    misnamed = not is_tree_name(tree.folder_name)
    if holder == "" and not misnamed:
        return ShareRoot(passed("share-root", f"{here} holds WindowsImageBackup at its root"), tree, here)

    problems: list[str] = []
    fixes: list[str] = []
    details: dict[str, object] = {}
    if misnamed:
        problems.append(f"the tree folder is named '{tree.folder_name}'")
        fixes.append(f"rename '{tree.folder_name}' to exactly 'WindowsImageBackup'")
    target: str | None = here
    if holder is None:
        what = _WHAT[tree.inside or "windowsimagebackup"]
        problems.append(f"the share {here} is {what}")
        fixes.append(
            f"on the file server, share the folder {_UP[tree.inside or 'windowsimagebackup']} level(s) above this "
            "share's folder, the one that holds WindowsImageBackup, and use that share as -backupTarget:"
        )
        target = None
    elif holder != "":
        where = f"'{holder}' on share '{location.share}'"
        if tree.inside is not None:
            problems.append(f"the location points at {_WHAT[tree.inside]}")
        else:
            problems.append(f"WindowsImageBackup sits in {where}, not at the share root")
        name = _suggested_share(holder)
        target = "\\\\" + f"{host}\\{name}"
        fixes.append(
            f"share the folder {where} as its own share (for example '{name}'), then use -backupTarget:{target}"
        )
        details = {"folder": holder, "suggested_share": name, "backup_target_after_fix": target}
    return ShareRoot(
        failed("share-root", "; ".join(problems), "; then ".join(fixes), **details),
        tree,
        target if not misnamed else None,
    )
