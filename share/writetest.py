"""Can this account write what a stage writes, where it writes it? Small files created, renamed, read back and
always removed; folders it had to create for that are removed again.

The test does what the copy does: a file under its temporary name (``<name>.bmr-partial``), renamed to a name of
the kind Windows Server Backup writes (``.vhdx`` images, ``.xml`` catalogs and specs). No name has a leading dot
(hardened Samba shares veto dot-files, ``veto files = /.*/``) and none ends in ``.tmp`` (a common file screen).
When the server refuses a name, one more file without the extension tells a name rule (Samba ``veto files``, a
Windows FSRM file screen) from a missing permission, and the message names the pattern: ``*.vhdx``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from share import errors, paths
from share.base import Backend, Kind

PAYLOAD = b"bmr write test\n"
STEM = "bmr-write-test-"
TEMPORARY_SUFFIX = ".bmr-partial"  # restore.staging.names.PARTIAL_SUFFIX (a test keeps the two equal)
IMAGE_EXTENSIONS = (".vhdx", ".xml")  # what Windows Server Backup writes into WindowsImageBackup\<Computer>
ROOT_EXTENSIONS = (".lock",)  # what a stage writes beside WindowsImageBackup (bmr-stage.lock)

WRITE_HINT = "grant the account change (write) permission on the share and on the folder named"
HIDDEN_HINT = (
    "the folder exists but this account cannot read it, so the server hides it (Samba `hide unreadable`, Windows "
    "access-based enumeration): grant the account change permission on it, or stage into another folder"
)


@dataclass(frozen=True)
class WriteTest:
    """The outcome: ``ok``, or why not (a message, a hint and the error class a stage raises for it)."""

    ok: bool
    why: str | None = None
    hint: str | None = None
    error: type[errors.ShareError] | None = None
    refused_pattern: str | None = None  # e.g. "*.vhdx", when a name rule was inferred

    def raise_for(self, what: str) -> None:
        """Raise the error this outcome stands for (``what`` says which location); nothing when ``ok``."""
        if not self.ok:
            raise (self.error or errors.AccessDenied)(f"{what}: {self.why}", hint=self.hint)


def try_write(backend: Backend, folder: str = "") -> tuple[bool, str | None]:
    """(writable, why not) of :func:`write_test`, for callers that need only that."""
    result = write_test(backend, folder)
    return result.ok, result.why


def write_test(
    backend: Backend, folder: str = "", *, extensions: Iterable[str] = IMAGE_EXTENSIONS, root: bool = True
) -> WriteTest:
    """Test writing in ``folder`` (created for the test when missing, then removed) with a file of each of
    ``extensions``, and, with ``root``, a lock-like file in the location's root when ``folder`` is below it."""
    token = uuid.uuid4().hex[:12]
    created: list[str] = []
    try:
        failure = _make_folders(backend, folder, created)
        if failure is not None:
            return failure
        for extension in extensions:
            failure = _one_file(backend, folder, f"{STEM}{token}{extension}")
            if failure is not None:
                return failure
        if root and paths.split(folder):
            for extension in ROOT_EXTENSIONS:
                failure = _one_file(backend, "", f"{STEM}{token}{extension}")
                if failure is not None:
                    return failure
    except (errors.AccessDenied, errors.DiskFull, errors.NotFound, errors.NameRefused) as exc:
        return WriteTest(False, str(exc), exc.hint, type(exc))
    finally:
        for made in reversed(created):
            with contextlib.suppress(errors.ShareError):
                backend.rmdir(made)
    return WriteTest(True)


def _make_folders(backend: Backend, folder: str, created: list[str]) -> WriteTest | None:
    """Create the missing levels of ``folder`` (noted in ``created``); a level that cannot be used is told."""
    parts = paths.split(folder)
    for depth in range(1, len(parts) + 1):
        level = "/".join(parts[:depth])
        try:
            if backend.stat(level).kind is not Kind.DIR:
                return WriteTest(
                    False, f"{backend.describe(level)} is a file, not a folder", None, errors.NotADirectory
                )
            continue
        except errors.NotFound:
            pass
        except errors.AccessDenied as exc:
            return _denied_folder(backend, level, exc)
        try:
            backend.makedirs(level)
        except (errors.AccessDenied, errors.AlreadyExists) as exc:
            return _denied_folder(backend, level, exc)
        created.append(level)
    if parts:
        try:
            backend.list(folder)
        except errors.AccessDenied as exc:
            return _denied_folder(backend, folder, exc)
    return None


