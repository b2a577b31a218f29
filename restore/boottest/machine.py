"""One QEMU run: the command line for a firmware and controller, the bounded watch loop, the evidence."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from restore.boottest.png import ImageError, blank, ppm_to_png, read_ppm
from restore.boottest.qmp import Qmp, QmpError, free_port
from restore.boottest.stages import FINAL, Sighting, classify, screen_text
from restore.boottest.tools import Tools

# The boot disk's controller for each target-hardware profile, as QEMU emulates it. Hyper-V's synthetic SCSI
# (storvsc) has no QEMU model: those profiles boot from the nearest controller QEMU has, and the result says so.
CONTROLLERS: dict[str, tuple[str, list[str]]] = {
    "ahci": ("AHCI (q35's SATA controller)", ["-device", "ide-hd,drive=disk0,bus=ide.0,bootindex=1"]),
    "ide": ("IDE (PIIX)", ["-device", "ide-hd,drive=disk0,bus=ide.0,unit=0,bootindex=1"]),
    "lsisas": (
        "LSI SAS1068 (mptsas1068)",
        ["-device", "mptsas1068,id=sas0", "-device", "scsi-hd,drive=disk0,bus=sas0.0,bootindex=1"],
    ),
    "pvscsi": (
        "VMware PVSCSI",
        ["-device", "pvscsi,id=pv0", "-device", "scsi-hd,drive=disk0,bus=pv0.0,bootindex=1"],
    ),
    "virtio-scsi": (
        "virtio-scsi",
        ["-device", "virtio-scsi-pci,id=vs0", "-device", "scsi-hd,drive=disk0,bus=vs0.0,bootindex=1"],
    ),
    "virtio-blk": ("virtio-blk", ["-device", "virtio-blk-pci,drive=disk0,bootindex=1"]),
    "nvme": ("NVMe", ["-device", "nvme,drive=disk0,serial=bmrboottest,bootindex=1"]),
}
PROFILE_CONTROLLER = {
    None: "ahci",
    "same": "ahci",
    "hyperv-gen1": "ide",
    "hyperv-gen2": "ahci",
    "vmware-lsisas": "lsisas",
    "vmware-pvscsi": "pvscsi",
    "vmware-sata": "ahci",
    "kvm-virtio-scsi": "virtio-scsi",
    "kvm-virtio-blk": "virtio-blk",
    "nvme": "nvme",
    "ahci": "ahci",
}
QUIT_SECONDS = 10.0


@dataclass(frozen=True)
class RunSpec:
    overlay: Path
    firmware: str  # UEFI or BIOS
    controller: str  # a key of CONTROLLERS
    accelerator: str  # kvm or tcg
    timeout: float
    interval: float
    memory_mib: int
    scratch: Path  # where QEMU's logs and the UEFI variables go (temporary)
    evidence: Path | None  # where screenshots and logs are kept (user-named), or None


@dataclass(frozen=True)
class RunResult:
    stage: str
    sightings: tuple[Sighting, ...]
    seconds: float
    stopped: str  # final-stage, timeout, qemu-exited
    screenshots: tuple[str, ...]  # file names in the evidence folder (empty without one)
    screens: int  # screenshots taken
    blank_screens: int
    qemu_exit: int | None
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "sightings": [s.to_json() for s in self.sightings],
            "seconds": round(self.seconds, 1),
            "stopped": self.stopped,
            "screenshots": list(self.screenshots),
            "screens": self.screens,
            "blank_screens": self.blank_screens,
            "qemu_exit": self.qemu_exit,
            "notes": list(self.notes),
        }


def command_line(tools: Tools, spec: RunSpec, qmp_port: int) -> list[str]:
    """QEMU's arguments: no network device, the overlay as the only disk, serial and firmware logs to files."""
    args = [tools.qemu, "-nodefaults", "-no-user-config", "-accel", spec.accelerator, "-m", str(spec.memory_mib)]
    args += ["-machine", "pc" if spec.controller == "ide" else "q35", "-smp", "2", "-vga", "std", "-display", "none"]
    args += ["-nic", "none", "-no-reboot"]
    if spec.firmware == "UEFI":
        if tools.ovmf_code is None or tools.ovmf_vars is None:
            raise FileNotFoundError("ovmf")
        variables = spec.scratch / "OVMF_VARS.fd"
        shutil.copyfile(tools.ovmf_vars, variables)
        args += ["-drive", f"if=pflash,format=raw,readonly=on,file={tools.ovmf_code}"]
        args += ["-drive", f"if=pflash,format=raw,file={variables}"]
    args += ["-drive", f"file={spec.overlay},format=qcow2,if=none,id=disk0,cache=unsafe"]
    args += CONTROLLERS[spec.controller][1]
    args += ["-serial", f"file:{spec.scratch / 'serial.log'}"]
    args += ["-chardev", f"file,id=firmware,path={spec.scratch / 'firmware.log'}"]
    args += ["-device", "isa-debugcon,iobase=0x402,chardev=firmware"]
    args += ["-qmp", f"tcp:127.0.0.1:{qmp_port},server=on,wait=off"]
    return args


