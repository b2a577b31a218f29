"""Real servers for the tests and benchmarks: Samba's smbd (restore.localsamba, with the suite's fixed test
account) and OpenSSH's sshd, on 127.0.0.1, free ports, temporary configs. A missing binary is an error,
never a skip."""

from __future__ import annotations

import getpass
import subprocess
import sys
from pathlib import Path
from typing import Any

from restore.demo import localsamba
from restore.demo.localsamba import SMB_DOMAIN, free_port, require_binary, stop_process, wait_for_port

SMB_USER = getpass.getuser()
SMB_PASSWORD = "Bmr-t3st-Passw0rd!"  # a test secret: the suite checks it never appears in any output
__all__ = ["SMB_DOMAIN", "SMB_PASSWORD", "SMB_USER", "ImpacketServer", "SambaServer", "SshServer"]


class SambaServer(localsamba.SambaServer):
    """The suite's Samba: the same server, with the fixed test account."""

    def __init__(self, base: Path, **kwargs: Any) -> None:
        super().__init__(base, user=SMB_USER, password=SMB_PASSWORD, **kwargs)


IMPACKET_SERVER = """
import binascii, sys
from impacket import ntlm, smbserver
port, folder, user, password = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
server = smbserver.SimpleSMBServer(listenAddress="127.0.0.1", listenPort=int(port))
server.addShare("SHARE", folder, "")
server.setSMB2Support(True)
nthash = binascii.hexlify(ntlm.compute_nthash(password)).decode()
server.addCredential(user, 0, "aad3b435b51404eeaad3b435b51404ee", nthash)
server.start()
"""


class ImpacketServer:
    """impacket's smbserver (a second SMB implementation, SMB 2.0.2, not always by the spec) on 127.0.0.1,
    serving ``folder`` as SHARE to the suite's test account."""

    def __init__(self, base: Path, folder: Path) -> None:
        self.base = base
        self.folder = folder
        self.port = free_port()
        self.user = "tester"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ImpacketServer:
        self.base.mkdir(parents=True, exist_ok=True)
        log = self.base / "impacket.log"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", IMPACKET_SERVER, str(self.port), str(self.folder), self.user, SMB_PASSWORD],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_for_port(self.port, self.proc, log)
        return self

    def url(self, path: str = "") -> str:
        tail = f"/{path}" if path else ""
        return f"smb://WORKGROUP;{self.user}@127.0.0.1:{self.port}/SHARE{tail}"

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None


class SshServer:
    """A private sshd with its own host key, an authorized key for the test user and internal-sftp."""

    def __init__(
        self,
        base: Path,
        extra: tuple[str, ...] = (),
        *,
        subsystem: str = "internal-sftp",
        key_types: tuple[str, ...] = ("ed25519",),
        log_level: str = "ERROR",
    ) -> None:
        self.base = base
        self.extra = extra  # more sshd_config lines: restricted ciphers, a chroot, ...
        self.subsystem = subsystem  # the `Subsystem sftp` command: internal-sftp, or sftp-server with its options
        self.key_types = key_types  # host keys, the first one in known_hosts
        self.log_level = log_level  # VERBOSE logs each refused logon ("Failed password for ...")
        self.port = free_port()
        self.user = getpass.getuser()
        self.host_key = base / f"ssh_host_{key_types[0]}_key"
        self.client_key = base / "client_ed25519"
        self.known_hosts = base / "known_hosts"
        self.conf = base / "sshd_config"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> SshServer:
        sshd = require_binary("sshd", "/usr/sbin")
        keygen = require_binary("ssh-keygen")
        self.base.mkdir(parents=True, exist_ok=True)
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege-separation directory
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(self.client_key)], check=True)
        for kind in self.key_types:
            subprocess.run([keygen, "-q", "-t", kind, "-N", "", "-f", str(self.key_file(kind))], check=True)
        (self.base / "authorized_keys").write_text(self.client_key.with_suffix(".pub").read_text())
        pub = self.host_key.with_suffix(".pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {pub[0]} {pub[1]}\n")
        self.conf.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    *(f"HostKey {self.key_file(kind)}" for kind in self.key_types),
                    f"PidFile {self.base / 'sshd.pid'}",
                    f"AuthorizedKeysFile {self.base / 'authorized_keys'}",
                    "StrictModes no",
                    "PermitRootLogin yes",
                    "PasswordAuthentication yes",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    f"Subsystem sftp {self.subsystem}",
                    f"LogLevel {self.log_level}",
                    *self.extra,
                    "",
                ]
            )
        )
        log = self.base / "sshd.log"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sshd, "-D", "-e", "-f", str(self.conf)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_for_port(self.port, self.proc, log)
        return self

    def key_file(self, kind: str) -> Path:
        return self.base / f"ssh_host_{kind}_key"

    def fingerprint(self, kind: str | None = None, hash_name: str = "sha256") -> str:
        """What `ssh-keygen -l` prints for the host key of ``kind`` (default: the first), e.g. SHA256:… or MD5:…"""
        public = self.key_file(kind).with_suffix(".pub") if kind else self.host_key.with_suffix(".pub")
        out = subprocess.run(
            ["ssh-keygen", "-l", "-E", hash_name, "-f", str(public)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return out.split()[1]

    def url(self, path: str) -> str:
        return f"sftp://{self.user}@127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None
