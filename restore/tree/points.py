"""Inspect one computer folder and its recovery points through any backend: completeness, images, writers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from restore.tree import writers as known
from restore.tree.identifiers import folder_time, looks_like_backup_folder, version_of
from restore.tree.images import check_image
from restore.tree.model import Machine, Problem, RecoveryPoint, Volume, error, warning
from restore.tree.specs import MAX_SPECS_BYTES, BackupSpecs, SpecsError, parse_specs
from share import errors, paths
from share.base import Backend, Entry, Kind, walk_files
from winre.terms import TOMBSTONE_DAYS

_WRITER_FILE_RE = re.compile(r"_writer\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?\.xml$")
_ID_RE = re.compile(r"^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?")
METADATA_SUFFIXES = ("_components.xml", "_registryexcludes.xml")
MAX_LISTED = 20_000  # entries of a folder bmr searches through (share roots, computer folders, Catalog, ...)
MAX_POINT_ENTRIES = 1_000_000  # files of one point (its folder and sub-folders): only a memory bound


class TooManyEntries(errors.BmrError):
    """bmr reads no folder only in part. Point bmr at a folder closer to the recovery point, or tidy the one named."""


def unsafe_name(name: str) -> bool:
    """Names no Windows tree can hold and no path may be built from (traversal, separators, NUL)."""
    return name in (".", "..") or any(c in name for c in "/\\\x00")


def read_folder(backend: Backend, path: str, problems: list[Problem], limit: int = MAX_LISTED) -> dict[str, Entry]:
    """A folder's entries keyed by lower-case name (Windows compares names without case), unsafe names dropped.
    Raises TooManyEntries past ``limit``: a listing is never silently cut."""
    out: dict[str, Entry] = {}
    dropped: list[str] = []
    entries = backend.list(path)
    if len(entries) > limit:
        raise TooManyEntries(
            f"{backend.describe(path)} holds {len(entries)} entries, more than the {limit} bmr reads in a folder "
            "of this kind; nothing was left out silently"
        )
    for entry in entries:
        if unsafe_name(entry.name):
            dropped.append(entry.name)
        else:
            out.setdefault(entry.name.lower(), entry)
    if dropped:
        problems.append(
            warning(
                "unsafe-name",
                f"{len(dropped)} entr{'y' if len(dropped) == 1 else 'ies'} in {backend.describe(path)} "
                f"named like a path ({dropped[0]!r}) ignored: no Windows tree holds such names",
            )
        )
    return out


@dataclass(frozen=True)
class MachineFiles:
    """What the computer folder holds besides its Backup folders, checked once and shared by every point."""

    files: tuple[tuple[str, int], ...]
    problems: tuple[Problem, ...]
    spp_ids: frozenset[str]
    checked: bool


def _machine_files(backend: Backend, path: str, entries: dict[str, Entry]) -> MachineFiles:
    problems: list[Problem] = []
    files: list[tuple[str, int]] = []
    catalog = entries.get("catalog")
    if catalog is None or catalog.kind is not Kind.DIR:
        problems.append(error("catalog-missing", "Catalog folder missing: WinRE and wbadmin cannot list this point"))
    else:
        inside = read_folder(backend, paths.join(path, catalog.name), problems)
        for wanted in ("GlobalCatalog", "BackupGlobalCatalog"):
            found = inside.get(wanted.lower())
            if found is None or found.kind is not Kind.FILE or found.size == 0:
                problems.append(
                    error("catalog-missing", f"Catalog\\{wanted} missing or empty: the backup catalog is incomplete")
                )
            else:
                files.append((f"{catalog.name}/{found.name}", found.size))
    media = entries.get("mediaid")
    if media is None or media.kind is not Kind.FILE:
        problems.append(error("mediaid-missing", "MediaId missing: the backup target cannot be identified"))
    elif media.size != 16:
        problems.append(error("mediaid-invalid", f"MediaId is {media.size} bytes, not 16: the copy is damaged"))
    else:
        files.append((media.name, media.size))
    spp_ids: set[str] = set()
    spp = entries.get("sppmetadatacache")
    if spp is not None and spp.kind is Kind.DIR:
        for name, entry in sorted(read_folder(backend, paths.join(path, spp.name), problems).items()):
            if entry.kind is Kind.FILE:
                files.append((f"{spp.name}/{entry.name}", entry.size))
                match = _ID_RE.match(name)
                if match:
                    spp_ids.add(match.group(1))
    return MachineFiles(tuple(files), tuple(problems), frozenset(spp_ids), checked=True)


def inspect_machine(backend: Backend, path: str, name: str) -> Machine:
    """Inspect the computer folder at ``path``."""
    problems: list[Problem] = []
    entries = read_folder(backend, path, problems)
    context = _machine_files(backend, path, entries)
    folders = sorted(e.name for e in entries.values() if e.kind is Kind.DIR and looks_like_backup_folder(e.name))
    points = tuple(inspect_point(backend, path, folder, context) for folder in folders)
    if not points:
        if "systemstatebackup" in entries:
            problems.append(
                warning("legacy-layout", "only an old-style SystemStateBackup folder: bmr does not inspect that layout")
            )
        else:
            problems.append(error("no-recovery-points", f"no 'Backup YYYY-MM-DD HHMMSS' folder in {name}"))
    elif len(points) > 1:
        problems.append(
            warning(
                "several-recovery-points",
                f"{len(points)} Backup folders: a copied tree normally holds one; name the one to use with --version",
            )
        )
    return Machine(name, path, points, tuple(problems))


def inspect_lone_point(backend: Backend, machine_name: str) -> Machine:
    """The location is a Backup folder itself: inspect it; the computer folder's files are out of reach."""
    folder = paths.name(backend.location.path) or machine_name
    context = MachineFiles((), (), frozenset(), checked=False)
    point = inspect_point(backend, "", folder, context, here=True)
    return Machine(machine_name, "", (point,))


