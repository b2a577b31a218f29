"""Benchmark: deep inspection of recovery points on a loopback Samba share.

Goals: one two-volume point (EFI + C:) in under 2 s, under 64 MiB read per image, peak memory under 200 MB;
50 computers (the same two images each) in under 30 s.

Run as root from the repository root:  .venv/bin/python -m benchmarks.deep_inspect [--computers 50] [--software-mib 24]
The SOFTWARE hive is padded with --software-mib MiB of values (hivex makes that a hive about 1.5 times as big)
because real ones are tens of MiB and libregf visits every hive bin when it opens one: that hive is what deep
inspection of a real system volume mostly reads. One bigger than the cap allows is skipped and named.
The images are real (tests.lib.diskimages: sgdisk, mkfs.vfat, mkntfs + ntfs-3g, hivex, qemu-img).
Peak memory is the process's maximum resident set size (it includes the Python interpreter and smbd's client
libraries, not only the readers).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from restore.demo.sample import PointSpec, VolumeSpec, write_machine
from restore.tree import writers as known
from restore.tree.deep import DeepFacts, deep_inspect
from restore.tree.deep.reader import Limits
from restore.tree.find import inspect_location
from restore.tree.model import Inspection
from share.base import Backend
from share.connect import Access, open_backend, parse_location
from share.credentials import PasswordSource
from tests.lib.diskimages import DiskImages, WindowsFacts
from tests.lib.servers import SMB_PASSWORD, SambaServer

MIB = 1024 * 1024


def _write(share: Path, computers: list[str], efi: Path, system: Path) -> None:
    images = [efi, system]
    spec = PointSpec(
        writers=[known.ASR, known.SYSTEM, known.NTDS, known.DFSR],
        volumes=[VolumeSpec("", "EFI system partition"), VolumeSpec("C:", "System")],
    )
    for name in computers:
        write_machine(share / "WindowsImageBackup", name, spec, lambda t, _f, _m, i: os.link(images[i], t))


def _deep_all(backend: Backend, inspection: Inspection) -> list[DeepFacts]:
    out = []
    for tree in inspection.trees:
        for machine in tree.machines:
            for point in machine.recovery_points:
                volumes = [(v.image, v.access_path) for v in point.volumes if v.image]
                point_path = f"{machine.path}/{point.folder}"
                writer_ids = {w for w, _ in point.writers}
                out.append(deep_inspect(backend, point_path, volumes, machine.name, writer_ids))
    return out


def _run(location: str, access: Access) -> tuple[float, list[DeepFacts]]:
    started = time.perf_counter()
    with open_backend(parse_location(location), access) as backend:
        facts = _deep_all(backend, inspect_location(backend))
    return time.perf_counter() - started, facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--computers", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--software-mib", type=int, default=24)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        built = time.perf_counter()
        facts_in = WindowsFacts(software_padding_mib=args.software_mib)
        efi, system = DiskImages(base / "images").uefi_split(
            "vhdx", facts_in, tag="bench", system_mib=44 + args.software_mib
        )
        built = time.perf_counter() - built
        sizes = [efi.stat().st_size, system.stat().st_size]
        samba = SambaServer(base / "samba")
        one = samba.add_share("one")
        many = samba.add_share("many")
        _write(one, ["DC01"], efi, system)
        _write(many, [f"SRV{i:03d}" for i in range(args.computers)], efi, system)
        samba.start()
        try:
            os.environ["BMR_BENCH_PW"] = SMB_PASSWORD
            access = Access(password=PasswordSource(env="BMR_BENCH_PW"), timeout=10)
            single = [_run(samba.url("one"), access) for _ in range(args.runs)]
            fleet = [_run(samba.url("many"), access) for _ in range(args.runs)]
        finally:
            samba.stop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    one_time = min(t for t, _ in single)
    (facts,) = single[0][1]
    assert facts.windows is not None and facts.firmware == "UEFI", "the benchmark point should inspect clean"
    per_image = [i.bytes_read for i in facts.images]
    fleet_time = min(t for t, _ in fleet)
    fleet_facts = fleet[0][1]
    assert len(fleet_facts) == args.computers and all(f.windows is not None for f in fleet_facts)
    cap = Limits().max_bytes
    print(f"images built in {built:.1f} s: EFI {sizes[0] / MIB:.1f} MiB, C: {sizes[1] / MIB:.1f} MiB on disk")
    print(f"SOFTWARE hive padded with {args.software_mib} MiB; install media found: {facts.install_media}")
    print(f"problems found: {sorted({p.code for p in facts.all_problems}) or 'none'}")
    verdict = "PASS" if one_time < 2 else "FAIL"
    print(f"one two-volume point over SMB: best {one_time:.3f} s of {args.runs} (goal < 2 s): {verdict}")
    read = ", ".join(f"{n / MIB:.2f} MiB" for n in per_image)
    verdict = "PASS" if max(per_image) < cap else "FAIL"
    print(f"bytes read per image: {read} (goal < {cap // MIB} MiB): {verdict}")
    verdict = "PASS" if fleet_time < 30 else "FAIL"
    print(f"{args.computers} computers over SMB: best {fleet_time:.2f} s of {args.runs} (goal < 30 s): {verdict}")
    total = sum(f.bytes_read for f in fleet_facts)
    print(f"  bytes read for {args.computers} computers: {total / MIB:.1f} MiB")
    verdict = "PASS" if peak_mb < 200 else "FAIL"
    print(f"peak memory (max RSS of the whole process): {peak_mb:.0f} MB (goal < 200 MB): {verdict}")


if __name__ == "__main__":
    main()
