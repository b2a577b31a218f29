"""`bmr stage` against the same job done with standard tools, whole processes, same run (run as root).

    .venv/bin/python -m benchmarks.stage_vs_tools [--gib 2] [--runs 3] [--only signed,encrypted,local,sftp]

Each row times one job both ways, as whole processes, and prints the median of ``--runs`` and the ratio
(tools' time / bmr's time: above 1 means bmr is faster). Loopback servers on this machine:
- signed share (SMB 3.1.1, signing mandatory):
  verified stage            vs `openssl sha256` of the source, `smbclient put`, `smbclient get` into `openssl sha256`
  stage --no-verify         vs `openssl sha256` of the source, then `smbclient put`
  raw transport (no hash)   vs `smbclient put` alone (bmr's SMB sink fed from the file, nothing else)
- encrypted share (`smb encrypt = required`): the same three rows, smbclient with --client-protection=encrypt
- local folder to local folder, verified: vs `openssl sha256`, `cp`, `sync`, `openssl sha256` of the copy
- SFTP: stage --no-verify to an SFTP folder vs `scp` of the same bytes
Goals (issue 12): verified >= 1.5x, --no-verify >= 1.2x, raw >= 0.9x, local verified >= 1.2x, SFTP >= 1.0x.
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
from pathlib import Path

from tests.lib.servers import SMB_PASSWORD, SMB_USER, SambaServer, SshServer
from tests.lib.treebuilder import ImageCache, PointSpec, write_tree

ENV_PW = "BMR_BENCH_PW"
GOALS = {"verified": 1.5, "no-verify": 1.2, "raw": 0.9, "local verified": 1.2, "sftp": 1.0}


def median_time(runs: int, prepare: Callable[[], object], action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        prepare()
        os.sync()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def sh(command: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True, capture_output=True, env=env)


def bmr(*args: str) -> None:
    env = {**os.environ, ENV_PW: SMB_PASSWORD}
    subprocess.run([sys.executable, "-m", "restore", *args, "--password-env", ENV_PW], check=True,
                   capture_output=True, env=env)  # fmt: skip


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="signed,encrypted,local,sftp")
    args = parser.parse_args()
    wanted = set(args.only.split(","))
    rows: list[tuple[str, float, float, str]] = []
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        base = Path(tmp)
        source = base / "source"
        write_tree(source, {"DC01": PointSpec(pad_mb=int(args.gib * 1024) - 8)}, ImageCache(base / "images"))
        image = base / "image.vhdx"  # the same bytes as the point's largest image, at a path without spaces
        os.link(max(source.rglob("*.vhdx"), key=lambda p: p.stat().st_size), image)
        samba = SambaServer(base / "samba")
        signed = samba.add_share("signed", base / "signed")
        encrypted = samba.add_share("encrypted", base / "encrypted", **{"smb encrypt": "required"})
        sshd = SshServer(base / "sshd")
        samba.start()
        sshd.start()
        smb_env = {**os.environ, "PASSWD": SMB_PASSWORD}
        try:
            for name, folder, protection in (("signed", signed, "sign"), ("encrypted", encrypted, "encrypt")):
                if name not in wanted:
                    continue
                smbclient = (
                    f"smbclient //127.0.0.1/{name} -p {samba.port} -U {SMB_USER} --client-protection={protection}"
                )
                url = samba.url(name)

                def clean(folder: Path = folder) -> None:
                    for child in folder.iterdir():
                        shutil.rmtree(child) if child.is_dir() else child.unlink()

                put = f"{smbclient} -c {shlex.quote(f'put {image} ref.bin')}"
                get = f"{smbclient} -c {shlex.quote('get ref.bin -')} 2>/dev/null | openssl sha256"
                verified = f"openssl sha256 {image} && {put} && {get}"
                tools = median_time(args.runs, clean, lambda verified=verified: sh(verified, smb_env))
                ours = median_time(args.runs, clean, lambda url=url: bmr("stage", str(source), url))
                rows.append((f"{name}: verified stage", tools, ours, "verified"))
                hashed_put = f"openssl sha256 {image} && {put}"
                tools = median_time(args.runs, clean, lambda hashed_put=hashed_put: sh(hashed_put, smb_env))
                ours = median_time(args.runs, clean, lambda url=url: bmr("stage", str(source), url, "--no-verify"))
                rows.append((f"{name}: stage --no-verify", tools, ours, "no-verify"))
                tools = median_time(args.runs, clean, lambda put=put: sh(put, smb_env))
                raw = [sys.executable, "-c", RAW, str(image), url, "ref.bin"]
                ours = median_time(args.runs, clean, lambda raw=raw: subprocess.run(
                    raw, check=True, env={**os.environ, ENV_PW: SMB_PASSWORD}))  # fmt: skip
                rows.append((f"{name}: raw transport", tools, ours, "raw"))
            if "local" in wanted:
                target = base / "local-target"
                target.mkdir()

                def clean_local() -> None:
                    shutil.rmtree(target)
                    target.mkdir()

                copy = target / "ref.bin"
                tools_cmd = f"openssl sha256 {image} && cp {image} {copy} && sync && openssl sha256 {copy}"
                tools = median_time(args.runs, clean_local, lambda: sh(tools_cmd))
                ours = median_time(args.runs, clean_local, lambda: bmr("stage", str(source), str(target)))
                rows.append(("local: verified stage", tools, ours, "local verified"))
            if "sftp" in wanted:
                remote = base / "sftp-target"
                remote.mkdir()

                def clean_sftp() -> None:
                    shutil.rmtree(remote)
                    remote.mkdir()

                ssh = ["--ssh-known-hosts", str(sshd.known_hosts), "--ssh-key", str(sshd.client_key)]
                scp = (f"scp -q -P {sshd.port} -i {sshd.client_key} -o UserKnownHostsFile={sshd.known_hosts} "
                       f"{image} {sshd.user}@127.0.0.1:{remote}/ref.bin")  # fmt: skip
                tools = median_time(args.runs, clean_sftp, lambda: sh(scp))
                target_url = sshd.url(str(remote))
                ours = median_time(
                    args.runs, clean_sftp, lambda: bmr("stage", str(source), target_url, "--no-verify", *ssh)
                )
                rows.append(("sftp: stage --no-verify vs scp", tools, ours, "sftp"))
            size = image.stat().st_size
        finally:
            samba.stop()
            sshd.stop()
    print(f"image {size / 2**30:.2f} GiB, median of {args.runs} runs, whole processes, loopback")
    print(f"{'job':34s} {'tools s':>8s} {'bmr s':>8s} {'ratio':>6s}  goal")
    for label, tools, ours, goal in rows:
        ratio = tools / ours
        verdict = "met" if ratio >= GOALS[goal] else "NOT met"
        print(f"{label:34s} {tools:8.2f} {ours:8.2f} {ratio:6.2f}  >= {GOALS[goal]} {verdict}")


if __name__ == "__main__":
    main()
