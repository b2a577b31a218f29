"""Target hardware readiness: will the restored Windows find its boot disk on the target's storage controller?

Each profile names the firmware the target boots and the storage driver services one of which must start at boot,
with the device ids the driver binds. From the point's SYSTEM hive (restore.tree.deep.services): the service exists,
its driver file is on the volume, its Start is 0 (boot), and Windows has the device binding (CriticalDeviceDatabase
up to Windows Server 2008 R2, DriverDatabase\\DeviceIds from 2012 on), the keys virt-v2v sets when it converts a
guest. A missing service, file or boot start predicts STOP 0x7B (INACCESSIBLE_BOOT_DEVICE); the verdict says the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports the profiles; the hive readers load only when --deep asks for them
    from restore.tree.deep.services import Service, SystemServices

BOOT_START = 0


@dataclass(frozen=True)
class DriverNeed:
    service: str  # the service key's name, as Windows spells it
    device_ids: tuple[str, ...]  # the ids the driver binds (a prefix of the full PCI id is enough)
    inbox: bool  # shipped with Windows Server 2012 and later (else it comes with the hypervisor's tools)
    source: str  # where the driver comes from when it has to be injected


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    firmware: str | None  # UEFI, BIOS, or None when the target boots either
    drivers: tuple[DriverNeed, ...]  # the boot disk's controller: one of these drivers
    also: tuple[DriverNeed, ...] = ()  # buses the controller sits on: all of these
    note: str = ""


_AHCI = DriverNeed("storahci", ("PCI\\CC_010601",), True, "inbox (Windows Server 2012 and later)")
_NVME = DriverNeed("stornvme", ("PCI\\CC_010802",), True, "inbox (Windows Server 2012 R2 and later)")
_VMBUS = DriverNeed("vmbus", ("ACPI\\VMBUS", "ACPI\\MSFT1000"), True, "inbox")
_STORVSC = DriverNeed("storvsc", ("VMBUS\\{BA6163D9-04A1-4D29-B605-72E2FFB1DC7F}",), True, "inbox")
_VIRTIO = "the virtio-win ISO (https://fedorapeople.org/groups/virt/virtio-win/), the folder for this Windows version"

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("same", "the same hardware the backup was taken on", None, ()),
        Profile(
            "hyperv-gen1",
            "Hyper-V generation 1 (BIOS, IDE boot disk)",
            "BIOS",
            (
                DriverNeed("intelide", ("PCI\\VEN_8086&DEV_7111",), True, "inbox"),
                DriverNeed("pciide", ("PCI\\VEN_8086&DEV_7111",), True, "inbox"),
            ),
            (DriverNeed("atapi", (), True, "inbox"),),
            "a generation 1 VM boots only from its IDE controller",
        ),
        Profile("hyperv-gen2", "Hyper-V generation 2 (UEFI, synthetic SCSI)", "UEFI", (_STORVSC,), (_VMBUS,)),
        Profile(
            "vmware-lsisas",
            "VMware, LSI Logic SAS controller",
            None,
            (DriverNeed("LSI_SAS", ("PCI\\VEN_1000&DEV_0054",), True, "inbox"),),
        ),
        Profile(
            "vmware-pvscsi",
            "VMware Paravirtual SCSI (PVSCSI)",
            None,
            (DriverNeed("pvscsi", ("PCI\\VEN_15AD&DEV_07C0",), False, "VMware Tools (the pvscsi driver folder)"),),
        ),
        Profile("vmware-sata", "VMware SATA (AHCI) controller", None, (_AHCI,)),
        Profile(
            "kvm-virtio-scsi",
            "KVM/QEMU virtio-scsi",
            None,
            (DriverNeed("vioscsi", ("PCI\\VEN_1AF4&DEV_1004", "PCI\\VEN_1AF4&DEV_1048"), False, _VIRTIO),),
        ),
        Profile(
            "kvm-virtio-blk",
            "KVM/QEMU virtio-blk",
            None,
            (DriverNeed("viostor", ("PCI\\VEN_1AF4&DEV_1001", "PCI\\VEN_1AF4&DEV_1042"), False, _VIRTIO),),
        ),
        Profile(
            "nvme",
            "a physical server booting from NVMe",
            "UEFI",
            (_NVME,),
            note="booting from NVMe needs UEFI on nearly all servers (legacy BIOS has no NVMe boot)",
        ),
        Profile("ahci", "a physical server booting from SATA in AHCI mode", None, (_AHCI,)),
    )
}


@dataclass(frozen=True)
class DriverState:
    need: DriverNeed
    service: Service | None
    bound: bool
    binding_key: str

    @property
    def ready(self) -> bool:
        s = self.service
        return s is not None and s.start == BOOT_START and s.file_present is not False and self.bound

    def describe(self) -> str:
        s = self.service
        if s is None:
            return f"{self.need.service}: not installed (no service key)"
        start = {0: "boot", 1: "system", 2: "automatic", 3: "manual", 4: "disabled"}.get(s.start or -1, str(s.start))
        file = {True: "file present", False: "FILE MISSING", None: "file not checked"}[s.file_present]
        bound = "device binding present" if self.bound else f"no device binding ({self.binding_key})"
        return f"{s.name}: Start={s.start} ({start}), {file}, {bound}"

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.need.service,
            "installed": self.service is not None,
            "start": self.service.start if self.service else None,
            "file_present": self.service.file_present if self.service else None,
            "bound": self.bound,
            "binding_key": self.binding_key,
            "ready": self.ready,
        }


@dataclass(frozen=True)
class HardwareVerdict:
    profile: str
    title: str
    status: str  # pass, warn, fail
    message: str
    firmware_needed: str | None
    firmware_point: str | None
    drivers: tuple[DriverState, ...]
    fix: tuple[str, ...]  # commands for WinRE, in order
    codes: tuple[str, ...]  # stable problem codes: firmware-mismatch, boot-driver-not-installed, ...

    @property
    def predicts_7b(self) -> bool:
        return any(c.startswith("storage-driver") for c in self.codes)

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "title": self.title,
            "status": self.status,
            "message": self.message,
            "firmware_needed": self.firmware_needed,
            "firmware_point": self.firmware_point,
            "predicts_0x7b": self.predicts_7b,
            "drivers": [d.to_json() for d in self.drivers],
            "fix": list(self.fix),
            "codes": list(self.codes),
        }


def profile_names() -> tuple[str, ...]:
    return tuple(PROFILES)


def wanted_services() -> frozenset[str]:
    """Every service a profile looks at: the boot chain looks their driver files up while the volume is open."""
    return frozenset(n.service.lower() for p in PROFILES.values() for n in p.drivers + p.also)


def _state(services: SystemServices, need: DriverNeed) -> DriverState:
    service = services.service(need.service)
    keys = []
    bound = not need.device_ids
    for device_id in need.device_ids:
        found, key = services.bound(device_id)
        keys.append(key)
        bound = bound or found
    return DriverState(need, service, bound, keys[0] if keys else "")


def offline_reg_lines(control_set: str, service: str) -> tuple[str, ...]:
    """The WinRE commands that set a service to boot start in the restored (offline) SYSTEM hive."""
    return (
        "reg load HKLM\\OFFLINE C:\\Windows\\System32\\config\\SYSTEM",
        f"reg add HKLM\\OFFLINE\\{control_set}\\Services\\{service} /v Start /t REG_DWORD /d 0 /f",
        "reg unload HKLM\\OFFLINE",
    )


def assess(profile_name: str, services: SystemServices | None, firmware: str | None) -> HardwareVerdict:
    """The verdict for ``profile_name`` from the point's services and firmware (pure: no I/O)."""
    profile = PROFILES[profile_name]
    codes: list[str] = []
    reasons: list[str] = []
    fix: list[str] = []
    if profile.firmware and firmware and profile.firmware != firmware:
        codes.append("firmware-mismatch")
        reasons.append(f"the point boots {firmware} but the target boots {profile.firmware}")
        if firmware == "BIOS":
            fix.append(
                "use a target that boots BIOS, or after the restore convert the disk: "
                "mbr2gpt /convert /disk:0 /allowFullOS (then boot UEFI)"
            )
        else:
            fix.append("use a target that boots UEFI (a GPT/UEFI point cannot boot from BIOS)")
    if profile.firmware and firmware is None:
        reasons.append(f"the point's firmware is unknown; the target boots {profile.firmware}")
    if services is None:
        status = "fail" if codes else "warn"
        reasons.append("the SYSTEM hive was not read: the storage drivers are unknown")
        return HardwareVerdict(
            profile.name, profile.title, status, "; ".join(reasons), profile.firmware, firmware, (), tuple(fix),
            tuple(codes),
        )  # fmt: skip
    if not profile.drivers:  # the same hardware: what booted before boots again
        boot = sorted(s.name for s in services.boot_start_drivers())
        message = "; ".join(reasons) or f"the same controller: boot-start drivers {', '.join(boot) or 'none found'}"
        return HardwareVerdict(
            profile.name, profile.title, "fail" if codes else "pass", message, profile.firmware, firmware, (),
            tuple(fix), tuple(codes),
        )  # fmt: skip
    states = tuple(_state(services, need) for need in profile.drivers + profile.also)
    controller = states[: len(profile.drivers)]
    buses = states[len(profile.drivers) :]
    if not any(s.ready for s in controller):
        _driver_fix(_best(controller), services, codes, reasons, fix)
    for state in buses:
        if not state.ready:
            _driver_fix(state, services, codes, reasons, fix)
    hard = [c for c in codes if c != "storage-driver-not-bound"]
    status = "fail" if hard else ("warn" if codes else "pass")
    if status == "pass":
        reasons += [s.describe() for s in states if s.ready]
    elif hard and any(c.startswith("storage-driver") for c in hard):
        reasons.append("Windows will stop with 0x7B INACCESSIBLE_BOOT_DEVICE on this target unless fixed")
    return HardwareVerdict(
        profile.name, profile.title, status, "; ".join(reasons), profile.firmware, firmware, states, tuple(fix),
        tuple(codes),
    )  # fmt: skip


