"""The server's Windows time zone name to IANA: CLDR's windowsZones table as tzlocal ships it, never typed here;
the zone "Backup time" is shown in (--tz, else the server's, else this machine's); the runbook's local time."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

from tzlocal.windows_tz import win_tz

from restore.guide.gather import _local_time
from restore.guide.versions import zone_for
from restore.tree.zones import LOCAL, iana_of, server_zone

WHEN = datetime(2020, 9, 21, 23, 0, 11, tzinfo=UTC)  # evidence.md A2b's point


def test_windows_names_map_through_cldr() -> None:
    assert iana_of("Pacific Standard Time") == "America/Los_Angeles"
    assert iana_of("W. Europe Standard Time") == "Europe/Berlin"
    assert iana_of("Tokyo Standard Time") == "Asia/Tokyo"
    assert iana_of("No Such Standard Time") is None and iana_of(None) is None and iana_of("") is None
    assert len(win_tz) > 100 and all(iana_of(name) == zone for name, zone in win_tz.items())
    zone = server_zone("Pacific Standard Time")
    assert zone is not None and zone.zone == ZoneInfo("America/Los_Angeles")
    assert zone.source == "the server's SYSTEM hive (Pacific Standard Time)"


def _point(time_zone: str | None, when: datetime = WHEN) -> Any:
    windows = SimpleNamespace(time_zone=time_zone)
    return SimpleNamespace(contents=SimpleNamespace(windows=windows), backup_time_utc=when)


def test_the_default_zone_is_the_servers_then_this_machines() -> None:
    machine = cast(Any, SimpleNamespace(recovery_points=(_point("Pacific Standard Time"),)))
    assert zone_for(machine, None).name == "America/Los_Angeles"
    assert zone_for(machine, ZoneInfo("UTC")).source == "--tz"  # --tz wins
    unknown = cast(Any, SimpleNamespace(recovery_points=(SimpleNamespace(contents=None, backup_time_utc=WHEN),)))
    assert zone_for(unknown, None) is LOCAL


def test_runbook_backup_time_is_wbadmins_on_the_day_it_is_made() -> None:
    point = _point("Pacific Standard Time")
    winter = _local_time(point, datetime(2024, 11, 12, 22, 37, tzinfo=UTC))
    summer = _local_time(point, datetime(2025, 7, 1, 18, 0, tzinfo=UTC))
    assert winter is not None and winter.text == "9/21/2020 3:00 PM"
    assert summer is not None and summer.text == "9/21/2020 4:00 PM"
    assert "America/Los_Angeles" in winter.source and "SYSTEM hive" in winter.source
    assert _local_time(_point(None), datetime(2025, 7, 1, tzinfo=UTC)) is None  # zone unknown: not shown
