"""One large file to the loopback sshd over 1, 2, 3 SFTP streams (threads of one process) vs OpenSSH `scp`: wall time
and CPU of the copying process and of sshd (its session processes), each run a process of its own (run as root);
for bmr also the copy alone (after the start-up and the connections).

    .venv/bin/python -m benchmarks.sftp_streams [--mib 1024] [--streams 1,2,3] [--runs 1]

Each copy is an unverified Transfer (SHA-256 only, as `bmr stage --no-verify` does), local file -> SFTP folder.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.lib.servers import SshServer

COPY = """
import sys
import time
from pathlib import Path
from restore.staging.transfer import FileJob, Transfer
from share.connect import Access, open_backend, parse_location
from share.credentials import SshOptions
src, url, known, key, streams = sys.argv[1:6]
access = Access(ssh=SshOptions(known_hosts=Path(known), key_files=(Path(key),)), timeout=15)
source = open_backend(parse_location(str(Path(src).parent)), access)
target = open_backend(parse_location(url), access)
transfer = Transfer(source, target, verify=False, streams=int(streams))
size = Path(src).stat().st_size
used = transfer.streams  # the extra connections are opened here, before the clock starts
wall, cpu = time.perf_counter(), time.process_time()
transfer.copy(FileJob(Path(src).name, "copy.bin", size, fresh=True))
print(used, time.perf_counter() - wall, time.process_time() - cpu)
"""


def _sshd_cpu(sshd: SshServer) -> float:
    """CPU seconds of sshd's finished session processes (reaped by the listener: its children's times)."""
    assert sshd.proc is not None
    fields = Path(f"/proc/{sshd.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[13]) + int(fields[14])) / tick  # cutime, cstime


def _measure(command: list[str], sshd: SshServer) -> tuple[float, float, float, str]:
    """(wall, client CPU, sshd CPU, stdout) of one process."""
    os.sync()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = _sshd_cpu(sshd)
    started = time.perf_counter()
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    time.sleep(0.3)  # the session processes end just after the client
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, _sshd_cpu(sshd) - server_before, out.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--streams", default="1,2,3")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--no-scp", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        base = Path(tmp)
        source = base / "src" / "image.bin"
        source.parent.mkdir()
        with open(source, "wb") as out:
            for _ in range(args.mib):
                out.write(os.urandom(1024 * 1024))
        target = base / "dst"
        target.mkdir()
        sshd = SshServer(base / "sshd").start()
        env_path = str(Path(__file__).resolve().parent.parent)
        os.environ["PYTHONPATH"] = env_path
        try:
            modes = [] if args.no_scp else ["scp"]
            modes += [f"sftp x{n}" for n in args.streams.split(",")]
            for _ in range(args.runs):
                for mode in modes:
                    if mode == "scp":
                        command = ["scp", "-q", "-P", str(sshd.port), "-i", str(sshd.client_key), "-o",
                                   f"UserKnownHostsFile={sshd.known_hosts}", str(source),
                                   f"{sshd.user}@127.0.0.1:{target / 'copy.bin'}"]  # fmt: skip
                    else:
                        command = [sys.executable, "-c", COPY, str(source), sshd.url(str(target)),
                                   str(sshd.known_hosts), str(sshd.client_key), mode.split("x")[1]]  # fmt: skip
                    wall, cpu, server, printed = _measure(command, sshd)
                    (target / "copy.bin").unlink()
                    used = ""
                    if printed:  # the copy alone, without the start-up and the connections
                        streams, copy_wall, copy_cpu = printed.split()
                        used = (f"  | copy alone {args.mib / float(copy_wall):4.0f} MiB/s, {float(copy_wall):5.2f} s, "
                                f"CPU {float(copy_cpu):5.2f} s (streams used: {streams})")  # fmt: skip
                    print(f"{mode:10} {args.mib / wall:6.0f} MiB/s  wall {wall:5.2f} s  client CPU {cpu:5.2f} s  "
                          f"sshd CPU {server:5.2f} s{used}", flush=True)  # fmt: skip
        finally:
            sshd.stop()


if __name__ == "__main__":
    main()
