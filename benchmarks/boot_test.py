"""Benchmark: how long `bmr boot-test` takes on the test disks, with KVM (when /dev/kvm creates VMs) and with TCG.

Run from the repository root:  .venv/bin/python -m benchmarks.boot_test [--runs 2]
The disks are the boot-test suite's (tests.lib.bootsectors): a boot sector that prints "BOOTMGR is missing" under
SeaBIOS, and a GPT disk without an EFI partition under OVMF (no bootable device). Times are the whole call: choosing
the point, reading inside it, the overlay, QEMU from start to the classified stage, and stopping it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from restore.boottest.run import BootTestRequest, boot_test_at
from share.connect import Access, parse_location
from tests.lib.bootimages import place_point
from tests.lib.bootsectors import empty_gpt_disk, message_disk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for name, make in (("seabios-message", message_disk), ("ovmf-no-device", empty_gpt_disk)):
            folder = root / name
            folder.mkdir()
            place_point(folder / "share", [(make(folder), "C:", "System")])
            for accel in ("auto", "tcg"):
                for _ in range(runs):
                    started = time.monotonic()
                    request = BootTestRequest(
                        parse_location(str(folder / "share")), timeout=120, interval=1.0, memory_mib=512,
                        accelerator=accel,
                    )  # fmt: skip
                    result = boot_test_at(request, Access())
                    fallback = " (KVM failed: TCG)" if any("KVM stopped" in n for n in result.notes) else ""
                    print(
                        f"{name:16} --accel {accel:4} ran {result.accelerator}{fallback}: {result.run.stage} "
                        f"watched {result.run.seconds:.1f} s, whole command {time.monotonic() - started:.1f} s"
                    )


if __name__ == "__main__":
    main()
