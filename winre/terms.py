"""The restore's vocabulary, shared by the recovery-point model and the text: defined once, here at the bottom."""

from __future__ import annotations

import enum

# A domain controller's backup older than the tombstone lifetime cannot be restored: 180 days on forests created
# since Windows Server 2003 SP1, 60 on older ones (evidence.md: Carbonite, citing Microsoft's "useful shelf life
# of a system-state backup").
TOMBSTONE_DAYS = 180


class Purpose(enum.StrEnum):
    """What a restore is for; each needs the point to be able to recover one thing."""

    BMR = "bmr"
    SYSTEM_STATE = "systemstate"

    @property
    def needs(self) -> str:
        """What `wbadmin get versions` must list under "Can recover" for this purpose."""
        return "Bare Metal Recovery" if self is Purpose.BMR else "System State"

    @classmethod
    def parse(cls, text: str) -> Purpose:
        """A purpose as people write it: case and a space or dash do not matter ("BMR", "system-state")."""
        key = text.strip().lower().replace("-", "").replace(" ", "").replace("_", "")
        for member in cls:
            if member.value == key:
                return member
        raise ValueError(f"purpose must be 'bmr' or 'systemstate', not {text!r}")


class Scenario(enum.StrEnum):
    """What was lost: the seed's recovery matrix picks the path from it."""

    OS_DAMAGED = "os-damaged"
    SERVER_LOST_DATA_INTACT = "server-lost-data-intact"
    SERVER_LOST_DATA_LOST = "server-lost-data-lost"
