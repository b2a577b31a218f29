"""DFS against real Samba: a namespace root (`host msdfs`, `msdfs root`) whose links point to a second smbd on
another loopback address (same port: a referral names servers, not ports), as every \\\\domain\\dfs path does."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from restore.demo import localsamba
from restore.demo.localsamba import free_port
from tests.lib.cli import cli_json as _cli
from tests.lib.servers import SambaServer
from tests.lib.treebuilder import ImageCache, bmr_dc, write_tree

pytestmark = pytest.mark.servers

FAR = "127.0.0.2"  # the second file server
DEAD = "127.0.0.3"  # a target server that is down (nothing listens there)
STRANGER = "127.0.0.4"  # a target server that does not know the account


@dataclass
class Namespace:
    root: SambaServer
    far: SambaServer
    stranger: localsamba.SambaServer


def _has_address(address: str) -> bool:
    out = subprocess.run(["ip", "-4", "addr", "show", "dev", "lo"], capture_output=True, text=True, check=True)
    return f"inet {address}/" in out.stdout


@pytest.fixture(scope="module")
def namespace(tmp_path_factory: pytest.TempPathFactory, images: ImageCache) -> Iterator[Namespace]:
    added = [a for a in (FAR, STRANGER) if not _has_address(a)]
    for address in added:  # smbd binds only to addresses an interface has: give loopback more for the test
        subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", "lo"], check=True)
    base = tmp_path_factory.mktemp("dfs")
    port = free_port()
    far = SambaServer(base / "far", address=FAR, port=port, netbios_name="FAR")
    write_tree(far.add_share("images"), {"DC01": bmr_dc()}, images)
    root = SambaServer(base / "root", port=port, extra_global={"host msdfs": "yes"})
    folder = root.add_share("dfs", **{"msdfs root": "yes"})
    write_tree(root.add_share("spare"), {"DC01": bmr_dc()}, images)
    os.symlink(f"msdfs:{FAR}\\images", folder / "restore")
    os.symlink(f"msdfs:{DEAD}\\images,127.0.0.1\\spare", folder / "failover")
    other = root.add_share("other", **{"msdfs root": "yes"})
    os.symlink(f"msdfs:{STRANGER}\\images", other / "elsewhere")
    stranger = localsamba.SambaServer(base / "stranger", address=STRANGER, port=port, netbios_name="STRANGER")
    stranger.add_share("images")
    far.start()
    root.start()
    stranger.start()
    try:
        yield Namespace(root, far, stranger)
    finally:
        root.stop()
        far.stop()
        stranger.stop()
        for address in added:
            subprocess.run(["ip", "addr", "del", f"{address}/32", "dev", "lo"], check=False)


def test_inspect_at_the_root_looks_through_a_link_to_another_server(namespace: Namespace, password_env: str) -> None:
    code, data = _cli("inspect", namespace.root.url("dfs"))
    assert code == 0, data
    trees = {t["relative_path"] for t in data["trees"]}
    assert "restore/WindowsImageBackup" in trees and "failover/WindowsImageBackup" in trees, data
    assert "--depth" not in json.dumps(data)
    restore = next(t for t in data["trees"] if t["relative_path"] == "restore/WindowsImageBackup")
    codes = {p["code"]: p["message"] for p in restore["problems"]}
    assert "nested-tree" not in codes and f"\\\\{FAR}\\images" in codes["dfs-link"], codes


def test_a_link_with_a_dead_first_target_fails_over_to_the_next(
    namespace: Namespace, password_env: str, tmp_path: Path
) -> None:
    code, data = _cli("stage", namespace.root.url("dfs/failover"), str(tmp_path / "copy"))
    assert code == 0 and data["verified"] is True, data


def test_preflight_and_commands_name_the_target_server_s_own_share(namespace: Namespace, password_env: str) -> None:
    code, data = _cli("preflight", namespace.root.url("dfs/restore"), "--for", "bmr")
    assert code == 0, data["checks"]
    share_root = next(c for c in data["checks"] if c["id"] == "share-root")
    assert data["backup_target"] == f"\\\\{FAR}\\images" and share_root["status"] == "pass"
    assert "cannot resolve DFS namespaces" in share_root["message"]
    code, data = _cli("commands", namespace.root.url("dfs/restore"), "--machine", "DC01")
    lines = "\n".join(data["lines"])
    assert code == 0 and f"net use \\\\{FAR}\\images " in lines and "\\dfs" not in lines, lines


def test_a_refusal_by_a_target_server_names_that_server(namespace: Namespace, password_env: str) -> None:
    code, data = _cli("probe", namespace.root.url("other/elsewhere"))
    assert code == 3 and data["error"]["type"] == "AuthenticationFailed", data
    assert f"refused by {STRANGER}:" in data["error"]["message"], data
