"""What the boot reached, from the text it left: the serial console, the firmware's debug port, the text screen.

Stages in the order a boot passes them; the furthest one matched is the result. Windows draws its boot screens in
graphics mode, which these sources do not read: without Emergency Management Services on the serial port, a boot
that passed the boot manager shows as 'firmware' or 'loader-started' and the screenshots are the evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ORDER = (
    "no-output",
    "firmware",
    "no-boot-device",
    "boot-manager-error",
    "loader-started",
    "kernel-reached",
    "logon-screen",
)
# A stage that ends the run as soon as it is seen: nothing further will happen without someone at the console.
FINAL = frozenset({"no-boot-device", "boot-manager-error", "kernel-reached", "logon-screen"})
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (stage, re.compile(pattern, re.IGNORECASE))
    for stage, pattern in (
        ("firmware", r"SeaBIOS \(version|BdsDxe:|UEFI v\d|Booting from Hard Disk"),
        ("no-boot-device", r"No bootable device|No bootable option or device was found"),
        ("no-boot-device", r"Boot failed: not a bootable disk|Boot failed: could not read the boot disk"),
        ("no-boot-device", r"BdsDxe: failed to load Boot\w+ .*Not Found[\s\S]*(EFI Internal Shell|UEFI Interactive)"),
        ("boot-manager-error", r"BOOTMGR is (missing|compressed|corrupt)|An operating system wasn't found"),
        ("boot-manager-error", r"Missing operating system|Invalid partition table|Error loading operating system"),
        ("boot-manager-error", r"Windows Boot Manager[\s\S]*Status: *0x[0-9a-f]{8}|Windows failed to start"),
        # winload's name alone is no sign: the boot manager's error screen names the file it could not load.
        ("loader-started", r"Windows is loading files|Starting Windows|Windows Boot Loader"),
        ("kernel-reached", r"INACCESSIBLE_BOOT_DEVICE|STOP: 0x[0-9a-f]{8}|0x0000007B|\*\*\* STOP|bugcheck"),
        ("logon-screen", r"SAC>|Computer is booting, SAC started|The CMD command is now available"),
    )
)
STAGE_MEANING = {
    "no-output": "nothing came out: not even the firmware ran (or it printed nowhere bmr reads)",
    "firmware": "the firmware ran; no boot manager message was read (see the screenshots)",
    "no-boot-device": "the firmware found nothing to boot on the disk",
    "boot-manager-error": "a boot sector or the Windows Boot Manager started and stopped with an error",
    "loader-started": "the Windows loader started",
    "kernel-reached": "the Windows kernel ran (and stopped: a bug check)",
    "logon-screen": "Windows came up to where an administrator can log on",
}


@dataclass(frozen=True)
class Sighting:
    stage: str
    source: str  # serial, firmware-log, screen-text
    evidence: str  # the matched text

    def to_json(self) -> dict[str, Any]:
        return {"stage": self.stage, "source": self.source, "evidence": self.evidence}


ANSI = re.compile(r"\x1b\[[0-9;=?]*[A-Za-z]")


def clean(text: str) -> str:
    """Console text without terminal escapes and control characters."""
    text = ANSI.sub("", text)
    return "".join(c for c in text if c in "\n\t" or c >= " ")


def classify(sources: dict[str, str]) -> tuple[str, tuple[Sighting, ...]]:
    """The furthest stage the texts show, and every sighting (stage, where, what) that says so."""
    sightings: list[Sighting] = []
    for source, raw in sources.items():
        text = clean(raw)
        for stage, pattern in PATTERNS:
            match = pattern.search(text)
            if match:
                line = match.group(0).strip().splitlines()
                sightings.append(Sighting(stage, source, (line[0] if line else stage)[:160]))
    if not sightings:
        seen = any(clean(t).strip() for t in sources.values())
        return ("firmware" if seen else "no-output"), ()
    stage = max((s.stage for s in sightings), key=ORDER.index)
    return stage, tuple(sorted(set(sightings), key=lambda s: ORDER.index(s.stage)))


def screen_text(dump: str) -> str:
    """The VGA text screen from the monitor's ``xp /2000xh 0xb8000`` output: the low byte of each cell."""
    chars: list[str] = []
    for line in dump.splitlines():
        _, _, cells = line.partition(":")
        for cell in cells.split():
            value = int(cell, 16) & 0xFF if cell.startswith("0x") else 0
            chars.append(chr(value) if 32 <= value < 127 else " ")
    rows = ["".join(chars[i : i + 80]).rstrip() for i in range(0, len(chars), 80)]
    return "\n".join(rows)
