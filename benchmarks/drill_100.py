"""Benchmark: a drill of 100 servers on one loopback Samba, one share each (goal: under 30 s).

Run as root from the repository root:  .venv/bin/python -m benchmarks.drill_100 [--servers 100]
Side by side: the same 100 shares checked one after another by `bmr preflight` in-process (no
concurrency), so the ratio shows what the drill's concurrency buys.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from restore.checks.preflight import PreflightRequest, run_preflight
from restore.drill.inventory import load_inventory
from restore.drill.report import write_report
from restore.drill.run import DrillOptions, run_drill
from share.connect import Access
from share.credentials import PasswordSource
from tests.lib.servers import SMB_PASSWORD, SambaServer
from tests.lib.treebuilder import ImageCache, bmr_dc, write_tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--servers", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    os.environ["DR_BENCH_PW"] = SMB_PASSWORD
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        images = ImageCache(base / "images")
        samba = SambaServer(base / "samba")
        lines = []
        for index in range(args.servers):
            name = f"SRV{index:03d}"
            root = base / "shares" / name
            write_tree(root, {name: bmr_dc()}, images)
            samba.add_share(f"s{index:03d}", root)
        samba.start()
        try:
            for index in range(args.servers):
                lines += ["[[server]]", f'name = "SRV{index:03d}"', f'location = "{samba.url(f"s{index:03d}")}"',
                          'purpose = "bmr"', 'password_env = "DR_BENCH_PW"', ""]  # fmt: skip
            inventory = base / "inventory.toml"
            inventory.write_text("\n".join(lines))
            entries = load_inventory(inventory)
            started = time.perf_counter()
            results = run_drill(entries, DrillOptions(concurrency=args.concurrency))
            write_report(base / "report", results, datetime.now(UTC))
            drill_seconds = time.perf_counter() - started
            statuses = {r.status.value for r in results}
            access = Access(password=PasswordSource(env="DR_BENCH_PW"))
            started = time.perf_counter()
            for entry in entries:
                run_preflight(PreflightRequest(entry.location, "bmr", entry.name), access)
            serial_seconds = time.perf_counter() - started
        finally:
            samba.stop()
    print(f"servers: {args.servers}, concurrency {args.concurrency}, statuses: {sorted(statuses)}")
    print(f"bmr drill (with report): {drill_seconds:.2f} s (goal < 30 s): {'PASS' if drill_seconds < 30 else 'FAIL'}")
    ratio = drill_seconds / serial_seconds
    print(f"one preflight after another: {serial_seconds:.2f} s; ratio drill/serial = {ratio:.2f}")


if __name__ == "__main__":
    main()
