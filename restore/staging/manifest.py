"""The proof a copy leaves next to WindowsImageBackup: SHA256SUMS and bmr-manifest.json. Pure renderers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from restore import __version__
from restore.staging.names import sums_line
from restore.staging.transfer import FileOutcome

SUMS_NAME = "SHA256SUMS"
MANIFEST_NAME = "bmr-manifest.json"


@dataclass(frozen=True)
class ManifestInfo:
    source: str
    target: str
    machine: str
    version: str | None
    started: datetime
    finished: datetime
    verified: bool


def render_sums(files: list[FileOutcome]) -> str:
    """``sha256sum -c`` format: hash, two spaces, path relative to the folder holding the file (escaped as GNU
    sha256sum escapes names with a backslash or a newline)."""
    return "".join(sums_line(f.sha256, f.path) for f in sorted(files, key=lambda f: f.path))


def render_manifest(info: ManifestInfo, files: list[FileOutcome]) -> str:
    data: dict[str, Any] = {
        "tool": f"bmr {__version__}",
        "source": info.source,
        "target": info.target,
        "machine": info.machine,
        "version": info.version,
        "started": info.started.isoformat(),
        "finished": info.finished.isoformat(),
        "verified": info.verified,
        "files": [
            {"path": f.path, "size": f.size, "sha256": f.sha256, "blake3": f.blake3, "verified": f.verified}
            for f in sorted(files, key=lambda f: f.path)
        ],
    }
    return json.dumps(data, indent=2) + "\n"
