"""`bmr stage` against the same job done with standard tools, whole processes, same run (run as root).

    .venv/bin/python -m benchmarks.stage_vs_tools [--gib 2] [--runs 3] [--capped-gib 0.5] [--capped-rate 64]
                                                  [--only signed,encrypted,capped,local,sftp,streams]

Each row times one job both ways as whole processes, in A/B pairs (tools, then bmr, after a sync each), and
prints the medians of ``--runs`` pairs and the ratio (tools' time / bmr's time: above 1 means bmr is faster).
Loopback servers on this machine:
- signed share (SMB 3.1.1, signing mandatory), and the same rows on an encrypted share (`smb encrypt = required`,
  smbclient with --client-protection=encrypt):
  verified stage            vs `openssl sha256` of the source, `smbclient put`, `smbclient get` into `openssl sha256`
  stage --no-verify         vs `openssl sha256` of the source, then `smbclient put`
  raw transport (no hash)   vs `smbclient put` alone (bmr's SMB sink fed from the file, nothing else)
- capped: the signed share, and the SFTP server, through a link that carries at most --capped-rate MiB/s per TCP
  connection (a TCP proxy, as per-flow shaping or a long fat pipe would): the verified and --no-verify rows with
  `--streams 4` (SFTP: --no-verify vs openssl + scp)
- streams: on the loopback share, --no-verify with `--streams 2` against `--streams 1` (what a second stream
  costs or gains on this machine's cores)
- local folder to local folder, verified: vs `openssl sha256`, `cp`, `sync`, `openssl sha256` of the copy
- SFTP: stage --no-verify to an SFTP folder vs `openssl sha256` of the source, then `scp`
Every bmr run's peak memory (maximum resident set, the whole process) is printed at the end.
Goals (issue 24): verified >= 1.5x, --no-verify >= 1.2x (encrypted the same), local >= 1.2x, SFTP >= 1.0x, peak
memory < 200 MB.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.lib.proxy import CuttingProxy
from tests.lib.servers import SMB_PASSWORD, SMB_USER, SambaServer, SshServer
from tests.lib.treebuilder import ImageCache, PointSpec, write_tree

ENV_PW = "BMR_BENCH_PW"
MIB = 1024 * 1024
GOALS = {"verified": 1.5, "no-verify": 1.2, "raw": 0.9, "local verified": 1.2, "sftp": 1.0, "info": 0.0}
PEAKS: list[float] = []  # MB, every bmr process


@dataclass(frozen=True)
class Timing:
    wall: float
    own: float  # CPU seconds of the job's processes (the command and everything it waited for)
    rest: float  # CPU seconds of everything else on the machine meanwhile: the servers, the kernel's threads


@dataclass
class Row:
    label: str
    tools: Timing
    ours: Timing
    goal: str


def _machine_cpu() -> float:
    """CPU seconds spent by the whole machine since boot (user, nice, system, irq, softirq)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:8]]
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) / os.sysconf("SC_CLK_TCK")


def timed(command: list[str], env: dict[str, str] | None = None) -> Timing:
    """Wall and CPU seconds of one process; records its peak memory when it is bmr."""
    machine = _machine_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - started
    spent = _machine_cpu() - machine
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {shlex.join(command)}\n{stderr}")
    if command[:3] == [sys.executable, "-m", "restore"]:
        PEAKS.append(usage.ru_maxrss / 1024)
    own = usage.ru_utime + usage.ru_stime
    return Timing(took, own, max(0.0, spent - own))


SETTLE = [0.0]  # seconds to wait after cleaning up, before each run (--settle)


def pairs(
    runs: int, clean: Callable[[], object], tools: Callable[[], Timing], ours: Callable[[], Timing]
) -> tuple[Timing, Timing]:
    """Medians of ``runs`` A/B pairs, each run on a clean target with no dirty pages pending."""
    a: list[Timing] = []
    b: list[Timing] = []
    for _ in range(runs):
        for action, out in ((tools, a), (ours, b)):
            clean()
            os.sync()
            time.sleep(SETTLE[0])
            out.append(action())
    return _median(a), _median(b)


def _median(timings: list[Timing]) -> Timing:
    return Timing(*(statistics.median(getattr(t, name) for t in timings) for name in ("wall", "own", "rest")))


def sh(command: str, env: dict[str, str] | None = None) -> Timing:
    return timed(["bash", "-o", "pipefail", "-c", command], env)


