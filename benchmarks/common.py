"""What the benchmark scripts share: timing the best of several runs, and Samba's own client as the reference."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable

from tests.lib.servers import SMB_PASSWORD, SMB_USER, SambaServer


def best(runs: int, action: Callable[[], object]) -> float:
    """The shortest of ``runs`` timings, each started with no dirty pages of the previous run pending."""
    times = []
    for _ in range(runs):
        os.sync()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def smbclient(samba: SambaServer, share: str, command: str, *options: str) -> None:
    """Run Samba's `smbclient -c COMMAND` on a share; the password goes in its PASSWD variable, not argv."""
    subprocess.run(
        ["smbclient", f"//127.0.0.1/{share}", "-p", str(samba.port), "-U", SMB_USER, *options, "-c", command],
        check=True, capture_output=True, env={**os.environ, "PASSWD": SMB_PASSWORD},
    )  # fmt: skip
