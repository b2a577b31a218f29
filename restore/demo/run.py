"""`bmr demo`: the whole job on a machine with no real server. A sample domain-controller BMR point (real,
empty VHDX images) is staged into a throwaway loopback Samba share (or a local folder standing in for one),
checked, and turned into wbadmin command lines and printable checklists."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from restore.checks.check import Check
from restore.demo.localsamba import SambaServer
from restore.demo.sample import PointSpec, VolumeSpec, write_tree
from restore.guide.gather import command_lines, runbook_input
from restore.outcome import Outcome
from restore.plan.evaluate import evaluate
from restore.plan.model import PlanRequest
from restore.staging.stage import StageResult, run_stage
from restore.staging.transfer import Progress
from share import errors
from share.connect import Access, open_backend, parse_location
from share.credentials import PasswordSource
from winre.formats import render_html, render_markdown
from winre.terms import Purpose, Scenario

DOCUMENTATION_IP = "192.0.2.10"  # TEST-NET-1: stands for the file server when the share is a local folder


@dataclass
class DemoResult:
    folder: Path
    source: Path
    target: str
    used_samba: bool
    staged: StageResult
    preflight: tuple[Check, ...] | None
    commands: list[str]
    files: list[Path] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        return self.staged.outcome

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder), "source": str(self.source), "target": self.target, "samba": self.used_samba,
            "staged": self.staged.to_json(),
            "preflight": [c.to_json() for c in self.preflight] if self.preflight is not None else None,
            "commands": self.commands, "checklists": [str(p) for p in self.files],
        }  # fmt: skip


def demo(
    folder: Path | None,
    *,
    no_samba: bool,
    say: Callable[[str], None],
    progress: Progress | None = None,
    on_plan: Callable[[int, int], None] | None = None,
) -> DemoResult:
    """`bmr demo`: in a new folder (or an empty one the user named), with Samba where it can run."""
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="bmr-demo-"))
    elif folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise errors.UsageError(f"{folder} is not an empty folder; give a new or empty one (nothing there is touched)")
    elif not folder.parent.is_dir():
        raise errors.UsageError(f"{folder.parent} does not exist; give a folder whose parent exists")
    folder.mkdir(exist_ok=True)
    return run_demo(
        folder.resolve(), use_samba=samba_usable() and not no_samba, say=say, progress=progress, on_plan=on_plan
    )


def demo_point() -> PointSpec:
    """A domain controller's BMR point taken yesterday: recent enough to be inside the tombstone lifetime."""
    yesterday = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    return PointSpec(
        when=yesterday,
        volumes=[
            VolumeSpec("", "EFI system partition", virtual_mb=100),
            VolumeSpec("", "Recovery", virtual_mb=600),
            VolumeSpec("C:", "System", virtual_mb=60 * 1024),
        ],
    )


def samba_usable(platform: str = os.name) -> bool:
    """A throwaway smbd needs a POSIX system, root and Samba installed; elsewhere (Windows) a local folder serves."""
    geteuid = getattr(os, "geteuid", None)  # absent on Windows
    if platform != "posix" or geteuid is None or geteuid() != 0:
        return False
    return shutil.which("smbd", path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin") is not None


@contextmanager
def _share(folder: Path, use_samba: bool) -> Iterator[tuple[str, Access, SambaServer | None]]:
    share = folder / "share"
    share.mkdir()
    if not use_samba:
        yield str(share), Access(), None
        return
    samba = SambaServer(folder / ".samba-state")
    samba.add_share("restore", share)
    samba.start()
    secret = samba.password
    try:
        # The throwaway server's password never leaves this process: it is handed over, not printed or set. It
        # listens on a free port and stands for a file server on 445, which the restore would reach.
        access = Access(password=PasswordSource(env="", prompt=lambda _: secret), winre_port=445)
        yield samba.url("restore"), access, samba
    finally:
        samba.stop()
        shutil.rmtree(folder / ".samba-state", ignore_errors=True)


def run_demo(
    folder: Path,
    *,
    use_samba: bool,
    say: Callable[[str], None],
    progress: Progress | None = None,
    on_plan: Callable[[int, int], None] | None = None,
) -> DemoResult:
    source = folder / "mabs-export"
    write_tree(source, {"DC01": demo_point()})
    say(f"1. Wrote a sample recovery point (domain controller DC01, BMR, 3 VHDX volumes) to {source}")
    with _share(folder, use_samba) as (target, access, samba):
        where = "a throwaway Samba share on 127.0.0.1" if samba else "a local folder standing in for the share"
        say(f"2. Staging it to {where}: {target}")
        with (
            open_backend(parse_location(str(source)), Access()) as src,
            open_backend(parse_location(target), access) as dst,
        ):
            staged = run_stage(src, dst, progress=progress, on_plan=on_plan)
        say(f"   copied {staged.bytes_copied} bytes in {len(staged.files)} files, every one read back and verified")
        share_unc = None if samba else f"\\\\{DOCUMENTATION_IP}\\restore"
        request = PlanRequest(parse_location(target), Purpose.BMR, "DC01", share_unc=share_unc)
        plan = evaluate(request, access if samba else replace(access, user="CORP\\svc-restore"))
        if samba is not None:
            say(f"3. Preflight of the share for a BMR of DC01: {plan.status.value.upper()}")
        else:
            say(f"3. Preflight of the folder as {share_unc} will show it (no smbd, not root, or --no-samba): "
                f"{plan.status.value.upper()}")  # fmt: skip
        lines = command_lines(plan, authoritative_sysvol=False, force=True)
        say("4. The command lines for WinRE:")
        for line in lines:
            say(f"     {line}")
        books = folder / "checklists"
        books.mkdir()
        inp = runbook_input(plan, target, Scenario.SERVER_LOST_DATA_INTACT)
        files = []
        for suffix, render in (("md", render_markdown), ("html", render_html)):
            path = books / f"DC01-bmr.{suffix}"
            path.write_text(render(inp), encoding="utf-8")
            files.append(path)
        say(f"5. Printable checklists: {files[1]} and {files[0]}")
    checks = plan.checks if samba is not None else None
    return DemoResult(folder, source, target, samba is not None, staged, checks, lines, files)
