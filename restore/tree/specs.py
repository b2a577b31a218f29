"""BackupSpecs.xml: which volumes a recovery point holds and whether it is system state and/or BMR-capable."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

MAX_SPECS_BYTES = 4 * 1024 * 1024
_GUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class SpecsError(ValueError):
    """BackupSpecs.xml cannot be read; the message says why."""


@dataclass(frozen=True)
class SpecVolume:
    guid: str  # lower case, no braces
    name: str  # \\?\Volume{guid}\
    access_path: str  # "C:" or "" for hidden system/EFI partitions
    label: str


@dataclass(frozen=True)
class BackupSpecs:
    version: str | None
    volumes: tuple[SpecVolume, ...]
    system_state: bool
    all_critical: bool
    component_writers: tuple[str, ...]  # writer ids named in ComponentSpecs, lower case


def decode_xml(data: bytes) -> str:
    """Text of an XML file written by Windows: UTF-16 with a BOM usually, UTF-8 sometimes."""
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        encoding = "utf-16"
    elif data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif len(data) >= 2 and data[0] == ord("<") and data[1] == 0:
        encoding = "utf-16-le"  # UTF-16LE without its BOM
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SpecsError(f"not valid {encoding.upper()} text at byte {exc.start}") from None


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_specs(data: bytes) -> BackupSpecs:
    """Parse BackupSpecs.xml bytes; raises :class:`SpecsError` for anything unusable (never another error)."""
    if not data:
        raise SpecsError("the file is empty")
    if len(data) > MAX_SPECS_BYTES:
        raise SpecsError(f"the file is {len(data)} bytes, more than any real BackupSpecs.xml")
    text = decode_xml(data)
    # The XML declaration names the original encoding; ElementTree must not try to decode a str again.
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
    try:
        root = SafeET.fromstring(text)
    except (ET.ParseError, DefusedXmlException) as exc:
        raise SpecsError(f"not well-formed XML: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise SpecsError(f"unreadable XML: {exc}") from None
    if _local(root.tag) != "BackupSpecs":
        raise SpecsError(f"the root element is <{_local(root.tag)}>, not <BackupSpecs>")
    volumes: list[SpecVolume] = []
    system_state = all_critical = False
    writers: list[str] = []
    for element in root.iter():
        tag = _local(element.tag)
        if tag == "Volume":
            name = element.get("Name", "")
            match = _GUID_RE.search(name)
            if match is None:
                raise SpecsError(f"a <Volume> has no volume GUID in its Name ({name[:80]!r})")
            volumes.append(
                SpecVolume(
                    guid=match.group(0).lower(),
                    name=name,
                    access_path=element.get("AccessPath", element.get("OriginalAccessPath", "")),
                    label=element.get("Label", element.get("OriginalLabel", "")),
                )
            )
        elif tag == "SystemState":
            system_state = _is_true(element.get("IsPresent"))
        elif tag == "AllCritical":
            all_critical = _is_true(element.get("IsPresent"))
        elif tag == "ComponentSpec":
            match = _GUID_RE.search(element.get("WriterId", ""))
            if match:
                writers.append(match.group(0).lower())
    unique = {v.guid: v for v in volumes}
    return BackupSpecs(
        version=root.get("Version"),
        volumes=tuple(unique.values()),
        system_state=system_state,
        all_critical=all_critical,
        component_writers=tuple(dict.fromkeys(writers)),
    )
