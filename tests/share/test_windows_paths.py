"""What runs on Windows: drive-letter and \\\\?\\ paths are local folders there (and stay relative paths elsewhere),
files are written in binary mode, and the demo uses a local folder where no smbd can run. The Windows branches
are chosen by a parameter, not by patching os.name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from restore.demo.run import samba_usable
from share import local
from share.connect import parse_location
from share.location import Location


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("D:\\Restore", "D:\\Restore"),
        ("D:/Restore/sub", "D:\\Restore\\sub"),
        ("d:\\", "d:\\"),
        ("\\\\?\\D:\\Restore\\WindowsImageBackup", "\\\\?\\D:\\Restore\\WindowsImageBackup"),
        ("\\\\?\\UNC\\fs01\\restore", "\\\\?\\UNC\\fs01\\restore\\"),
    ],
)
def test_windows_paths_are_local_on_windows(text: str, path: str) -> None:
    assert parse_location(text, windows=True) == Location("local", path)


@pytest.mark.parametrize("text", ["D:\\Restore", "\\\\?\\D:\\Restore"])
def test_elsewhere_they_are_relative_local_paths(text: str) -> None:
    location = parse_location(text, windows=False)
    assert location.scheme == "local" and location.path == str(Path.cwd() / text)


def test_unc_and_urls_are_shares_on_windows_too() -> None:
    assert parse_location("\\\\10.0.0.5\\restore\\sub", windows=True).scheme == "smb"
    assert parse_location("smb://u@10.0.0.5/restore", windows=True).scheme == "smb"
    assert parse_location("C://Restore", windows=True) == Location("local", "C:\\Restore")


def test_files_are_written_in_binary_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = 0x8000  # Windows' O_BINARY; without it the C runtime writes \r\n for every \n
    monkeypatch.setattr(os, "O_BINARY", binary, raising=False)
    seen: list[int] = []
    real_open = os.open

    def spy(path: str, flags: int, mode: int = 0o777) -> int:
        seen.append(flags)
        return real_open(path, flags & ~binary, mode)

    monkeypatch.setattr(os, "open", spy)
    backend = local.LocalBackend(Location("local", str(tmp_path)))
    with backend.open_write("x.bin") as stream:
        stream.write(b"a\nb")
    assert seen and all(flags & binary for flags in seen)
    assert (tmp_path / "x.bin").read_bytes() == b"a\nb"


def test_the_demo_uses_a_local_folder_on_windows() -> None:
    assert samba_usable("nt") is False
