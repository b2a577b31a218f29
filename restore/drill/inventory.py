"""The drill inventory (TOML): read it, check every key and value before anything runs, and say the line."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from share import errors
from share.connect import parse_location
from share.location import Location
from winre.terms import Purpose

REQUIRED = ("name", "location", "purpose", "password_env")
OPTIONAL = ("source", "ssh", "ssh_smb_conf", "user", "version", "timeout")
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
    source: Location | None = None
    ssh: str | None = None
    ssh_smb_conf: str | None = None
    user: str | None = None
    version: str | None = None
    timeout: float | None = None

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
        raise InventoryError(f"cannot read {path}: {exc}") from None
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
    seen: dict[tuple[str, str], int] = {}
    for table, block in zip(servers, blocks, strict=False):
        entry = _entry(table, block, problems)
        if entry is None:
            continue
        key = (entry.name.lower(), entry.location.display().lower())
        if key in seen:
            problems.append(f"line {block.line}: server '{entry.name}' at {entry.location} is already listed at line "
                            f"{seen[key]}")  # fmt: skip
            continue
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
        wanted, kind = ((int, float), "number") if key == "timeout" else (str, "string")
        if key in REQUIRED + OPTIONAL and not isinstance(value, wanted):
            problems.append(f"line {block.keys.get(key, block.line)}: '{key}' must be a {kind}")
        elif key == "timeout" and (isinstance(value, bool) or not 1 <= value <= 600):  # also inf and nan
            problems.append(f"line {block.keys.get(key, block.line)}: 'timeout' must be 1 to 600 seconds")
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
    if len(problems) > before:
        return None
    return ServerEntry(
        name=table["name"],
        location=locations["location"],
        purpose=purpose,
        password_env=table["password_env"],
        line=block.line,
        source=locations.get("source"),
        ssh=table.get("ssh"),
        ssh_smb_conf=table.get("ssh_smb_conf"),
        user=table.get("user"),
        version=table.get("version"),
        timeout=float(table["timeout"]) if "timeout" in table else None,
    )
