"""Benchmark: the whole preflight of one computer against a loopback Samba (goal: under 2 s).

Run as root from the repository root:  .venv/bin/python -m benchmarks.preflight_one
Side by side in the same run: Samba's `smbclient` doing one logon and one `ls` of the computer folder,
the least any check of that share can cost, reported as a ratio.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from benchmarks.common import best, smbclient
from restore.checks.check import Status
from restore.checks.preflight import PreflightRequest, run_preflight
from share.connect import Access, parse_location
from share.credentials import PasswordSource
from tests.lib.servers import SMB_PASSWORD, SambaServer
from tests.lib.treebuilder import ImageCache, bmr_dc, write_tree

RUNS = 5


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        samba = SambaServer(base / "samba")
        share = samba.add_share("restore")
        write_tree(share, {"DC01": bmr_dc()}, ImageCache(base / "images"))
        samba.start()
        try:
            os.environ["BMR_BENCH_PW"] = SMB_PASSWORD
            access = Access(password=PasswordSource(env="BMR_BENCH_PW"))
            request = PreflightRequest(parse_location(samba.url("restore")), "bmr", stage_size=1 << 20)
            ours = []
            for _ in range(RUNS):
                started = time.perf_counter()
                result = run_preflight(request, access)
                ours.append(time.perf_counter() - started)
            assert result.status is not Status.FAIL, result.checks
            floor = best(RUNS, lambda: smbclient(samba, "restore", "ls WindowsImageBackup\\DC01\\*"))
        finally:
            samba.stop()
    fastest = min(ours)
    print(f"checks: {len(result.checks)} ({', '.join(c.id for c in result.checks)})")
    print(f"bmr preflight: best {fastest:.3f} s of {RUNS} (goal < 2 s): {'PASS' if fastest < 2 else 'FAIL'}")
    print(f"smbclient logon + ls: best {floor:.3f} s; ratio bmr/smbclient = {fastest / floor:.2f}x")


if __name__ == "__main__":
    main()
