"""Raw SMB transport (no hashing, no staging logic): bmr's ``open_sink`` / ``open_source`` against Samba's
``smbclient put`` / ``get`` of the same file, same server, same run, on loopback (run as root).

    .venv/bin/python -m benchmarks.smb_transport [--mib 512] [--runs 5]

Shares, all on a tmpfs so that only protocol and CPU decide:
- signed:      signing mandatory (SMB 3.1.1, the signing algorithm Samba picks), smbclient --client-protection=sign
- encrypted:   ``smb encrypt = required`` on the share (the cipher Samba picks), --client-protection=encrypt
- signed-64k / encrypted-64k: the same with ``smb2 max read/write/trans = 65536`` (a second smbd)
Runs alternate (smbclient, bmr, smbclient, bmr, ...) so that both meet the same load from anything else on the
machine; each figure is the median of ``--runs`` timings; ratios are bmr's throughput over smbclient's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import smbclient
from share.connect import Access, open_backend, parse_location
from share.credentials import PasswordSource
from share.smb import SmbBackend
from tests.lib.servers import SMB_PASSWORD, SambaServer

CHUNK = 4 * 1024 * 1024


def median_times(runs: int, *actions: Callable[[], object]) -> list[float]:
    """The median time of each action, the actions taking turns run after run."""
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(runs):
        for action, spent in zip(actions, times, strict=True):
            started = time.perf_counter()
            action()
            spent.append(time.perf_counter() - started)
    return [statistics.median(spent) for spent in times]


def ours_put(backend: SmbBackend, source: Path) -> None:
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    sink = backend.open_sink("ours.bin")
    with open(source, "rb", buffering=0) as file:
        while count := file.readinto(buffer):
            sink.write(view[:count])
    sink.close()


def ours_get(backend: SmbBackend, name: str) -> None:
    source = backend.open_source(name)
    try:
        for _chunk in source.chunks():
            pass
    finally:
        source.close()


def measure(samba: SambaServer, share: str, protection: str, source: Path, runs: int) -> dict[str, float]:
    size = source.stat().st_size
    access = Access(password=PasswordSource(env="", prompt=lambda _purpose: SMB_PASSWORD), timeout=30)
    backend = open_backend(parse_location(samba.url(share)), access)
    assert isinstance(backend, SmbBackend)
    option = f"--client-protection={protection}"
    try:
        facts = backend.facts()
        channel_cipher = None
        put, mine = median_times(
            runs,
            lambda: smbclient(samba, share, f'put "{source}" ref.bin', option),
            lambda: ours_put(backend, source),
        )
        channel = backend._channel
        if channel is not None and channel.sealer is not None:
            channel_cipher = channel.sealer.name
        get, read = median_times(
            runs,
            lambda: smbclient(samba, share, "get ref.bin /dev/null", option),
            lambda: ours_get(backend, "ours.bin"),
        )
        print(
            f"{share:14s} dialect {facts.dialect} encryption {facts.encryption} cipher {channel_cipher or '-'}: "
            f"put {size / put / 1e6:6.0f} MB/s, bmr {size / mine / 1e6:6.0f} MB/s; "
            f"get {size / get / 1e6:6.0f} MB/s, bmr {size / read / 1e6:6.0f} MB/s",
            flush=True,
        )
        return {f"{share}_write_vs_put": put / mine, f"{share}_read_vs_get": get / read}
    finally:
        backend.close()
        for name in ("ref.bin", "ours.bin"):
            (samba.shares[share].path / name).unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir="/dev/shm") as tmp:
        base = Path(tmp)
        source = base / "source.bin"
        with open(source, "wb") as out:
            for _ in range(args.mib):
                out.write(os.urandom(1024 * 1024))
        room = f"{args.mib * 3 // 1024 + 1}g"
        servers = []
        try:
            normal = SambaServer(base / "samba")
            normal.add_tmpfs_share("signed", size=room)
            normal.add_tmpfs_share("encrypted", size=room, **{"smb encrypt": "required"})
            small = SambaServer(
                base / "samba64k",
                extra_global={"smb2 max read": "65536", "smb2 max write": "65536", "smb2 max trans": "65536"},
            )
            small.add_tmpfs_share("signed-64k", size=room)
            small.add_tmpfs_share("encrypted-64k", size=room, **{"smb encrypt": "required"})
            for server in (normal, small):
                servers.append(server.start())
            for server in servers:
                for share in server.shares.values():
                    protection = "encrypt" if "encrypt" in share.name else "sign"
                    results.update(measure(server, share.name, protection, source, args.runs))
        finally:
            for server in servers:
                server.stop()
    print(f"file: {args.mib} MiB from RAM to a tmpfs share; medians of {args.runs}; ratio = bmr / smbclient")
    for key, value in results.items():
        print(f"{key:30s} {value:6.2f}   goal >= 0.8   {'PASS' if value >= 0.8 else 'FAIL'}")


if __name__ == "__main__":
    main()
