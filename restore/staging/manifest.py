"""The proof a copy leaves next to WindowsImageBackup: SHA256SUMS and bmr-manifest.json, one pair for every point
staged there. Pure renderers and parsers.

A share may hold many computers: both files hold every staged point, and staging one point rewrites only that
computer's entries (the caller writes the result atomically, under the stage lock). SHA256SUMS stays one
``sha256sum -c SHA256SUMS`` list for the whole share; bmr-manifest.json holds ``{"points": [...]}``, one entry per
computer with its source, version, times and files. The one-point manifest of earlier versions is read as a list
of one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from restore import __version__
from restore.staging.names import sums_line
from restore.staging.transfer import FileOutcome
from restore.tree.model import TREE_NAME
from share import errors
from share.base import Backend

SUMS_NAME = "SHA256SUMS"
MANIFEST_NAME = "bmr-manifest.json"
FORMAT = 2


class UnreadableManifest(ValueError):
    """bmr-manifest.json is not JSON bmr wrote."""


@dataclass(frozen=True)
class ManifestInfo:
    source: str
    target: str
    machine: str
    version: str | None
    started: datetime
    finished: datetime
    verified: bool


def machine_of(path: str) -> str | None:
    """The computer a staged path belongs to (WindowsImageBackup/<Computer>/...), lowercased; None elsewhere."""
    parts = path.split("/")
    return parts[1].lower() if len(parts) > 2 and parts[0].lower() == TREE_NAME.lower() else None


def render_sums(files: list[FileOutcome]) -> str:
    """``sha256sum -c`` format: hash, two spaces, path relative to the folder holding the file (escaped as GNU
    sha256sum escapes names with a backslash or a newline)."""
    return "".join(sums_line(f.sha256, f.path) for f in sorted(files, key=lambda f: f.path))


def parse_sums(text: str) -> dict[str, str]:
    """path -> SHA-256 of a SHA256SUMS text (GNU escaping undone, a '*' binary marker dropped)."""
    sums: dict[str, str] = {}
    for line in text.splitlines():
        escaped = line.startswith("\\")
        digest, _, path = (line[1:] if escaped else line).partition("  ")
        if not digest or not path:
            digest, _, path = (line[1:] if escaped else line).partition(" *")
        if not digest or not path:
            continue
        path = path.lstrip("*")
        if escaped:
            path = _unescape(path)
        sums[path] = digest.lower()
    return sums


def _unescape(text: str) -> str:
    out: list[str] = []
    chars = iter(text)
    for c in chars:
        if c == "\\":
            nxt = next(chars, "")
            out.append({"n": "\n", "r": "\r", "\\": "\\"}.get(nxt, "\\" + nxt))
        else:
            out.append(c)
    return "".join(out)


def merge_sums(existing: str | None, machine: str, files: list[FileOutcome] | None) -> str | None:
    """SHA256SUMS with ``machine``'s lines replaced by ``files`` (dropped when None); None when nothing is left."""
    kept = {p: d for p, d in parse_sums(existing or "").items() if machine_of(p) != machine.lower()}
    kept.update({f.path: f.sha256 for f in files or []})
    if not kept:
        return None
    return "".join(sums_line(kept[p], p) for p in sorted(kept))


def point_entry(info: ManifestInfo, files: list[FileOutcome]) -> dict[str, Any]:
    return {
        "tool": f"bmr {__version__}",
        "source": info.source,
        "target": info.target,
        "machine": info.machine,
        "version": info.version,
        "started": info.started.isoformat(),
        "finished": info.finished.isoformat(),
        "verified": info.verified,
        "files": [
            {"path": f.path, "size": f.size, "sha256": f.sha256, "blake3": f.blake3 or None, "verified": f.verified}
            for f in sorted(files, key=lambda f: f.path)
        ],
    }


def parse_points(text: str) -> list[dict[str, Any]]:
    """The points a bmr-manifest.json names (an earlier one-point manifest as a list of one), each checked for
    the fields verify reads."""
    try:
        data = json.loads(text)
        points = data.get("points", [data])
        checked = [
            {**p, "machine": str(p["machine"]),
             "files": [{**f, "path": str(f["path"]), "sha256": str(f["sha256"]).lower(), "size": int(f["size"])}
                       for f in p["files"]]}
            for p in points
        ]  # fmt: skip
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UnreadableManifest(type(exc).__name__) from None
    return checked


def merge_manifest(existing: str | None, machine: str, entry: dict[str, Any] | None) -> str | None:
    """bmr-manifest.json with ``machine``'s point replaced by ``entry`` (dropped when None); None when empty.
    An unreadable existing manifest is replaced (its points cannot be kept: verify will say so)."""
    try:
        points = parse_points(existing) if existing is not None else []
    except UnreadableManifest:
        points = []
    kept = [p for p in points if str(p["machine"]).lower() != machine.lower()]
    if entry is not None:
        kept.append(entry)
    if not kept:
        return None
    kept.sort(key=lambda p: str(p["machine"]).lower())
    return json.dumps({"tool": f"bmr {__version__}", "format": FORMAT, "points": kept}, indent=2) + "\n"


def proof_texts(backend: Backend) -> tuple[str | None, str | None]:
    """(SHA256SUMS, bmr-manifest.json) at the root of ``backend`` as text; None for one that is not there."""
    texts: list[str | None] = []
    for name in (SUMS_NAME, MANIFEST_NAME):
        try:
            size = backend.stat(name).size
        except errors.NotFound:
            texts.append(None)
            continue
        texts.append(backend.read_bytes(name, size).decode("utf-8", errors="replace"))
    return texts[0], texts[1]
