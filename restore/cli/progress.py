"""Progress on stderr while a copy runs: a tqdm bar on a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm

OnProgress = Callable[[str, int], None]
OnFile = Callable[[str, int], None]


@contextmanager
def progress_bar() -> Iterator[tuple[OnProgress, OnFile]]:
    """tqdm on stderr when it is a terminal: bytes with rate and ETA, the current file and phase."""
    bar = tqdm(total=0, unit="B", unit_scale=True, unit_divisor=1024, disable=None, dynamic_ncols=True)
    state = {"file": ""}

    def on_file(path: str, size: int) -> None:
        state["file"] = path.rsplit("/", 1)[-1]
        bar.total = (bar.total or 0) + size
        bar.refresh()

    def progress(phase: str, count: int) -> None:
        if phase in ("verify", "recheck"):
            bar.set_postfix_str(f"{phase} {state['file']}", refresh=False)
            return
        bar.set_postfix_str(f"{phase} {state['file']}", refresh=False)
        bar.update(count)

    try:
        yield progress, on_file
    finally:
        bar.close()
