"""A throwaway Samba server on 127.0.0.1 (free port, private config, state and passdb in one folder).

Used by `bmr demo` to show a real SMB share without touching the machine's own Samba, and by the tests and
benchmarks as their real server. Needs Debian's ``samba`` package; run as root.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

SMB_DOMAIN = "BMRFILES"  # the server's NetBIOS name: SERVER\\user is how Windows names its local accounts


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """TERM the server's process group, then KILL it if it has not gone within 10 s."""
    if sys.platform == "win32":  # no smbd runs there (the demo uses a local folder); kept importable
        proc.kill()
        proc.wait(timeout=10)
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, proc: subprocess.Popen[bytes], log: Path, seconds: float = 15.0, address: str = "127.0.0.1"
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection((address, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open within {seconds} s:\n{log.read_text(errors='replace')[-3000:]}")


def require_binary(name: str, *extra_dirs: str) -> str:
    path = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), *extra_dirs]))
    if path is None:
        raise RuntimeError(f"'{name}' is not installed: run .ci/run or apt-get install samba smbclient openssh-server")
    return path


@dataclass
class Share:
    name: str
    path: Path
    options: dict[str, str] = field(default_factory=dict)


class SambaServer:
    """A private smbd: standalone, its own passdb with one user, signing mandatory, SMB2.1 minimum."""

    def __init__(
        self,
        base: Path,
        *,
        min_protocol: str = "SMB2_10",
        signing: str = "mandatory",
        extra_global: dict[str, str] | None = None,
        user: str | None = None,
        password: str | None = None,
        address: str = "127.0.0.1",
        port: int | None = None,
        netbios_name: str = SMB_DOMAIN,
    ) -> None:
        self.base = base
        self.address = address  # a loopback address: 127.0.0.x or ::1
        self.netbios_name = netbios_name
        self.user = user or getpass.getuser()
        self.password = password or secrets.token_urlsafe(18)
        self.extra_global = {"map to guest": "never", **(extra_global or {})}
        self.port = port or free_port(address)
        self.conf = base / "smb.conf"
        self.log = base / "smbd.log"
        self.min_protocol = min_protocol
        self.signing = signing
        self.shares: dict[str, Share] = {}
        self.mounts: list[Path] = []
        self.proc: subprocess.Popen[bytes] | None = None
        for sub in ("private", "lock", "state", "cache", "pid", "ncalrpc"):
            (base / sub).mkdir(parents=True, exist_ok=True)

    # -- configuration -----------------------------------------------------------------------------------------

    def add_share(self, name: str, path: Path | None = None, **options: str) -> Path:
        path = path or (self.base / "shares" / name)
        path.mkdir(parents=True, exist_ok=True)
        self.shares[name.lower()] = Share(name, path, {"read only": "no", **options})
        if self.proc is not None:
            self._write_conf()
            self.reload()
        return path

    def add_tmpfs_share(self, name: str, size: str = "8m", **options: str) -> Path:
        path = self.base / "tmpfs" / name
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)], check=True)
        self.mounts.append(path)
        return self.add_share(name, path, **options)

    def _write_conf(self) -> None:
        b = self.base
        lines = [
            "[global]",
            "server role = standalone server",
            "workgroup = BMRTEST",
            f"netbios name = {self.netbios_name}",
            f"smb ports = {self.port}",
            f"interfaces = {self.address}",
            "bind interfaces only = yes",
            "disable netbios = yes",
            f"private dir = {b / 'private'}",
            f"lock directory = {b / 'lock'}",
            f"state directory = {b / 'state'}",
            f"cache directory = {b / 'cache'}",
            f"pid directory = {b / 'pid'}",
            f"ncalrpc dir = {b / 'ncalrpc'}",
            f"passdb backend = tdbsam:{b / 'private' / 'passdb.tdb'}",
            f"log file = {self.log}",
            "log level = 1",
            "load printers = no",
            "printing = bsd",
            "printcap name = /dev/null",
            "disable spoolss = yes",
            f"server min protocol = {self.min_protocol}",
            f"server signing = {self.signing}",
            "smb encrypt = if_required",
            *(f"{k} = {v}" for k, v in self.extra_global.items()),
            "",
        ]
        for share in self.shares.values():
            lines.append(f"[{share.name}]")
            lines.append(f"path = {share.path}")
            lines.extend(f"{k} = {v}" for k, v in share.options.items())
            lines.append("")
        self.conf.write_text("\n".join(lines))

    # -- life cycle --------------------------------------------------------------------------------------------

    def start(self) -> SambaServer:
        smbd = require_binary("smbd", "/usr/sbin")
        smbpasswd = require_binary("smbpasswd", "/usr/bin")
        self._write_conf()
        subprocess.run(
            [smbpasswd, "-c", str(self.conf), "-a", "-s", self.user],
            input=f"{self.password}\n{self.password}\n".encode(),
            check=True,
            capture_output=True,
        )
        with open(self.base / "smbd.out", "wb") as out:
            self.proc = subprocess.Popen(
                [smbd, "--foreground", "--no-process-group", f"--configfile={self.conf}", "--debug-stdout"],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_port(self.port, self.proc, self.base / "smbd.out", address=self.address)
        return self

    def reload(self) -> None:
        assert self.proc is not None
        if sys.platform == "win32":
            raise OSError("smbd does not run on Windows")
        os.kill(self.proc.pid, signal.SIGHUP)
        time.sleep(0.3)  # smbd re-reads its config on HUP; new connections see the new shares

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None
        for mount in self.mounts:
            subprocess.run(["umount", "-l", str(mount)], check=False)
        self.mounts.clear()

    def url(self, share: str, path: str = "", user: str | None = None) -> str:
        """An smb:// URL for a share, with the account qualified by the server's name, as WinRE needs it."""
        tail = f"/{path}" if path else ""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"smb://{user or self.netbios_name + ';' + self.user}@{host}:{self.port}/{share}{tail}"
