"""Where WindowsImageBackup sits relative to the share root, and the fix when it is not right there.

Pure: from a location and an inspection to a check. WinRE and wbadmin find a tree only when the share ROOT
holds a folder named exactly WindowsImageBackup.
"""

from __future__ import annotations

from dataclasses import dataclass

from restore.checks.check import Check, failed, passed, warned
from restore.tree.choose import holder_location
from restore.tree.find import is_tree_name
from restore.tree.model import Inside, Inspection, Tree
from share import paths
from share.location import Location, windows_host


def holder_of(location: Location, tree: Tree) -> str | None:
    """Share-relative folder that holds the tree folder; None when that folder lies above the share."""
    holder = holder_location(location, tree)
    return holder.path if holder is not None else None


def target_for(location: Location, host: str, folder: str = "") -> str:
    """The UNC of a folder given relative to the SHARE (not to the location's path): ``\\\\host\\share[\\folder]``."""
    parts = [p for p in folder.split("/") if p]
    return "\\\\" + "\\".join([windows_host(host), location.share or "", *parts])


@dataclass(frozen=True)
class ShareRoot:
    check: Check
    tree: Tree | None
    backup_target: str | None


def suggested_share(folder: str) -> str:
    """A share name for a folder (its own name, cleaned), for the share the WinRE wizard needs."""
    return _suggested_share(folder)


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
            return ShareRoot(_subfolder(location, host, location.path, "the copy will put WindowsImageBackup"),
                             None, location.unc(host))  # fmt: skip
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
        # A tree bmr staged into a sub-folder (its manifest beside it names every computer in it) is a target of
        # its own, never a stray copy: only the others can be copies.
        own = [t for t in trees if t.staged and "/" in t.relative_path]
        rest = [t for t in trees if t not in own]
        if len(rest) == 1 or (not rest and len(own) == 1):
            trees = tuple(rest or own)
        elif not rest:
            return ShareRoot(_staged_subfolders(location, host, own), None, None)
        else:
            trees = tuple(rest)
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
    # Only a tree folder can be misnamed: inside a computer or Backup folder, folder_name is that folder's name.
    misnamed = tree.inside in (None, Inside.TREE) and not is_tree_name(tree.folder_name)
    if not misnamed and holder == "":
        return ShareRoot(passed("share-root", f"{here} holds WindowsImageBackup at its root"), tree, here)
    if not misnamed and holder and (tree.inside is not None or holder == location.path):
        # The tree sits right in a named sub-folder: wbadmin takes that UNC, the WinRE GUI search does not.
        return ShareRoot(_subfolder(location, host, holder, "WindowsImageBackup sits"), tree, location.unc(host)
                         if tree.inside is None else target_for(location, host, holder))  # fmt: skip

    problems: list[str] = []
    fixes: list[str] = []
    details: dict[str, object] = {}
    if misnamed:
        problems.append(f"the tree folder is named '{tree.folder_name}'")
        fixes.append(f"rename '{tree.folder_name}' to exactly 'WindowsImageBackup'")
    target: str | None = here
    if holder is None:
        inside = tree.inside or Inside.TREE
        what = inside.description
        problems.append(f"the share {here} is {what}")
        levels = inside.levels_above
        fixes.append(
            f"on the file server, share the folder {levels} level(s) above this "
            "share's folder, the one that holds WindowsImageBackup, and use that share as -backupTarget:"
        )
        if inside is Inside.COMPUTER and not location.path:
            # From inside it, the computer folder's own name (wbadmin's -machine:) cannot be seen: the share's
            # name stands in for it.
            problems.append(
                f"the computer's name (-machine:) is the name of this share's folder on the file server, which "
                f"cannot be seen from inside it (the share is named '{location.share}')"
            )
            fixes.append("use that folder's name as -machine:")
        target = None
        details = {"inside": inside.value, "levels_above": levels}  # read by --force: no output can work here
    elif holder != "":
        where = f"'{holder}' on share '{location.share}'"
        if tree.inside is not None:
            problems.append(f"the location points at {tree.inside.description}")
        else:
            problems.append(f"WindowsImageBackup sits in {where}, not at the share root or the named folder")
        name = _suggested_share(holder)
        target = "\\\\" + f"{windows_host(host)}\\{name}"
        fixes.append(
            f"share the folder {where} as its own share (for example '{name}'), then use -backupTarget:{target}"
        )
        details = {"folder": holder, "suggested_share": name, "backup_target_after_fix": target}
    return ShareRoot(
        failed("share-root", "; ".join(problems), "; then ".join(fixes), **details),
        tree,
        target if not misnamed else None,
    )


def _subfolder(location: Location, host: str, folder: str, what: str) -> Check:
    name = _suggested_share(folder)
    unc = target_for(location, host, folder)
    return warned(
        "share-root",
        f"{what} in the sub-folder '{folder}' of share '{location.share}': wbadmin accepts "
        f"-backupTarget:{unc}, but WinRE's 'Search for a system image on the network' needs a share root",
        f"for a restore from the WinRE wizard, share '{folder}' as its own share (for example '{name}') "
        f"and use \\\\{windows_host(host)}\\{name}",
        folder=folder,
        suggested_share=name,
        backup_target_after_fix=f"\\\\{windows_host(host)}\\{name}",
    )


def _staged_subfolders(location: Location, host: str, trees: list[Tree]) -> Check:
    """Several points bmr staged, each in a sub-folder of its own: each sub-folder is a -backupTarget, this
    folder is none."""
    places = [
        (holder_of(location, t) or "", ", ".join(m.name for m in t.machines)) for t in trees
    ]  # fmt: skip
    listed = "; ".join(f"{target_for(location, host, folder)} ({names})" for folder, names in places)
    return failed(
        "share-root",
        f"{len(trees)} sub-folders each hold recovery points bmr staged ({listed}); a restore reads one of them, "
        "not this folder",
        "name the sub-folder of the computer to restore as the location (it is the -backupTarget:), and for the "
        "WinRE wizard share that sub-folder as its own share",
        targets=[target_for(location, host, folder) for folder, _ in places],
    )
