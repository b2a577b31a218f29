"""wbadmin version identifiers: ``MM/DD/YYYY-HH:MM`` in UTC, the same instant as the ``Backup YYYY-MM-DD HHMMSS``
folder name (seconds dropped). Never derived from local time."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from winre.wbadmin import check_version

_FOLDER_RE = re.compile(r"^Backup (\d{4})-(\d{2})-(\d{2}) (\d{2})(\d{2})(\d{2})$")


def looks_like_backup_folder(name: str) -> bool:
    return name.lower().startswith("backup ")


def folder_time(name: str) -> datetime | None:
    """The UTC instant a ``Backup YYYY-MM-DD HHMMSS`` folder name stands for, or None if the name is malformed."""
    match = _FOLDER_RE.match(name)
    if not match:
        return None
    try:
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def version_of(moment: datetime) -> str:
    """The version identifier wbadmin uses for a backup taken at ``moment``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%m/%d/%Y-%H:%M")


def folder_name(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("Backup %Y-%m-%d %H%M%S")


def parse_version(text: str) -> str:
    """Validate a user-given identifier (``MM/DD/YYYY-HH:MM``); returns it normalized or raises ValueError."""
    return check_version(text)
