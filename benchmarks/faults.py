"""Issue 13's figures, by hand as root: link cuts, stalls, kills and Ctrl-C at random moments of a real stage to a
loopback Samba, each followed by a check that the copy (or its rerun) is byte-identical; Ctrl-C latency; peak memory.

    .venv/bin/python -m benchmarks.faults [RUNS_PER_FAULT]
"""

from __future__ import annotations

import filecmp
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.lib.proxy import CuttingProxy
from tests.lib.servers import SMB_PASSWORD, SambaServer
from tests.lib.treebuilder import ImageCache, PointSpec, write_tree

work = Path("/tmp/faultbench/w")
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)
samba = SambaServer(work / "samba")
samba.add_share("data")
samba.start()
src = work / "src"
write_tree(src, {"DC01": PointSpec(pad_mb=200)}, ImageCache(work / "img"))
env = {**os.environ, "PW": SMB_PASSWORD}
PY = [sys.executable, "-m", "restore", "stage"]
results: dict[str, list[int]] = {}


def same(dst: Path) -> bool:
    files = [p.relative_to(src) for p in src.rglob("*") if p.is_file()]
    return all(filecmp.cmp(src / f, dst / f, shallow=False) for f in files)


def stage(url: str, *extra: str, timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*PY, str(src), url, "--password-env", "PW", *extra], env=env, capture_output=True, timeout=timeout
    )


def fresh(i: str) -> tuple[str, Path]:
    d = samba.shares["data"].path / i
    d.mkdir()
    return samba.url("data", i), d


def note(kind: str, ok: bool) -> None:
    results.setdefault(kind, [0, 0])
    results[kind][1] += 1
    results[kind][0] += int(ok)


# peak memory of a clean stage run
url, d = fresh("clean")
t0 = time.monotonic()
r = stage(url)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print("clean run", r.returncode, f"{time.monotonic() - t0:.1f}s", f"peak RSS {peak:.0f} MB")
note("clean", r.returncode == 0 and same(d))

N = int(sys.argv[1]) if len(sys.argv) > 1 else 4
for i in range(N):  # link cuts, 3 per run at random places
    proxy = CuttingProxy(samba.port, cut_after=random.randint(1, 150) * 1024 * 1024, cuts=3)
    u, d = fresh(f"cut{i}")
    r = stage(f"smb://BMRFILES;root@127.0.0.1:{proxy.port}/data/{d.name}", "--timeout", "5")
    note("cuts", r.returncode == 0 and same(d) and b"Traceback" not in r.stderr)
    print("cut", i, r.returncode, proxy.cuts_done, r.stderr.decode()[-300:] if r.returncode else "")
    proxy.close()
for i in range(N):  # stalls, the server lets go 2-10 s later
    proxy = CuttingProxy(samba.port, cut_after=random.randint(1, 150) * 1024 * 1024, stall=True)
    u, d = fresh(f"stall{i}")

    def later(p: CuttingProxy = proxy) -> None:
        if p.stalled.wait(120):
            time.sleep(random.uniform(2, 10))
            p.release()

    threading.Thread(target=later, daemon=True).start()
    r = stage(f"smb://BMRFILES;root@127.0.0.1:{proxy.port}/data/{d.name}", "--timeout", "3")
    note("stalls", r.returncode == 0 and same(d) and b"Traceback" not in r.stderr)
    print("stall", i, r.returncode, r.stderr.decode()[-300:] if r.returncode else "")
    proxy.close()
latencies = []
for kind, sig in (("kills", signal.SIGKILL), ("ctrl-c", signal.SIGINT)):
    for i in range(N):
        u, d = fresh(f"{kind}{i}")
        p = subprocess.Popen(
            [*PY, str(src), u, "--password-env", "PW"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        time.sleep(random.uniform(0.3, 3.0))
        if p.poll() is not None:  # finished before the signal: not a try
            print(kind, i, "finished before the signal")
            continue
        t = time.monotonic()
        p.send_signal(sig)
        _o, err = p.communicate(timeout=60)
        lat = time.monotonic() - t
        if sig == signal.SIGINT:
            latencies.append(lat)
        r = stage(u)
        clean_stop = sig == signal.SIGKILL or (p.returncode == 130 and b"Traceback" not in err)
        ok = r.returncode == 0 and same(d) and clean_stop
        note(kind, ok)
        print(kind, i, p.returncode, f"{lat:.3f}s", r.returncode)
print("RESULTS", results)
if latencies:
    print(f"Ctrl-C latency s: min {min(latencies):.3f} max {max(latencies):.3f}")
samba.stop()
