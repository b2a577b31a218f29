"""A VHDX image as it is once its pending log is replayed: the file object libvhdi reads through.

libvhdi ignores the VHDX log. When the log still holds writes (an image copied before Windows flushed it), the
block table on disk is older than the one in the log: libvhdi alone would see unallocated blocks ("empty"
volumes). :class:`ReplayedFile` lays the log's writes over every read of the file, in memory; the file on the
share is never changed.
"""

from __future__ import annotations

from typing import Any

from restore.tree.deep.disk import DiskError
from restore.tree.deep.reader import BoundedReader, _PositionedReads
from restore.tree.vhdxlog import LogNotReplayable, Replay, apply, plan_replay

PENDING = "vhdx-log-pending"
REPLAYED = "vhdx-log-replayed"


class ReplayedFile(_PositionedReads):
    """Reads of ``reader`` with the replay's writes laid over them; the file grows to the log's LastFileOffset."""

    def __init__(self, reader: BoundedReader, replay: Replay) -> None:
        self._reader = reader
        self.replay = replay
        self.size = replay.file_size
        self._position = 0

    def pread(self, offset: int, size: int) -> bytes:
        end = min(offset + size, self.size)
        if offset < 0 or size < 0:
            raise ValueError("negative offset or size")
        if offset >= end:
            return b""
        data = self._reader.pread(offset, end - offset)
        if len(data) < end - offset and offset + len(data) >= self._reader.size:
            data += bytes(end - offset - len(data))  # the part the log's writes extend the file by
        return apply(self.replay, offset, data)


def replayed_source(reader: BoundedReader, name: str) -> tuple[Any, str | None]:
    """What libvhdi should read (the reader, or the replayed file) and, after a replay, the note that says so.
    Raises DiskError ``vhdx-log-pending`` when a log is pending and cannot be replayed."""
    if reader.pread(0, 8) != b"vhdxfile":
        return reader, None
    try:
        replay = plan_replay(reader.pread, reader.size)
    except LogNotReplayable as exc:
        raise DiskError(
            PENDING,
            f"{name}: its VHDX log holds writes not yet applied and they cannot be replayed ({exc}): what the "
            "image holds is not known; the deep verdict for this image is withheld",
        ) from exc
    if replay is None:
        return reader, None
    count = replay.entries
    note = (
        f"{name}: its VHDX log held {count} entr{'y' if count == 1 else 'ies'} not yet applied (the image was "
        "copied before Windows flushed it): replayed in memory, as Windows does when it mounts the image; these "
        "facts are those of the replayed disk"
    )
    return ReplayedFile(reader, replay), note
