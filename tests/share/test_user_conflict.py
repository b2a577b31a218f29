"""A user named in the location and with --user: the same account is fine, two different ones are refused (exit 2)
naming both, before any connection. Ports 1 are closed: a location that passes the check ends as CannotConnect."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from restore.cli.app import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("location", "user", "named"),
    [
        ("sftp://alice@127.0.0.1:1/srv", "bob", "'alice'"),
        ("sftp://alice@127.0.0.1:1/srv", "Alice", "'alice'"),  # sshd compares user names exactly
        ("smb://alice@127.0.0.1:1/share", "CORP\\bob", "'alice'"),
        ("smb://CORP;alice@127.0.0.1:1/share", "OTHER\\alice", "'CORP\\\\alice'"),
        ("smb://CORP;alice@127.0.0.1:1/share", "bob@corp.example", "'CORP\\\\alice'"),
    ],
)
def test_two_different_users_are_a_usage_error(
    location: str, user: str, named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BMR_PASSWORD", "x")
    result = runner.invoke(app, ["probe", location, "--user", user, "--json"])
    assert result.exit_code == 2, result.output
    message = json.loads(result.stdout)["error"]["message"]
    assert named in message and repr(user) in message and "--user" in message


@pytest.mark.parametrize(
    ("location", "user"),
    [
        ("sftp://alice@127.0.0.1:1/srv", "alice"),
        ("smb://alice@127.0.0.1:1/share", "CORP\\ALICE"),  # Windows: no case, a domain on one side only
        ("smb://CORP;alice@127.0.0.1:1/share", "corp\\alice"),
        ("smb://CORP;alice@127.0.0.1:1/share", "alice@CORP"),
        ("\\\\127.0.0.1\\share", "CORP\\alice"),  # a UNC path names no user
    ],
)
def test_the_same_user_twice_is_fine(location: str, user: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BMR_PASSWORD", "x")
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    result = runner.invoke(app, ["probe", location, "--user", user, "--json", "--timeout", "2"])
    assert result.exit_code == 3, result.output  # past the check: the closed port is what stops it
