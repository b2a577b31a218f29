"""Restore-time estimates: the point's size over a rate bmr measured, and what that rate rests on. Pure.

The rates, best first: a timed read of the point's biggest image during this drill (``--measure-read``); this
drill's own copy of the point (``stage = true``); the last ``bmr stage`` to this share (its bmr-manifest.json:
bytes over the time from start to finish, copy and read-back together, so it errs long); the drill's small
sample read of the biggest image (a few MiB: a rough guide at best). The estimate is the time wbadmin needs to
read the whole point from the share, at that rate: network and share, not the target's disks, set it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from restore.units import human_bytes, human_seconds

MEASURED, STAGED, LAST_STAGE, SAMPLE = "measured-read", "this-drill-stage", "last-stage", "sample-read"


@dataclass(frozen=True)
class Rate:
    """Bytes over seconds, and where they come from."""

    basis: str  # one of MEASURED, STAGED, LAST_STAGE, SAMPLE
    bytes: int
    seconds: float
    what: str  # "a 30 s read of Backup.../x.vhdx", "bmr stage of 2026-11-20 03:00 UTC"
    when: datetime | None = None

    @property
    def per_second(self) -> float:
        return self.bytes / self.seconds


_BASIS_TEXT = {
    MEASURED: "measured during this drill: {what}, {amount} in {time}",
    STAGED: "this drill's copy of the point: {amount} in {time}",
    LAST_STAGE: "the last bmr stage to this share ({what}): {amount} in {time}, copy and read-back together",
    SAMPLE: "a small sample read during this drill ({what}, {amount} in {time}); measure with --measure-read 30 "
    "for a firmer figure",
}
_ORDER = (MEASURED, STAGED, LAST_STAGE, SAMPLE)


@dataclass(frozen=True)
class Estimate:
    size_bytes: int
    rate: Rate

    @property
    def seconds(self) -> float:
        return self.size_bytes / self.rate.per_second

    def sentence(self) -> str:
        """'at 110.0 MiB/s, 2.1 TiB restores in about 5 h 30 min'."""
        return (f"at {human_bytes(round(self.rate.per_second))}/s, {human_bytes(self.size_bytes)} restores in about "
                f"{human_seconds(self.seconds)}")  # fmt: skip

    def based_on(self) -> str:
        rate = self.rate
        took = f"{rate.seconds:.2f} s" if rate.seconds < 10 else human_seconds(rate.seconds)
        return _BASIS_TEXT[rate.basis].format(what=rate.what, amount=human_bytes(rate.bytes), time=took)

    def explained(self) -> str:
        return f"{self.sentence()} (based on {self.based_on()})"

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds),
            "size_bytes": self.size_bytes,
            "bytes_per_second": round(self.rate.per_second),
            "basis": self.rate.basis,
            "measured_bytes": self.rate.bytes,
            "measured_seconds": round(self.rate.seconds, 3),
            "text": self.sentence(),
            "based_on": self.based_on(),
        }


def best_estimate(size_bytes: int | None, rates: list[Rate]) -> Estimate | None:
    """The estimate from the best rate at hand (the order in the module's docstring); None without a size or a
    usable rate."""
    if not size_bytes:
        return None
    usable = [r for r in rates if r.bytes > 0 and r.seconds > 0]
    if not usable:
        return None
    return Estimate(size_bytes, min(usable, key=lambda r: _ORDER.index(r.basis)))
