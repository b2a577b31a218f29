"""Messages and hints true for the case at hand: the free-space refusal does not offer --force, library internals
([Errno 111], Unknown NtStatus …) are put in words (the raw text only with -v), an empty password file is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from smbprotocol.exceptions import SMBOSError
from smbprotocol.header import NtStatus
from typer.testing import CliRunner

from restore.cli.app import app
from restore.demo.sample import PointSpec, VolumeSpec, write_tree
from restore.staging.stage import StageRefused, run_stage
from share import errors
from share.connect import parse_location
from share.local import LocalBackend
from share.memory import Faults, MemoryBackend, MemoryStore
from share.smb import smb_errors

runner = CliRunner()


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("[Errno 111] Connection refused", "connection refused"),
        ("[Errno 110] Connection timed out.", "connection timed out"),
        ("Unknown NtStatus error returned 'STATUS_ACCESS_DENIED'", "access denied"),
        ("STATUS_DISK_FULL", "disk full"),
        ("No such file or directory", "no such file or directory"),
        ("SMB signing required", "SMB signing required"),
    ],
)
def test_library_reasons_in_words(raw: str, words: str) -> None:
    assert errors.in_words(raw) == words


def test_an_unknown_ntstatus_becomes_words_and_stays_on_the_chain() -> None:
    with pytest.raises(errors.AccessDenied) as caught, smb_errors("\\\\h\\s\\f", "h", 445, "u", "s"):
        raise SMBOSError(NtStatus.STATUS_ACCESS_DENIED, "f")
    assert caught.value.message == "\\\\h\\s\\f: access denied"
    assert "NtStatus" in str(caught.value.__cause__)


def test_connection_refused_in_words_raw_only_with_verbose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BMR_PASSWORD", "x")
    plain = runner.invoke(app, ["probe", "smb://u@127.0.0.1:1/share", "--json"])
    assert plain.exit_code == 3
    assert json.loads(plain.stdout)["error"]["message"] == "cannot connect to 127.0.0.1:1: connection refused"
    assert "Errno" not in plain.stdout + plain.stderr
    verbose = runner.invoke(app, ["probe", "smb://u@127.0.0.1:1/share", "-v"])
    assert verbose.exit_code == 3 and "raw: " in verbose.stderr and "[Errno 111]" in verbose.stderr


def test_the_free_space_refusal_does_not_offer_force(tmp_path: Path) -> None:
    spec = PointSpec(volumes=[VolumeSpec("", "EFI", virtual_mb=100), VolumeSpec("C:", "System", virtual_mb=200)])
    spec.pad_mb = 9
    write_tree(tmp_path, {"DC01": spec})
    target = MemoryBackend(MemoryStore(faults=Faults(capacity=1024 * 1024)))
    with pytest.raises(StageRefused) as caught:
        run_stage(LocalBackend(parse_location(str(tmp_path))), target, force=True)
    assert "needs" in caught.value.message
    assert "--force does not override" in caught.value.hint and "--force overrides" not in caught.value.hint


def test_every_stage_refusal_hint_fits_its_case() -> None:
    assert "--force" not in (StageRefused.__doc__ or "")


def test_an_empty_password_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "pw"
    empty.write_text("\n")
    result = runner.invoke(app, ["probe", "smb://u@127.0.0.1:1/share", "--password-file", str(empty), "--json"])
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "is empty" in json.loads(result.stdout)["error"]["message"]


@pytest.mark.parametrize(
    "location",
    ["smb://u@127.0.0.1:abc/share", "sftp://u@127.0.0.1:99999/x", "smb://u@[::1]:x/share", "smb://u@h:-1/s"],
)
def test_a_bad_port_is_named_in_words(location: str) -> None:
    result = runner.invoke(app, ["probe", location, "--json"])
    assert result.exit_code == 2
    message = json.loads(result.stdout)["error"]["message"]
    assert "port must be a number from 1 to 65535" in message and "cast" not in result.stderr
