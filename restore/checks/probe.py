"""`bmr probe`: connect, authenticate, and report what a restore over this location would meet."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from share.base import Backend, SessionFacts, Space
from share.writetest import try_write


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
