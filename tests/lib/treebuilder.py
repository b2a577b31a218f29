"""Realistic WindowsImageBackup trees for the tests: restore.sample's layout with real images made by qemu-img
(Debian's qemu-utils), hard-linked from one template per size (copied when a test will damage them)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from restore.demo import sample
from restore.demo.sample import (
    PointSpec,
    VolumeSpec,
    bmr_dc,
    files_only,
    specs_xml,
    system_state_only,
)

__all__ = [
    "ImageCache", "PointSpec", "VolumeSpec", "bmr_dc", "files_only", "specs_xml", "system_state_only",
    "write_machine", "write_tree",
]  # fmt: skip


class ImageCache:
    """One qemu-img image per (format, size)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def get(self, fmt: str, virtual_mb: int) -> Path:
        path = self.folder / f"template-{virtual_mb}M.{fmt}"
        if not path.exists():
            qemu_img = shutil.which("qemu-img")
            if qemu_img is None:
                raise RuntimeError("qemu-img is not installed: apt-get install qemu-utils (tests/run.sh does)")
            tmp = path.with_suffix(".tmp")
            qemu_format = "vpc" if fmt == "vhd" else "vhdx"
            subprocess.run([qemu_img, "create", "-q", "-f", qemu_format, str(tmp), f"{virtual_mb}M"], check=True)
            tmp.rename(path)
        return path

    def writer(self, spec: PointSpec, copy: bool) -> sample.ImageWriter:
        def place(target: Path, fmt: str, virtual_mb: int, index: int) -> None:
            template = self.get(fmt, virtual_mb)
            if copy or (spec.pad_mb and index == 0):
                shutil.copyfile(template, target)
            else:
                os.link(template, target)

        return place


def write_machine(tree: Path, name: str, spec: PointSpec, images: ImageCache, *, copy_images: bool = False) -> Path:
    return sample.write_machine(tree, name, spec, images.writer(spec, copy_images))


def write_tree(root: Path, machines: dict[str, PointSpec], images: ImageCache, *, copy_images: bool = False) -> Path:
    tree = root / "WindowsImageBackup"
    tree.mkdir(parents=True, exist_ok=True)
    for name, spec in machines.items():
        write_machine(tree, name, spec, images, copy_images=copy_images)
    return tree
