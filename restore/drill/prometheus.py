"""The drill as a Prometheus/OpenMetrics textfile (node_exporter's textfile collector reads it): point age,
target RPO, estimated RTO, each check's status, the drill's time and its ledger entry. Rendered from a drill.json
document; written to a temporary name in the same folder and renamed, so the collector never reads half a file."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

_STATUS_VALUE = {"pass": 0, "skip": 0, "warn": 1, "fail": 2}
_METRICS: dict[str, str] = {
    "bmr_drill_timestamp_seconds": "When the drill finished (Unix time).",
    "bmr_drill_servers": "Servers in the drill, by result.",
    "bmr_drill_server_status": "A server's drill result: 0 pass, 1 warn, 2 fail.",
    "bmr_drill_check_status": "One check of a server: 0 pass (or skipped), 1 warn, 2 fail.",
    "bmr_drill_point_age_seconds": "Age of the server's newest recovery point: the RPO a restore would achieve now.",
    "bmr_drill_rpo_target_seconds": "The target RPO the point's age is held against.",
    "bmr_drill_estimated_rto_seconds": "Estimated time to read the whole point from the share (restore time).",
    "bmr_drill_point_size_bytes": "Size of the drilled recovery point.",
    "bmr_drill_ledger_position": "The drill ledger entry this drill appended.",
    "bmr_drill_ledger_chain_intact": "1 when the drill ledger's hash chain was intact before this drill's entry.",
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}" if labels else ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render_prometheus(document: dict[str, Any]) -> str:
    """The textfile: every metric family once, with HELP and TYPE, samples in a stable order, ending in a newline."""
    samples: dict[str, dict[str, float]] = {name: {} for name in _METRICS}

    def add(name: str, labels: dict[str, str], value: float) -> None:
        key = _labels(labels)
        # One sample per series: a check id that appears twice for a server counts at its worst.
        samples[name][key] = max(value, samples[name].get(key, value))

    samples["bmr_drill_timestamp_seconds"][""] = datetime.fromisoformat(document["generated"]).timestamp()
    for status in ("pass", "warn", "fail"):
        add("bmr_drill_servers", {"result": status}, document["summary"].get(status, 0))
    for server in document["servers"]:
        labels = {"server": server["name"], "purpose": str(server["purpose"]), "machine": server.get("machine") or ""}
        if server.get("site"):
            labels = {"site": server["site"], **labels}
        add("bmr_drill_server_status", labels, _STATUS_VALUE[server["status"]])
        for check in server["checks"]:
            add("bmr_drill_check_status", {**labels, "check": check["id"]}, _STATUS_VALUE.get(check["status"], 2))
        rpo = server.get("rpo") or {}
        if rpo.get("achieved_seconds") is not None:
            add("bmr_drill_point_age_seconds", labels, rpo["achieved_seconds"])
        if rpo.get("target_seconds") is not None:
            add("bmr_drill_rpo_target_seconds", labels, rpo["target_seconds"])
        estimate = (server.get("rto") or {}).get("estimate")
        if estimate:
            add("bmr_drill_estimated_rto_seconds", labels, estimate["seconds"])
        if server.get("size_bytes"):
            add("bmr_drill_point_size_bytes", labels, server["size_bytes"])
    ledger = document.get("ledger")
    if ledger and "position" in ledger:
        add("bmr_drill_ledger_position", {}, ledger["position"])
        add("bmr_drill_ledger_chain_intact", {}, 1 if ledger.get("chain_intact") else 0)
    lines = []
    for name, help_text in _METRICS.items():
        if not samples[name]:
            continue
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        lines += [f"{name}{labels} {_number(value)}" for labels, value in samples[name].items()]
    return "\n".join(lines) + "\n"


def write_textfile(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a temporary file in the same folder, flushed, then renamed."""
    fd, temp = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # the collector runs as another user
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
