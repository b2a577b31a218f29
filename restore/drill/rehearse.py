"""`bmr drill` as one call: read the inventory, run every server, write the report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from restore.checks.check import Status
from restore.drill.inventory import load_inventory
from restore.drill.report import drill_json, write_report
from restore.drill.run import DrillOptions, ServerResult, run_drill
from restore.outcome import Outcome


@dataclass(frozen=True)
class DrillRequest:
    inventory: Path
    options: DrillOptions
    report_dir: Path | None = None  # None: a new folder named by the time, in the current folder
    junit: Path | None = None


@dataclass(frozen=True)
class DrillSummary:
    results: tuple[ServerResult, ...]
    generated: datetime
    report_dir: Path

    @property
    def outcome(self) -> Outcome:
        return Outcome.FAILED if any(r.status is Status.FAIL for r in self.results) else Outcome.OK

    def to_json(self) -> dict[str, Any]:
        return {**drill_json(list(self.results), self.generated), "report_dir": str(self.report_dir)}


def rehearse(
    request: DrillRequest,
    *,
    on_count: Callable[[int], object] | None = None,
    on_done: Callable[[ServerResult], object] | None = None,
) -> DrillSummary:
    """Validate the inventory (InventoryError before anything runs), run every server, write the report."""
    entries = load_inventory(request.inventory)
    if on_count is not None:
        on_count(len(entries))
    results = run_drill(entries, request.options, on_done=on_done)
    now = datetime.now(UTC)
    folder = request.report_dir or Path(f"drill-report-{now:%Y%m%d-%H%M%S}")
    write_report(folder, results, now, request.junit)
    return DrillSummary(tuple(results), now, folder)
