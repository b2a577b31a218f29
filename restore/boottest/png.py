"""QMP's screendump writes PPM (P6); reports want PNG: a small pure writer (zlib, no image library)."""

from __future__ import annotations

import struct
import zlib


class ImageError(ValueError):
    """Not a P6 PPM with 8-bit samples."""


def read_ppm(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, RGB bytes) of a binary PPM."""
    fields: list[bytes] = []
    at = 0
    while len(fields) < 4:
        while at < len(data) and data[at : at + 1].isspace():
            at += 1
        if data[at : at + 1] == b"#":
            at = data.index(b"\n", at) + 1
            continue
        end = at
        while end < len(data) and not data[end : end + 1].isspace():
            end += 1
        if end == at:
            raise ImageError("the PPM header ends early")
        fields.append(data[at:end])
        at = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ImageError("not an 8-bit binary PPM")
    width, height = int(fields[1]), int(fields[2])
    pixels = data[at + 1 : at + 1 + width * height * 3]
    if len(pixels) != width * height * 3:
        raise ImageError("the PPM is shorter than its size says")
    return width, height, pixels


def png(width: int, height: int, rgb: bytes) -> bytes:
    """An RGB PNG (filter 0 on every row)."""
    row = width * 3
    raw = b"".join(b"\0" + rgb[y * row : (y + 1) * row] for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def ppm_to_png(data: bytes) -> bytes:
    return png(*read_ppm(data))


def blank(rgb: bytes) -> bool:
    """Every pixel the same colour (a black screen before the firmware draws, or a cleared one)."""
    return len(rgb) < 3 or rgb.count(rgb[:3]) * 3 == len(rgb)
