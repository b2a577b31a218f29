"""Plain-text and JSON renderings for the terminal. Pure functions: strings in, strings out."""

from __future__ import annotations

from typing import Any

from restore.model import Inspection, Problem, RecoveryPoint, Severity
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


def _point_summary(point: RecoveryPoint) -> str:
    kinds = []
    if point.bare_metal:
        kinds.append("BMR")
    if point.system_state:
        kinds.append("system state")
    kind = " + ".join(kinds) or "volumes only"
    errors_ = sum(1 for p in point.problems if p.severity is Severity.ERROR)
    status = "OK" if point.ok else f"{errors_} error{'s' if errors_ != 1 else ''}"
    return f"{point.folder}   version {point.version or '?'}   {kind}   {human_bytes(point.size_bytes)}   {status}"


def _problem_lines(problems: tuple[Problem, ...], indent: str) -> list[str]:
    marks = {Severity.ERROR: "x", Severity.WARNING: "!"}
    return [f"{indent}{marks[p.severity]} {p.severity} {p.code}: {p.message}" for p in problems]


def format_inspection(result: Inspection) -> str:
    lines = [f"Location: {result.location}"]
    lines += _problem_lines(result.problems, "  ")
    for tree in result.trees:
        where = tree.relative_path if tree.inside is None else f"{tree.relative_path} (the location is inside it)"
        lines.append(f"  Tree: {where}   share root for a restore: {tree.share_root}")
        lines += _problem_lines(tree.problems, "    ")
        for machine in tree.machines:
            lines.append(f"    Computer: {machine.name}")
            lines += _problem_lines(machine.problems, "      ")
            for point in machine.recovery_points:
                lines.append(f"      {_point_summary(point)}")
                lines.append(f"        can recover: {', '.join(point.can_recover) or 'nothing'}")
                if point.roles:
                    lines.append(f"        roles: {', '.join(point.roles)}")
                for vol in point.volumes:
                    name = vol.access_path or f"[{vol.label or 'hidden'}]"
                    if vol.image is None:
                        lines.append(f"        volume {name} - image missing")
                    else:
                        lines.append(
                            f"        volume {name} - {vol.format}, disk {human_bytes(vol.virtual_size)}, "
                            f"file {human_bytes(vol.size)}"
                        )
                lines += _problem_lines(point.problems, "        ")
    verdict = "every recovery point found is complete" if result.ok else "NOT restorable as it stands (see above)"
    lines.append(f"Result: {verdict}")
    return "\n".join(lines)
