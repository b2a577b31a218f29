"""Source and target of `bmr stage` must be two separate folders: the same, one inside the other, is refused
before either side is opened, whatever the flags (with --force, a copy onto its own source would remove the
source's other recovery points).

A location is reduced to the place it names: a local path resolved (symlinks, ``..``, case on Windows), an SMB
path as host + port + share + folders compared without case (SMB names are case-insensitive; the UNC and smb://
spellings parse to the same), an SFTP path as host + port + folders. Two names for one folder that no spelling
rule can match (a host alias, an IP and a host name, a local mount of the share) are caught once both sides are
connected: a probe file created in the target (as the write test does, and removed at once) shows up in the source.
"""

from __future__ import annotations

import contextlib
import uuid

from share import errors
from share.base import Backend
from share.location import Location, place_of


class SameOrOverlapping(errors.UsageError):
    """Give a target folder that is neither the source, nor inside it, nor holding it."""


def relation(source: Location, target: Location) -> str | None:
    """'the same folder', 'inside the source', 'holds the source', or None when the two are apart."""
    a, b = place_of(source), place_of(target)
    if a.server != b.server:
        return None
    if a.parts == b.parts:
        return "the same folder as"
    if b.parts[: len(a.parts)] == a.parts:
        return "inside"
    if a.parts[: len(b.parts)] == b.parts:
        return "a folder holding"
    return None


def refuse_overlap(source: Location, target: Location) -> None:
    """Raise SameOrOverlapping when the target is the source, lies inside it or holds it."""
    how = relation(source, target)
    if how is not None:
        raise SameOrOverlapping(
            f"the target {target.display()} is {how} the source {source.display()}; nothing was read or written",
            hint="Stage into a folder of its own, apart from the source (a different share or a sibling folder).",
        )


def refuse_alias(source: Backend, target: Backend) -> None:
    """Raise SameOrOverlapping when a file created in the target's folder appears in the source's: the two are one
    folder under two names. The probe file is removed at once; nothing else is written."""
    name = f"bmr-same-folder-probe-{uuid.uuid4().hex[:12]}.tmp"
    try:
        with target.open_write(name) as stream:
            stream.write(b"bmr: is this folder also the source?\n")
    except errors.ShareError:
        return  # a target that cannot be written is refused by the write test, in its own words
    try:
        try:
            source.stat(name)
        except errors.ShareError:
            return
    finally:
        with contextlib.suppress(errors.ShareError):
            target.remove(name)
    raise SameOrOverlapping(
        f"the target {target.describe()} is the source {source.describe()} under another name (a file created in "
        "the target appeared in the source); nothing was copied or removed",
        hint="Stage into a folder of its own, apart from the source.",
    )
