"""`bmr verify`: read staged points back and compare them with the proof `bmr stage` left beside them.

SHA256SUMS and bmr-manifest.json name every file of every point staged on the share with its SHA-256 (the manifest
also with its size). Every file of the points checked (all, or the one --machine/--version names) is read in full
and hashed; the answer lists files missing, files in a checked computer's folder the manifests do not name (extra),
files that differ (size or content), and computers on the share no manifest names (not checked, never "extra").
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from restore.checks.check import Check, failed, passed, warned
from restore.outcome import Outcome
from restore.staging.manifest import (
    MANIFEST_NAME,
    SUMS_NAME,
    UnreadableManifest,
    machine_of,
    parse_points,
    parse_sums,
    proof_texts,
)
from restore.staging.transfer import Progress
from restore.tree.model import TREE_NAME
from share import errors
from share.base import Backend, Kind, walk_files
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
    points: tuple[str, ...] = ()  # the staged points checked: "<Computer> <version>"
    unmanaged: tuple[str, ...] = ()  # computer folders on the share no manifest names: not checked

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
            *((warned("unstaged", f"not staged by bmr, so not checked: {listed(self.unmanaged)}",
                      "bmr verify checks what bmr stage copied; bmr inspect reads the others"),)
              if self.unmanaged else ()),
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
            "points": list(self.points),
            "unmanaged": list(self.unmanaged),
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass(frozen=True)
class Proofs:
    expected: dict[str, Expected]  # path -> what the proofs say
    names: tuple[str, ...]  # which of SHA256SUMS and bmr-manifest.json were read
    disagreements: tuple[str, ...]  # paths where the two proofs disagree
    points: dict[str, str | None]  # computer (lowercased) -> its staged version, None when only SHA256SUMS names it
    shown: dict[str, str]  # computer (lowercased) -> its name as staged


def read_proofs(backend: Backend, machine: str | None = None, version: str | None = None) -> Proofs:
    """What the proofs name, for every staged point or only the one asked for."""
    sums_text, manifest_text = proof_texts(backend)
    if sums_text is None and manifest_text is None:
        raise NothingToVerify(f"{backend.describe()} holds neither {SUMS_NAME} nor {MANIFEST_NAME}: nothing to compare")
    sums = parse_sums(sums_text) if sums_text is not None else {}
    manifest: dict[str, Expected] = {}
    points: dict[str, str | None] = {}
    shown: dict[str, str] = {}
    if manifest_text is not None:
        try:
            entries = parse_points(manifest_text)
        except UnreadableManifest as exc:
            raise NothingToVerify(f"{backend.describe(MANIFEST_NAME)} is not a manifest bmr can read ({exc})") from None
        for entry in entries:
            key = str(entry["machine"]).lower()
            points[key] = None if entry.get("version") is None else str(entry["version"])
            shown[key] = str(entry["machine"])
            manifest.update({f["path"]: Expected(f["path"], f["sha256"], f["size"]) for f in entry["files"]})
    for path in sums:
        owner = machine_of(path)
        if owner is not None and owner not in points:
            points[owner] = None
            shown[owner] = path.split("/")[1]
    chosen = _choose(points, shown, machine, version, backend.describe())

    def mine(path: str) -> bool:
        return machine_of(path) in chosen

    sums = {p: d for p, d in sums.items() if mine(p)}
    manifest = {p: e for p, e in manifest.items() if mine(p)}
    names = tuple(n for n, t in ((SUMS_NAME, sums_text), (MANIFEST_NAME, manifest_text)) if t is not None)
    disagreements: list[str] = []
    if sums_text is not None and manifest_text is not None:
        disagreements = sorted(
            p for p in set(sums) | set(manifest) if p not in sums or p not in manifest or sums[p] != manifest[p].sha256
        )
    expected = {p: Expected(p, digest, None) for p, digest in sums.items()}
    expected.update(manifest)
    return Proofs(expected, names, tuple(disagreements), {k: points[k] for k in chosen}, shown)


def _choose(
    points: dict[str, str | None], shown: dict[str, str], machine: str | None, version: str | None, where: str
) -> set[str]:
    chosen = set(points)
    if machine is not None:
        chosen = {k for k in chosen if k == machine.lower()}
    if version is not None:
        chosen = {k for k in chosen if points[k] == version}
    if not chosen:
        staged = ", ".join(f"{shown[k]} {points[k] or ''}".strip() for k in sorted(points)) or "none"
        asked = " ".join(x for x in (machine, version) if x)
        raise NothingToVerify(f"no staged point {asked} in the proofs of {where}; staged there: {staged}")
    return chosen


def expected_files(backend: Backend) -> tuple[dict[str, Expected], tuple[str, ...], tuple[str, ...]]:
    """What the proofs name: (path -> expected, proofs read, paths where the two proofs disagree)."""
    proofs = read_proofs(backend)
    return proofs.expected, proofs.names, proofs.disagreements


def _computers(backend: Backend) -> list[str]:
    try:
        return sorted(e.name for e in backend.list(TREE_NAME) if e.kind is Kind.DIR)
    except errors.NotFound:
        return []


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
    machine: str | None = None,
    version: str | None = None,
    progress: Progress | None = None,
    on_plan: Callable[[int, int], None] | None = None,
    on_file: Callable[[str, int], None] | None = None,
) -> Verification:
    """Read every file of the staged points (all, or the one named) back and compare it with SHA256SUMS and
    bmr-manifest.json. Raises NothingToVerify, and the share errors of reaching the location."""
    report = progress or (lambda phase, count: None)
    absent = errors.NotFound(
        f"{location.display()} does not exist", hint="Name the folder bmr stage copied to (its target)."
    )
    try:
        backend = open_backend(location, access)
    except errors.NotFound:
        raise absent from None
    with backend:
        try:
            backend.stat("")  # a local folder opens without being looked at
        except errors.NotFound:
            raise absent from None
        proofs = read_proofs(backend, machine, version)
        expected = proofs.expected
        present: dict[str, int] = {}
        for key in sorted(proofs.points):
            with contextlib.suppress(errors.NotFound):
                present.update(
                    (path, entry.size) for path, entry in walk_files(backend, f"{TREE_NAME}/{proofs.shown[key]}")
                )
        # Files under a checked computer's folder but not named: "extra"; other computers are not looked into.
        present = {p: size for p, size in present.items() if machine_of(p) in proofs.points}
        unmanaged = tuple(
            f"{TREE_NAME}/{name}" for name in _computers(backend) if name.lower() not in proofs.shown
        ) if machine is None and version is None else ()  # fmt: skip
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
        points = tuple(f"{proofs.shown[k]} {proofs.points[k] or ''}".strip() for k in sorted(proofs.points))
        return Verification(
            backend.describe(), proofs.names, len(todo), read, missing, extra, tuple(differing),
            proofs.disagreements, points, unmanaged,
        )  # fmt: skip