def run_machine(tools: Tools, spec: RunSpec, tick: Callable[[float, str], None] | None = None) -> RunResult:
    """Start QEMU, watch it until a final stage, the timeout or its exit; always stop it."""
    port = free_port()
    args = command_line(tools, spec, port)
    log = open(spec.scratch / "qemu.log", "wb")  # noqa: SIM115 - closed in finally, after QEMU
    started = time.monotonic()
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    shots: list[str] = []
    screens = blanks = 0
    stage: str = "no-output"
    sightings: tuple[Sighting, ...] = ()
    stopped = "timeout"
    notes: list[str] = []
    qmp: Qmp | None = None
    try:
        qmp = Qmp(port, timeout=min(30.0, spec.timeout))
        deadline = started + spec.timeout
        while True:
            now = time.monotonic()
            if process.poll() is not None:
                stopped = "qemu-exited"
            elif qmp.execute("query-status").get("status") == "internal-error":
                stopped = "accelerator-failed"  # KVM could not run the guest's code (seen with OVMF on some hosts)
            else:
                screen, image = _capture(qmp, spec, screens)
                screens += 1
                if image is not None:
                    blanks += blank(image)
                    if spec.evidence is not None:
                        name = f"screen-{screens:03d}-{now - started:05.1f}s.png"
                        (spec.evidence / name).write_bytes(_png_or_empty(spec.scratch / "screen.ppm"))
                        shots.append(name)
                texts = {
                    "serial": _text(spec.scratch / "serial.log"),
                    "firmware-log": _text(spec.scratch / "firmware.log"),
                }
                texts["screen-text"] = screen
                stage, sightings = classify(texts)
                if tick is not None:
                    tick(now - started, stage)
                if stage in FINAL:
                    stopped = "final-stage"
            if stopped != "timeout" or now >= deadline:
                break
            time.sleep(max(0.0, min(spec.interval, deadline - time.monotonic())))
    except QmpError as exc:
        notes.append(str(exc))
        stopped = "qemu-exited" if process.poll() is not None else "monitor-lost"
    finally:
        exit_code = _stop(process, qmp)
        log.close()
        texts = _logs(spec.scratch)
        if stage == "no-output":
            stage, sightings = classify(texts)
        if spec.evidence is not None:
            for name in ("serial.log", "firmware.log", "qemu.log"):
                if (spec.scratch / name).exists():
                    shutil.copyfile(spec.scratch / name, spec.evidence / name)
    if exit_code not in (0, None) and stopped == "qemu-exited":
        notes.append(f"QEMU exited with {exit_code}: {_text(spec.scratch / 'qemu.log').strip()[-300:]}")
    return RunResult(
        stage, sightings, time.monotonic() - started, stopped, tuple(shots), screens, blanks, exit_code, tuple(notes)
    )


def _capture(qmp: Qmp, spec: RunSpec, index: int) -> tuple[str, bytes | None]:
    """The VGA text screen (meaningful in text mode) and a screendump's pixels (None when it failed)."""
    screen = screen_text(qmp.human("xp /2000xh 0xb8000"))
    target = spec.scratch / "screen.ppm"
    try:
        qmp.execute("screendump", filename=str(target))
        _, _, pixels = read_ppm(target.read_bytes())
    except (QmpError, OSError, ImageError):
        return screen, None
    return screen, pixels


def _png_or_empty(ppm: Path) -> bytes:
    try:
        return ppm_to_png(ppm.read_bytes())
    except (OSError, ImageError):
        return b""


def _logs(scratch: Path) -> dict[str, str]:
    return {"serial": _text(scratch / "serial.log"), "firmware-log": _text(scratch / "firmware.log")}


def _text(path: Path) -> str:
    try:
        return path.read_bytes()[-256 * 1024 :].decode("latin-1")
    except OSError:
        return ""


def _stop(process: subprocess.Popen[bytes], qmp: Qmp | None) -> int | None:
    """Ask QEMU to quit, then terminate, then kill: bounded at each step."""
    if process.poll() is None and qmp is not None:
        with contextlib.suppress(QmpError):
            qmp.execute("quit")
    if qmp is not None:
        qmp.close()
    for stop in (None, process.terminate, process.kill):
        if stop is not None and process.poll() is None:
            stop()
        try:
            return process.wait(timeout=QUIT_SECONDS)
        except subprocess.TimeoutExpired:
            continue
    return process.poll()
