"""Location parsing: the accepted forms, the refusals, and arbitrary input never crashing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from share.connect import parse_location
from share.credentials import Account, PasswordSource, Secret
from share.errors import InvalidLocation, UsageError
from share.location import Location


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"\\10.0.0.5\restore", Location("smb", "", "10.0.0.5", 445, "restore")),
        (r"\\fs01\restore\sub\dir", Location("smb", "sub/dir", "fs01", 445, "restore")),
        ("smb://CORP;svc@10.0.0.5/restore", Location("smb", "", "10.0.0.5", 445, "restore", "svc", "CORP")),
        ("smb://bob@10.0.0.5:4450/r/a/b", Location("smb", "a/b", "10.0.0.5", 4450, "r", "bob")),
        ("smb://CORP%5Cbob@h/r", Location("smb", "", "h", 445, "r", "bob", "CORP")),
        ("sftp://backup@10.0.0.9/mabs/DC01", Location("sftp", "/mabs/DC01", "10.0.0.9", 22, None, "backup")),
        ("sftp://u@[::1]:2222/x", Location("sftp", "/x", "::1", 2222, None, "u")),
    ],
)
def test_accepted_forms(text: str, expected: Location) -> None:
    assert parse_location(text) == expected


def test_local_paths_become_absolute(tmp_path: object) -> None:
    loc = parse_location("relative/dir")
    assert loc.scheme == "local" and loc.path.startswith("/")


@pytest.mark.parametrize(
    "text",
    ["", "ftp://h/x", r"\\onlyhost", "smb://host", "smb://h/share/../x", "sftp:///nohost", "smb://h:99999/s"],
)
def test_refused_forms_name_the_accepted_ones(text: str) -> None:
    with pytest.raises(InvalidLocation):
        parse_location(text)


def test_password_in_url_is_refused_without_echo() -> None:
    with pytest.raises(InvalidLocation) as info:
        parse_location("smb://CORP;bob:Sup3rSecret@10.0.0.5/restore")
    assert "Sup3rSecret" not in str(info.value)


def test_unc_and_display() -> None:
    loc = parse_location("smb://CORP;svc@10.0.0.5/restore/sub")
    assert loc.unc() == r"\\10.0.0.5\restore\sub"
    assert loc.unc(subpath="WindowsImageBackup") == r"\\10.0.0.5\restore\sub\WindowsImageBackup"
    assert loc.display() == "smb://CORP;svc@10.0.0.5/restore/sub"
    assert parse_location(loc.display()) == loc
    assert loc.child("a/b").path == "sub/a/b"


@given(st.text(max_size=80))
def test_parse_never_crashes(text: str) -> None:
    try:
        loc = parse_location(text)
    except InvalidLocation:
        return
    if loc.scheme != "local":
        assert parse_location(loc.display()).host == loc.host


@pytest.mark.parametrize(
    ("text", "windows", "qualified"),
    [
        (r"CORP\bob", r"CORP\bob", True),
        (r"FS01\restore", r"FS01\restore", True),
        ("bob@corp.example", "bob@corp.example", True),
        ("bob", "bob", False),
    ],
)
def test_accounts(text: str, windows: str, qualified: bool) -> None:
    account = Account.parse(text)
    assert account.windows() == windows and account.qualified is qualified


def test_secret_and_sources(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    secret = Secret("p@ss")
    assert "p@ss" not in repr(secret) + str(secret) + f"{secret}" + repr([secret])
    monkeypatch.setenv("X_PW", "from-env")
    assert PasswordSource(env="X_PW").require("x").reveal() == "from-env"
    pw = Path(str(tmp_path)) / "pw"
    pw.write_text("from-file\r\n")
    assert PasswordSource(env="X_PW", file=pw).require("x").reveal() == "from-file"
    asked: list[str] = []
    source = PasswordSource(env="UNSET_X", prompt=lambda p: asked.append(p) or "typed")
    assert source.require("bob").reveal() == "typed" and source.require("bob").reveal() == "typed"
    assert asked == ["bob"]  # asked once
    with pytest.raises(UsageError):
        PasswordSource(env="UNSET_X").require("x")
