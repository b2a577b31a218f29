"""The file server's side of a share, over SSH: Samba's configured path for the share, and its free space."""

from __future__ import annotations

import shlex

from restore.checks.check import Check, failed, passed, warned
from restore.tree.model import TREE_NAME
from restore.units import human_bytes
from share import errors
from share.connect import Access, open_backend
from share.location import Location


def server_share_check(ssh: Location, access: Access, share: str, unc: str, smb_conf: str | None = None) -> Check:
    """Ask ``testparm`` which folder ``share`` is, and whether WindowsImageBackup sits right in it."""
    try:
        backend = open_backend(ssh, access.for_other(ssh))  # --user is the share's account, not the SSH one
    except errors.ShareError as exc:
        return failed("server-share", f"cannot log on to {ssh.host} over SSH: {exc}", exc.hint)
    with backend:
        if not backend.features.server_commands:
            return warned("server-share", f"{ssh.display()} cannot run commands", "give an ssh user@host")
        command = ["testparm", "-s", f"--section-name={share}", "--parameter-name=path"]
        if smb_conf:
            command.append(smb_conf)
        status, out = backend.run(" ".join(shlex.quote(c) for c in command) + " 2>/dev/null")
        path = out.strip().splitlines()[-1].strip() if out.strip() else ""
        if status != 0 or not path.startswith("/"):
            return warned(
                "server-share",
                f"testparm on {ssh.host} did not name a path for share '{share}' (not Samba, or no access)",
                "check the share definition on the file server by hand",
            )
        quoted = shlex.quote(path)
        _status, names_text = backend.run(f"ls -1A -- {quoted}")
        names = names_text.split()
        _status, df = backend.run(f"df -P -B1 -- {quoted}")
        free = _df_free(df)
        space = f"; {human_bytes(free)} free there" if free is not None else ""
        if TREE_NAME in names:
            return passed(
                "server-share",
                f"share '{share}' is {path} on {ssh.host}, which holds WindowsImageBackup{space}",
                path=path,
                free=free,
            )
        wrong = [n for n in names if n.lower() == TREE_NAME.lower()]
        hint = f" (it has '{wrong[0]}': rename it to WindowsImageBackup)" if wrong else ""
        return failed(
            "server-share",
            f"share '{share}' is {path} on {ssh.host}, which does not hold WindowsImageBackup{hint}{space}",
            f"point the share's path at the folder that holds WindowsImageBackup, so that {unc}\\WindowsImageBackup "
            "exists",
            path=path,
            free=free,
        )


def _df_free(text: str) -> int | None:
    try:
        return int(text.strip().splitlines()[-1].split()[3])
    except (IndexError, ValueError):
        return None
