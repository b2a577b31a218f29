"""The drill ledger: one record per drill in a folder a site keeps (locally or on a share, through the backend
contract), each record holding the SHA-256 of the one before it, so that an edited, deleted or reordered record
breaks the chain; optionally each record signed with an Ed25519 key.

Layout: ``000001.json``, ``000002.json``, ... (no leading dot: hardened shares veto dot-files). A record's hash is
SHA-256 over its canonical JSON (keys sorted, no spaces, UTF-8), signature included; the signature covers the
canonical JSON of the record without it. The first record's ``previous_sha256`` is 64 zeros.

Appending writes the record under a temporary name and renames it to the next number WITHOUT replacing (an
atomic link on local disks, an SMB/SFTP rename that fails when the name exists): that rename is the lock. Of two
drills appending at once one wins the number; the other reads the new head and takes the next one, so the chain
stays one line. What a hash chain cannot see on its own is the newest record cut off or rewritten as a whole:
each drill report records its record's position and hash (``drill.json``), and ``bmr drill merge`` and
``verify_chain(expect=...)`` hold the ledger against it; a signature pins the records to a key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from restore.outcome import Outcome
from share import errors
from share.base import Backend, Kind

FORMAT = "bmr-drill-ledger/1"
GENESIS = "0" * 64
_NAME_RE = re.compile(r"^(\d{6,9})\.json$")
_TEMP_SUFFIX = ".partial"
MAX_RECORD = 16 * 1024 * 1024  # bytes read of one record
APPEND_ATTEMPTS = 50  # races lost before giving up (each lost race means another drill appended)


class LedgerError(errors.Unreadable):
    """Give a ledger folder bmr drill wrote (or an empty folder for a new ledger); nothing was appended."""


class KeyUnusable(errors.UsageError):
    """Give an Ed25519 key: a PEM or OpenSSH private key for --sign-key, a PEM or OpenSSH public key for
    --public-key (ssh-keygen -t ed25519 makes one)."""


def canonical(value: Any) -> bytes:
    """The one byte form a record is hashed and signed in."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def record_hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


def entry_name(position: int) -> str:
    return f"{position:06d}.json"


# -- keys ---------------------------------------------------------------------------------------------------------


