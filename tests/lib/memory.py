"""In-memory stand-ins for the fast tier: a folder's files copied into a memory store, a one-file source."""

from __future__ import annotations

from pathlib import Path

from share.memory import MemoryBackend, MemoryStore


def folder_in_memory(folder: Path, *, case_insensitive: bool = True) -> MemoryBackend:
    """Every folder and file below ``folder`` in a new memory store (names compared as SMB compares them)."""
    backend = MemoryBackend(MemoryStore(), case_insensitive=case_insensitive)
    for path in sorted(folder.rglob("*")):
        relative = str(path.relative_to(folder))
        if path.is_dir():
            backend.makedirs(relative)
        else:
            with backend.open_write(relative) as stream:
                stream.write(path.read_bytes())
    return backend


def one_file(data: bytes, name: str = "image.vhdx") -> MemoryBackend:
    """A memory store holding one file."""
    backend = MemoryBackend()
    with backend.open_write(name) as stream:
        stream.write(data)
    return backend
