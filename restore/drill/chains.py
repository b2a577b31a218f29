"""The ledger's effects: open a ledger location (a local folder, or a folder on a share through the backend
contract), verify its chain (`bmr drill verify-ledger`), append a drill's record, and check each site's chain
when reports are merged (copying each site's ledger unchanged)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from restore.drill.ledger import (
    Appended,
    Chain,
    KeyUnusable,
    LedgerError,
    append_record,
    load_private_key,
    load_public_key,
    verify_chain,
)
from share import errors
from share.connect import Access, open_backend, parse_location


def read_key_file(path: Path, option: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyUnusable(f"{option} {path}: cannot read it ({exc.strerror})") from None


def private_key(path: Path | None) -> Ed25519PrivateKey | None:
    return load_private_key(read_key_file(path, "--sign-key")) if path is not None else None


def public_key(path: Path | None) -> Ed25519PublicKey | None:
    return load_public_key(read_key_file(path, "--public-key")) if path is not None else None


@dataclass(frozen=True)
class LedgerCheck:
    """`bmr drill verify-ledger`: where, and what the chain says."""

    location: str
    chain: Chain

    @property
    def outcome(self) -> Any:
        return self.chain.outcome

    def to_json(self) -> dict[str, Any]:
        return {**self.chain.to_json(), "ledger": self.location}


def recorded_entry(report: Path) -> tuple[int, str]:
    """The ledger entry (position, sha256) a drill report folder's drill.json recorded. Raises LedgerError."""
    path = report if report.name == "drill.json" else report / "drill.json"
    try:
        ledger = json.loads(path.read_text(encoding="utf-8"))["ledger"]
        return int(ledger["position"]), str(ledger["sha256"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise LedgerError(f"{path}: no ledger entry recorded ({type(exc).__name__}: {exc})") from None


def verify_ledger(
    location: str, access: Access, key_file: Path | None = None, report: Path | None = None
) -> LedgerCheck:
    """Verify the chain of the ledger at ``location`` (a folder, local or on a share), and with ``report`` (a drill
    report folder) the entry that drill recorded. Raises UsageError for a bad location or key, LedgerError for a
    report without an entry, and the backend's errors when the folder cannot be read (a missing one is NotFound)."""
    key = public_key(key_file)
    expect = recorded_entry(report) if report is not None else None
    where = parse_location(location)
    with open_backend(where, access) as backend:
        backend.stat("")  # a mistyped folder is an error, not an empty ledger
        return LedgerCheck(where.display(), verify_chain(backend, key, expect))


def append_to_ledger(location: str, access: Access, record: dict[str, Any], key: Ed25519PrivateKey | None) -> Appended:
    """Append a drill's record to the ledger at ``location`` (the folder is made when its parent exists)."""
    where = parse_location(location)
    try:
        backend = open_backend(where, access)
    except errors.NotFound:
        # A new ledger folder: opening a missing folder fails (locally too), so make it from its parent.
        parent, _, leaf = where.path.rstrip("/").rpartition("/")
        if not leaf:
            raise
        with open_backend(replace(where, path=parent or ("/" if where.path.startswith("/") else "")), access) as up:
            up.makedirs(leaf)
        backend = open_backend(where, access)
    with backend:
        return append_record(backend, record, key)


def site_ledger(document: dict[str, Any], copy_to: Path) -> dict[str, Any] | None:
    """For `bmr drill merge`: the chain of the ledger a site's drill.json names, checked against the entry that
    report recorded, and the ledger copied byte for byte to ``copy_to`` (its chain stays as it was). None when
    the report names no ledger."""
    recorded = document.get("ledger")
    if not isinstance(recorded, dict) or "ledger" not in recorded or "position" not in recorded:
        return None
    folder = Path(str(recorded["ledger"]))
    summary: dict[str, Any] = {"ledger": str(folder), "position": recorded.get("position"),
                               "sha256": recorded.get("sha256")}  # fmt: skip
    if not folder.is_dir():
        return {**summary, "intact": None, "chain": f"not checked: {folder} is not a folder on this machine"}
    try:
        with open_backend(parse_location(str(folder)), Access()) as backend:
            chain = verify_chain(backend, expect=(int(recorded["position"]), str(recorded["sha256"])))
    except (errors.BmrError, KeyError, TypeError, ValueError) as exc:
        return {**summary, "intact": None, "chain": f"not checked: {exc}"}
    shutil.copytree(folder, copy_to, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.partial"))
    return {**summary, "intact": chain.intact, "chain": chain.status(), "copied_to": str(copy_to),
            "breaks": [b.describe() for b in chain.breaks]}  # fmt: skip
