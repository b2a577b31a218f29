"""What the drill measures on a share for the restore-time estimate: a timed, bounded read of the point's biggest
image, and the rate of the last ``bmr stage`` to that share (its bmr-manifest.json)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from restore.drill.estimate import LAST_STAGE, MEASURED, SAMPLE, Rate
from restore.staging.manifest import MANIFEST_NAME, UnreadableManifest, parse_points
from share import errors
from share.base import Backend

SAMPLE_BYTES = 8 * 1024 * 1024  # without --measure-read: this much of the biggest image
MAX_MEASURE_SECONDS = 600.0


def read_rate(backend: Backend, path: str, seconds: float | None) -> Rate | None:
    """Read ``path`` from the start for ``seconds`` (or to its end), or without ``seconds`` only its first
    SAMPLE_BYTES; None when it cannot be read. Each read is bounded by the backend's own timeout."""
    limit = min(seconds, MAX_MEASURE_SECONDS) if seconds is not None else None
    got = 0
    whole = True  # the file ended before the limit
    try:
        started = time.perf_counter()
        source = backend.open_source(path)
        try:
            for chunk in source.chunks():
                got += len(chunk)
                elapsed = time.perf_counter() - started
                if (limit is None and got >= SAMPLE_BYTES) or (limit is not None and elapsed >= limit):
                    whole = False
                    break
        finally:
            source.close()
        elapsed = time.perf_counter() - started
    except errors.BmrError:
        return None
    if not got or elapsed <= 0:
        return None
    name = path.rsplit("/", 1)[-1]
    if whole:
        return Rate(MEASURED if limit is not None else SAMPLE, got, elapsed, f"all of {name}, the biggest image")
    if limit is None:
        return Rate(SAMPLE, got, elapsed, f"the first {got // 1024**2} MiB of {name}")
    return Rate(MEASURED, got, elapsed, f"a read of {name} bounded to {limit:g} s")


def last_stage_rate(backend: Backend, tree_path: str, machine: str) -> Rate | None:
    """The rate of the last bmr stage of ``machine`` to this share, from its entry in the bmr-manifest.json beside
    the WindowsImageBackup folder at ``tree_path``; None when there is none, it is unreadable or names no such
    machine."""
    folder = tree_path.rsplit("/", 1)[0] if "/" in tree_path else ""
    path = f"{folder}/{MANIFEST_NAME}" if folder else MANIFEST_NAME
    try:
        points = parse_points(backend.read_bytes(path, 16 * 1024 * 1024).decode("utf-8"))
        data: Any = next((p for p in points if p["machine"].lower() == machine.lower()), None)
        if data is None:
            return None
        started = datetime.fromisoformat(data["started"])
        finished = datetime.fromisoformat(data["finished"])
        size = sum(int(f["size"]) for f in data["files"])
    except (errors.BmrError, UnreadableManifest, ValueError, KeyError, TypeError):
        return None
    seconds = (finished - started).total_seconds()
    if seconds <= 0 or size <= 0:
        return None
    return Rate(LAST_STAGE, size, seconds, f"{finished:%Y-%m-%d %H:%M} UTC", when=finished)
