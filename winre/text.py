"""The words every format shares: the title, the generation stamp, the running head and the FAIL banner."""

from __future__ import annotations

from winre.runbook import RunbookInput, path_for


def title(inp: RunbookInput) -> str:
    return f"Restore runbook: {inp.machine.text}, {path_for(inp).split(',')[0].lower()}"


def stamp(inp: RunbookInput) -> str:
    return (
        f"Generated {inp.generated_at:%Y-%m-%d %H:%M} UTC by bmr {inp.tool_version} from {inp.location}. "
        "No password is stored here: fill in blanks by hand."
    )


def running_head(inp: RunbookInput) -> str:
    """What heads every printed sheet: which server and which point."""
    return f"{inp.machine.text} - version {inp.version.text} (UTC)"


def banner_lines(inp: RunbookInput) -> list[str]:
    """The FAIL banner: a headline, then each blocking check with its fix. Empty when nothing blocks."""
    if not inp.blocking:
        return []
    return [
        "FAIL: the preflight found problems that will stop this restore. This runbook was made anyway "
        "(--force): fix these first.",
        *inp.blocking,
    ]
