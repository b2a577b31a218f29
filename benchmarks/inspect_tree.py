"""Benchmark: inspect a tree of N computers on a loopback Samba share (goal: 50 computers in under 5 s).

Run as root from the repository root:  .venv/bin/python -m benchmarks.inspect_tree [--computers 50]
Side by side in the same run: Samba's own `smbclient` listing the same tree recursively (it reads no
file contents, so it is a floor for "walk the tree once"), reported as a ratio.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from benchmarks.common import best, smbclient
from restore.tree.find import inspect_location
from share.connect import Access, open_backend, parse_location
from share.credentials import PasswordSource
from tests.lib.servers import SMB_PASSWORD, SambaServer
from tests.lib.treebuilder import ImageCache, bmr_dc, system_state_only, write_tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--computers", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        samba = SambaServer(base / "samba")
        share = samba.add_share("restore")
        images = ImageCache(base / "images")
        machines = {f"SRV{i:03d}": (bmr_dc() if i % 2 else system_state_only()) for i in range(args.computers)}
        write_tree(share, machines, images)
        samba.start()
        try:
            os.environ["BMR_BENCH_PW"] = SMB_PASSWORD
            access = Access(password=PasswordSource(env="BMR_BENCH_PW"))
            ours: list[float] = []
            for _ in range(args.runs):
                started = time.perf_counter()
                with open_backend(parse_location(samba.url("restore")), access) as backend:
                    result = inspect_location(backend)
                ours.append(time.perf_counter() - started)
            points = sum(len(m.recovery_points) for t in result.trees for m in t.machines)
            assert result.ok and points == args.computers, "the benchmark tree should inspect clean"
            floor = best(args.runs, lambda: smbclient(samba, "restore", "recurse; ls"))
        finally:
            samba.stop()
    fastest = min(ours)
    print(f"computers: {args.computers}, recovery points: {points}")
    verdict = "PASS" if fastest < 5 else "FAIL"
    print(f"bmr inspect over SMB: best {fastest:.2f} s of {args.runs} (goal < 5 s): {verdict}")
    print(f"smbclient recursive ls: best {floor:.2f} s; ratio bmr/smbclient = {fastest / floor:.2f}x")


if __name__ == "__main__":
    main()