def _best(states: tuple[DriverState, ...]) -> DriverState:
    """The driver closest to ready: installed with its file beats installed beats absent."""

    def score(state: DriverState) -> int:
        s = state.service
        return (s is not None) * 4 + (s is not None and s.file_present is not False) * 2 + state.bound

    return max(states, key=score)


def _driver_fix(
    state: DriverState, services: SystemServices, codes: list[str], reasons: list[str], fix: list[str]
) -> None:
    need, service = state.need, state.service
    inject = f"dism /image:C:\\ /add-driver /driver:<folder with {need.service.lower()}.inf> /recurse"
    if service is None or service.file_present is False:
        codes.append("storage-driver-not-installed" if service is None else "storage-driver-file-missing")
        reasons.append(state.describe())
        fix.append(f"{inject}   ({need.source})")
        return
    if service.start != BOOT_START:
        codes.append("storage-driver-not-boot-start")
        reasons.append(state.describe())
        fix.extend(offline_reg_lines(services.control_set, service.name))
    if not state.bound:
        codes.append("storage-driver-not-bound")
        reasons.append(
            f"{need.service}: no device binding ({state.binding_key}): Windows may not attach the driver to the "
            "controller at boot"
        )
        fix.append(f"{inject}   (re-adding the driver package writes the binding; {need.source})")
