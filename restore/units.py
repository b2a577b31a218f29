"""Sizes and durations for people."""

from __future__ import annotations


def human_bytes(value: int | None) -> str:
    if value is None:
        return "unknown"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


_RATE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_rate(text: str) -> float:
    """Bytes per second from ``50M``, ``1.5G``, ``800K`` or ``1000000`` (binary units, as everywhere in bmr; an
    optional trailing ``B``, ``iB`` or ``/s`` is accepted). Raises ValueError."""
    cleaned = text.strip().upper().removesuffix("/S").removesuffix("IB").removesuffix("B")
    unit = cleaned[-1:] if cleaned[-1:] in ("K", "M", "G") else ""
    number = float(cleaned[: len(cleaned) - len(unit)])
    if not number > 0 or number == float("inf"):
        raise ValueError(f"{text!r} is not a positive rate")
    return number * _RATE_UNITS[unit]


def human_seconds(value: float) -> str:
    seconds = round(value)
    if seconds < 90:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 90:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