def bmr(*args: str) -> Timing:
    return timed(
        [sys.executable, "-m", "restore", *args, "--password-env", ENV_PW], {**os.environ, ENV_PW: SMB_PASSWORD}
    )


RAW = """
import sys
from share.connect import Access, open_backend, parse_location
from share.credentials import PasswordSource
src, url, name = sys.argv[1:4]
with open_backend(parse_location(url), Access(password=PasswordSource(env="BMR_BENCH_PW"))) as dst:
    sink = dst.open_sink(name)
    buf = memoryview(bytearray(4 << 20))
    with open(src, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            sink.write(buf[:n])
    sink.close()
"""


def emptied(folder: Path) -> Callable[[], None]:
    def clean() -> None:
        for child in folder.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()

    return clean


def smb_rows(
    name: str, url: str, port: int, protection: str, image: Path, source: Path, folder: Path, runs: int,
    streams: str | None = None,
) -> list[Row]:  # fmt: skip
    """The verified, --no-verify and (uncapped) raw rows of one share."""
    env = {**os.environ, "PASSWD": SMB_PASSWORD}
    share = url.rsplit("/", 1)[-1]
    client = f"smbclient //127.0.0.1/{share} -p {port} -U {SMB_USER} --client-protection={protection}"
    put = f"{client} -c {shlex.quote(f'put {image} ref.bin')}"
    get = f"{client} -c {shlex.quote('get ref.bin -')} 2>/dev/null | openssl sha256"
    extra = ["--streams", streams] if streams else []
    clean = emptied(folder)
    rows = []
    verified = f"openssl sha256 {image} && {put} && {get}"
    tools, ours = pairs(runs, clean, lambda: sh(verified, env), lambda: bmr("stage", str(source), url, *extra))
    rows.append(Row(f"{name}: verified stage", tools, ours, "verified"))
    hashed_put = f"openssl sha256 {image} && {put}"
    tools, ours = pairs(
        runs, clean, lambda: sh(hashed_put, env), lambda: bmr("stage", str(source), url, "--no-verify", *extra)
    )
    rows.append(Row(f"{name}: stage --no-verify", tools, ours, "no-verify"))
    if streams is None:
        raw = [sys.executable, "-c", RAW, str(image), url, "ref.bin"]
        tools, ours = pairs(runs, clean, lambda: sh(put, env), lambda: timed(raw, {**os.environ, ENV_PW: SMB_PASSWORD}))
        rows.append(Row(f"{name}: raw transport", tools, ours, "raw"))
    return rows


def sftp_row(
    name: str,
    sshd: SshServer,
    port: int,
    image: Path,
    source: Path,
    remote: Path,
    runs: int,
    streams: str | None = None,
) -> Row:
    """stage --no-verify to an SFTP folder (through ``port``: the server's, or a proxy's) vs openssl + scp."""
    known = remote.parent / f"known_hosts-{port}"  # the server's key under the address bmr is given
    known.write_text(sshd.known_hosts.read_text().replace(f"]:{sshd.port} ", f"]:{port} "))
    ssh = ["--ssh-known-hosts", str(known), "--ssh-key", str(sshd.client_key)]
    scp = (
        f"openssl sha256 {image} && scp -q -P {port} -i {sshd.client_key} -o HostKeyAlias=[127.0.0.1]:{sshd.port} "
        f"-o UserKnownHostsFile={sshd.known_hosts} {image} {sshd.user}@127.0.0.1:{remote}/ref.bin"
    )
    url = sshd.url(str(remote)).replace(f":{sshd.port}/", f":{port}/")
    extra = ["--streams", streams] if streams else []
    tools, ours = pairs(
        runs, emptied(remote), lambda: sh(scp), lambda: bmr("stage", str(source), url, "--no-verify", *ssh, *extra)
    )
    return Row(f"{name}: stage --no-verify vs openssl + scp", tools, ours, "sftp")