def _read_specs(backend: Backend, path: str, entry: Entry | None, problems: list[Problem]) -> BackupSpecs | None:
    if entry is None or entry.kind is not Kind.FILE:
        problems.append(error("specs-missing", "BackupSpecs.xml missing: wbadmin cannot tell what this point holds"))
        return None
    try:
        return parse_specs(backend.read_bytes(paths.join(path, entry.name), MAX_SPECS_BYTES + 1))
    except SpecsError as exc:
        problems.append(error("specs-invalid", f"BackupSpecs.xml is unreadable ({exc}): the point cannot be restored"))
        return None


def inspect_point(
    backend: Backend, machine_path: str, folder: str, context: MachineFiles, *, here: bool = False
) -> RecoveryPoint:
    problems: list[Problem] = list(context.problems)
    path = "" if here else paths.join(machine_path, folder)
    moment = folder_time(folder)
    if moment is None and here:
        problems.append(
            warning(
                "version-unknown",
                "the location is the Backup folder itself (a share root?): its name, and so its version "
                "identifier, cannot be seen from here",
            )
        )
    elif moment is None:
        problems.append(
            error("bad-folder-name", f"'{folder}' is not named 'Backup YYYY-MM-DD HHMMSS': wbadmin will not list it")
        )
    if not context.checked:
        problems.append(
            warning("machine-files-unchecked", "the location is a Backup folder: Catalog and MediaId were not checked")
        )
    try:
        entries = read_folder(backend, path, problems, MAX_POINT_ENTRIES)
    except errors.AccessDenied as exc:
        problems.append(error("unreadable", f"cannot list the point: {exc}"))
        entries = {}
    specs: BackupSpecs | None = None
    if entries:
        specs = _read_specs(backend, path, entries.get("backupspecs.xml"), problems)
    else:
        problems.append(error("empty-point", "the Backup folder is empty or unreadable: nothing to restore"))

    xml_ids, ran = _metadata(entries, problems)  # writer files: what ran on the server, not what the point holds
    if len(xml_ids) == 1 and context.checked and context.spp_ids and not (xml_ids & context.spp_ids):
        problems.append(
            warning("spp-missing", "SPPMetadataCache has no entry for this point's id: the catalog may be out of date")
        )

    volumes = _volumes(backend, path, entries, specs, problems)
    system_state = bool(specs and specs.system_state)
    bare_metal = bool(specs and specs.all_critical)
    components = set(specs.component_writers) if specs else set()
    # What the point holds: its ComponentSpecs and, when it holds system state, the system-state writers that ran.
    held = components | (known.system_state_writers(ran | components) if system_state or bare_metal else set())
    _consistency(system_state, bare_metal, ran, held, problems)
    can = known.can_recover(
        volumes=bool(volumes), system_state=system_state, all_critical=bare_metal, components=components
    )

    roles = tuple(known.roles_of(held))
    server_roles = tuple(known.roles_of(ran | components))
    if moment is not None and "domain-controller" in roles + server_roles:
        _tombstone(moment, problems)

    own_files: list[tuple[str, int]] = []
    prefix = folder + "/"  # files are named relative to the computer folder, always
    for _key, entry in sorted(entries.items()):
        if entry.kind is Kind.FILE:
            own_files.append((prefix + entry.name, entry.size))
        elif entry.kind is Kind.DIR:
            # A sub-folder (Logs, ...) by its real name; walk_files names files from the backend's root.
            below = paths.join(path, entry.name)
            for found, sub in walk_files(backend, below):
                own_files.append((prefix + paths.join(entry.name, found[len(below) :].lstrip("/")), sub.size))
                if len(own_files) > MAX_POINT_ENTRIES:
                    raise TooManyEntries(
                        f"{backend.describe(path)} holds more than {MAX_POINT_ENTRIES} files: bmr does not copy "
                        "a point only in part"
                    )
    files = tuple(context.files) + tuple(own_files)
    return RecoveryPoint(
        folder=folder,
        version=version_of(moment) if moment else None,
        backup_time_utc=moment,
        system_state=system_state,
        bare_metal=bare_metal,
        can_recover=tuple(can),
        roles=roles,
        writers=tuple((w, known.name_of(w)) for w in sorted(held)),
        server_roles=server_roles,
        server_writers=tuple((w, known.name_of(w)) for w in sorted(ran | components)),
        volumes=tuple(volumes),
        size_bytes=sum(size for _, size in files),
        files=files,
        problems=tuple(problems),
    )


