"""Can this account write here? A small file created, read back and always removed."""

from __future__ import annotations

import contextlib
import uuid

from share import errors, paths
from share.base import Backend

PAYLOAD = b"bmr write test\n"


def try_write(backend: Backend, folder: str = "") -> tuple[bool, str | None]:
    """Create, read back and delete a small file in ``folder``. Returns (writable, why not).

    The name has no leading dot: hardened Samba shares veto dot-files (``veto files = /.*/``), which would make a
    writable share look read-only."""
    name = paths.join(folder, f"bmr-write-test-{uuid.uuid4().hex[:12]}.tmp")
    try:
        try:
            with backend.open_write(name) as stream:
                stream.write(PAYLOAD)
            if backend.read_bytes(name, len(PAYLOAD) + 1) != PAYLOAD:
                return False, f"{backend.describe(name)}: what was written did not read back the same"
        finally:
            with contextlib.suppress(errors.ShareError):
                backend.remove(name)
    except (errors.AccessDenied, errors.DiskFull, errors.NotFound, errors.NameRefused) as exc:
        return False, str(exc)
    return True, None
