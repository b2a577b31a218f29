"""The exit-code contract (README, "Exit codes"): every command meets the same mistakes and ends with the same code
and the same kind of message: a missing folder (3, "... does not exist": locally, in memory and over SMB), a
wrong password and a share that does not exist (3, real smbd), a bad option (2) and a refused target (1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from restore.cli.app import app
from restore.demo.localsamba import SambaServer
from restore.demo.sample import bmr_dc, write_tree
from share import memory
from tests.lib.memory import folder_in_memory
from tests.lib.servers import SMB_PASSWORD, SshServer

runner = CliRunner()
UNC = "\\\\10.0.0.5\\restore"

# Each command, as it is called on one location (for stage: the source), with what else it needs.
COMMANDS: dict[str, list[str]] = {
    "probe": ["probe", "{loc}"],
    "inspect": ["inspect", "{loc}"],
    "versions": ["versions", "{loc}"],
    "preflight": ["preflight", "{loc}", "--for", "bmr", "--share-unc", UNC],
    "verify": ["verify", "{loc}"],
    "commands": ["commands", "{loc}", "--share-unc", UNC],
    "checklist": ["checklist", "{loc}", "--share-unc", UNC],
    "stage": ["stage", "{loc}", "{target}"],
}
SMB_ARGS = {"preflight": ["preflight", "{loc}", "--for", "bmr"], "commands": ["commands", "{loc}"],
            "checklist": ["checklist", "{loc}"]}  # fmt: skip


def _run(
    command: str, location: str, tmp_path: Path, *, smb: bool = False, extra: tuple[str, ...] = ()
) -> tuple[int, str]:
    args = (SMB_ARGS if smb else COMMANDS).get(command, COMMANDS[command])
    line = [a.replace("{loc}", location).replace("{target}", str(tmp_path / f"target-{command}")) for a in args]
    result = runner.invoke(app, [*line, *extra])
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    return result.exit_code, output


@pytest.fixture
def stores() -> Iterator[None]:
    yield
    memory.STORES.pop("contract", None)


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("kind", ["local", "memory"])
def test_a_missing_folder_is_3_everywhere(tmp_path: Path, command: str, kind: str, stores: None) -> None:
    write_tree(tmp_path / "share", {"DC01": bmr_dc()})
    if kind == "memory":
        memory.STORES["contract"] = folder_in_memory(tmp_path / "share").store
        location = "memory://contract/gone"
    else:
        location = str(tmp_path / "share" / "gone")
    code, output = _run(command, location, tmp_path)
    assert code == 3, output
    assert "gone does not exist" in output, output


@pytest.mark.parametrize("command", [*COMMANDS, "drill", "demo"])
def test_a_bad_option_is_2_everywhere(tmp_path: Path, command: str) -> None:
    line = COMMANDS.get(command, [command])
    args = [a.replace("{loc}", str(tmp_path)).replace("{target}", str(tmp_path / "t")) for a in line]
    result = runner.invoke(app, [*args, "--no-such-option", "--json"])
    assert result.exit_code == 2, result.stdout + result.stderr
    assert json.loads(result.stdout)["error"]["type"] == "UsageError"
    assert result.stderr.splitlines()[0].startswith("bmr: error: No such option: --no-such-option")


def test_a_refused_target_is_1(tmp_path: Path) -> None:
    write_tree(tmp_path / "a", {"DC01": bmr_dc()})
    write_tree(tmp_path / "b", {"DC01": replace(bmr_dc(), when=datetime(2021, 3, 1, 12, 0, 0, tzinfo=UTC))})
    target = tmp_path / "target"
    assert runner.invoke(app, ["stage", str(tmp_path / "a"), str(target)]).exit_code == 0
    refused = runner.invoke(app, ["stage", str(tmp_path / "b"), str(target), "--json"])
    assert refused.exit_code == 1, refused.stdout + refused.stderr
    assert json.loads(refused.stdout)["error"]["type"] == "StageRefused"


def _smb_mistakes(samba: SambaServer) -> dict[str, tuple[str, dict[str, str]]]:
    """Location and environment for each mistake, over SMB."""
    good = {"BMR_PASSWORD": SMB_PASSWORD}
    return {
        "missing folder": (samba.url("data", "gone-folder"), good),
        "wrong password": (samba.url("data"), {"BMR_PASSWORD": "not-" + SMB_PASSWORD}),
        "no such share": (samba.url("no-such-share"), good),
    }


@pytest.mark.servers
@pytest.mark.parametrize("mistake", ["missing folder", "wrong password", "no such share"])
def test_smb_mistakes_are_3_everywhere_with_the_same_message(
    samba: SambaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mistake: str
) -> None:
    location, env = _smb_mistakes(samba)[mistake]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _code, reference = _run("inspect", location, tmp_path)
    said = next(line for line in reference.splitlines() if line.startswith("bmr: error: "))[len("bmr: error: ") :]
    for command in COMMANDS:
        code, output = _run(command, location, tmp_path, smb=True)
        assert code == 3, (command, output)
        assert said in output, (command, said, output)  # the same words: the error's, or the failing check's
    if mistake == "missing folder":
        assert "gone-folder does not exist" in said


@pytest.mark.servers
def test_a_missing_folder_over_sftp_is_3_everywhere(sshd: SshServer, tmp_path: Path) -> None:
    location = sshd.url(str(tmp_path / "gone-over-sftp"))
    keys = ("--ssh-known-hosts", str(sshd.known_hosts), "--ssh-key", str(sshd.client_key))
    for command in COMMANDS:
        code, output = _run(command, location, tmp_path, extra=keys)
        assert code == 3, (command, output)
        assert "gone-over-sftp does not exist" in output, (command, output)
