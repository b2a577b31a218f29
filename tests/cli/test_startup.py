"""`bmr X` loads X's module, not every command's: a small stage does not pay for the boot test, the drill, the
runbook renderers, a protocol library it does not use or, without a terminal, the progress bars (each a whole
process, as a user starts it). Every help text and usage error reads as with every command loaded up front."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from restore.cli import app as lazy
from restore.cli.app import COMMANDS
from restore.cli.logs import with_logging
from restore.demo.sample import PointSpec, write_machine

# What `bmr stage` never needs: other commands' orchestration, the runbook text, the PDF and image code.
NOT_FOR_STAGING = ("restore.boottest", "restore.drill", "restore.demo", "restore.guide", "restore.plan",
                   "restore.checks.preflight", "winre.runbook", "winre.formats", "restore.tree.deep")  # fmt: skip
PROTOCOLS = ("paramiko", "smbprotocol", "smbclient", "cryptography")


def _module(entry: Any) -> str:
    """The module of a COMMANDS entry ("module:function"; a group's first sub-command)."""
    first = next(iter(entry.values())) if isinstance(entry, dict) else entry
    return first.partition(":")[0] if isinstance(first, str) else str(first.__module__)


MODULE = {name: _module(entry) for name, entry in COMMANDS.items()}

LOADED = """
import json, sys
from restore.cli.app import main
sys.argv = ["bmr", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def _loaded(*args: str) -> set[str]:
    """The modules a whole `bmr ARGS` process has loaded when it ends."""
    out = subprocess.run([sys.executable, "-c", LOADED, *args], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": os.getcwd()})  # fmt: skip
    assert "\nMODULES " in out.stderr, out.stderr
    return set(json.loads(out.stderr.rpartition("\nMODULES ")[2]))


def _function(entry: Any) -> Any:
    if not isinstance(entry, str):
        return entry
    module, _, name = entry.partition(":")
    return getattr(importlib.import_module(module), name)


def _eager() -> typer.Typer:
    """The app as typer builds it with every command registered up front (how bmr was built before)."""
    eager = typer.Typer(name="bmr", cls=lazy.BmrGroup, help=lazy.app.info.help, no_args_is_help=True,
                        add_completion=False, rich_markup_mode=None)  # fmt: skip
    for name, entry in COMMANDS.items():
        if isinstance(entry, dict):
            functions = {sub: _function(e) for sub, e in entry.items()}
            first = next(iter(functions.values()))
            help_text = (first.__doc__ or "").split("\n\n")[0] + f" Sub-commands: {', '.join(functions)}."
            group = typer.Typer(cls=lazy._FirstByDefault, add_completion=False, rich_markup_mode=None, help=help_text)
            for sub, function in functions.items():
                group.command(name=sub)(with_logging(f"{name} {sub}", function))
            eager.add_typer(group, name=name)
        else:
            eager.command(name=name)(with_logging(name, _function(entry)))
    eager.callback()(lazy._main)
    return eager


HELPS = [["--help"], *([n, "--help"] for n in COMMANDS), *(["drill", sub, "--help"] for sub in ("run", "merge",
         "verify-ledger")), ["stagee"], ["drill", "nope.toml", "--json"]]  # fmt: skip


@pytest.mark.parametrize("args", HELPS, ids=" ".join)
def test_every_help_and_usage_error_reads_as_with_every_command_loaded(args: list[str]) -> None:
    runner = CliRunner()
    ours, theirs = runner.invoke(lazy.app, args), runner.invoke(_eager(), args)
    assert (ours.exit_code, ours.stdout, ours.stderr) == (theirs.exit_code, theirs.stdout, theirs.stderr)


def _under(modules: set[str], prefixes: tuple[str, ...]) -> set[str]:
    return {
        m
        for m in modules
        if m.startswith(prefixes)
        and (m in prefixes or m.partition(".")[0] in prefixes or any(m.startswith(p + ".") for p in prefixes))
    }


def test_stage_help_loads_nothing_staging_does_not_use() -> None:
    loaded = _loaded("stage", "--help")
    assert "restore.cli.stage" in loaded
    assert not _under(loaded, NOT_FOR_STAGING)
    assert not _under(loaded, PROTOCOLS)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_commands_help_loads_no_other_commands_module(name: str) -> None:
    loaded = _loaded(name, "--help")
    assert MODULE[name] in loaded
    assert not {m for other, m in MODULE.items() if other != name} & loaded


def test_a_local_stage_loads_no_protocol_library(tmp_path: Path) -> None:
    tree = tmp_path / "source" / "WindowsImageBackup"
    tree.mkdir(parents=True)
    write_machine(tree, "DC01", PointSpec())
    (tmp_path / "target").mkdir()
    loaded = _loaded("stage", str(tmp_path / "source"), str(tmp_path / "target"), "--json")
    assert (tmp_path / "target" / "SHA256SUMS").is_file()
    assert not _under(loaded, NOT_FOR_STAGING)
    assert not _under(loaded, PROTOCOLS)
    assert "tqdm" not in loaded  # no terminal: no progress bar to draw
