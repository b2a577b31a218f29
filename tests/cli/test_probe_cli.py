"""`bmr probe` end to end through the CLI against the real smbd and sshd."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from restore.cli.app import app
from tests.lib.servers import SMB_PASSWORD, SambaServer, SshServer

runner = CliRunner()


def _all_output(result: object) -> str:
    return str(getattr(result, "stdout", "")) + str(getattr(result, "stderr", ""))


def test_probe_smb_json_reports_true_dialect_and_free_space(samba: SambaServer, password_env: str) -> None:
    result = runner.invoke(app, ["probe", samba.url("small"), "--password-env", password_env, "--json"])
    assert result.exit_code == 0, _all_output(result)
    data = json.loads(result.stdout)
    assert data["protocol"] == "smb" and data["dialect"] == "3.1.1"
    assert data["signing"] is True and data["encryption"] is False
    assert data["server_address"] == "127.0.0.1"
    disk = os.statvfs(samba.shares["small"].path)
    assert data["total_bytes"] == disk.f_blocks * disk.f_frsize == 8 * 1024 * 1024
    assert data["free_bytes"] == disk.f_bavail * disk.f_frsize
    assert data["writable"] is None


def test_probe_write_test(samba: SambaServer, password_env: str) -> None:
    ok = runner.invoke(app, ["probe", samba.url("data"), "--password-env", password_env, "--write-test", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["writable"] is True
    assert not [
        p for p in samba.shares["data"].path.iterdir() if p.name.startswith(("bmr-write-test", ".bmr-write-test"))
    ]
    ro = runner.invoke(app, ["probe", samba.url("ro"), "--password-env", password_env, "--write-test", "--json"])
    assert ro.exit_code == 3
    assert json.loads(ro.stdout)["writable"] is False


def test_probe_text_output(samba: SambaServer, password_env: str) -> None:
    result = runner.invoke(app, ["probe", samba.url("data"), "--password-env", password_env])
    assert result.exit_code == 0
    assert "Dialect:" in result.stdout and "3.1.1" in result.stdout


def test_probe_unc_with_user_option(samba: SambaServer, password_env: str) -> None:
    # The UNC form has no port; smb:// carries it. --user supplies the account for both.
    url = f"smb://127.0.0.1:{samba.port}/data"
    result = runner.invoke(app, ["probe", url, "--user", r"BMRTEST\root", "--password-env", password_env, "--json"])
    assert result.exit_code == 0, _all_output(result)
    assert json.loads(result.stdout)["user"] == "BMRTEST\\root"


@pytest.mark.parametrize(
    ("args", "code", "kind"),
    [
        (["--password-env", "BMR_BAD_PW"], 3, "AuthenticationFailed"),
        (["--password-env", "BMR_TEST_PASSWORD", "--timeout", "5"], 3, "ShareNotFound"),
    ],
)
def test_probe_failures_map_to_exit_codes(
    samba: SambaServer, password_env: str, monkeypatch: pytest.MonkeyPatch, args: list[str], code: int, kind: str
) -> None:
    monkeypatch.setenv("BMR_BAD_PW", "Wr0ng-" + SMB_PASSWORD)
    share = "data" if kind == "AuthenticationFailed" else "missing"
    result = runner.invoke(app, ["probe", samba.url(share), *args, "--json"])
    assert result.exit_code == code
    assert json.loads(result.stdout)["error"]["type"] == kind
    assert SMB_PASSWORD not in _all_output(result)
    assert "Traceback" not in _all_output(result)


def test_probe_password_file(samba: SambaServer, tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text(SMB_PASSWORD + "\n")
    result = runner.invoke(app, ["probe", samba.url("data"), "--password-file", str(pw)], env={"BMR_PASSWORD": ""})
    assert result.exit_code == 0, _all_output(result)
    assert SMB_PASSWORD not in _all_output(result)


def test_probe_without_any_password_is_a_usage_error(samba: SambaServer) -> None:
    result = runner.invoke(app, ["probe", samba.url("data"), "--password-env", "BMR_UNSET_VAR"])
    assert result.exit_code == 2
    assert "BMR_UNSET_VAR" in result.stderr


def test_probe_sftp(sshd: SshServer, tmp_path: Path) -> None:
    args = ["--ssh-known-hosts", str(sshd.known_hosts), "--ssh-key", str(sshd.client_key), "--json"]
    result = runner.invoke(app, ["probe", sshd.url(str(tmp_path)), "--write-test", *args])
    assert result.exit_code == 0, _all_output(result)
    data = json.loads(result.stdout)
    assert data["protocol"] == "sftp" and data["writable"] is True and data["free_bytes"] > 0


def test_probe_unknown_host_key_exit_3(sshd: SshServer, tmp_path: Path) -> None:
    empty = tmp_path / "kh"
    empty.write_text("")
    result = runner.invoke(app, ["probe", sshd.url("/tmp"), "--ssh-known-hosts", str(empty)])
    assert result.exit_code == 3
    assert sshd.fingerprint() in result.stderr


def test_probe_local_and_bad_locations(tmp_path: Path) -> None:
    assert runner.invoke(app, ["probe", str(tmp_path), "--json"]).exit_code == 0
    assert runner.invoke(app, ["probe", str(tmp_path / "missing")]).exit_code == 3
    bad = runner.invoke(app, ["probe", "ftp://host/x"])
    assert bad.exit_code == 2 and "smb://" in bad.stderr
    leaked = runner.invoke(app, ["probe", "smb://bob:hunter2@host/share"])
    assert leaked.exit_code == 2 and "hunter2" not in _all_output(leaked)


def test_version_and_help() -> None:
    assert runner.invoke(app, ["--version"]).stdout.startswith("bmr ")
    helped = runner.invoke(app, ["probe", "--help"])
    assert helped.exit_code == 0 and "Examples" in helped.stdout
