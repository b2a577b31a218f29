"""Plain-text and JSON renderings for the terminal. Pure functions: strings in, strings out."""

from __future__ import annotations

from typing import Any

from restore.probe import ProbeResult
from share import errors


def human_bytes(value: int | None) -> str:
    if value is None:
        return "unknown"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def format_probe(result: ProbeResult) -> str:
    facts = result.facts
    rows = [
        ("Location", result.location),
        ("Protocol", facts.protocol),
        ("Server address", facts.server_address or "-"),
        ("Dialect", facts.dialect or "-"),
        ("Signing", _yes_no(facts.signing)),
        ("Encryption", _yes_no(facts.encryption)),
        ("User", facts.user or "-"),
        ("Free", human_bytes(result.space.free) if result.space else "unknown"),
        ("Total", human_bytes(result.space.total) if result.space else "unknown"),
    ]
    if result.writable is None:
        rows.append(("Writable", "not tested (add --write-test)"))
    else:
        rows.append(("Writable", "yes" if result.writable else f"no: {result.write_error}"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k + ':':<{width + 1}} {v}" for k, v in rows)


def error_json(exc: errors.BmrError) -> dict[str, Any]:
    return {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint, "retryable": exc.retryable}


def format_error(exc: errors.BmrError) -> str:
    text = f"bmr: error: {exc.message}"
    if exc.hint:
        text += f"\n  what to do: {exc.hint}"
    return text
