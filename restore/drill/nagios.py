"""A drill of one server as a Nagios/Icinga plugin: one line of status text and performance data, and the exit
code the plugin API defines (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
_BY_STATUS = {"pass": OK, "warn": WARNING, "fail": CRITICAL}


@dataclass(frozen=True)
class PluginOutput:
    code: int
    text: str


def _perf(label: str, value: float | None, unit: str = "", warn: float | None = None, crit: float | None = None,
          minimum: float | None = 0) -> str:  # fmt: skip
    """'label'=value[unit];[warn];[crit];[min] ("U" when the value is unknown)."""

    def n(v: float | None) -> str:
        return "" if v is None else str(round(v))

    shown = "U" if value is None else f"{n(value)}{unit}"
    return f"'{label}'={shown};{n(warn)};{n(crit)};{n(minimum)}"


def _one_line(text: str) -> str:
    return " ".join(text.replace("|", "/").split())  # '|' starts the performance data


def render_nagios(server: dict[str, Any]) -> PluginOutput:
    """The plugin output of one server of a drill.json document (with its rpo and rto)."""
    code = _BY_STATUS.get(server["status"], UNKNOWN)
    rpo = server.get("rpo") or {}
    estimate = (server.get("rto") or {}).get("estimate")
    failing = [c for c in server["checks"] if c["status"] == server["status"] and c["status"] in ("fail", "warn")]
    said = f"{server['name']} ({server['purpose']})"
    if failing:
        first = failing[0]
        said += f": {first['id']}: {first['message']}" + (f" (and {len(failing) - 1} more)" if len(failing) > 1 else "")
    else:
        said += f": {len(server['checks'])} checks pass"
        if estimate:
            said += f"; {estimate['text']}"
    perf = [
        _perf("age", rpo.get("achieved_seconds"), "s", crit=rpo.get("target_seconds")),
        _perf("rto", estimate["seconds"] if estimate else None, "s"),
        _perf("checks_failed", sum(1 for c in server["checks"] if c["status"] == "fail"), crit=0),
        _perf("checks_warned", sum(1 for c in server["checks"] if c["status"] == "warn")),
        _perf("size", server.get("size_bytes"), "B"),
    ]
    return PluginOutput(code, f"BMR DRILL {_NAMES[code]} - {_one_line(said)} | {' '.join(perf)}")


def unknown(message: str) -> PluginOutput:
    """When the drill could not run (a bad inventory or option, not exactly one server)."""
    return PluginOutput(UNKNOWN, f"BMR DRILL UNKNOWN - {_one_line(message)}")
