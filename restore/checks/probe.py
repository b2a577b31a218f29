"""`bmr probe`: connect, authenticate, and report what a restore over this location would meet."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from restore.outcome import Outcome
from share import errors
from share.base import Backend, Caveat, SessionFacts, Space
from share.connect import Access, open_backend
from share.location import Location
from share.writetest import try_write


@dataclass(frozen=True)
class ProbeResult:
    location: str
    facts: SessionFacts
    space: Space | None
    writable: bool | None
    write_error: str | None = None
    caveats: tuple[Caveat, ...] = ()  # what the server was found not to do (no free-space answer, no fsync)

    @property
    def outcome(self) -> Outcome:
        """A write test that could not write is an access problem (exit 3), like a refused logon."""
        return Outcome.UNREACHABLE if self.writable is False else Outcome.OK

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
            "signing_algorithm": facts["signing_algorithm"],
            "share_encryption": facts["share_encryption"],
            "user": facts["user"],
            "cipher": facts["cipher"],
            "mac": facts["mac"],
            "key_exchange": facts["key_exchange"],
            "free_bytes": self.space.free if self.space else None,
            "total_bytes": self.space.total if self.space else None,
            "writable": self.writable,
            "write_error": self.write_error,
            "warnings": [{"code": c.code, "message": c.message, "fix": c.fix} for c in self.caveats],
        }


def probe_location(location: Location, access: Access, *, write_test: bool = False) -> ProbeResult:
    """Connect to ``location`` and probe it. Raises the share errors of connecting."""
    with open_backend(location, access) as backend:
        return probe(backend, write_test=write_test)


def probe(backend: Backend, *, write_test: bool = False) -> ProbeResult:
    """Facts, free space and (optionally) a create-and-delete test of a connected backend."""
    space: Space | None = None
    if backend.features.free_space:
        try:
            space = backend.space("")
        except errors.SpaceUnknown:
            space = None  # the backend notes it among its caveats, shown with the result
    writable: bool | None = None
    write_error: str | None = None
    if write_test:
        writable, write_error = try_write(backend)
    return ProbeResult(backend.describe(), backend.facts(), space, writable, write_error, backend.caveats())
