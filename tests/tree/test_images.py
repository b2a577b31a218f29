"""Image header checks on real qemu-img images, damaged copies, and arbitrary bytes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from restore.tree.images import check_image, crc32c
from tests.lib.treebuilder import ImageCache


def _check(path: Path) -> object:
    data = path.read_bytes()
    return check_image(path.name, lambda o, n: data[o : o + n], len(data))


def _qemu_virtual_size(path: Path) -> int:
    out = subprocess.run(["qemu-img", "info", "--output=json", str(path)], check=True, capture_output=True).stdout
    return int(json.loads(out)["virtual-size"])


def test_crc32c_known_vector() -> None:
    assert crc32c(b"123456789") == 0xE3069283  # the standard check value for CRC-32C


@pytest.mark.parametrize(("fmt", "mb"), [("vhdx", 64), ("vhdx", 300), ("vhd", 64), ("vhd", 17)])
def test_real_images(images: ImageCache, fmt: str, mb: int) -> None:
    path = images.get(fmt, mb)
    check = _check(path)
    assert check.problem is None  # type: ignore[attr-defined]
    assert check.format == fmt  # type: ignore[attr-defined]
    assert check.virtual_size == _qemu_virtual_size(path)  # type: ignore[attr-defined]


@pytest.mark.servers  # qemu-img
def test_fixed_vhd(tmp_path: Path) -> None:
    path = tmp_path / "fixed.vhd"
    subprocess.run(["qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=fixed", str(path), "8M"], check=True)
    check = _check(path)
    # The footer's Current Size is what Windows uses; qemu rounds a fixed disk's data area to the CHS geometry.
    assert check.problem is None  # type: ignore[attr-defined]
    assert 8 * 1024 * 1024 <= check.virtual_size <= path.stat().st_size - 512  # type: ignore[attr-defined]


def _damaged(images: ImageCache, tmp_path: Path, fmt: str, offsets: list[int], truncate: int | None = None) -> Path:
    data = bytearray(images.get(fmt, 64).read_bytes())
    for offset in offsets:
        data[offset if offset >= 0 else len(data) + offset] ^= 0xFF
    if truncate is not None:
        data = data[:truncate]
    path = tmp_path / f"damaged.{fmt}"
    path.write_bytes(bytes(data))
    return path


def test_vhdx_one_bad_header_is_survivable(images: ImageCache, tmp_path: Path) -> None:
    check = _check(_damaged(images, tmp_path, "vhdx", [64 * 1024 + 100]))
    assert check.problem is None and check.virtual_size == 64 * 1024 * 1024  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("fmt", "offsets", "truncate", "words"),
    [
        ("vhdx", [64 * 1024 + 100, 128 * 1024 + 100], None, "neither VHDX header"),
        ("vhdx", [0], None, "signature"),
        ("vhdx", [192 * 1024 + 40, 256 * 1024 + 40], None, "region table"),
        ("vhdx", [], 500_000, "too short"),
        ("vhd", [-512 + 20], None, "checksum"),
        ("vhd", [-512], None, "footer at the end is missing"),
        ("vhd", [], 1536, "truncated"),
    ],
)
def test_damage_is_reported(
    images: ImageCache, tmp_path: Path, fmt: str, offsets: list[int], truncate: int | None, words: str
) -> None:
    check = _check(_damaged(images, tmp_path, fmt, offsets, truncate))
    assert check.problem is not None and words in check.problem  # type: ignore[attr-defined]


def test_empty_image() -> None:
    assert check_image("x.vhdx", lambda o, n: b"", 0).problem == "the image file is empty (0 bytes)"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096), st.sampled_from(["a.vhdx", "a.vhd"]), st.integers(0, 1 << 40))
def test_arbitrary_bytes_never_raise(data: bytes, name: str, claimed: int) -> None:
    check = check_image(name, lambda o, n: data[o : o + n], claimed)
    assert check.format in ("vhdx", "vhd", "unknown")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300 * 1024), st.integers(0, 255)), max_size=20))
def test_random_corruption_of_a_real_vhdx_never_raises(images: ImageCache, flips: list[tuple[int, int]]) -> None:
    data = bytearray(images.get("vhdx", 64).read_bytes()[: 1024 * 1024])
    for offset, value in flips:
        data[offset] = value
    check = check_image("a.vhdx", lambda o, n: bytes(data[o : o + n]), 8 * 1024 * 1024)
    assert check.problem is None or isinstance(check.problem, str)


@pytest.mark.servers  # qemu-img
@pytest.mark.parametrize("mb", [1, 100, 61440, 4 * 1024 * 1024])
def test_builtin_vhdx_writer_makes_images_qemu_accepts(tmp_path: Path, mb: int) -> None:
    from restore.demo.vhdx import write_vhdx

    path = tmp_path / "demo.vhdx"
    write_vhdx(path, mb * 1024 * 1024)
    check = _check(path)
    assert check.problem is None and check.virtual_size == mb * 1024 * 1024  # type: ignore[attr-defined]
    assert _qemu_virtual_size(path) == mb * 1024 * 1024
    subprocess.run(["qemu-img", "check", "-q", str(path)], check=True)
