"""Benchmark a `bmr stage` of a point with many small files to a local folder (the per-file cost).

    .venv/bin/python -m benchmarks.stage_many [--files 10000]

Builds a point (one small image) plus ``--files`` files of 100 bytes in folders of 1,000 below its Backup folder,
stages it to a fresh local folder and prints the time, files per second, and the time 100,000 files would take at
that rate; then, as the reference, `cp -r` of the same tree followed by `sync`. Goal (issue 20): 100,000 small files
well under a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from restore.staging.stage import run_stage
from share.connect import Access, open_backend, parse_location
from tests.lib.treebuilder import ImageCache, PointSpec, write_tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bmr-many-") as tmp:
        base = Path(tmp)
        source = base / "source"
        write_tree(source, {"DC01": PointSpec(pad_mb=1)}, ImageCache(base / "images"))
        backup = next((source / "WindowsImageBackup" / "DC01").glob("Backup *"))
        for index in range(args.files):
            folder = backup / f"many{index // 1000:03d}"
            folder.mkdir(exist_ok=True)
            (folder / f"f{index % 1000:04d}.xml").write_bytes(b"x" * 100)
        target = base / "target"
        target.mkdir()
        with (
            open_backend(parse_location(str(source)), Access()) as src,
            open_backend(parse_location(str(target)), Access()) as dst,
        ):
            started = time.monotonic()
            result = run_stage(src, dst)
            took = time.monotonic() - started
        os.sync()
        started = time.monotonic()
        subprocess.run(["cp", "-r", str(source), str(base / "copy")], check=True)
        os.sync()
        reference = time.monotonic() - started
    rate = len(result.files) / took
    print(json.dumps({"files": len(result.files), "seconds": round(took, 1), "files_per_second": round(rate),
                      "projected_seconds_for_100000": round(100_000 / rate),
                      "cp_r_and_sync_seconds": round(reference, 1)}))  # fmt: skip


if __name__ == "__main__":
    main()
