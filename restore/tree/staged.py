"""Which computers bmr itself staged into a folder: the ones its bmr-manifest.json there names.

A tree folder named exactly WindowsImageBackup whose every computer the manifest beside it names is bmr's own
copy, not a stray one (the share-root check tells the two apart). Reading only: one small file.
"""

from __future__ import annotations

import json

from share import errors, paths
from share.base import Backend

MANIFEST_NAME = "bmr-manifest.json"
MAX_MANIFEST = 64 * 1024 * 1024


def staged_machines(backend: Backend, folder: str) -> frozenset[str]:
    """The computers (lowercased) the bmr-manifest.json in ``folder`` names; empty when there is none or it is not
    one bmr wrote."""
    name = paths.join(folder, MANIFEST_NAME) if folder else MANIFEST_NAME
    try:
        size = backend.stat(name).size
        if size > MAX_MANIFEST:
            return frozenset()
        data = json.loads(backend.read_bytes(name, size).decode("utf-8"))
        points = data.get("points", [data])
        return frozenset(str(p["machine"]).lower() for p in points)
    except (errors.ShareError, ValueError, KeyError, TypeError, AttributeError):
        return frozenset()
