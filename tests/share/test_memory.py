"""The in-memory backend's faults: a cut link, a full disk, a stall; each the error a real server gives."""

from __future__ import annotations

import pytest

from share import errors
from share.memory import Faults, MemoryBackend, MemoryStore


def _write(backend: MemoryBackend, path: str, data: bytes) -> None:
    with backend.open_write(path) as stream:
        stream.write(data)


def test_cut_after_n_bytes_then_reconnect() -> None:
    store = MemoryStore(faults=Faults(cut_after=1000))
    backend = MemoryBackend(store)
    with pytest.raises(errors.ConnectionLost) as caught:
        _write(backend, "f", b"x" * 4000)
    assert caught.value.retryable
    with pytest.raises(errors.ConnectionLost):
        backend.stat("f")  # the link stays down until reconnected
    backend.reconnect()
    assert backend.stat("f").size == 4000  # that write landed before the link dropped
    _write(backend, "g", b"y" * 4000)  # one cut only
    assert store.faults.cuts_done == 1


def test_disk_fills_at_capacity() -> None:
    backend = MemoryBackend(MemoryStore(faults=Faults(capacity=10_000)))
    with pytest.raises(errors.DiskFull):
        _write(backend, "f", b"x" * 12_000)
    assert backend.stat("f").size == 10_000 and backend.space().free == 0


def test_stall_times_out_within_its_bound() -> None:
    backend = MemoryBackend(MemoryStore(faults=Faults(stall_after=100, stall_seconds=0.05)))
    _write(backend, "f", b"x" * 50)
    with pytest.raises(errors.TimedOut) as caught:
        backend.read_bytes("f", 50) and _write(backend, "g", b"y" * 200)
    assert caught.value.retryable


def test_case_insensitive_like_smb() -> None:
    backend = MemoryBackend(case_insensitive=True)
    backend.makedirs("WindowsImageBackup")
    assert backend.stat("windowsimagebackup").name == "WindowsImageBackup"