def _tombstone(moment: datetime, problems: list[Problem]) -> None:
    """A domain controller's point older than the tombstone lifetime cannot bring the DC back (evidence.md)."""
    age = (datetime.now(UTC) - moment).days
    if age > TOMBSTONE_DAYS:
        problems.append(
            warning(
                "tombstone",
                f"a domain controller's point {age} days old, older than the tombstone lifetime ({TOMBSTONE_DAYS} "
                "days; 60 on forests created before Windows Server 2003 SP1): a DC restored from it cannot be "
                "used; choose a newer point",
            )
        )


def _metadata(entries: dict[str, Entry], problems: list[Problem]) -> tuple[set[str], set[str]]:
    ids: set[str] = set()
    writer_ids: set[str] = set()
    xml_names = [n for n, e in entries.items() if e.kind is Kind.FILE and n.endswith(".xml") and n != "backupspecs.xml"]
    for name in xml_names:
        match = _ID_RE.match(name)
        if match:
            ids.add(match.group(1))
        writer = _WRITER_FILE_RE.search(name)
        if writer:
            writer_ids.add(writer.group(1))
    if entries and not any(n.endswith(s) for n in xml_names for s in METADATA_SUFFIXES):
        problems.append(
            warning("metadata-missing", "no <id>_Components.xml or _RegistryExcludes.xml: the copy may be incomplete")
        )
    if len(ids) > 1:
        problems.append(
            warning(
                "xml-id-mismatch",
                f"the XML files carry {len(ids)} different backup ids: files from two backups were mixed",
            )
        )
    return ids, writer_ids


def _volumes(
    backend: Backend, path: str, entries: dict[str, Entry], specs: BackupSpecs | None, problems: list[Problem]
) -> list[Volume]:
    if specs is None:
        return []
    if not specs.volumes:
        problems.append(error("no-volumes", "BackupSpecs.xml lists no volume: there is nothing to restore"))
    volumes: list[Volume] = []
    claimed: set[str] = set()
    for spec in specs.volumes:
        entry = next(
            (
                entries[n]
                for n in (f"{spec.guid}.vhdx", f"{{{spec.guid}}}.vhdx", f"{spec.guid}.vhd", f"{{{spec.guid}}}.vhd")
                if n in entries and entries[n].kind is Kind.FILE
            ),
            None,
        )
        shown = spec.access_path or spec.label or "hidden system volume"
        if entry is None:
            problems.append(error("image-missing", f"no image for volume {spec.guid} ({shown}): it cannot be restored"))
            volumes.append(Volume(spec.guid, spec.access_path, spec.label, None, None, None, None))
            continue
        claimed.add(entry.name.lower())
        image_path = paths.join(path, entry.name)
        with backend.open_read(image_path) as stream:
            check = check_image(entry.name, stream.read_exact, entry.size)
        if check.problem:
            code = "image-empty" if entry.size == 0 else "image-invalid"
            problems.append(error(code, f"{entry.name} ({shown}): {check.problem}"))
        if check.pending_log:
            problems.append(warning("vhdx-log-pending", f"{entry.name} ({shown}): {check.pending_log}"))
        volumes.append(
            Volume(spec.guid, spec.access_path, spec.label, entry.name, check.format, entry.size, check.virtual_size)
        )
    for name, entry in entries.items():
        if name.endswith((".vhdx", ".vhd")) and name not in claimed and entry.kind is Kind.FILE:
            problems.append(warning("image-unlisted", f"{entry.name} is not listed in BackupSpecs.xml"))
    return volumes


def _consistency(system_state: bool, bare_metal: bool, ran: set[str], held: set[str], problems: list[Problem]) -> None:
    """Writer files missing for what BackupSpecs.xml says the point holds. Writer files beside a volume-only point
    are normal (A1): they are never a problem."""
    if bare_metal and known.ASR not in ran:
        problems.append(
            warning("asr-writer-missing", "marked bare-metal capable but no ASR Writer metadata: BMR may fail")
        )
    if (system_state or bare_metal) and known.SYSTEM not in ran:
        problems.append(warning("system-writer-missing", "marked system state but no System Writer metadata"))
    if known.NTDS in held and not (ran | held) & {known.DFSR, known.FRS}:
        problems.append(
            warning(
                "sysvol-writer-missing", "a domain controller point without DFSR or FRS metadata: SYSVOL may be lost"
            )
        )
