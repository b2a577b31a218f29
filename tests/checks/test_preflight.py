"""`bmr preflight` against the real Samba: one share per classic mistake, each with exactly the expected failing
check and a fix that, once applied, turns the preflight green."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from restore.cli.app import app
from tests.lib.servers import SMB_DOMAIN, SMB_PASSWORD, SambaServer, SshServer
from tests.lib.treebuilder import ImageCache, bmr_dc, files_only, system_state_only, write_machine, write_tree

runner = CliRunner()
POINT = "Backup 2020-10-04 174838"


@pytest.fixture(scope="module")
def shares(samba: SambaServer, images: ImageCache) -> dict[str, Path]:
    """Share name -> folder on the server. Each share shows one mistake (or none)."""
    base = samba.base / "preflight"
    made: dict[str, Path] = {}

    def share(name: str, folder: Path) -> None:
        samba.add_share(name, folder)
        made[name] = folder

    good = base / "good"
    write_tree(good, {"DC01": bmr_dc()}, images)
    share("pf-good", good)
    whole = base / "whole"
    write_tree(whole, {"DC01": bmr_dc()}, images)
    share("pf-wib", whole / "WindowsImageBackup")
    share("pf-computer", whole / "WindowsImageBackup" / "DC01")
    share("pf-backup", whole / "WindowsImageBackup" / "DC01" / POINT)
    nested = base / "nested"
    write_tree(nested / "MABS" / "RP-01", {"DC01": bmr_dc()}, images)
    share("pf-nested", nested)
    for name, folder_name in (("pf-copy", "WindowsImageBackup - Copy"), ("pf-old", "WindowsImageBackup.old")):
        root = base / name
        write_machine(root / folder_name, "DC01", bmr_dc(), images)
        share(name, root)
    several = base / "several"
    write_tree(several, {"DC01": bmr_dc()}, images)
    write_tree(several / "older", {"DC01": bmr_dc()}, images)
    share("pf-several", several)
    multi = base / "multi"
    write_tree(multi, {"DC01": bmr_dc(), "FS01": files_only()}, images)
    share("pf-multi", multi)
    sysstate = base / "sysstate"
    write_tree(sysstate, {"APP01": system_state_only()}, images)
    share("pf-sysstate", sysstate)
    broken = base / "broken"
    point = write_machine(broken / "WindowsImageBackup", "DC01", bmr_dc(), images, copy_images=True)
    next(point.glob("*.vhdx")).write_bytes(b"")
    share("pf-broken", broken)
    empty = base / "empty"
    empty.mkdir(parents=True)
    share("pf-empty", empty)
    samba.reload()
    return made


def _preflight(samba: SambaServer, share: str, *extra: str, user: str | None = None) -> tuple[int, dict[str, Any]]:
    url = samba.url(share, user=user)
    result = runner.invoke(app, ["preflight", url, "--json", "--password-env", "BMR_TEST_PASSWORD", *extra])
    assert SMB_PASSWORD not in result.stdout + result.stderr
    data = json.loads(result.stdout)
    return result.exit_code, data


def _failing(data: dict[str, Any]) -> set[str]:
    return {c["id"] for c in data["checks"] if c["status"] == "fail"}


def _check(data: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in data["checks"] if c["id"] == check_id)


def test_good_share_is_green(samba: SambaServer, shares: dict[str, Path], password_env: str) -> None:
    code, data = _preflight(samba, "pf-good", "--for", "bmr")
    assert code == 0, data
    # The sample is the 2020 Blackfield DC point: past the tombstone lifetime, a warning (evidence.md)
    assert data["status"] == "warn" and _failing(data) == set()
    assert {c["id"] for c in data["checks"] if c["status"] == "warn"} == {"recovery-point"}
    assert "tombstone" in _check(data, "recovery-point")["message"]
    assert data["backup_target"] == "\\\\127.0.0.1\\pf-good"
    assert data["machine"] == "DC01" and data["version"] == "10/04/2020-17:48"
    ids = [c["id"] for c in data["checks"]]
    assert ids == [
        "connect", "port", "dialect", "signing", "auth", "share", "unc-name", "read", "share-root", "machine",
        "recovery-point", "path-length",
    ]  # fmt: skip
    assert "3.1.1" in _check(data, "dialect")["message"]
    assert all(c["fix"] is None for c in data["checks"] if c["status"] == "pass")


@pytest.mark.parametrize(("share", "levels"), [("pf-wib", 1), ("pf-computer", 2), ("pf-backup", 3)])
def test_share_inside_the_tree(
    samba: SambaServer, shares: dict[str, Path], password_env: str, share: str, levels: int
) -> None:
    code, data = _preflight(samba, share, "--for", "bmr")
    assert code == 1 and _failing(data) == {"share-root"}
    check = _check(data, "share-root")
    assert f"{levels} level(s) above" in check["fix"] and "rename" not in check["fix"]
    assert _check(data, "path-length")["status"] == "skip"  # no image path is invented for a target that fails
    if share == "pf-computer":  # the computer folder's own name cannot be seen from inside it: said, not guessed
        assert "cannot be seen from inside it" in check["message"] and "-machine:" in check["fix"]
        assert _check(data, "machine")["status"] == "warn"
    assert data["backup_target"] is None
    # Apply the fix: share the folder that many levels up.
    fixed = f"{share}-fixed"
    samba.add_share(fixed, shares[share].parents[levels - 1])
    code, data = _preflight(samba, fixed, "--for", "bmr")
    assert code == 0 and _failing(data) == set(), data["checks"]


def test_nested_mabs_copy(samba: SambaServer, shares: dict[str, Path], password_env: str) -> None:
    code, data = _preflight(samba, "pf-nested", "--for", "bmr")
    assert code == 1 and _failing(data) == {"share-root"}
    details = _check(data, "share-root")["details"]
    assert details["folder"] == "MABS/RP-01"
    assert details["backup_target_after_fix"] == f"\\\\127.0.0.1\\{details['suggested_share']}"
    samba.add_share(details["suggested_share"], shares["pf-nested"] / details["folder"])
    code, data = _preflight(samba, details["suggested_share"], "--for", "bmr")
    assert code == 0 and data["backup_target"] == details["backup_target_after_fix"]


def test_location_with_subpath_to_the_tree_holder(
    samba: SambaServer, shares: dict[str, Path], password_env: str
) -> None:
    # smb://…/pf-nested/MABS/RP-01 names the folder that holds the tree: wbadmin can use it, the WinRE wizard not.
    code, data = _preflight(samba, "pf-nested/MABS/RP-01", "--for", "bmr")
    assert code == 0 and _check(data, "share-root")["status"] == "warn"
    assert data["backup_target"] == "\\\\127.0.0.1\\pf-nested\\MABS\\RP-01"
    assert _check(data, "share-root")["details"]["folder"] == "MABS/RP-01"
    # …one level too high is a failure: the tree is not in the named folder.
    code, data = _preflight(samba, "pf-nested/MABS", "--for", "bmr")
    assert code == 1 and _failing(data) == {"share-root"}
    # …while a sub-path INTO the tree from the right share root is fine: the share root holds it.
    code, data = _preflight(samba, "pf-good/WindowsImageBackup", "--for", "bmr")
    assert code == 0 and data["backup_target"] == "\\\\127.0.0.1\\pf-good"


@pytest.mark.parametrize(
    ("share", "name"), [("pf-copy", "WindowsImageBackup - Copy"), ("pf-old", "WindowsImageBackup.old")]
)
def test_misnamed_tree(samba: SambaServer, shares: dict[str, Path], password_env: str, share: str, name: str) -> None:
    code, data = _preflight(samba, share, "--for", "bmr")
    assert code == 1 and _failing(data) == {"share-root"}
    assert f"rename '{name}'" in _check(data, "share-root")["fix"]
    (shares[share] / name).rename(shares[share] / "WindowsImageBackup")
    try:
        code, data = _preflight(samba, share, "--for", "bmr")
        assert code == 0, data
    finally:
        (shares[share] / "WindowsImageBackup").rename(shares[share] / name)


def test_several_trees(samba: SambaServer, shares: dict[str, Path], password_env: str) -> None:
    code, data = _preflight(samba, "pf-several", "--for", "bmr")
    assert code == 1 and _failing(data) == {"share-root"}
    assert _check(data, "share-root")["details"]["trees"] == ["WindowsImageBackup", "older/WindowsImageBackup"]
    moved = shares["pf-several"].parent / "several-older"
    shutil.move(shares["pf-several"] / "older", moved)
    try:
        assert _preflight(samba, "pf-several", "--for", "bmr")[0] == 0
    finally:
        shutil.move(moved, shares["pf-several"] / "older")


def test_several_computers_need_machine(samba: SambaServer, shares: dict[str, Path], password_env: str) -> None:
    code, data = _preflight(samba, "pf-multi", "--for", "bmr")
    assert code == 1 and _failing(data) == {"machine"}
    assert _check(data, "machine")["details"]["machines"] == ["DC01", "FS01"]
    code, data = _preflight(samba, "pf-multi", "--for", "bmr", "--machine", "dc01")
    assert code == 0 and data["machine"] == "DC01"
    code, data = _preflight(samba, "pf-multi", "--for", "bmr", "--machine", "FS01")
    assert code == 1 and _failing(data) == {"recovery-point"}  # a files-only point cannot do BMR


def test_purpose_must_fit(samba: SambaServer, shares: dict[str, Path], password_env: str) -> None:
    code, data = _preflight(samba, "pf-sysstate", "--for", "bmr")
    assert code == 1 and _failing(data) == {"recovery-point"}
    assert "cannot do Bare Metal Recovery" in _check(data, "recovery-point")["message"]
    assert _preflight(samba, "pf-sysstate", "--for", "systemstate")[0] == 0


def test_incomplete_point(samba: SambaServer, shares: dict[str, Path], password_env: str) -> None:
    code, data = _preflight(samba, "pf-broken", "--for", "bmr")
    assert code == 1 and _failing(data) == {"recovery-point"}
    assert "image-empty" in _check(data, "recovery-point")["details"]["problems"]


def test_version_must_exist(samba: SambaServer, shares: dict[str, Path], password_env: str) -> None:
    code, data = _preflight(samba, "pf-good", "--for", "bmr", "--version", "01/01/2021-00:00")
    assert code == 1 and _failing(data) == {"recovery-point"}
    assert runner.invoke(app, ["preflight", samba.url("pf-good"), "--for", "bmr", "--version", "1/1/21"]).exit_code == 2


def test_wrong_password_and_missing_share(
    samba: SambaServer, shares: dict[str, Path], password_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, data = _preflight(samba, "pf-no-such-share", "--for", "bmr")
    assert code == 3 and _failing(data) == {"share"}
    assert _check(data, "auth")["status"] in ("pass", "warn")
    monkeypatch.setenv("BMR_TEST_PASSWORD", "Wrong-" + SMB_PASSWORD)
    code, data = _preflight(samba, "pf-good", "--for", "bmr")
    assert code == 3 and _failing(data) == {"auth"}
    assert {c["id"]: c["status"] for c in data["checks"]}["share-root"] == "skip"


def test_unqualified_user_warns(samba: SambaServer, shares: dict[str, Path], password_env: str) -> None:
    _code, data = _preflight(samba, "pf-good", "--for", "bmr", user="root")
    assert _check(data, "auth")["status"] == "warn" and "DOMAIN\\root" in _check(data, "auth")["fix"]
    assert _check(_preflight(samba, "pf-good", "--for", "bmr")[1], "auth")["status"] == "pass"


def test_dead_host(password_env: str) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = runner.invoke(app, ["preflight", f"smb://u@127.0.0.1:{port}/x", "--for", "bmr", "--json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 3 and _failing(data) == {"connect"}
    assert all(c["status"] == "skip" for c in data["checks"] if c["id"] != "connect")


def test_host_name_warns_with_the_ip_form(samba: SambaServer, shares: dict[str, Path], password_env: str) -> None:
    url = f"smb://BMRFILES;root@localhost:{samba.port}/pf-good"
    result = runner.invoke(app, ["preflight", url, "--for", "bmr", "--json", "--password-env", password_env])
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and _check(data, "unc-name")["status"] == "warn"
    assert "\\\\127.0.0.1\\pf-good" in _check(data, "unc-name")["fix"]


def test_staging_checks(samba: SambaServer, shares: dict[str, Path], password_env: str, tmp_path: Path) -> None:
    code, data = _preflight(samba, "pf-empty", "--for", "bmr", "--stage-size", str(1024**2))
    assert code == 0, data
    assert _check(data, "write")["status"] == "pass" and _check(data, "free-space")["status"] == "pass"
    assert _check(data, "share-root")["status"] == "pass" and _check(data, "machine")["status"] == "skip"
    code, data = _preflight(samba, "ro", "--for", "bmr", "--stage-size", "1000")
    assert code == 1 and _failing(data) == {"write"}
    code, data = _preflight(samba, "small", "--for", "bmr", "--stage-size", str(64 * 1024**2))
    assert code == 1 and _failing(data) == {"free-space"}
    assert _check(data, "free-space")["details"]["need"] == int(64 * 1024**2 * 1.1)


def test_source_sets_the_stage_size(
    samba: SambaServer, shares: dict[str, Path], password_env: str, tmp_path: Path, images: ImageCache
) -> None:
    write_tree(tmp_path, {"DC01": bmr_dc()}, images)
    code, data = _preflight(samba, "small", "--for", "bmr", "--source", str(tmp_path))
    assert code == 1 and _failing(data) == {"free-space"}  # 16 MiB of images do not fit in 8 MiB
    assert _check(data, "free-space")["details"]["need"] > 16 * 1024**2


@pytest.fixture
def guest_samba(tmp_path: Path) -> Iterator[SambaServer]:
    server = SambaServer(tmp_path / "guest", signing="auto", extra_global={"map to guest": "bad user"})
    server.add_share("public", **{"guest ok": "yes", "guest only": "yes"})
    server.start()
    yield server
    server.stop()


def test_guest_only_share_is_refused(guest_samba: SambaServer, password_env: str) -> None:
    url = f"smb://nobody-at-all@127.0.0.1:{guest_samba.port}/public"
    result = runner.invoke(app, ["preflight", url, "--for", "bmr", "--json", "--password-env", password_env])
    data = json.loads(result.stdout)
    assert result.exit_code == 3 and _failing(data) == {"auth"}
    auth = _check(data, "auth")
    # An unknown (often mistyped) name is what such a server turns into a guest: said first, not "guest share".
    assert "guest" in auth["message"] and "does not know that account" in auth["message"]
    assert auth["fix"].startswith("Check the user and domain name")


def test_junit_and_text_output(samba: SambaServer, shares: dict[str, Path], password_env: str, tmp_path: Path) -> None:
    junit = tmp_path / "preflight.xml"
    result = runner.invoke(
        app,
        ["preflight", samba.url("pf-nested"), "--for", "bmr", "--password-env", password_env, "--junit", str(junit)],
    )
    assert result.exit_code == 1
    assert "FAIL" in result.stdout and "fix:" in result.stdout and "\x1b[" not in result.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["share-root"].find("failure") is not None
    assert cases["connect"].find("failure") is None


def test_ssh_server_share(samba: SambaServer, shares: dict[str, Path], sshd: SshServer, password_env: str) -> None:
    ssh = ["--ssh", f"{sshd.user}@127.0.0.1:{sshd.port}", "--ssh-known-hosts", str(sshd.known_hosts),
           "--ssh-key", str(sshd.client_key), "--ssh-smb-conf", str(samba.conf)]  # fmt: skip
    code, data = _preflight(samba, "pf-good", "--for", "bmr", *ssh)
    assert code == 0, data
    check = _check(data, "server-share")
    assert check["status"] == "pass" and check["details"]["path"] == str(shares["pf-good"])
    assert check["details"]["free"] > 0
    code, data = _preflight(samba, "pf-nested", "--for", "bmr", *ssh)
    assert _failing(data) == {"share-root", "server-share"}


def test_user_for_the_share_and_another_for_ssh(
    samba: SambaServer, shares: dict[str, Path], sshd: SshServer, password_env: str
) -> None:
    """--user is the share's account; the --ssh USER@HOST names its own: two users, no conflict (issue 20)."""
    ssh = ["--ssh", f"{sshd.user}@127.0.0.1:{sshd.port}", "--ssh-known-hosts", str(sshd.known_hosts),
           "--ssh-key", str(sshd.client_key), "--ssh-smb-conf", str(samba.conf)]  # fmt: skip
    url = f"smb://127.0.0.1:{samba.port}/pf-good"
    result = runner.invoke(app, ["preflight", url, "--user", f"{SMB_DOMAIN}\\{samba.user}", "--for", "bmr", "--json",
                                 "--password-env", password_env, *ssh])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _check(json.loads(result.stdout), "server-share")["status"] == "pass"