def point(base: Path, name: str, gib: float) -> tuple[Path, Path]:
    """A recovery point whose largest image is ``gib`` GiB, and that image linked at a path without spaces."""
    source = base / name
    write_tree(source, {"DC01": PointSpec(pad_mb=int(gib * 1024) - 8)}, ImageCache(base / "images"))
    image = base / f"{name}.vhdx"
    os.link(max(source.rglob("*.vhdx"), key=lambda p: p.stat().st_size), image)
    return source, image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--capped-gib", type=float, default=0.5)
    parser.add_argument("--capped-rate", type=float, default=64.0, help="MiB/s per connection on the capped link")
    parser.add_argument("--only", default="signed,encrypted,capped,streams,local,sftp")
    parser.add_argument(
        "--settle", type=float, default=0.0, help="seconds to wait after removing a run's copy, before the next run "
        "(on a virtual machine that hands freed memory back to its host, the next run's page cache otherwise "
        "depends on how long ago the last copy was removed)",
    )  # fmt: skip
    args = parser.parse_args()
    SETTLE[0] = args.settle
    wanted = set(args.only.split(","))
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        base = Path(tmp)
        source, image = point(base, "source", args.gib)
        samba = SambaServer(base / "samba")
        signed = samba.add_share("signed", base / "signed")
        encrypted = samba.add_share("encrypted", base / "encrypted", **{"smb encrypt": "required"})
        sshd = SshServer(base / "sshd")
        samba.start()
        sshd.start()
        try:
            for name, folder, protection in (("signed", signed, "sign"), ("encrypted", encrypted, "encrypt")):
                if name in wanted:
                    rows += smb_rows(name, samba.url(name), samba.port, protection, image, source, folder, args.runs)
            if "capped" in wanted:
                small, small_image = point(base, "capped-source", args.capped_gib)
                proxy = CuttingProxy(samba.port, cut_after=0, cuts=0, rate=args.capped_rate * MIB)
                try:
                    url = samba.url("signed").replace(f":{samba.port}/", f":{proxy.port}/")
                    label = f"capped {args.capped_rate:g} MiB/s per connection, --streams 4"
                    for row in smb_rows(label, url, proxy.port, "sign", small_image, small, signed, args.runs, "4"):
                        rows.append(row)
                finally:
                    proxy.close()
                remote = base / "sftp-capped"
                remote.mkdir()
                proxy = CuttingProxy(sshd.port, cut_after=0, cuts=0, rate=args.capped_rate * MIB)
                try:
                    rows.append(sftp_row(f"capped {args.capped_rate:g} MiB/s, sftp --streams 4", sshd, proxy.port,
                                         small_image, small, remote, args.runs, "4"))  # fmt: skip
                finally:
                    proxy.close()
            if "streams" in wanted:
                url = samba.url("signed")
                one, two = pairs(
                    args.runs, emptied(signed),
                    lambda: bmr("stage", str(source), url, "--no-verify", "--streams", "1"),
                    lambda: bmr("stage", str(source), url, "--no-verify", "--streams", "2"),
                )  # fmt: skip
                rows.append(Row("signed: --streams 2 vs --streams 1", one, two, "info"))
            if "local" in wanted:
                target = base / "local-target"
                target.mkdir()
                copy = target / "ref.bin"
                tools_cmd = f"openssl sha256 {image} && cp {image} {copy} && sync && openssl sha256 {copy}"
                tools, ours = pairs(
                    args.runs, emptied(target), lambda: sh(tools_cmd), lambda: bmr("stage", str(source), str(target))
                )
                rows.append(Row("local: verified stage", tools, ours, "local verified"))
            if "sftp" in wanted:
                remote = base / "sftp-target"
                remote.mkdir()
                rows.append(sftp_row("sftp", sshd, sshd.port, image, source, remote, args.runs))
        finally:
            samba.stop()
            sshd.stop()
    print(f"image {args.gib:g} GiB (capped rows {args.capped_gib:g} GiB), medians of {args.runs} A/B pairs, whole "
          f"processes, loopback, {os.cpu_count()} cores")  # fmt: skip
    print("CPU columns: seconds of the job's own processes + of everything else meanwhile (servers, kernel)")
    print(f"{'job':68s} {'tools s':>8s} {'bmr s':>8s} {'ratio':>6s}  {'goal':20s} {'tools CPU':>11s} {'bmr CPU':>11s}")
    for row in rows:
        ratio = row.tools.wall / row.ours.wall
        goal = GOALS[row.goal]
        verdict = f">= {goal} {'met' if ratio >= goal else 'NOT met'}" if goal else "(no goal)"
        cpu = [f"{t.own:5.2f}+{t.rest:5.2f}" for t in (row.tools, row.ours)]
        print(f"{row.label:68s} {row.tools.wall:8.2f} {row.ours.wall:8.2f} {ratio:6.2f}  {verdict:20s} {cpu[0]:>11s} "
              f"{cpu[1]:>11s}")  # fmt: skip
    if PEAKS:
        print(f"bmr peak memory: {max(PEAKS):.0f} MB (max resident set of {len(PEAKS)} runs; goal < 200 MB)")


if __name__ == "__main__":
    main()
