"""VSS writers that take part in system-state and BMR backups, and what their presence says about the server.

Writer files (``<id>_Writer<writer>.xml``) are written even for a volume-only backup (evidence.md, A1): they say
what RAN on the server. What a point can restore comes from its BackupSpecs.xml (SystemState, AllCritical,
ComponentSpecs); a writer flagged ``system_state`` here is part of the system state such a point holds.
"""

from __future__ import annotations

from dataclasses import dataclass

ASR = "be000cbe-11fe-4426-9c58-531aa6355fc4"
SYSTEM = "e8132975-6f93-4464-a53e-1050253ae220"
NTDS = "b2014c9e-8711-4c5c-a5a9-3cf384484757"
DFSR = "2707761b-2324-473d-88eb-eb007a359533"
FRS = "d76f5a28-3092-4589-ba48-2958fb88ce29"
REGISTRY = "afbab4a2-367d-4d15-a586-71dbb18f8485"


@dataclass(frozen=True)
class Writer:
    id: str
    name: str
    role: str | None = None
    application: bool = False  # recovering its data is "Application(s)" recovery in wbadmin's words
    system_state: bool = False  # its data is part of system state (A4: `wbadmin get items` lists AD, SYSVOL)


WRITERS: dict[str, Writer] = {
    w.id: w
    for w in (
        Writer(NTDS, "NTDS", "domain-controller", application=True, system_state=True),
        Writer(DFSR, "DFS Replication service writer", None, application=True, system_state=True),
        Writer(FRS, "FRS Writer", system_state=True),
        Writer("41e12264-35d8-479b-8e5c-9b23d1dad37e", "Cluster Database", "cluster-node", True, True),
        Writer("6f5b15b5-da24-4d88-b737-63063e3a1f86", "Certificate Authority", "certificate-authority", True, True),
        Writer(ASR, "ASR Writer"),
        Writer(SYSTEM, "System Writer", system_state=True),
        Writer(REGISTRY, "Registry Writer", system_state=True),
        Writer("542da469-d3e1-473c-9f4f-7847f01fc64f", "COM+ REGDB Writer", system_state=True),
        Writer("a6ad56c2-b509-4e6c-bb19-49d8f43532f0", "WMI Writer"),
        Writer("4dc3bdd4-ab48-4d07-adb0-3bee2926fd7f", "Shadow Copy Optimization Writer"),
        Writer("d61d61c8-d73a-4eee-8cdd-f6f9786b7124", "Task Scheduler Writer"),
        Writer("75dfb225-e2e4-4d39-9ac9-ffaff65ddf06", "VSS Metadata Store Writer"),
        Writer("0bada1de-01a9-4625-8278-69e735f39dd2", "Performance Counters Writer"),
        Writer("2a40fd15-dfca-4aa8-a654-1f8c654603f6", "IIS Config Writer", "web-server", True, True),
        Writer("59b1f0cf-90ef-465f-9609-6ca8b2938366", "IIS Metabase Writer", "web-server", True, True),
        Writer("cd3f2362-8bef-46c7-9181-d62844cdc0b2", "MSSearch Service Writer"),
        Writer("66841cd4-6ded-4f4b-8f17-fd23f8ddc3de", "Microsoft Hyper-V VSS Writer", "hyper-v-host", True),
        Writer("a65faa63-5ea8-4ebc-9dbd-a0c4db26912a", "SqlServerWriter", "sql-server", application=True),
        Writer("76fe1ac4-15f7-4bcd-987e-8e1acb462fb7", "Microsoft Exchange Writer", "exchange-server", True),
        Writer("be9ac81e-3619-421f-920f-4c6fea9e93ad", "DHCP Jet Writer", "dhcp-server", application=True),
        Writer("f08c1483-8407-4a26-8c26-6c267a629741", "WINS Jet Writer", "wins-server", application=True),
    )
}


def name_of(writer_id: str) -> str:
    known = WRITERS.get(writer_id.lower())
    return known.name if known else f"unknown writer {{{writer_id}}}"


def roles_of(writer_ids: set[str]) -> list[str]:
    roles = {WRITERS[w].role for w in writer_ids if w in WRITERS and WRITERS[w].role}
    return sorted(r for r in roles if r)


def has_applications(writer_ids: set[str]) -> bool:
    return any(w in WRITERS and WRITERS[w].application for w in writer_ids)


def system_state_writers(writer_ids: set[str]) -> set[str]:
    """The writers among ``writer_ids`` whose data a system-state point holds."""
    return {w for w in writer_ids if w in WRITERS and WRITERS[w].system_state}


def can_recover(*, volumes: bool, system_state: bool, all_critical: bool, components: set[str]) -> tuple[str, ...]:
    """wbadmin's "Can recover" from what the point HOLDS (BackupSpecs.xml), never from the writer files.

    evidence.md, "Rules the real outputs support": an -allCritical point lists Volume(s), File(s), Application(s),
    Bare Metal Recovery and System State; a system-state point lists Application(s) (the registry counts as one,
    A4); a volume-only point lists Volume(s), File(s) only, whatever writer files lie next to it (A1, A2). A point
    whose ComponentSpecs name an application writer (SQL, Hyper-V, ...) holds that application (inferred).
    """
    out: list[str] = []
    if volumes:
        out += ["Volume(s)", "File(s)"]
    if all_critical or system_state or has_applications(components):
        out.append("Application(s)")
    if all_critical:
        out.append("Bare Metal Recovery")
    if all_critical or system_state:
        out.append("System State")
    return tuple(out)
