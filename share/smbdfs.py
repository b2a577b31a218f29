"""DFS as Windows does it: a link's referral is asked for once, its targets are tried in the order the namespace
server gave them, and the first one that answers is the one smbclient uses (its referral cache's hint).

smbclient follows referrals by itself, but tries only the first target when the others fail to connect (a down
server raises before its failover), and reaches every target server with the credentials of the call, which is
why :class:`share.smb.SmbBackend` passes them to every call. What is here only chooses targets.

WinRE's net use cannot resolve domain-based namespaces (``\\\\domain\\dfs``): a restore needs the target server's
own share, which :func:`target_unc` names.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from smbclient._pool import ClientConfig, dfs_request
from smbprotocol.exceptions import SMBException

from share import errors


@dataclass(frozen=True)
class Link:
    """A DFS link as resolved: its namespace path, its targets in the server's order and the one in use."""

    path: str  # \\namespace-server\root\link
    targets: tuple[str, ...]  # \\server\share[\folder] each
    chosen: str


def _unc(network_address: str) -> str:
    return "\\\\" + "\\".join(p for p in network_address.split("\\") if p)


def _server(network_address: str) -> str:
    return next(p for p in network_address.split("\\") if p)


def reachable(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def resolve(tree: Any, unc: str, port: int, timeout: float) -> Link | None:
    """Ask the namespace server (over ``tree``, a tree connect to the DFS root) for the referral of ``unc``; make
    the first reachable target the one used. None when ``unc`` is not below a link. Raises CannotConnect when no
    target answers."""
    try:
        response = dfs_request(tree, unc[1:])
    except (SMBException, ValueError):  # not below a link: the server says so with an error status
        return None
    config = ClientConfig()
    config.cache_referral(response)
    entry = config.lookup_referral([p for p in unc.split("\\") if p])
    if entry is None:
        return None
    targets = entry.target_list
    for target in targets:
        if reachable(_server(target.target_path), port, timeout):
            entry.target_hint = target
            return Link(_unc(entry.dfs_path), tuple(_unc(t.target_path) for t in targets), _unc(target.target_path))
    names = ", ".join(_unc(t.target_path) for t in targets)
    raise errors.CannotConnect(
        f"no target of the DFS link {_unc(entry.dfs_path)} answers on port {port} (tried in order: {names})",
        hint="Start one of the link's target servers (or fix its firewall), or give a reachable target's share "
        "directly as the location.",
    )


def target_unc(link: Link, unc: str) -> str:
    """``unc`` (at or below the link) on the target in use: the share WinRE can reach."""
    parts = [p for p in unc.split("\\") if p]
    link_parts = [p for p in link.path.split("\\") if p]
    rest = parts[len(link_parts) :]
    return "\\".join([link.chosen, *rest]) if rest else link.chosen