def _denied_folder(backend: Backend, level: str, exc: errors.ShareError) -> WriteTest:
    where = backend.describe(level)
    hidden = _hidden(backend, level)
    if hidden is not None:
        return WriteTest(
            False,
            f"{backend.describe(hidden)} is there but hidden from this account's folder listing, and the account "
            f"cannot write in {where} ({exc.message.rsplit(': ', 1)[-1]})",
            HIDDEN_HINT,
            errors.AccessDenied,
        )
    return WriteTest(False, f"cannot use the folder {where}: {exc}", WRITE_HINT, errors.AccessDenied)


def _hidden(backend: Backend, level: str) -> str | None:
    """The first folder down to ``level`` that answers by name but is missing from its parent's listing (Samba
    `hide unreadable`, Windows access-based enumeration); None when there is none."""
    parts = paths.split(level)
    for depth in range(1, len(parts) + 1):
        try:
            backend.stat("/".join(parts[:depth]))
            names = {entry.name.lower() for entry in backend.list("/".join(parts[: depth - 1]))}
        except errors.ShareError:
            return None
        if parts[depth - 1].lower() not in names:
            return "/".join(parts[:depth])
    return None


def _one_file(backend: Backend, folder: str, name: str) -> WriteTest | None:
    """Write ``name`` as the copy does (temporary name, rename) and read it back; None when that worked."""
    final = paths.join(folder, name)
    temporary = final + TEMPORARY_SUFFIX
    try:
        try:
            with backend.open_write(temporary) as stream:
                stream.write(PAYLOAD)
        except (errors.NameRefused, errors.AccessDenied) as exc:
            return _refused(backend, folder, paths.name(temporary), exc)
        try:
            backend.rename(temporary, final)
        except (errors.NameRefused, errors.AccessDenied, errors.NotFound) as exc:
            # Samba answers a rename to a vetoed name with OBJECT_NAME_NOT_FOUND, like a create.
            return _refused(backend, folder, name, exc)
        if backend.read_bytes(final, len(PAYLOAD) + 1) != PAYLOAD:
            return WriteTest(
                False,
                f"{backend.describe(final)}: what was written did not read back the same",
                None,
                errors.ShareError,
            )
    finally:
        for leftover in (temporary, final):
            with contextlib.suppress(errors.ShareError):
                backend.remove(leftover)
    return None


def _refused(backend: Backend, folder: str, name: str, exc: errors.ShareError) -> WriteTest:
    """``name`` was refused: a name rule when a file of the same stem without the extension can be made."""
    stem, dot, extension = name.rpartition(".")
    plain = paths.join(folder, stem if dot else name + "-plain")
    accepted = False
    try:
        with backend.open_write(plain) as stream:
            stream.write(PAYLOAD)
        accepted = True
    except errors.ShareError:
        accepted = False
    finally:
        with contextlib.suppress(errors.ShareError):
            backend.remove(plain)
    where = backend.describe(folder)
    if accepted and dot:
        pattern = f"*.{extension}"
        return WriteTest(
            False,
            f"{where}: the server refuses files named {pattern} (it took '{paths.name(plain)}' but not '{name}'): "
            "a file-name rule (Samba `veto files`, a Windows File Server Resource Manager file screen)",
            f"allow {pattern} files on this share (Samba: drop the pattern from `veto files`; Windows: an exception "
            "to the FSRM file screen for this folder): a stage writes .vhdx and .xml files, each first as "
            f"<name>{TEMPORARY_SUFFIX}, and a bmr-stage.lock beside WindowsImageBackup",
            errors.NameRefused,
            pattern,
        )
    if isinstance(exc, errors.NameRefused):
        return WriteTest(
            False,
            f"{where}: the server refuses the file names bmr writes ('{name}', '{paths.name(plain)}'): a file-name "
            "rule (Samba `veto files`, a Windows File Server Resource Manager file screen)",
            "allow files named bmr-* on this share, or stage into another share",
            errors.NameRefused,
        )
    return WriteTest(False, f"cannot write in {where}: {exc}", WRITE_HINT, errors.AccessDenied)
