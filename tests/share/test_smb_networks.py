"""Ports and addresses on real smbd: a share on a port other than 445 (bmr may use it, WinRE cannot), the
negotiated signing and encryption algorithms shown, and a server on ::1 named the way Windows parses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from restore.cli.app import app
from tests.lib.cli import cli_json as _cli
from tests.lib.proxy import CuttingProxy
from tests.lib.servers import SMB_PASSWORD, SambaServer
from tests.lib.treebuilder import ImageCache, PointSpec, bmr_dc, write_tree

pytestmark = pytest.mark.servers

runner = CliRunner()


def _check(data: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in data["checks"] if c["id"] == check_id)


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory, images: ImageCache) -> Iterator[SambaServer]:
    """SMB 3.1.1 with AES-128-GMAC signing and AES-256-GCM encryption demanded, on a port that is not 445."""
    server = SambaServer(
        tmp_path_factory.mktemp("sealed"),
        min_protocol="SMB3_11",
        extra_global={
            "server smb3 encryption algorithms": "AES-256-GCM",
            "server smb3 signing algorithms": "AES-128-GMAC",
        },
    )
    folder = server.add_share("restore", **{"smb encrypt": "required"})
    write_tree(folder, {"DC01": bmr_dc()}, images)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ipv6(tmp_path_factory: pytest.TempPathFactory, images: ImageCache) -> Iterator[SambaServer]:
    server = SambaServer(tmp_path_factory.mktemp("ipv6"), address="::1")
    folder = server.add_share("restore")
    write_tree(folder, {"DC01": bmr_dc()}, images)
    server.add_share("empty")
    server.start()
    yield server
    server.stop()


def test_probe_shows_the_port_and_the_negotiated_algorithms(sealed: SambaServer, password_env: str) -> None:
    code, data = _cli("probe", sealed.url("restore"))
    assert code == 0, data
    assert data["port"] == sealed.port and data["dialect"] == "3.1.1"
    assert data["signing_algorithm"] == "AES-128-GMAC" and data["cipher"] == "AES-256-GCM"
    result = runner.invoke(app, ["probe", sealed.url("restore"), "--password-env", "BMR_TEST_PASSWORD"])
    assert "Port:" in result.stdout and str(sealed.port) in result.stdout
    assert "AES-256-GCM" in result.stdout and "Signing algorithm:" in result.stdout and "AES-128-GMAC" in result.stdout


def test_a_port_other_than_445_fails_for_winre(
    sealed: SambaServer, password_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BMR_WINRE_PORT")
    code, data = _cli("preflight", sealed.url("restore"), "--for", "bmr")
    port = _check(data, "port")
    assert code == 1 and port["status"] == "fail", data["checks"]
    assert {c["id"] for c in data["checks"] if c["status"] == "fail"} == {"port"}
    assert str(sealed.port) in port["message"] and "445" in port["message"]
    assert "445" in port["fix"] and "--winre-port" in port["fix"]
    # Said to be bmr's own way in only (a tunnel): the restore's port is 445, and the check passes.
    code, data = _cli("preflight", sealed.url("restore"), "--for", "bmr", "--winre-port", "445")
    assert code == 0 and _check(data, "port")["status"] == "pass", data["checks"]


@pytest.mark.skipif(not Path("/proc/net/if_inet6").exists(), reason="no IPv6 on this machine")
def test_a_server_on_ipv6_loopback(ipv6: SambaServer, password_env: str, tmp_path: Path, images: ImageCache) -> None:
    url = ipv6.url("restore")
    assert url.startswith("smb://") and "@[::1]:" in url
    code, data = _cli("probe", url)
    assert code == 0 and data["server_address"] == "::1", data
    code, data = _cli("preflight", url, "--for", "bmr")
    assert code == 0, data["checks"]
    assert "::1\\" not in json.dumps(data) and data["backup_target"] == "\\\\--1.ipv6-literal.net\\restore"
    code, data = _cli("commands", url, "--machine", "DC01")
    text = json.dumps(data)
    assert code == 0 and "net use \\\\--1.ipv6-literal.net\\restore " in "\n".join(data["lines"]), data
    assert "\\\\::1" not in text and "[::1]\\" not in text
    # Staging through it: the result names the Windows form too.
    source = tmp_path / "source"
    write_tree(source, {"DC01": bmr_dc()}, images)
    code, data = _cli("stage", str(source), ipv6.url("empty"))
    assert code == 0 and data["backup_target"] == "\\\\--1.ipv6-literal.net\\empty", data


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory, images: ImageCache) -> Iterator[SambaServer]:
    """A share that takes one connection at a time (`max connections = 1`)."""
    server = SambaServer(tmp_path_factory.mktemp("single"))
    server.add_share("one", **{"max connections": "1"})
    folder = server.add_share("src", **{"max connections": "1"})
    write_tree(folder, {"DC01": bmr_dc()}, images)
    server.start()
    yield server
    server.stop()


def test_a_one_connection_share_is_enough(
    single: SambaServer, password_env: str, tmp_path: Path, images: ImageCache
) -> None:
    source = tmp_path / "source"
    write_tree(source, {"DC01": bmr_dc()}, images)
    code, data = _cli("stage", str(source), single.url("one"))
    assert code == 0 and data["verified"] is True, data
    code, data = _cli("preflight", single.url("one"), "--for", "bmr", "--stage-size", "1000")
    assert _check(data, "write")["status"] == "pass", data["checks"]
    code, data = _cli("stage", single.url("src"), str(tmp_path / "local"))
    assert code == 0 and data["verified"] is True, data
    assert not (single.shares["one"].path / "bmr-stage.lock").exists()


def test_a_stalled_link_to_a_one_connection_share_is_retried_and_finishes(
    single: SambaServer, password_env: str, tmp_path: Path, images: ImageCache
) -> None:
    """The stalled session holds the share's only connection and the partial file open (the server never
    notices here): the retry names it as the session it replaces, the server closes it, and the copy finishes,
    with no raw NTSTATUS on the way and no lock or partial left behind."""
    source = tmp_path / "source"
    write_tree(source, {"DC01": PointSpec(pad_mb=64)}, images)
    disk = single.add_share("stall", **{"max connections": "1"})
    proxy = CuttingProxy(single.port, cut_after=12 * 1024 * 1024, stall=True)
    try:
        env = {**os.environ, password_env: SMB_PASSWORD}
        url = f"smb://BMRFILES;root@127.0.0.1:{proxy.port}/stall"
        proc = subprocess.run(
            [sys.executable, "-m", "restore", "stage", str(source), url, "--timeout", "3", "--json",
             "--password-env", password_env],
            env=env, capture_output=True, timeout=240,
        )  # fmt: skip
    finally:
        proxy.close()
    stderr = proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, proc.stdout.decode() + stderr
    assert proxy.cuts_done == 1 and "Traceback" not in stderr and "STATUS_" not in stderr, stderr
    assert json.loads(proc.stdout)["verified"] is True
    assert not (disk / "bmr-stage.lock").exists() and not list(disk.rglob("*.bmr-partial"))
