"""The server's time zone: the Windows zone name its SYSTEM hive holds, as an IANA zone for "Backup time".

``TimeZoneKeyName`` (SYSTEM\\ControlSet\\Control\\TimeZoneInformation) names a Windows zone ("Pacific Standard
Time"); Unicode CLDR's windowsZones table maps it to IANA ("America/Los_Angeles"). bmr takes that table from
tzlocal (``tzlocal.windows_tz``, generated from CLDR and maintained there), never from a list typed here.
zoneinfo needs the ``tzdata`` package where the system has no zone files (Windows): it is a dependency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import win_tz

from restore.tree.model import RecoveryPoint


@dataclass(frozen=True)
class Zone:
    """A zone to show "Backup time" in, and where it came from (for the words around it)."""

    zone: tzinfo | None  # None: this machine's zone
    name: str  # "America/Los_Angeles", or "this machine's zone"
    source: str  # "--tz", "the server's SYSTEM hive (Pacific Standard Time)", "this machine"

    def to_json(self) -> dict[str, str]:
        return {"zone": self.name, "source": self.source}


LOCAL = Zone(None, "this machine's zone", "this machine (no --tz, and the server's zone is unknown)")


def iana_of(windows_name: str | None) -> str | None:
    """The IANA zone CLDR gives for a Windows zone name (its territory "001" entry); None when unknown."""
    if not windows_name:
        return None
    return win_tz.get(windows_name.strip())


def server_zone(windows_name: str | None) -> Zone | None:
    """The server's zone from its TimeZoneKeyName; None when the name is missing, unknown or has no zone data."""
    iana = iana_of(windows_name)
    if iana is None:
        return None
    try:
        return Zone(ZoneInfo(iana), iana, f"the server's SYSTEM hive ({windows_name})")
    except (ZoneInfoNotFoundError, ValueError):
        return None


def point_zone(point: RecoveryPoint) -> Zone | None:
    """The server's zone as the point's own SYSTEM hive says it (deep inspection); None when not read or unknown."""
    windows = point.contents.windows if point.contents is not None else None
    return server_zone(windows.time_zone) if windows is not None else None
