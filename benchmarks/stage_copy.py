"""Benchmark `bmr stage` against the reference tools, on loopback, same machine, same run (run as root).

    .venv/bin/python -m benchmarks.stage_copy [--gib 2]

Reports, as ratios (goals from the staging issue):
- SMB copy throughput vs Samba's `smbclient put` of the same file, signing required on both (goal >= 0.8)
- verification read-back vs `smbclient get` (goal >= 0.8)
- SFTP copy throughput vs OpenSSH `scp` of the same file (goal >= 0.8)
- peak memory of a whole `bmr stage` run (goal < 200 MB)
- a run killed at about half way, then rerun: share of bytes the rerun copies (goal <= 55%)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import best, smbclient
from restore.staging.stage import run_stage
from restore.staging.transfer import PARTIAL_SUFFIX, Transfer
from share.connect import Access, open_backend, parse_location
from share.credentials import PasswordSource, SshOptions
from tests.lib.servers import SMB_PASSWORD, SambaServer, SshServer
from tests.lib.treebuilder import ImageCache, PointSpec, write_tree

ENV_PW = "BMR_BENCH_PW"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ram", action="store_true", help="put the share (and the SFTP target) on a tmpfs")
    args = parser.parse_args()
    os.environ[ENV_PW] = SMB_PASSWORD
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        base = Path(tmp)
        source = base / "source"
        write_tree(source, {"DC01": PointSpec(pad_mb=int(args.gib * 1024) - 8)}, ImageCache(base / "images"))
        image = max(source.rglob("*.vhdx"), key=lambda p: p.stat().st_size)
        size = image.stat().st_size
        total = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
        samba = SambaServer(base / "samba")
        if args.ram:
            # In RAM, the disk's writeback cannot decide who wins: this measures protocol and CPU alone.
            share = samba.add_tmpfs_share("bench", size=f"{int(args.gib * 3) + 1}g")
        else:
            share = samba.add_share("bench", base / "share")
        sshd = SshServer(base / "sshd")
        samba.start()
        sshd.start()
        try:
            access = Access(password=PasswordSource(env=ENV_PW))
            url = samba.url("bench")
            # -- SMB copy vs smbclient put ------------------------------------------------------------------
            put = best(args.runs, lambda: smbclient(samba, "bench", f'put "{image}" ref.bin'))
            (share / "ref.bin").unlink()

            def ours() -> None:
                shutil.rmtree(share / "WindowsImageBackup", ignore_errors=True)
                with (
                    open_backend(parse_location(str(source)), Access()) as src,
                    open_backend(parse_location(url), access) as dst,
                ):
                    run_stage(src, dst, verify=False)

            copy = best(args.runs, ours)
            results["smb_copy_vs_put"] = (total / copy) / (size / put)
            print(f"smbclient put {size / put / 1e6:.0f} MB/s; bmr stage to SMB {total / copy / 1e6:.0f} MB/s")
            # -- read-back vs smbclient get --------------------------------------------------------------------
            remote_name = str(image.relative_to(source)).replace("/", "\\")
            get = best(args.runs, lambda: smbclient(samba, "bench", f'get "{remote_name}" /dev/null'))
            relative = image.relative_to(source).as_posix()
            with open_backend(parse_location(url), access) as dst:
                engine = Transfer(dst, dst)
                verify = best(args.runs, lambda: engine._blake3_of(relative, "verify"))
            results["smb_verify_vs_get"] = (size / verify) / (size / get)
            print(f"smbclient get {size / get / 1e6:.0f} MB/s; bmr read-back {size / verify / 1e6:.0f} MB/s")
            # -- SFTP copy vs scp -----------------------------------------------------------------------------
            remote = share / "sftp-target"  # in RAM too
            remote.mkdir()
            scp = best(args.runs, lambda: subprocess.run(
                ["scp", "-q", "-P", str(sshd.port), "-i", str(sshd.client_key), "-o",
                 f"UserKnownHostsFile={sshd.known_hosts}", str(image), f"{sshd.user}@127.0.0.1:{remote}/ref.bin"],
                check=True,
            ))  # fmt: skip
            (remote / "ref.bin").unlink()
            ssh = Access(ssh=SshOptions(known_hosts=sshd.known_hosts, key_files=(sshd.client_key,)))

            def ours_sftp() -> None:
                shutil.rmtree(remote / "WindowsImageBackup", ignore_errors=True)
                with (
                    open_backend(parse_location(str(source)), Access()) as src,
                    open_backend(parse_location(sshd.url(str(remote))), ssh) as dst,
                ):
                    run_stage(src, dst, verify=False)

            sftp = best(args.runs, ours_sftp)
            results["sftp_copy_vs_scp"] = (total / sftp) / (size / scp)
            print(f"scp {size / scp / 1e6:.0f} MB/s; bmr stage to SFTP {total / sftp / 1e6:.0f} MB/s")
            shutil.rmtree(remote)
            # -- peak memory of a whole run, then kill at half way and rerun -----------------------------------
            shutil.rmtree(share / "WindowsImageBackup", ignore_errors=True)
            command = [sys.executable, "-m", "restore", "stage", str(source), url, "--password-env", ENV_PW, "--json"]
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            subprocess.run(command, check=True, capture_output=True)
            results["peak_rss_mb"] = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
            shutil.rmtree(share / "WindowsImageBackup")
            partial = share / image.relative_to(source).parent / (image.name + PARTIAL_SUFFIX)
            proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and proc.poll() is None:
                if partial.exists() and partial.stat().st_size >= size // 2:
                    break
                time.sleep(0.001)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            rerun = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
            results["rerun_copied_share"] = rerun["bytes_copied"] / rerun["bytes_total"]
        finally:
            samba.stop()
            sshd.stop()
    where = "a tmpfs (RAM)" if args.ram else "disk"
    print(f"image: {size / 2**30:.2f} GiB; share on {where}; times are the best of {args.runs}")
    goals = {
        "smb_copy_vs_put": (">=", 0.8),
        "smb_verify_vs_get": (">=", 0.8),
        "sftp_copy_vs_scp": (">=", 0.8),
        "peak_rss_mb": ("<", 200),
        "rerun_copied_share": ("<=", 0.55),
    }
    for key, value in results.items():
        op, goal = goals[key]
        ok = value >= goal if op == ">=" else (value < goal if op == "<" else value <= goal)
        print(f"{key:22s} {value:8.2f}   goal {op} {goal}   {'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
