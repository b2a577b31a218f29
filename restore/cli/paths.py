"""Paths given on the command line, checked before any work starts: a wrong one is a usage error (exit 2)
with the reason in words, never a traceback after an hour of copying.

Each path-taking option declares its role through typer's ``dir_okay``/``file_okay``/``writable`` (read by the
test that sweeps every option of every command): an output file, an output folder or an input file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from share.errors import UsageError, in_words

NAME_MAX = 255  # bytes in one name, on Linux file systems and NTFS alike (NTFS counts UTF-16 units)
PATH_MAX = 4096


def _name_lengths(path: Path, option: str) -> None:
    if "\x00" in str(path):
        raise UsageError(f"{option}: a path cannot contain a NUL character")
    if len(os.fsencode(path)) >= PATH_MAX:
        raise UsageError(f"{option}: the path is {len(str(path))} characters long; the limit is {PATH_MAX - 1}")
    for part in path.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            raise UsageError(f"{option}: the name {part[:24]}… is {len(part)} characters long; the limit is {NAME_MAX}")


def _short(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 120 else text[:60] + "…" + text[-40:]


def _existing_folder(folder: Path, option: str, what: str) -> None:
    if not folder.exists():
        raise UsageError(f"{option}: the folder {_short(folder)} does not exist; create it first or {what}")
    if not folder.is_dir():
        raise UsageError(f"{option}: {_short(folder)} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option}: no permission to write in {_short(folder)}")


def output_file(path: Path, option: str) -> Path:
    """A file about to be written: not a folder, in a folder that exists and is writable, with a name that fits."""
    _name_lengths(path, option)
    if path.is_dir():
        raise UsageError(f"{option}: {_short(path)} is a folder; give a file name")
    _existing_folder(path.parent, option, "give a file in a folder that exists")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{option}: no permission to overwrite {_short(path)}")
    _try_open(path, option)
    return path


def _try_open(path: Path, option: str) -> None:
    """Open the file for writing once, as the write later will (root passes every access() check, and some file
    systems refuse new files anyway); a file created here is removed again."""
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
        if not existed:
            path.unlink()
    except OSError as exc:
        raise UsageError(f"{option}: cannot write {_short(path)}: {in_words(exc.strerror or str(exc))}") from None


def write_output(path: Path, data: str | bytes, option: str) -> None:
    """Write an output file checked by :func:`output_file`; a failure now is reported in words, not a traceback."""
    try:
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{option}: cannot write {_short(path)}: {in_words(exc.strerror or str(exc))}") from None


def output_folder(path: Path, option: str) -> Path:
    """A folder about to be created or written into: not a file; when new, its parent must exist."""
    _name_lengths(path, option)
    if path.exists():
        if not path.is_dir():
            raise UsageError(f"{option}: {_short(path)} is a file; give a folder")
        _existing_folder(path, option, "")
        try:  # a real write, as for files: root passes every access() check
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError as exc:
            raise UsageError(
                f"{option}: cannot write in {_short(path)}: {in_words(exc.strerror or str(exc))}"
            ) from None
        return path
    _existing_folder(path.parent, option, "give a new folder inside an existing one")
    try:
        path.mkdir()
        path.rmdir()
    except OSError as exc:
        raise UsageError(f"{option}: cannot create {_short(path)}: {in_words(exc.strerror or str(exc))}") from None
    return path


def input_file(path: Path, option: str) -> Path:
    """A file about to be read: it exists, is a file and is readable."""
    _name_lengths(path, option)
    if not path.exists():
        raise UsageError(f"{option}: {_short(path)} does not exist")
    if path.is_dir():
        raise UsageError(f"{option}: {_short(path)} is a folder; give a file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"{option}: no permission to read {_short(path)}")
    return path
