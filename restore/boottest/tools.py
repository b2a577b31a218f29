"""The programs a boot test needs (Debian: qemu-system-x86, qemu-utils, ovmf) and whether KVM can be used."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

# Where Debian, Fedora and the qemu package put the UEFI firmware: (code, variables template).
OVMF_PAIRS = (
    ("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"),
    ("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"),
    ("/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd"),
    ("/usr/share/edk2-ovmf/x64/OVMF_CODE.fd", "/usr/share/edk2-ovmf/x64/OVMF_VARS.fd"),
)
PACKAGES = {"qemu-system-x86_64": "qemu-system-x86", "qemu-img": "qemu-utils", "qemu-io": "qemu-utils"}
KVM_GET_API_VERSION = 0xAE00
KVM_CREATE_VM = 0xAE01


@dataclass(frozen=True)
class Tools:
    qemu: str
    qemu_img: str
    qemu_io: str
    ovmf_code: str | None
    ovmf_vars: str | None


def find_tools() -> tuple[Tools | None, tuple[str, ...]]:
    """The programs, or what is missing as Debian package names with the program each provides."""
    found = {name: shutil.which(name) for name in PACKAGES}
    missing = [f"{PACKAGES[name]} ({name})" for name, path in found.items() if path is None]
    code = vars_ = None
    for pair in OVMF_PAIRS:
        if Path(pair[0]).is_file() and Path(pair[1]).is_file():
            code, vars_ = pair
            break
    if missing:
        return None, tuple(dict.fromkeys(missing))
    qemu, qemu_img, qemu_io = (str(found[name]) for name in PACKAGES)
    return Tools(qemu, qemu_img, qemu_io, code, vars_), ()


def kvm_usable() -> tuple[bool, str]:
    """Whether /dev/kvm opens and creates a VM (the device can exist on a CPU without virtualization)."""
    if sys.platform == "win32":
        return False, "KVM is a Linux interface (QEMU on Windows uses TCG here)"
    import fcntl  # POSIX only

    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        return False, f"/dev/kvm cannot be opened ({exc.strerror})"
    try:
        if fcntl.ioctl(fd, KVM_GET_API_VERSION) != 12:
            return False, "/dev/kvm speaks an unknown API version"
        vm = fcntl.ioctl(fd, KVM_CREATE_VM, 0)
        os.close(vm)
    except OSError as exc:
        return False, f"/dev/kvm cannot create a VM ({exc.strerror}: no hardware virtualization for this machine?)"
    finally:
        os.close(fd)
    return True, "/dev/kvm creates VMs"
