"""File screens and hidden folders on a real smbd: `veto files` rules a stage must live with or name, and a
WindowsImageBackup that `hide unreadable` hides from an account that cannot write in it."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from restore.staging.names import PARTIAL_SUFFIX
from share import writetest
from tests.lib.cli import cli_json as _cli
from tests.lib.servers import SambaServer
from tests.lib.treebuilder import ImageCache, PointSpec, write_tree

pytestmark = pytest.mark.servers

NOBODY = 65534


@pytest.fixture(scope="module")
def screened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaServer]:
    server = SambaServer(tmp_path_factory.mktemp("screens"))
    server.add_share("no-tmp", **{"veto files": "/*.tmp/"})  # a file screen on temporary files
    server.add_share("no-dot", **{"veto files": "/.*/"})  # common hardening
    server.add_share("no-vhdx", **{"veto files": "/*.vhdx/"})
    server.add_share("no-partial", **{"veto files": "/*.bmr-partial/"})
    # The account works as 'nobody' here; WindowsImageBackup belongs to another user: hidden and unwritable.
    # (outside pytest's folders, which 'nobody' cannot pass through)
    outside = Path(tempfile.mkdtemp(prefix="bmr-hidden-"))
    outside.chmod(0o755)
    hidden = server.add_share("hidden", outside / "share", **{"hide unreadable": "yes", "force user": "nobody"})
    hidden.chmod(0o777)
    wib = hidden / "WindowsImageBackup"
    (wib / "DC01").mkdir(parents=True)
    os.chown(wib, 1, 1)
    wib.chmod(0o700)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(outside, ignore_errors=True)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, images: ImageCache) -> Path:
    root = tmp_path_factory.mktemp("screen-source")
    write_tree(root, {"DC01": PointSpec(pad_mb=1)}, images)
    return root


def _write_check(data: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in data["checks"] if c["id"] == "write")


def test_the_write_test_uses_the_stage_s_own_suffix() -> None:
    assert writetest.TEMPORARY_SUFFIX == PARTIAL_SUFFIX


@pytest.mark.parametrize("share", ["no-tmp", "no-dot"])
def test_stage_works_past_a_screen_on_names_it_does_not_write(
    screened: SambaServer, source: Path, password_env: str, share: str
) -> None:
    code, data = _cli("stage", str(source), screened.url(share))
    assert code == 0, data
    assert data["verified"] is True
    code, probe = _cli("probe", screened.url(share), "--write-test")
    assert code == 0 and probe["writable"] is True, probe
    code, data = _cli("preflight", screened.url(share), "--for", "bmr", "--stage-size", "1000")
    assert _write_check(data)["status"] == "pass", data


@pytest.mark.parametrize(("share", "pattern"), [("no-vhdx", "*.vhdx"), ("no-partial", "*.bmr-partial")])
def test_a_refused_name_is_named_with_its_pattern(
    screened: SambaServer, source: Path, password_env: str, share: str, pattern: str
) -> None:
    code, data = _cli("preflight", screened.url(share), "--for", "bmr", "--stage-size", "1000")
    check = _write_check(data)
    assert code == 1 and check["status"] == "fail", data
    assert pattern in check["message"] and check["details"]["refused"] == pattern
    assert "grant" not in check["fix"] and pattern in check["fix"]
    code, probe = _cli("probe", screened.url(share), "--write-test")
    assert probe["writable"] is False and pattern in probe["write_error"]
    # The stage refuses before copying anything, with the same diagnosis.
    code, data = _cli("stage", str(source), screened.url(share))
    assert code != 0 and pattern in json.dumps(data), data
    disk = screened.shares[share].path
    assert not [p for p in disk.rglob("*") if p.is_file()], "nothing left behind"


def test_a_hidden_unwritable_tree_fails_the_write_check(screened: SambaServer, password_env: str) -> None:
    code, data = _cli("preflight", screened.url("hidden"), "--for", "bmr", "--stage-size", "1000", "--machine", "DC01")
    check = _write_check(data)
    assert code == 1 and check["status"] == "fail", data["checks"]
    assert "hidden" in check["message"] and "WindowsImageBackup" in check["message"]
    assert not [p for p in screened.shares["hidden"].path.iterdir() if p.name != "WindowsImageBackup"]
