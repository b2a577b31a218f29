"""Headless Chromium (Debian's package) for the print tests: print a page to PDF or take a screenshot."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def chromium(html_file: Path, out: Path, *args: str) -> None:
    """Run headless Chromium on ``html_file`` with ``args`` (e.g. --print-to-pdf=...); a profile of its own."""
    binary = shutil.which("chromium")
    if binary is None:
        raise RuntimeError("chromium is not installed: tests/run.sh installs Debian's chromium")
    subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={out.parent / 'profile'}",
         *args, html_file.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