def test_smb_2_0_2_passes_the_dialect_check(tmp_path: Path, images: ImageCache, password_env: str) -> None:
    server = SambaServer(tmp_path / "old", min_protocol="SMB2_02", extra_global={"server max protocol": "SMB2_02"})
    root = server.add_share("old")
    write_tree(root, {"DC01": bmr_dc()}, images)
    server.start()
    try:
        result = runner.invoke(app, ["preflight", server.url("old"), "--for", "bmr", "--json",
                                     "--password-env", password_env])  # fmt: skip
    finally:
        server.stop()
    data = json.loads(result.stdout)
    # Windows negotiates 2.0.2 by default (evidence.md): a note, never a failure.
    assert result.exit_code == 0 and _failing(data) == set(), data
    assert _check(data, "dialect")["status"] == "pass" and "2.0.2" in _check(data, "dialect")["message"]


def test_share_encryption_is_reported(samba: SambaServer, password_env: str) -> None:
    sealed = json.loads(runner.invoke(app, ["preflight", samba.url("sealed"), "--for", "bmr", "--json",
                                             "--password-env", password_env]).stdout)  # fmt: skip
    share = _check(sealed, "share")
    assert share["status"] == "pass" and share["details"]["share_encryption"] is True
    assert "requires encryption" in share["message"]
    plain = json.loads(runner.invoke(app, ["preflight", samba.url("data"), "--for", "bmr", "--json",
                                            "--password-env", password_env]).stdout)  # fmt: skip
    assert _check(plain, "share")["details"] == {"encryption": False, "share_encryption": False}
