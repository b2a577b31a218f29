"""File names on the way to a Windows restore: which ones no target can hold, how to show one that is not
text, the temporary name a copy uses, and SHA256SUMS lines escaped the way GNU sha256sum does. Pure functions."""

from __future__ import annotations

import hashlib
import re

PARTIAL_SUFFIX = ".bmr-partial"
MAX_NAME = 255  # a name's limit on NTFS (UTF-16 units) and on Linux file systems (bytes): both must hold
_WINDOWS_BAD = re.compile(r'[<>:"|?*\x00-\x1f]')
_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\..*)?$", re.IGNORECASE)


def shown(name: str) -> str:
    """A name as it may be printed: bytes that are not UTF-8 (surrogate-escaped by Python) and control characters
    as \\xNN, a backslash doubled; other characters as they are."""
    out: list[str] = []
    for c in name:
        if "\udc80" <= c <= "\udcff":
            out.append(f"\\x{ord(c) - 0xDC00:02x}")
        elif c < " " or c == "\x7f":
            out.append(f"\\x{ord(c):02x}")
        elif c == "\\":
            out.append("\\\\")
        else:
            out.append(c)
    return "".join(out)


def not_text(name: str) -> bool:
    """True for a name whose bytes are not UTF-8 (a local file system hands them over surrogate-escaped)."""
    return any("\udc80" <= c <= "\udcff" for c in name)


def _length(name: str) -> int:
    return max(len(name.encode("utf-8", "surrogateescape")), len(name.encode("utf-16-le", "surrogatepass")) // 2)


def why_unfit(name: str) -> str | None:
    """Why a Windows target (or the restore reading it) cannot hold a file or folder called ``name``; None if it can."""
    if not_text(name):
        return "not valid UTF-8"
    if _WINDOWS_BAD.search(name):
        return 'holds a character Windows refuses (<>:"|?* or a control character)'
    if name.endswith((".", " ")):
        return "ends with a dot or a space (Windows drops them)"
    if _RESERVED.match(name):
        return "is a reserved device name on Windows"
    if _length(name) > MAX_NAME:
        return f"longer than {MAX_NAME} characters"
    return None


def unfit_paths(relative_paths: list[str]) -> list[str]:
    """One line per path holding a name no target can hold, the name shown escaped and the reason."""
    out: list[str] = []
    for path in relative_paths:
        for part in path.split("/"):
            reason = why_unfit(part)
            if reason is not None:
                out.append(f"{shown(path)}: '{shown(part)}' {reason}")
                break
    return out


def partial_name(target_path: str) -> str:
    """The temporary name a copy of ``target_path`` is written to: ``<name>.bmr-partial`` beside it, or a short
    name made from its hash when that would pass the name limit."""
    folder, _, name = target_path.rpartition("/")
    temporary = name + PARTIAL_SUFFIX
    if _length(temporary) > MAX_NAME:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:24]
        temporary = f"bmr-{digest}{PARTIAL_SUFFIX}"
    return f"{folder}/{temporary}" if folder else temporary


def sums_line(sha256: str, path: str) -> str:
    """One ``sha256sum -c`` line. As GNU sha256sum writes it: a name holding a backslash, a newline or a carriage
    return is escaped (\\\\, \\n, \\r) and its line starts with a backslash."""
    if any(c in path for c in "\\\n\r"):
        escaped = path.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        return f"\\{sha256}  {escaped}\n"
    return f"{sha256}  {path}\n"
