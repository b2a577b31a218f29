"""`bmr stage` of a SMALL point against the same job done with standard tools: the fixed costs (start-up, logon,
inspect, lock, plan, proofs) that a big image hides. Whole processes, medians, same run (run as root).

    .venv/bin/python -m benchmarks.stage_small [--pad 0,16] [--runs 5] [--only local,smb,sftp] [--before DIR]

Two points by default: one with no padding (17 files, two 8 MiB images) and one whose first image carries
``--pad`` MiB more. Each row times one job both ways, interleaved run by run, and prints the medians and the ratio
(tools' time / bmr's time: above 1 means bmr is faster). Loopback servers on this machine (tests/lib/servers.py):
- local, verified stage      vs `sha256sum` of the source files, `cp -r`, `sync`, `sha256sum -c` of the copy
- SMB (signed), verified     vs `sha256sum`, `smbclient` `mput` (recurse), `smbclient` `mget` into a scratch
                               folder and `sha256sum -c` there
- SMB, stage --no-verify     vs `sha256sum`, then `smbclient` `mput`
- SFTP, stage --no-verify    vs `sha256sum`, then `scp -r`
Beside each wall time, the CPU seconds of the bmr process (user + system, its servers not counted): the steadier
figure on a machine others share. ``--before DIR`` also times bmr from another checkout (e.g. /work/main: the code
before a change), run by run beside this one, in three more columns. The start-up table gives `bmr --help`,
`bmr stage --help` and a stage that stops at once (a missing source, exit 3) for both, and a bare `python -c pass`.
Every process runs with bytecode caching on, as an installed bmr does.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.lib.servers import SMB_PASSWORD, SMB_USER, SambaServer, SshServer
from tests.lib.treebuilder import ImageCache, PointSpec, write_tree

HERE = Path(__file__).resolve().parent.parent
ENV_PW = "BMR_BENCH_PW"


def _env(code: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(code), ENV_PW: SMB_PASSWORD, "PASSWD": SMB_PASSWORD}


def _timed(action: Callable[[], object]) -> tuple[float, float]:
    """Wall time and the CPU time (user + system) of the processes ``action`` ran and waited for."""
    os.sync()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    action()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def sh(command: str) -> None:
    subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True, capture_output=True, env=_env(HERE))


def bmr(code: Path, *args: str, check: bool = True) -> None:
    """`python -m restore ARGS` from ``code`` (run there: `-m` puts the current folder first on the path)."""
    subprocess.run([sys.executable, "-m", "restore", *args], check=check, capture_output=True, env=_env(code),
                   cwd=code)  # fmt: skip


def _empty(folder: Path) -> None:
    for child in folder.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


class Row:
    def __init__(self, label: str) -> None:
        self.label = label
        self.times: dict[str, list[float]] = {"tools": [], "bmr": [], "before": []}
        self.cpu: dict[str, list[float]] = {"tools": [], "bmr": [], "before": []}

    def median(self, key: str, cpu: bool = False) -> float | None:
        values = (self.cpu if cpu else self.times)[key]
        return statistics.median(values) if values else None


def measure(
    row: Row, runs: int, clean: Callable[[], object], tools: str, args: list[str], codes: dict[str, Path]
) -> Row:
    """``runs`` rounds of: the tools, then bmr from each checkout; each after ``clean``; one untimed round first
    (page cache, bytecode)."""
    for index in range(runs + 1):
        for key, action in [("tools", lambda: sh(tools))] + [
            (key, lambda code=code: bmr(code, *args)) for key, code in codes.items()
        ]:
            clean()
            wall, cpu = _timed(action)
            if index:
                row.times[key].append(wall)
                row.cpu[key].append(cpu)
    return row


def startup(runs: int, codes: dict[str, Path]) -> list[tuple[str, dict[str, tuple[float, float]]]]:
    """Median wall and CPU seconds of a process that starts and stops at once: the start-up alone."""
    out = []
    jobs = [("bmr --help", ["--help"]), ("bmr stage --help", ["stage", "--help"]),
            ("bmr stage MISSING T (exit 3)", ["stage", "/nonexistent/s", "/nonexistent/t", "--json"])]  # fmt: skip
    for label, args in jobs:
        times: dict[str, list[tuple[float, float]]] = {key: [] for key in codes}
        for index in range(3 * runs + 1):
            for key, code in codes.items():
                took = _timed(lambda code=code, args=args: bmr(code, *args, check=False))
                if index:
                    times[key].append(took)
        out.append((label, {k: _medians(v) for k, v in times.items()}))
    python = [_timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True)) for _ in range(3 * runs)]
    out.append(("python -c pass", {key: _medians(python) for key in codes}))
    return out


def _medians(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pad", default="0,16", help="MiB added to the first image, one point per value")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="local,smb,sftp")
    parser.add_argument("--before", type=Path, help="another checkout to time beside this one")
    args = parser.parse_args()
    wanted = set(args.only.split(","))
    codes = {"bmr": HERE, **({"before": args.before.resolve()} if args.before else {})}
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        base = Path(tmp)
        images = ImageCache(base / "images")
        points: list[tuple[str, Path, int]] = []
        for pad in (int(p) for p in args.pad.split(",")):
            source = base / f"source-{pad}"
            write_tree(source, {"DC01": PointSpec(pad_mb=pad)}, images, copy_images=True)
            files = [p for p in source.rglob("*") if p.is_file()]
            points.append((f"{len(files)} files {sum(p.stat().st_size for p in files) / 2**20:.0f} MiB", source, pad))
        samba = SambaServer(base / "samba")
        share = samba.add_share("small", base / "smb-target")
        sshd = SshServer(base / "sshd")
        scratch = base / "scratch"  # where the SMB tools job reads the copy back to hash it
        local = base / "local-target"
        remote = base / "sftp-target"
        for folder in (scratch, local, remote):
            folder.mkdir()
        samba.start()
        sshd.start()
        try:
            for name, source, _pad in points:
                files = f"cd {shlex.quote(str(source))} && find WindowsImageBackup -type f -print0 | xargs -0 sha256sum"
                sums = base / "sums"
                hashed = f"( {files} ) > {sums}"
                if "local" in wanted:
                    tools = f"{hashed} && cp -r {source}/WindowsImageBackup {local}/ && sync && " \
                            f"cd {local} && sha256sum -c --quiet {sums}"  # fmt: skip
                    rows.append(measure(Row(f"local verified, {name}"), args.runs, lambda: _empty(local), tools,
                                        ["stage", str(source), str(local), "-q"], codes))  # fmt: skip
                if "smb" in wanted:
                    client = f"smbclient //127.0.0.1/small -p {samba.port} -U {SMB_USER}"
                    put = f"{client} -c " + shlex.quote(
                        f"prompt OFF; recurse ON; lcd {source}; mput WindowsImageBackup"
                    )
                    get = f"{client} -c " + shlex.quote(
                        f"prompt OFF; recurse ON; lcd {scratch}; mget WindowsImageBackup"
                    )

                    def clean_smb() -> None:
                        _empty(share)
                        _empty(scratch)

                    smb = ["stage", str(source), samba.url("small"), "-q", "--password-env", ENV_PW]
                    verified = f"{hashed} && {put} && {get} && cd {scratch} && sha256sum -c --quiet {sums}"
                    rows.append(measure(Row(f"SMB verified, {name}"), args.runs, clean_smb, verified, smb, codes))
                    rows.append(measure(Row(f"SMB --no-verify, {name}"), args.runs, clean_smb, f"{hashed} && {put}",
                                        [*smb, "--no-verify"], codes))  # fmt: skip
                if "sftp" in wanted:
                    tree = shlex.quote(str(source / "WindowsImageBackup"))
                    scp = (f"scp -q -r -P {sshd.port} -i {sshd.client_key} -o UserKnownHostsFile={sshd.known_hosts} "
                           f"{tree} {sshd.user}@127.0.0.1:{remote}/")  # fmt: skip
                    ssh = ["--ssh-known-hosts", str(sshd.known_hosts), "--ssh-key", str(sshd.client_key)]
                    rows.append(measure(Row(f"SFTP --no-verify, {name}"), args.runs, lambda: _empty(remote),
                                        f"{hashed} && {scp}", ["stage", str(source), sshd.url(str(remote)), "-q",
                                                               "--no-verify", *ssh], codes))  # fmt: skip
            started = startup(args.runs, codes)
        finally:
            samba.stop()
            sshd.stop()
    before = "before" in codes
    print(f"median of {args.runs} runs, whole processes, loopback; ratio = tools s / bmr s (above 1: bmr faster);")
    print("cpu = user + system seconds of the bmr process (its servers not counted): steadier on a busy machine")
    head = f"{'job':36s} {'tools s':>7s} {'bmr s':>6s} {'ratio':>5s} {'cpu':>5s}"
    print(head + (f" {'before s':>8s} {'ratio':>5s} {'cpu':>5s}" if before else ""))
    for row in rows:
        tools, ours, old = row.median("tools"), row.median("bmr"), row.median("before")
        assert tools is not None and ours is not None
        line = f"{row.label:36s} {tools:7.2f} {ours:6.2f} {tools / ours:5.2f} {row.median('bmr', cpu=True):5.2f}"
        if old is not None:
            line += f" {old:8.2f} {tools / old:5.2f} {row.median('before', cpu=True):5.2f}"
        print(line)
    print(f"\n{'start-up (median of ' + str(3 * args.runs) + ')':36s} {'wall s':>7s} {'cpu s':>6s}"
          + (f" {'before wall':>11s} {'cpu':>5s}" if before else ""))  # fmt: skip
    for label, times in started:
        line = f"{label:36s} {times['bmr'][0]:7.3f} {times['bmr'][1]:6.3f}"
        print(line + (f" {times['before'][0]:11.3f} {times['before'][1]:5.3f}" if before else ""))


if __name__ == "__main__":
    main()
