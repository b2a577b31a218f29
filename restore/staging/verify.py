"""`bmr verify`: read a staged point back and compare it with the proof `bmr stage` left beside it.

SHA256SUMS and bmr-manifest.json name every file with its SHA-256 (the manifest also with its size). Every file
under WindowsImageBackup is read in full and hashed; the answer lists files missing, files not in the
manifests (extra) and files that differ (size or content).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from restore.checks.check import Check, failed, passed
from restore.outcome import Outcome
from restore.staging.manifest import MANIFEST_NAME, SUMS_NAME
from restore.staging.transfer import Progress
from restore.tree.model import TREE_NAME
from share import errors
from share.base import Backend, walk_files
from share.connect import Access, open_backend
from share.location import Location


class NothingToVerify(errors.BmrError):
    """Point bmr verify at the folder that holds SHA256SUMS and bmr-manifest.json (the target of bmr stage)."""


@dataclass(frozen=True)
class Expected:
    path: str
    sha256: str
    size: int | None  # None when only SHA256SUMS names the file


@dataclass(frozen=True)
class Difference:
    path: str
    reason: str


@dataclass(frozen=True)
class Verification:
    location: str
    proofs: tuple[str, ...]  # which of SHA256SUMS and bmr-manifest.json were read
    checked: int
    bytes_read: int
    missing: tuple[str, ...]
    extra: tuple[str, ...]
    differing: tuple[Difference, ...]
    disagreements: tuple[str, ...]  # where SHA256SUMS and the manifest contradict each other

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.differing or self.disagreements)

    @property
    def outcome(self) -> Outcome:
        return Outcome.OK if self.ok else Outcome.FAILED

    @property
    def checks(self) -> tuple[Check, ...]:
        def listed(paths: tuple[str, ...]) -> str:
            return ", ".join(paths[:20]) + (f" and {len(paths) - 20} more" if len(paths) > 20 else "")

        rerun = "rerun bmr stage with the same source and target: it copies what is missing or differs"
        return (
            failed("proofs", f"SHA256SUMS and bmr-manifest.json disagree: {listed(self.disagreements)}", rerun)
            if self.disagreements
            else passed("proofs", f"read {' and '.join(self.proofs)}"),
            failed("missing", f"{len(self.missing)} missing: {listed(self.missing)}", rerun)
            if self.missing
            else passed("missing", "every file named is there"),
            failed("extra", f"{len(self.extra)} not in the manifests: {listed(self.extra)}",
                   "remove them, or restage: wbadmin may read a stray file as part of the point")
            if self.extra
            else passed("extra", "no file beyond those named"),
            failed("contents", f"{len(self.differing)} differ: "
                   + listed(tuple(f"{d.path} ({d.reason})" for d in self.differing)), rerun)
            if self.differing
            else passed("contents", f"{self.checked} files read back, sizes and SHA-256 match"),
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "ok": self.ok,
            "proofs": list(self.proofs),
            "checked": self.checked,
            "bytes_read": self.bytes_read,
            "missing": list(self.missing),
            "extra": list(self.extra),
            "differing": [{"path": d.path, "reason": d.reason} for d in self.differing],
            "disagreements": list(self.disagreements),
            "checks": [c.to_json() for c in self.checks],
        }


def _read_text(backend: Backend, name: str) -> str | None:
    try:
        size = backend.stat(name).size
    except errors.NotFound:
        return None
    return backend.read_bytes(name, size).decode("utf-8", errors="replace")


def _parse_sums(text: str) -> dict[str, str]:
    sums = {}
    for line in text.splitlines():
        digest, _, path = line.partition("  ")
        if digest and path:
            sums[path.lstrip("*")] = digest.lower()
    return sums


def _parse_manifest(text: str, where: str) -> dict[str, Expected]:
    try:
        files = json.loads(text)["files"]
        return {f["path"]: Expected(f["path"], str(f["sha256"]).lower(), int(f["size"])) for f in files}
    except (ValueError, KeyError, TypeError) as exc:
        raise NothingToVerify(f"{where} is not a manifest bmr can read ({type(exc).__name__})") from None


def expected_files(backend: Backend) -> tuple[dict[str, Expected], tuple[str, ...], tuple[str, ...]]:
    """What the proofs name: (path -> expected, proofs read, paths where the two proofs disagree)."""
    sums_text, manifest_text = _read_text(backend, SUMS_NAME), _read_text(backend, MANIFEST_NAME)
    if sums_text is None and manifest_text is None:
        raise NothingToVerify(f"{backend.describe()} holds neither {SUMS_NAME} nor {MANIFEST_NAME}: nothing to compare")
    sums = _parse_sums(sums_text) if sums_text is not None else {}
    manifest = _parse_manifest(manifest_text, backend.describe(MANIFEST_NAME)) if manifest_text is not None else {}
    proofs = tuple(n for n, t in ((SUMS_NAME, sums_text), (MANIFEST_NAME, manifest_text)) if t is not None)
    disagreements: list[str] = []
    if sums_text is not None and manifest_text is not None:
        disagreements = sorted(
            p for p in set(sums) | set(manifest) if p not in sums or p not in manifest or sums[p] != manifest[p].sha256
        )
    expected = {p: Expected(p, digest, None) for p, digest in sums.items()}
    expected.update(manifest)
    return expected, proofs, tuple(disagreements)


def _sha256(backend: Backend, path: str, progress: Progress) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    source = backend.open_source(path)
    try:
        for chunk in source.chunks():
            digest.update(chunk)
            size += len(chunk)
            progress("verify", len(chunk))
    finally:
        source.close()
    return digest.hexdigest(), size


def verify_staged(
    location: Location,
    access: Access,
    *,
    progress: Progress | None = None,
    on_plan: Callable[[int, int], None] | None = None,
    on_file: Callable[[str, int], None] | None = None,
) -> Verification:
    """Read every file of a staged point back and compare it with SHA256SUMS and bmr-manifest.json.
    Raises NothingToVerify, and the share errors of reaching the location."""
    report = progress or (lambda phase, count: None)
    with open_backend(location, access) as backend:
        expected, proofs, disagreements = expected_files(backend)
        try:
            present = {path: entry.size for path, entry in walk_files(backend, TREE_NAME)}
        except errors.NotFound:
            present = {}
        missing = tuple(sorted(p for p in expected if p not in present))
        extra = tuple(sorted(p for p in present if p not in expected))
        todo = sorted(p for p in expected if p in present)
        if on_plan is not None:
            on_plan(len(todo), sum(present[p] for p in todo))
        differing: list[Difference] = []
        read = 0
        for path in todo:
            want = expected[path]
            if on_file is not None:
                on_file(path, present[path])
            if want.size is not None and present[path] != want.size:
                differing.append(Difference(path, f"{present[path]} bytes, the manifest says {want.size}"))
                continue
            digest, size = _sha256(backend, path, report)
            read += size
            if digest != want.sha256:
                differing.append(Difference(path, "SHA-256 differs"))
        return Verification(
            backend.describe(), proofs, len(todo), read, missing, extra, tuple(differing), disagreements
        )
