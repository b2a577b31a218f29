"""SFTP against stricter OpenSSH configurations: sftp-server denying statvfs and fsync (`-P`), no shell
(`ForceCommand internal-sftp`), a login that prints a banner, MaxAuthTries, host keys of three types pinned in
every common form, PuTTY keys, a user given twice. Each configuration either works (with the warning that is due)
or fails with the cause and the fix named; never "a fault in bmr itself"."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from typer.testing import CliRunner

from restore.checks.check import Status
from restore.checks.preflight import _free_space
from restore.cli.app import app
from restore.demo.sample import bmr_dc, write_tree
from share import errors
from share.connect import Access, open_backend, parse_location
from share.credentials import SshOptions
from tests.lib.servers import SambaServer, SshServer

pytestmark = pytest.mark.servers
runner = CliRunner()
SFTP_SERVER = "/usr/lib/openssh/sftp-server"
DENY = "statvfs,fsync"  # sftp-server -Q requests names them so; the extensions then go unannounced and refused


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SshServer]:
    extra, options = request.param
    sshd = SshServer(tmp_path / "sshd", extra=tuple(extra), **options).start()
    yield sshd
    sshd.stop()


@pytest.fixture(autouse=True)
def no_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's keys only: an agent of the machine running the tests would add keys of its own."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv("BMR_PASSWORD", raising=False)


def _ssh_args(sshd: SshServer) -> list[str]:
    return ["--ssh-known-hosts", str(sshd.known_hosts), "--ssh-key", str(sshd.client_key)]


def _access(sshd: SshServer) -> Access:
    return Access(ssh=SshOptions(known_hosts=sshd.known_hosts, key_files=(sshd.client_key,), use_agent=False))


def _stage(sshd: SshServer, tmp_path: Path) -> tuple[dict[str, object], Path, Path]:
    source, target = tmp_path / "src", tmp_path / "dst"
    write_tree(source, {"DC01": bmr_dc()})
    target.mkdir()
    result = runner.invoke(app, ["stage", str(source), sshd.url(str(target)), "--json", *_ssh_args(sshd)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), source, target


def _same_tree(source: Path, target: Path) -> None:
    for path in source.rglob("*"):
        if path.is_file():
            assert (target / path.relative_to(source)).read_bytes() == path.read_bytes()
    assert not [p for p in target.rglob("*") if "partial" in p.name.lower()], "a partial file was left behind"


def _checks(data: dict[str, object]) -> dict[str, dict[str, str]]:
    return {c["id"]: c for c in data["checks"]}  # type: ignore[attr-defined]


# -- 1. no statvfs, no fsync, no shell: the copy goes on, with warnings ------------------------------------------


NO_SHELL = ([f"ForceCommand internal-sftp -P {DENY}"], {})


@pytest.mark.parametrize("server", [NO_SHELL], indirect=True, ids=["internal-sftp-P-statvfs-fsync"])
def test_no_statvfs_fsync_or_shell_stages_with_two_warnings(server: SshServer, tmp_path: Path) -> None:
    data, source, target = _stage(server, tmp_path)
    checks = _checks(data)
    assert checks["free-space"]["status"] == "warn"
    assert "unknown" in checks["free-space"]["message"] and "statvfs" in checks["free-space"]["fix"]
    assert checks["durability"]["status"] == "warn"
    assert "fsync@openssh.com" in checks["durability"]["message"] and "-P" in checks["durability"]["fix"]
    assert data["verified"] is True
    _same_tree(source, target)


@pytest.mark.parametrize("server", [NO_SHELL], indirect=True, ids=["internal-sftp-P-statvfs-fsync"])
def test_a_dry_run_says_free_space_unknown(server: SshServer, tmp_path: Path) -> None:
    source = tmp_path / "src"
    write_tree(source, {"DC01": bmr_dc()})
    args = ["stage", str(source), server.url(str(tmp_path)), "--dry-run", *_ssh_args(server)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["free"] is None and not plan["refusals"]
    assert "free: unknown" in runner.invoke(app, args).stdout


@pytest.mark.parametrize("server", [NO_SHELL], indirect=True, ids=["internal-sftp-P-statvfs-fsync"])
def test_probe_says_free_space_unknown(server: SshServer, tmp_path: Path) -> None:
    result = runner.invoke(app, ["probe", server.url(str(tmp_path)), "--json", "--write-test", *_ssh_args(server)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["free_bytes"] is None and data["writable"] is True
    assert {w["code"] for w in data["warnings"]} == {"free-space", "durability"}  # both known before any copy
    text = runner.invoke(app, ["probe", server.url(str(tmp_path)), *_ssh_args(server)])
    assert text.exit_code == 0 and "Free:" in text.stdout and "unknown" in text.stdout
    assert "Warning:" in text.stdout and "statvfs" in text.stdout


@pytest.mark.parametrize("server", [NO_SHELL], indirect=True, ids=["internal-sftp-P-statvfs-fsync"])
def test_preflight_free_space_check_warns(server: SshServer, tmp_path: Path) -> None:
    with open_backend(parse_location(server.url(str(tmp_path))), _access(server)) as backend:
        check = _free_space(backend, 10 * 1024 * 1024, 1.1)
    assert check.status is Status.WARN
    assert "unknown" in check.message and "statvfs" in check.fix


@pytest.mark.parametrize(
    "server", [([], {"subsystem": f"{SFTP_SERVER} -P fsync"})], indirect=True, ids=["sftp-server-P-fsync"]
)
def test_a_server_denying_fsync_stages_without_partial_files(server: SshServer, tmp_path: Path) -> None:
    data, source, target = _stage(server, tmp_path)
    checks = _checks(data)
    assert checks["durability"]["status"] == "warn"
    assert "free-space" not in checks  # statvfs is allowed here: free space was checked
    assert "permission" not in json.dumps(data).lower()
    _same_tree(source, target)


@pytest.mark.parametrize(
    "server", [([], {"subsystem": f"{SFTP_SERVER} -P statvfs"})], indirect=True, ids=["sftp-server-P-statvfs"]
)
def test_without_statvfs_a_shell_answers_with_df(server: SshServer, tmp_path: Path) -> None:
    with open_backend(parse_location(server.url(str(tmp_path))), _access(server)) as backend:
        space = backend.space()
        assert space.free > 0 and space.total >= space.free
        assert backend.caveats() == ()


# -- 2. a banner before SFTP ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "server",
    [
        ([f"ForceCommand printf 'Welcome to FS01\\n'; exec {SFTP_SERVER}"], {}),
        # sshd runs the subsystem through the user's shell, as it does a login script's echo
        ([], {"subsystem": f"echo Welcome to FS01; exec {SFTP_SERVER}"}),
    ],
    indirect=True,
    ids=["forcecommand-banner", "shell-banner"],
)
def test_a_banner_before_sftp_is_diagnosed(server: SshServer, tmp_path: Path) -> None:
    result = runner.invoke(app, ["probe", server.url(str(tmp_path)), "--json", *_ssh_args(server)])
    assert result.exit_code == 3, result.output
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "ProtocolError"
    assert "Welcome to FS01" in error["message"] and "text instead of the SFTP protocol" in error["message"]
    assert ".bashrc" in error["hint"] and "internal-sftp" in error["hint"]
    assert "bmr itself" not in result.output and "report it" not in error["hint"]


# -- 3. MaxAuthTries: the password is still tried ----------------------------------------------------------------


@pytest.fixture
def unknown_keys(tmp_path: Path) -> list[Path]:
    """Three keys the server does not know: more than its MaxAuthTries."""
    return [_new_key(tmp_path / f"unknown{index}") for index in range(3)]


def _new_key(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


MAX_TRIES = (["MaxAuthTries 2"], {"log_level": "VERBOSE"})


@pytest.mark.parametrize("server", [MAX_TRIES], indirect=True, ids=["MaxAuthTries-2"])
def test_max_auth_tries_then_the_password_is_tried(
    server: SshServer, unknown_keys: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BMR_PASSWORD", "not-the-password")  # root has none here: the point is that it is tried
    keys = [arg for key in unknown_keys for arg in ("--ssh-key", str(key))]
    result = runner.invoke(
        app, ["probe", server.url("/tmp"), "--json", "--ssh-known-hosts", str(server.known_hosts), *keys]
    )
    assert result.exit_code == 3, result.output
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "AuthenticationFailed" and "No existing session" not in error["message"]
    assert "DOMAIN" not in error["hint"] and "authorized_keys" in error["hint"]
    log = (server.base / "sshd.log").read_text()
    assert "maximum authentication attempts exceeded" in log
    assert f"Failed password for {server.user}" in log
    assert "not-the-password" not in result.output


@pytest.mark.parametrize("server", [MAX_TRIES], indirect=True, ids=["MaxAuthTries-2"])
def test_max_auth_tries_without_a_password_is_named(server: SshServer, unknown_keys: list[Path]) -> None:
    keys = [arg for key in unknown_keys for arg in ("--ssh-key", str(key))]
    result = runner.invoke(
        app, ["probe", server.url("/tmp"), "--json", "--ssh-known-hosts", str(server.known_hosts), *keys]
    )
    assert result.exit_code == 3, result.output
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "AuthenticationFailed" and "MaxAuthTries" in error["message"]
    assert "--ssh-key" in error["hint"] and "DOMAIN" not in error["hint"]


@pytest.mark.parametrize(
    "server", [(["AuthenticationMethods publickey,password"], {"log_level": "VERBOSE"})], indirect=True,
    ids=["publickey-and-password"],
)  # fmt: skip
def test_a_server_asking_key_and_password_gets_both_in_one_session(
    server: SshServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BMR_PASSWORD", "not-the-password")
    result = runner.invoke(app, ["probe", server.url("/tmp"), "--json", *_ssh_args(server)])
    assert result.exit_code == 3, result.output
    log = (server.base / "sshd.log").read_text()
    partial = re.findall(r"Partial publickey for \S+ from 127.0.0.1 port (\d+)", log)
    failed = re.findall(r"Failed password for \S+ from 127.0.0.1 port (\d+)", log)
    assert failed and failed[0] in partial  # the key, then the password, on the same connection


# -- 4. host-key pins in every form, for every key type ---------------------------------------------------------


@pytest.fixture(scope="module")
def three_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    sshd = SshServer(tmp_path_factory.mktemp("sshd3"), key_types=("ed25519", "ecdsa", "rsa")).start()
    yield sshd
    sshd.stop()


def _forms(sshd: SshServer, kind: str) -> dict[str, str]:
    sha = sshd.fingerprint(kind)
    md5 = sshd.fingerprint(kind, "md5")
    bare = sha.removeprefix("SHA256:")
    return {
        "sha256": sha,
        "no-prefix": bare,
        "padded": sha + "=",
        "lowercase-prefix-padded": "sha256:" + bare + "=",
        "md5": md5,
        "md5-bare-colons": md5.removeprefix("MD5:"),
        "md5-plain-hex": md5.removeprefix("MD5:").replace(":", ""),
    }


FORMS = ["sha256", "no-prefix", "padded", "lowercase-prefix-padded", "md5", "md5-bare-colons", "md5-plain-hex"]


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa", "rsa"])
@pytest.mark.parametrize("form", FORMS)
def test_a_correct_pin_is_accepted_in_any_form(three_keys: SshServer, tmp_path: Path, kind: str, form: str) -> None:
    pin = _forms(three_keys, kind)[form]
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    args = ["--ssh-known-hosts", str(empty), "--ssh-key", str(three_keys.client_key), "--ssh-host-key", pin]
    result = runner.invoke(app, ["probe", three_keys.url("/tmp"), "--json", *args])
    assert result.exit_code == 0, result.output


def test_a_wrong_pin_is_refused_with_both_fingerprints(three_keys: SshServer, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    wrong = "SHA256:" + base64.b64encode(hashlib.sha256(b"another server").digest()).decode().rstrip("=")
    args = ["--ssh-known-hosts", str(empty), "--ssh-key", str(three_keys.client_key), "--ssh-host-key", wrong]
    result = runner.invoke(app, ["probe", three_keys.url("/tmp"), "--json", *args])
    assert result.exit_code == 3, result.output
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "HostKeyRejected" and wrong in error["message"]
    for kind in ("ed25519", "ecdsa", "rsa"):
        assert three_keys.fingerprint(kind) in error["message"]
    md5 = runner.invoke(app, ["probe", three_keys.url("/tmp"), "--json", *args[:-1], "MD5:" + "00:" * 15 + "00"])
    assert md5.exit_code == 3
    assert three_keys.fingerprint("rsa", "md5") in json.loads(md5.stdout)["error"]["message"]


@pytest.mark.parametrize("pin", ["SHA256:tooshort", "MD5:zz:11", "not a fingerprint at all"])
def test_a_malformed_pin_is_a_usage_error(sshd: SshServer, pin: str) -> None:
    result = runner.invoke(app, ["probe", sshd.url("/tmp"), "--json", "--ssh-host-key", pin])
    assert result.exit_code == 2, result.output
    assert "SHA256:" in json.loads(result.stdout)["error"]["message"]


# -- 5. PuTTY keys, 6. SSH hints --------------------------------------------------------------------------------


def _ppk(key_file: Path, out: Path) -> Path:
    """The client key as PuTTYgen 0.7x+ saves it unencrypted (PPK version 3)."""
    key = paramiko.Ed25519Key.from_private_key_file(str(key_file))
    public = key.asbytes()
    seed = key._signing_key.encode()  # the 32-byte private half

    def string(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data

    private = string(seed)
    comment = b"ed25519-key-bmr-test"
    mac = hmac.new(b"", b"".join(map(string, [b"ssh-ed25519", b"none", comment, public, private])), "sha256")
    pub_b64, priv_b64 = base64.b64encode(public).decode(), base64.b64encode(private).decode()
    pub_lines = [pub_b64[i : i + 64] for i in range(0, len(pub_b64), 64)]
    lines = [
        "PuTTY-User-Key-File-3: ssh-ed25519", "Encryption: none", f"Comment: {comment.decode()}",
        f"Public-Lines: {len(pub_lines)}", *pub_lines, "Private-Lines: 1", priv_b64, f"Private-MAC: {mac.hexdigest()}",
    ]  # fmt: skip
    out.write_text("\r\n".join(lines) + "\r\n")
    return out


def test_a_putty_key_is_explained(sshd: SshServer, tmp_path: Path) -> None:
    ppk = _ppk(sshd.client_key, tmp_path / "backup.ppk")
    args = ["--ssh-known-hosts", str(sshd.known_hosts), "--ssh-key", str(ppk)]
    result = runner.invoke(app, ["probe", sshd.url("/tmp"), "--json", *args])
    assert result.exit_code == 3, result.output
    error = json.loads(result.stdout)["error"]
    assert "PuTTY" in error["message"] and str(ppk) in error["message"]
    assert f"puttygen {ppk} -O private-openssh -o {tmp_path / 'backup'}" in error["hint"]
    assert "server's make" not in error["hint"]


@pytest.mark.parametrize("password", [None, "wrong-password"])
def test_ssh_logon_failures_get_ssh_hints(
    sshd: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, password: str | None
) -> None:
    if password is not None:
        monkeypatch.setenv("BMR_PASSWORD", password)
    stranger = _new_key(tmp_path / "stranger")
    args = ["--ssh-known-hosts", str(sshd.known_hosts), "--ssh-key", str(stranger)]
    result = runner.invoke(app, ["probe", sshd.url("/tmp"), "--json", *args])
    assert result.exit_code == 3, result.output
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "AuthenticationFailed"
    assert "DOMAIN" not in error["hint"] and "Windows" not in error["hint"]
    assert "--ssh-key" in error["hint"] and "authorized_keys" in error["hint"]


# -- 7. a user in the URL and in --user ------------------------------------------------------------------------


def test_two_different_users_are_refused(sshd: SshServer, tmp_path: Path) -> None:
    url = sshd.url(str(tmp_path))
    result = runner.invoke(app, ["probe", url, "--json", "--user", "someone-else", *_ssh_args(sshd)])
    assert result.exit_code == 2, result.output
    message = json.loads(result.stdout)["error"]["message"]
    assert "someone-else" in message and f"'{sshd.user}'" in message
    same = runner.invoke(app, ["probe", url, "--json", "--user", sshd.user, *_ssh_args(sshd)])
    assert same.exit_code == 0, same.output


# -- 8. the negotiated algorithms -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "cipher", "mac"),
    [
        ((["Ciphers aes256-gcm@openssh.com"], {}), "aes256-gcm@openssh.com", None),
        ((["Ciphers aes256-ctr", "MACs hmac-sha2-256"], {}), "aes256-ctr", "hmac-sha2-256"),
    ],
    indirect=["server"],
    ids=["gcm", "ctr-hmac"],
)
def test_probe_shows_the_negotiated_algorithms(server: SshServer, tmp_path: Path, cipher: str, mac: str | None) -> None:
    result = runner.invoke(app, ["probe", server.url(str(tmp_path)), "--json", *_ssh_args(server)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["cipher"], data["mac"]) == (cipher, mac)
    assert data["key_exchange"] and "curve25519" in data["key_exchange"]
    text = runner.invoke(app, ["probe", server.url(str(tmp_path)), *_ssh_args(server)])
    assert "Cipher:" in text.stdout and cipher in text.stdout and "Key exchange:" in text.stdout


@pytest.mark.parametrize("server", [NO_SHELL], indirect=True, ids=["internal-sftp-P-statvfs-fsync"])
def test_a_full_disk_it_cannot_report_is_named_as_the_likely_cause(server: SshServer, samba: SambaServer) -> None:
    small = samba.shares["small"].path  # an 8 MiB tmpfs
    with open_backend(parse_location(server.url(str(small))), _access(server)) as backend:
        with pytest.raises(errors.SpaceUnknown):
            backend.space()
        try:
            with pytest.raises(errors.ShareError) as caught, backend.open_write("full-unknown.bin") as stream:
                for _ in range(12):
                    stream.write(b"\0" * (1024 * 1024))
        finally:
            backend.remove("full-unknown.bin")
    assert "full disk" in caught.value.hint and "df" in caught.value.hint
