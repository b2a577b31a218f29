"""Freshness: the newest recovery point's age (the RPO a restore would achieve today) against the target RPO.
A point older than the target is a FAIL of its own check, ``rpo``. Pure functions."""

from __future__ import annotations

import re
from datetime import datetime

from restore.checks.check import Check, failed, passed
from restore.units import human_seconds

CHECK_ID = "rpo"
_PART_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|min|s)", re.IGNORECASE)
_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "min": 60, "s": 1}
MAX_RPO = 366 * 86400.0


def parse_duration(text: str) -> float:
    """Seconds from ``24h``, ``36h``, ``1d12h``, ``90m``, ``2w`` (a bare number is refused: the unit is what makes a
    target readable). Raises ValueError naming what is accepted."""
    cleaned = text.strip().replace(" ", "")
    if not cleaned or _PART_RE.sub("", cleaned):
        raise ValueError(f"{text!r} is not a duration: give a number and a unit, e.g. 24h, 36h, 1d12h, 90m, 2w")
    seconds = sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in _PART_RE.findall(cleaned))
    if not 0 < seconds <= MAX_RPO:
        raise ValueError(f"{text!r}: a target RPO must be more than 0 and at most 366 days")
    return seconds


def human_duration(seconds: float) -> str:
    """``24 h``, ``1 d 12 h``, ``90 min``: a target or an age, for people."""
    if seconds >= 2 * 86400:
        days, rest = divmod(round(seconds / 3600), 24)
        return f"{days} d {rest} h" if rest else f"{days} d"
    if seconds >= 3600 and round(seconds) % 3600 == 0:
        return f"{round(seconds) // 3600} h"
    return human_seconds(seconds)


def rpo_check(newest_utc: datetime | None, target_seconds: float, now: datetime) -> Check:
    """PASS when the newest point is at most ``target_seconds`` old, FAIL when older or when there is none."""
    target = human_duration(target_seconds)
    if newest_utc is None:
        return failed(CHECK_ID, f"no recovery point with a time stamp was found: the target RPO ({target}) cannot be "
                      "met", "make a backup, then drill again", target_seconds=target_seconds)  # fmt: skip
    age = (now - newest_utc).total_seconds()
    details = {"target_seconds": target_seconds, "age_seconds": round(age), "newest_utc": newest_utc.isoformat()}
    if age > target_seconds:
        return failed(
            CHECK_ID,
            f"the newest point ({newest_utc:%Y-%m-%d %H:%M} UTC) is {human_duration(age)} old, past the target RPO "
            f"of {target}: a restore today would lose {human_duration(age)} of changes",
            "find out why the backups stopped (Windows Server Backup's or MABS's job history), make one, drill again",
            **details,
        )
    return passed(CHECK_ID, f"the newest point is {human_duration(age)} old, within the target RPO of {target}",
                  **details)  # fmt: skip
