"""`bmr probe`: connect, authenticate, and report what a restore over this location would meet."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

from share import errors
from share.base import Backend, SessionFacts, Space


@dataclass(frozen=True)
class ProbeResult:
    location: str
    facts: SessionFacts
    space: Space | None
    writable: bool | None
    write_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        facts = asdict(self.facts)
        return {
            "location": self.location,
            "protocol": facts["protocol"],
            "server_address": facts["server_address"],
            "port": facts["port"],
            "dialect": facts["dialect"],
            "signing": facts["signing"],
            "encryption": facts["encryption"],
            "share_encryption": facts["share_encryption"],
            "user": facts["user"],
            "free_bytes": self.space.free if self.space else None,
            "total_bytes": self.space.total if self.space else None,
            "writable": self.writable,
            "write_error": self.write_error,
        }


def probe(backend: Backend, *, write_test: bool = False) -> ProbeResult:
    """Facts, free space and (optionally) a create-and-delete test of a connected backend."""
    space = backend.space("") if backend.features.free_space else None
    writable: bool | None = None
    write_error: str | None = None
    if write_test:
        writable, write_error = try_write(backend)
    return ProbeResult(backend.describe(), backend.facts(), space, writable, write_error)


def try_write(backend: Backend, folder: str = "") -> tuple[bool, str | None]:
    """Create, read back and delete a small temporary file. Returns (writable, why not)."""
    name = f"{folder}/.bmr-write-test-{uuid.uuid4().hex[:12]}".lstrip("/")
    payload = b"bmr write test\n"
    try:
        with backend.open_write(name) as stream:
            stream.write(payload)
    except (errors.AccessDenied, errors.DiskFull, errors.NotFound) as exc:
        return False, str(exc)
    try:
        if backend.read_bytes(name, len(payload) + 1) != payload:
            return False, f"{backend.describe(name)}: what was written did not read back the same"
    finally:
        backend.remove(name)
    return True, None
