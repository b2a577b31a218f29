"""Disks that fail to boot in known ways, for the boot-test harness: hand-assembled 16-bit boot sectors (print a
message to the screen and COM1, after writing a sector of the disk through int 13h), an empty GPT disk (no EFI
partition: OVMF finds nothing to boot), and an all-zero disk (no boot signature: SeaBIOS finds nothing)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.lib.diskimages import BASIC_DATA_TYPE, MIB, tool_path

MESSAGE = b"BOOTMGR is missing\r\nPress Ctrl+Alt+Del to restart\r\n"
# cli; cld; xor ax,ax; mov ds,ax; mov es,ax; sti
# mov ax,0x0301; mov cx,2; mov dx,0x80; mov bx,0x7c00; int 13h  (write this sector to LBA 1 of the boot disk)
# mov si,msg; next: lodsb; test al,al; jz done; push ax; mov ah,0x0e; mov bx,7; int 10h; pop ax
# mov dx,0x3f8; out dx,al; jmp next; done: hlt; jmp done; msg: ...
CODE = bytes.fromhex(
    "FA FC 31C0 8ED8 8EC0 FB"
    "B80103 B90200 BA8000 BB007C CD13"
    "BE317C AC 84C0 740F 50 B40E BB0700 CD10 58 BAF803 EE EBEC F4 EBFD"
)
assert len(CODE) == 49


def boot_sector(message: bytes) -> bytes:
    sector = bytearray(512)
    sector[: len(CODE)] = CODE
    sector[len(CODE) : len(CODE) + len(message) + 1] = message + b"\0"
    # One active NTFS-type partition from 1 MiB to the end of a 16 MiB disk: the readers see an MBR disk.
    sector[446:462] = (
        bytes([0x80, 0xFE, 0xFF, 0xFF, 0x07, 0xFE, 0xFF, 0xFF])
        + (2048).to_bytes(4, "little")
        + (30720).to_bytes(4, "little")
    )
    sector[440:444] = (0x0B007E57).to_bytes(4, "little")
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def _vhdx(raw: Path, target: Path) -> Path:
    subprocess.run(
        [tool_path("qemu-img"), "convert", "-q", "-f", "raw", "-O", "vhdx", str(raw), str(target)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    raw.unlink()
    return target


def message_disk(folder: Path, message: bytes = MESSAGE, name: str = "message") -> Path:
    """An MBR disk whose boot code prints ``message`` (nothing: it halts silently) and stops."""
    raw = folder / f"{name}.raw"
    with open(raw, "wb") as out:
        out.write(boot_sector(message))
        out.truncate(16 * MIB)
    return _vhdx(raw, folder / f"{name}.vhdx")


def empty_gpt_disk(folder: Path) -> Path:
    """A GPT disk with one basic data partition and no EFI system partition."""
    raw = folder / "empty-gpt.raw"
    with open(raw, "wb") as out:
        out.truncate(64 * MIB)
    subprocess.run(
        [tool_path("sgdisk"), "-o", "-n", "1:2048:+32M", "-t", f"1:{BASIC_DATA_TYPE}", str(raw)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return _vhdx(raw, folder / "empty-gpt.vhdx")


def zero_disk(folder: Path) -> Path:
    """16 MiB of zeros: no boot signature, no partition table."""
    raw = folder / "zero.raw"
    with open(raw, "wb") as out:
        out.truncate(16 * MIB)
    return _vhdx(raw, folder / "zero.vhdx")


def efi_application(message: str) -> bytes:
    """A minimal x64 UEFI application (PE32+, one section, no relocations needed: the code is RIP-relative) that
    writes ``message`` with ConOut->OutputString (OVMF mirrors its console to the serial port) and then spins."""
    import struct

    text = (message + "\0").encode("utf-16-le")
    # sub rsp,0x28; mov rcx,[rdx+0x40] (SystemTable->ConOut); lea rdx,[rip+msg]; call [rcx+8] (OutputString);
    # spin: jmp spin
    code = bytes.fromhex("4883EC28 488B4A40 488D15") + struct.pack("<i", 5) + bytes.fromhex("FF5108 EBFE")
    body = code + text
    assert len(body) <= 0x200
    section = body + b"\0" * (0x200 - len(body))
    dos = bytearray(0x40)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 0x40)
    coff = struct.pack("<HHIIIHH", 0x8664, 1, 0, 0, 0, 0xF0, 0x0022)
    optional = struct.pack(
        "<HBBIIIIIQIIHHHHHHIIIIHHQQQQII",
        0x20B, 0, 0, 0x200, 0, 0, 0x1000, 0x1000,  # magic, linker, code/data sizes, entry point, base of code
        0x10000000, 0x1000, 0x200,  # image base, section and file alignment
        0, 0, 0, 0, 0, 0, 0,  # versions, Win32VersionValue
        0x2000, 0x200, 0, 10, 0,  # size of image and headers, checksum, subsystem EFI application, DLL flags
        0x10000, 0x1000, 0x10000, 0x1000, 0, 16,  # stack and heap, loader flags, 16 data directories
    )  # fmt: skip
    optional += b"\0" * (16 * 8)
    header = struct.pack("<8sIIIIIIHHI", b".text", 0x200, 0x1000, 0x200, 0x200, 0, 0, 0, 0, 0x60000020)
    headers = bytes(dos) + b"PE\0\0" + coff + optional + header
    return headers + b"\0" * (0x200 - len(headers)) + section