def load_private_key(data: bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8) or OpenSSH text, unencrypted. Raises KeyUnusable."""
    try:
        if b"OPENSSH PRIVATE KEY" in data:
            key: object = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm, errors.UsageError) as exc:
        raise KeyUnusable(f"not a usable private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyUnusable(f"the key is {type(key).__name__.removeprefix('_')}, not Ed25519")
    return key


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM or OpenSSH (``ssh-ed25519 AAAA...``) text. Raises KeyUnusable."""
    try:
        text = data.strip()
        if text.startswith(b"ssh-"):
            key: object = serialization.load_ssh_public_key(text)
        else:
            key = serialization.load_pem_public_key(text)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyUnusable(f"not a usable public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyUnusable(f"the key is {type(key).__name__.removeprefix('_')}, not Ed25519")
    return key


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """How a key is named in records and messages: SHA256:<base64>, as ssh-keygen -l prints a fingerprint."""
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + _raw(key)
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def sign(record: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """``record`` with its signature added (over its canonical JSON without one)."""
    body = {k: v for k, v in record.items() if k != "signature"}
    public = key.public_key()
    return {
        **body,
        "signature": {
            "algorithm": "ed25519",
            "key": key_id(public),
            "public_key": base64.b64encode(_raw(public)).decode(),
            "value": base64.b64encode(key.sign(canonical(body))).decode(),
        },
    }


def _signature_problem(record: dict[str, Any], pinned: Ed25519PublicKey | None) -> str | None:
    """None when the record's signature holds (against ``pinned`` when given, else the key it names)."""
    signature = record.get("signature")
    if signature is None:
        return "is not signed" if pinned is not None else None
    try:
        value = base64.b64decode(signature["value"], validate=True)
        key = pinned or Ed25519PublicKey.from_public_bytes(base64.b64decode(signature["public_key"], validate=True))
    except (KeyError, TypeError, ValueError):
        return "has an unreadable signature"
    body = {k: v for k, v in record.items() if k != "signature"}
    try:
        key.verify(value, canonical(body))
    except InvalidSignature:
        if pinned is not None and signature.get("key") != key_id(pinned):
            return f"is signed by another key ({signature.get('key')}, not {key_id(pinned)})"
        return "does not match its signature: it was changed after it was signed"
    return None


# -- reading and checking -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    position: int
    problem: str

    def describe(self) -> str:
        return f"entry {self.position} ({entry_name(self.position)}): {self.problem}"


@dataclass(frozen=True)
class Chain:
    """What a ledger's chain says: how many entries, the newest one's hash, and every break found."""

    location: str
    entries: int
    last_position: int
    head: str  # SHA-256 of the newest entry; GENESIS for an empty ledger
    breaks: tuple[Break, ...] = ()
    signed: int = 0  # entries whose signature holds
    pinned_key: str | None = None  # the key every entry had to be signed by
    records: tuple[dict[str, Any], ...] = field(default=(), compare=False, repr=False)

    @property
    def intact(self) -> bool:
        return not self.breaks

    @property
    def outcome(self) -> Outcome:
        return Outcome.OK if self.intact else Outcome.FAILED

    def status(self) -> str:
        """One line for a report: "intact, 12 entries" or "BROKEN at entry 7: ..."."""
        if self.intact:
            signed = f", {self.signed} signed" if self.signed else ""
            return f"intact, {self.entries} entries{signed}"
        return f"BROKEN: {self.breaks[0].describe()}" + (
            f" (and {len(self.breaks) - 1} more)" if len(self.breaks) > 1 else ""
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ledger": self.location,
            "intact": self.intact,
            "entries": self.entries,
            "last_position": self.last_position,
            "head_sha256": self.head,
            "signed": self.signed,
            "pinned_key": self.pinned_key,
            "breaks": [{"position": b.position, "problem": b.problem} for b in self.breaks],
            "status": self.status(),
        }


def _entries(backend: Backend) -> list[tuple[int, str]]:
    try:
        listing = backend.list("")
    except errors.NotFound:
        return []
    found = []
    for entry in listing:
        match = _NAME_RE.match(entry.name)
        if match and entry.kind is not Kind.DIR:
            found.append((int(match.group(1)), entry.name))
    return sorted(found)


def _read_record(backend: Backend, name: str) -> dict[str, Any] | str:
    try:
        data = backend.read_bytes(name, MAX_RECORD)
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return f"is not a JSON record ({exc})"
    if not isinstance(record, dict):
        return "is not a JSON record"
    return record


def verify_chain(
    backend: Backend, public_key: Ed25519PublicKey | None = None, expect: tuple[int, str] | None = None
) -> Chain:
    """Read every entry and check the chain: numbering without gaps, each entry's position and format, each
    ``previous_sha256`` against the entry before, signatures (every entry signed by ``public_key`` when given),
    and, with ``expect`` = (position, sha256) recorded elsewhere (a drill report), that entry unchanged.
    Raises the backend's errors when the folder cannot be read."""
    breaks: list[Break] = []
    records: list[dict[str, Any]] = []
    expected, previous, last, signed = 1, GENESIS, 0, 0
    hashes: dict[int, str] = {}
    for position, name in _entries(backend):
        if position > expected:
            gap = f"entry {expected} is" if position == expected + 1 else f"entries {expected} to {position - 1} are"
            breaks.append(Break(position, f"comes after a gap: {gap} missing (deleted, or renamed away)"))
        record = _read_record(backend, name)
        last = position
        expected = position + 1
        if isinstance(record, str):
            breaks.append(Break(position, record))
            previous = hashlib.sha256(backend.read_bytes(name, MAX_RECORD)).hexdigest()  # nothing chains to it
            continue
        records.append(record)
        digest = record_hash(record)
        hashes[position] = digest
        if record.get("format") != FORMAT:
            breaks.append(Break(position, f"is not a bmr drill record (format {record.get('format')!r})"))
        if record.get("position") != position:
            breaks.append(Break(position, f"holds the record of position {record.get('position')!r}: entries were "
                                          "renamed or reordered"))  # fmt: skip
        if record.get("previous_sha256") != previous:
            before = f"entry {position - 1}" if position > 1 else "the start of the ledger"
            why = f"{before} was changed, replaced or reordered, or an entry between was deleted"
            breaks.append(Break(position, f"does not follow {before} (its previous_sha256 differs): {why}"))
        problem = _signature_problem(record, public_key)
        if problem is not None:
            breaks.append(Break(position, problem))
        elif "signature" in record:
            signed += 1
        previous = digest
    if expect is not None:
        position, digest = expect
        if position not in hashes and position > last:
            breaks.append(Break(position, f"is gone: a report recorded it (sha256 {digest[:12]}...), the ledger "
                                          f"ends at entry {last}"))  # fmt: skip
        elif hashes.get(position) != digest:
            breaks.append(Break(position, f"differs from what the report recorded (sha256 {digest[:12]}...): it was "
                                          "changed or replaced after the drill"))  # fmt: skip
    pinned = key_id(public_key) if public_key is not None else None
    return Chain(backend.describe(), len(records), last, previous if last else GENESIS,
                 tuple(sorted(breaks, key=lambda b: b.position)), signed, pinned, tuple(records))  # fmt: skip


# -- appending ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Appended:
    """Where a record went, and the chain as it was found just before."""

    position: int
    sha256: str
    path: str
    before: Chain

    @property
    def chain_status(self) -> str:
        if self.before.intact:
            return f"intact, {self.position} entries"
        return self.before.status()

    def to_json(self) -> dict[str, Any]:
        return {
            "ledger": self.before.location,
            "position": self.position,
            "sha256": self.sha256,
            "path": self.path,
            "chain_intact": self.before.intact,
            "chain": self.chain_status,
            "breaks": [b.describe() for b in self.before.breaks],
        }


def append_record(
    backend: Backend,
    record: dict[str, Any],
    key: Ed25519PrivateKey | None = None,
    *,
    attempts: int = APPEND_ATTEMPTS,
) -> Appended:
    """Append ``record`` (its fields; position, previous_sha256 and format are added) as the next entry.
    A broken chain is no reason to lose a drill's record: it is appended after the newest entry all the same,
    and the break is reported in :attr:`Appended.before`. Raises LedgerError after ``attempts`` lost races, and
    the backend's errors."""
    backend.makedirs("")
    for _attempt in range(attempts):
        chain = verify_chain(backend)
        position = chain.last_position + 1
        entry: dict[str, Any] = {**record, "format": FORMAT, "position": position, "previous_sha256": chain.head}
        if key is not None:
            entry = sign(entry, key)
        data = (json.dumps(entry, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
        name = entry_name(position)
        temp = f"{name}.{uuid.uuid4().hex[:12]}{_TEMP_SUFFIX}"
        with backend.open_write(temp) as stream:
            stream.write(data)
        backend.sync(temp)
        try:
            backend.rename(temp, name)
        except errors.AlreadyExists:  # another drill took this number first: read its entry and go on after it
            backend.remove(temp)
            time.sleep(random.uniform(0.005, 0.05))
            continue
        backend.sync("", folder=True)
        return Appended(position, record_hash(entry), backend.describe(name), chain)
    raise LedgerError(f"{backend.describe()}: {attempts} other drills appended while this one tried; try again")
