"""The drill inventory (TOML): read it, check every key and value before anything runs, and say the line.

:data:`KEYS` is the one description of the keys: ``bmr drill --help`` and the README are made from it or checked
against it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restore.drill.freshness import parse_duration
from restore.tree.hardware import profile_names
from share import errors
from share.connect import parse_location
from share.location import Location
from winre.terms import Purpose

# Key -> (required, TOML type, what it means). The order is the order of the help and the README.
KEYS: dict[str, tuple[bool, str, str]] = {
    "name": (True, "string", 'what the report calls this server: free text, e.g. "DC01 (Berlin)"'),
    "location": (True, "string", "the SMB share the restore will read: \\\\IP\\share or smb://[DOMAIN;]user@IP/share"),
    "purpose": (True, "string", "bmr or systemstate (any case; one entry per server and purpose)"),
    "password_env": (True, "string", "the environment variable that holds the share's password (never the password)"),
    "machine": (False, "string", "the computer folder under WindowsImageBackup (default: name)"),
    "user": (False, "string", "the account, DOMAIN\\user or user@domain, when the location names none"),
    "version": (False, "string", "the version identifier MM/DD/YYYY-HH:MM (default: the newest point)"),
    "source": (False, "string", "where a copy of the point would come from: sizes the write and free-space checks"),
    "stage": (False, "boolean", "true: copy the point from source to location first, as bmr stage does"),
    "deep": (False, "boolean", "true: also read inside the point's images (the contents check, as preflight --deep)"),
    "target_hardware": (False, "string", "a profile (see bmr preflight --help): the hardware check; implies deep"),
    "boot_test": (False, "boolean", "true: also boot the point's system disk under QEMU (bmr boot-test)"),
    "boot_timeout": (False, "number", "seconds the boot test watches the boot (default 300)"),
    "ssh": (False, "string", "user@fileserver[:port]: also check Samba's share folder on the file server"),
    "ssh_smb_conf": (False, "string", "the file server's smb.conf, when not the default (with ssh)"),
    "timeout": (False, "number", "seconds for each network operation of this server (default: --timeout)"),
    "rpo": (False, "string", 'target RPO: the newest point may be this old, e.g. "24h", "36h", "7d" (default: --rpo)'),
}
REQUIRED = tuple(k for k, (required, _kind, _text) in KEYS.items() if required)
OPTIONAL = tuple(k for k, (required, _kind, _text) in KEYS.items() if not required)
_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "boolean": (bool,), "number": (int, float)}
_KEY_RE = re.compile(r"^\s*([A-Za-z0-9_-]+|\"[^\"]*\")\s*=")
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class InventoryError(errors.Unreadable):
    """Correct the inventory at the lines named; nothing was run."""


@dataclass(frozen=True)
class ServerEntry:
    name: str
    location: Location
    purpose: Purpose
    password_env: str
    line: int
    machine: str = ""  # the computer folder; "" means the same as name
    source: Location | None = None
    stage: bool = False
    deep: bool = False
    target_hardware: str | None = None
    boot_test: bool = False
    boot_timeout: float = 300.0
    ssh: str | None = None
    ssh_smb_conf: str | None = None
    user: str | None = None
    version: str | None = None
    timeout: float | None = None
    rpo: float | None = None  # seconds the newest point may be old; None: the drill's --rpo, or no target

    @property
    def computer(self) -> str:
        """The computer folder under WindowsImageBackup."""
        return self.machine or self.name

    @property
    def share_key(self) -> tuple[Any, ...]:
        """Servers with the same key can share one session."""
        loc = self.location
        return (loc.scheme, (loc.host or "").lower(), loc.port, (loc.share or "").lower(), loc.path.lower(),
                loc.user, loc.domain, self.user, self.password_env)  # fmt: skip


@dataclass
class _Block:
    line: int
    keys: dict[str, int]


def _scan(text: str) -> tuple[list[_Block], list[str]]:
    """Where each [[server]] table and each key sits (tomllib keeps no line numbers)."""
    blocks: list[_Block] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[[") and line.split("#", 1)[0].strip() == "[[server]]":
            blocks.append(_Block(number, {}))
        elif line.startswith("["):
            problems.append(f"line {number}: unknown table {line.split('#', 1)[0].strip()}; only [[server]] is known")
        elif match := _KEY_RE.match(raw):
            key = match.group(1).strip('"')
            if not blocks:
                problems.append(f"line {number}: '{key}' stands outside any [[server]] table")
            else:
                blocks[-1].keys.setdefault(key, number)
    return blocks, problems


def load_inventory(path: Path) -> list[ServerEntry]:
    """Every server of the inventory, validated. Raises InventoryError naming each bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(
            f"cannot read {path}: {exc}", hint="give an inventory TOML file (examples/drill-inventory.toml is one)"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InventoryError(f"{path}: not valid TOML: {exc}") from None
    blocks, problems = _scan(text)
    servers = data.get("server", [])
    if not isinstance(servers, list) or len(servers) != len(blocks):
        problems.append("the inventory must be a list of [[server]] tables")
        servers = []
    entries: list[ServerEntry] = []
    seen: dict[tuple[str, ...], int] = {}
    for table, block in zip(servers, blocks, strict=False):
        entry = _entry(table, block, problems)
        if entry is None:
            continue
        # One entry per server and purpose; the same computer on the same share twice for one purpose is the same
        # drill however it is named.
        keys = [
            (f"server '{entry.name}'", ("name", entry.name.lower(), entry.purpose)),
            (f"computer '{entry.computer}' at {entry.location}",
             ("at", entry.computer.lower(), entry.location.display().lower(), entry.purpose)),
        ]  # fmt: skip
        for said, key in keys:
            if key in seen:
                problems.append(f"line {block.line}: {said} is already listed for {entry.purpose} at line {seen[key]}")
                break
        else:
            for _said, key in keys:
                seen[key] = block.line
            entries.append(entry)
    if not blocks and not problems:
        problems.append("no [[server]] table: nothing to drill")
    if problems:
        raise InventoryError(f"{path}: " + "; ".join(problems))
    return entries


def _entry(table: dict[str, Any], block: _Block, problems: list[str]) -> ServerEntry | None:
    before = len(problems)
    for key in table:
        if key not in REQUIRED and key not in OPTIONAL:
            line = block.keys.get(key, block.line)
            problems.append(f"line {line}: unknown key '{key}' (known: {', '.join(REQUIRED + OPTIONAL)})")
    for key in REQUIRED:
        if key not in table:
            problems.append(f"line {block.line}: this [[server]] has no '{key}'")
    for key, value in table.items():
        if key not in KEYS:
            continue
        kind = KEYS[key][1]
        wrong = not isinstance(value, _TYPES[kind]) or (kind == "number" and isinstance(value, bool))
        if wrong:
            problems.append(f"line {block.keys.get(key, block.line)}: '{key}' must be a {kind}")
        elif key == "timeout" and (isinstance(value, bool) or not 1 <= value <= 600):  # also inf and nan
            problems.append(f"line {block.keys.get(key, block.line)}: 'timeout' must be 1 to 600 seconds")
        elif key == "boot_timeout" and not 1 <= value <= 3600:
            problems.append(f"line {block.keys.get(key, block.line)}: 'boot_timeout' must be 1 to 3600 seconds")
        elif key == "target_hardware" and value not in profile_names():
            problems.append(
                f"line {block.keys.get(key, block.line)}: unknown target_hardware '{value}' "
                f"(known: {', '.join(profile_names())})"
            )
    if len(problems) > before:
        return None

    def where(key: str) -> int:
        return block.keys.get(key, block.line)

    try:
        purpose = Purpose.parse(table["purpose"])
    except ValueError as exc:
        problems.append(f"line {where('purpose')}: {exc}")
    if not _ENV_RE.match(table["password_env"]):
        problems.append(f"line {where('password_env')}: password_env names an environment variable, such as "
                        "DR_RESTORE_PW (the password itself never goes in the inventory)")  # fmt: skip
    locations: dict[str, Location] = {}
    for key in ("location", "source"):
        if key in table:
            try:
                locations[key] = parse_location(table[key])
            except errors.InvalidLocation as exc:
                problems.append(f"line {where(key)}: {key}: {exc}")
    if "location" in locations and not locations["location"].windows_share:
        problems.append(f"line {where('location')}: location must be the SMB share the restore will use")
    if table.get("stage") and "source" not in table:
        problems.append(f'line {where("stage")}: stage = true copies from a source: add source = "..."')
    if "rpo" in table:
        try:
            parse_duration(table["rpo"])
        except ValueError as exc:
            problems.append(f"line {where('rpo')}: rpo: {exc}")
    for key in ("name", "machine"):
        if key in table and not table[key].strip():
            problems.append(f"line {where(key)}: '{key}' is empty")
    if len(problems) > before:
        return None
    return ServerEntry(
        name=table["name"],
        location=locations["location"],
        purpose=purpose,
        password_env=table["password_env"],
        line=block.line,
        machine=table.get("machine", ""),
        source=locations.get("source"),
        stage=bool(table.get("stage", False)),
        deep=bool(table.get("deep", False)) or "target_hardware" in table,
        target_hardware=table.get("target_hardware"),
        boot_test=bool(table.get("boot_test", False)),
        boot_timeout=float(table.get("boot_timeout", 300.0)),
        ssh=table.get("ssh"),
        ssh_smb_conf=table.get("ssh_smb_conf"),
        user=table.get("user"),
        version=table.get("version"),
        timeout=float(table["timeout"]) if "timeout" in table else None,
        rpo=parse_duration(table["rpo"]) if "rpo" in table else None,
    )


def describe_keys() -> str:
    """The inventory's keys for --help and the README: one line each, required ones first."""
    width = max(len(k) for k in KEYS)
    return "\n".join(
        f"  {key:<{width}}  {'required' if required else 'optional'} {kind}: {text}"
        for key, (required, kind, text) in KEYS.items()
    )
