"""The pure text of winre against the evidence: which disks a bare metal recovery may wipe, DSRM first, the
error codes, WinRE's own traps, sub-folder targets, account names, references, wbadmin's listing and the
folding of command lines for paper."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.winre.test_runbook import _input
from winre.cmdwrap import wrap_command
from winre.errorcodes import ERROR_CODES
from winre.formats import render_html, render_markdown, render_text
from winre.references import REFERENCES
from winre.runbook import Disk, RunbookInput, Value, build_runbook
from winre.wbadmin import DISK_IDS, NO_BACKUP, ListedVersion, Restore, render_get_versions, restore_commands

PACIFIC = ZoneInfo("America/Los_Angeles")


def _commands(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.startswith("REM")]


def _bmr(scenario: str | None, all_volumes: bool = False) -> list[str]:
    return restore_commands(
        Restore("\\\\10.0.0.5\\restore", "FS02", "10/04/2020-17:48", "CORP\\svc", "bmr",
                scenario=scenario, restore_all_volumes=all_volumes)  # type: ignore[arg-type]
    )  # fmt: skip


# -- which disks a bare metal recovery may wipe (wbadmin start sysrecovery docs) --------------------------------


@pytest.mark.parametrize("scenario", [None, "os-damaged", "server-lost-data-intact"])
def test_data_disks_survive(scenario: str | None) -> None:
    lines = _bmr(scenario)
    commands = _commands(lines)
    sysrecovery = [c for c in commands if "sysrecovery" in c]
    assert len(sysrecovery) == 1 and sysrecovery[0].endswith(f"-recreateDisks -excludeDisks:{DISK_IDS}")
    assert commands.index("wbadmin get disks") < commands.index(sysrecovery[0])  # the disks are listed first
    assert not any(c.endswith("-recreateDisks") for c in commands)  # never a bare -recreateDisks
    assert any(DISK_IDS in line and "wbadmin get disks" in line for line in lines if line.startswith("REM"))
    # the other right answer: recreate nothing, offered as a REM line
    assert any(line.startswith("REM") and line.rstrip().endswith("-machine:FS02") for line in lines)
    assert "<" not in "".join(commands) and ">" not in "".join(commands)  # nothing cmd.exe would redirect


def test_data_lost_recreates_and_restores_all_volumes() -> None:
    plain = _commands(_bmr("server-lost-data-lost"))
    assert plain[-1].endswith("-machine:FS02 -recreateDisks") and "wbadmin get disks" in plain
    assert _commands(_bmr("server-lost-data-lost", all_volumes=True))[-1].endswith("-recreateDisks -restoreAllVolumes")
    assert not any("-restoreAllVolumes" in line for line in _bmr("server-lost-data-intact", all_volumes=True))


def test_runbook_passes_scenario_and_data_volumes() -> None:
    base = _input("dc-bmr")
    lost = replace(base, disks=(*base.disks, Disk("D:", 500 * 1024**3)))
    assert "-recreateDisks -restoreAllVolumes" in render_markdown(lost)
    intact = render_markdown(replace(base, scenario="server-lost-data-intact"))
    assert f"-excludeDisks:{DISK_IDS}" in intact and "wbadmin get disks" in intact
    assert not re.search(r"-recreateDisks\s*$", intact, re.MULTILINE)
    assert "'Exclude disks'" in intact


# -- DSRM before a DC's system-state restore ------------------------------------------------------------------


def test_dsrm_comes_before_the_restore() -> None:
    text = render_markdown(_input("dc-state"))
    assert text.index("bcdedit /set safeboot dsrepair") < text.index("wbadmin start systemstaterecovery")
    assert text.index("-authsysvol to the restore line ONLY") < text.index("wbadmin start systemstaterecovery")
    assert text.index("wbadmin start systemstaterecovery") < text.index("bcdedit /deletevalue safeboot")
    lines = restore_commands(Restore("\\\\10.0.0.5\\r", "DC01", "10/04/2020-17:48", "A\\b", "systemstate", True))
    dsrm = next(i for i, line in enumerate(lines) if "Directory Services Restore Mode" in line)
    assert dsrm < lines.index(_commands(lines)[-1])


# -- error codes (vsserror.h) ------------------------------------------------------------------------------------


def test_error_code_table() -> None:
    text = render_markdown(_input("dc-bmr"))
    assert "0x80042412-0x80042414" not in text
    for code in ("0x80042412", "0x80042413", "0x80042414", "0x80042401", "0x80042407", "0x80042408",
                 "0x80042404", "0x8004240A", "0x80070001", "0x8007001F"):  # fmt: skip
        assert f"**{code}:**" in text, code
    causes = {c.code: c.cause for c in ERROR_CODES}
    assert "USB" in causes["0x80042412"] and "storage driver" in causes["0x80042413"]
    assert "offline or excluded" in causes["0x80042414"]
    assert "storage driver" not in causes["0x80042412"] + causes["0x80042414"]


# -- WinRE's traps and the DC steps --------------------------------------------------------------------------


def test_winre_steps_follow_the_evidence() -> None:
    text = render_markdown(_input("dc-bmr"))
    assert "If the wizard fails (0x8007001F: a known issue of Windows 10 / Server 2019 WinRE" in text
    assert text.index("drvload D:\\") < text.index("Detach every USB disk") < text.index("wbadmin start sysrecovery")
    assert (
        "mountvol" in text and "wmic logicaldisk get caption,description" in text and "X: is WinRE's RAM disk" in text
    )
    assert "drvload X:" not in text
    assert "E1000" in text and "legacy network adapter" not in text.lower()
    assert "isolated network" in text and "untick 'Automatically restart'" in text
    assert "msDFSR-Options = 1" in text and "SYSVOL Subscription" in text
    assert "Pacific" in text and "by its version identifier" in text


def test_tombstone_warning() -> None:
    old = render_markdown(_input("dc-bmr"))  # the 2020 point, runbook made in 2026
    assert "WARN: this point is 2242 days old, older than the tombstone lifetime (180 days" in old
    young = replace(_input("dc-bmr"), age_days=None, generated_at=datetime(2021, 3, 1, tzinfo=UTC))
    assert "tombstone" not in render_markdown(young)
    assert "tombstone" in render_markdown(replace(young, age_days=181))
    member = replace(_input("multi"), age_days=400)
    assert "tombstone" not in render_markdown(member)  # only a DC's point expires


# -- sub-folder targets ---------------------------------------------------------------------------------------


def test_subfolder_target() -> None:
    deep = "\\\\10.0.0.5\\restore\\exports\\dc01"
    inp = replace(_input("dc-bmr"), backup_target=Value(deep, "the share and where WindowsImageBackup sits"))
    text = render_markdown(inp)
    gui = next(line for line in text.splitlines() if "GUI path" in line)
    assert "\\\\10.0.0.5\\DC01-restore" in gui and "\\\\10.0.0.5\\restore " not in gui  # no share root
    assert "the WinRE wizard finds images only at the root of a share" in text
    for line in _commands(restore_commands(replace(_restore(), backup_target=deep))):
        if line.startswith("wbadmin") and "-backupTarget" in line:
            assert line.count(f"-backupTarget:{deep} ") == 1 and "dc01\\exports" not in line
        if line.startswith("net use"):
            assert line.startswith("net use \\\\10.0.0.5\\restore /user:")
    given_share = replace(inp, wizard_share=Value("\\\\10.0.0.5\\dc01bmr", "--wizard-share"))
    gui = next(line for line in render_markdown(given_share).splitlines() if "GUI path" in line)
    assert "\\\\10.0.0.5\\dc01bmr" in gui
    assert "wizard" not in render_markdown(_input("dc-bmr")).split("## 4.")[0]  # a share root needs nothing


def _restore() -> Restore:
    return Restore("\\\\10.0.0.5\\restore", "DC01", "10/04/2020-17:48", "svc", "bmr")


# -- account names ---------------------------------------------------------------------------------------------


def test_account_names_for_winre() -> None:
    bare = restore_commands(_restore())
    assert "net use \\\\10.0.0.5\\restore /user:FILESERVER\\svc *" in bare
    assert any(line.startswith("REM") and "FILESERVER" in line and "'svc' has no domain" in line for line in bare)
    hinted = restore_commands(replace(_restore(), account_hint="FS01"))
    assert "net use \\\\10.0.0.5\\restore /user:FS01\\svc *" in hinted
    for account in ("CORP\\svc", "svc@corp.example"):
        lines = restore_commands(replace(_restore(), account=account))
        assert f"/user:{account} *" in "\n".join(lines) and not any("no domain" in line for line in lines)
    runbook = render_markdown(replace(_input("sysstate"), account=Value("svc", "--user"), account_hint="FS01"))
    assert "/user:FS01\\svc *" in runbook and "/user:svc " not in runbook


# -- references ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dc-bmr", "dc-state", "sysstate"])
def test_every_cited_source_is_listed(kind: str) -> None:
    sections = build_runbook(_input(kind))
    listed = dict(sections[-1].facts)
    assert sections[-1].title.endswith("References") and not sections[-1].steps
    assert set(listed.values()) <= set(REFERENCES.values())
    cited = {int(n) for s in sections for step in s.steps for group in re.findall(r"\[([\d, ]+)\]$", step.text)
             for n in group.split(", ")}  # fmt: skip
    assert cited and cited <= {int(k.strip("[]")) for k in listed}
    inp = _input(kind)
    for text, box in ((render_markdown(inp), "- [ ]"), (render_text(inp), "[ ]"), (render_html(inp), "checkbox")):
        assert text.rindex("References") > text.rindex(box)  # the list closes the runbook


# -- wbadmin get versions --------------------------------------------------------------------------------------


SUMMER = datetime(2020, 10, 4, 18, 0, tzinfo=UTC)  # a listing made while PDT is in force
WINTER = datetime(2024, 11, 12, 22, 37, tzinfo=UTC)  # the A2b session: PST in force


def test_get_versions_repeats_the_target_as_typed() -> None:
    point = ListedVersion(datetime(2020, 10, 4, 17, 48, 38, tzinfo=UTC), "10/04/2020-17:48", ("Volume(s)", "File(s)"))
    typed = render_get_versions([point], "\\\\10.10.14.15\\share\\", True, PACIFIC, SUMMER)
    assert typed.splitlines() == [
        "Backup time: 10/4/2020 10:48 AM",  # listed while PDT is in force
        "Backup location: Network Share labeled \\\\10.10.14.15\\share\\",
        "Version identifier: 10/04/2020-17:48",
        "Can recover: Volume(s), File(s)",
    ]
    bare = render_get_versions([point], "\\\\10.10.14.15\\share", True, PACIFIC, SUMMER)
    assert "Backup location: Network Share labeled \\\\10.10.14.15\\share\n" in bare + "\n"


# evidence.md A2b: one listing made on 2024-11-12 (PST in force), two points, oldest first, exactly as printed.
A2B_POINTS = [
    ListedVersion(datetime(2024, 11, 12, 20, 23, 5, tzinfo=UTC), "11/12/2024-20:23", ("Volume(s)", "File(s)"),
                  "\\\\10.10.14.22\\smbshare"),
    ListedVersion(datetime(2020, 9, 21, 23, 0, 11, tzinfo=UTC), "09/21/2020-23:00", ("Volume(s)", "File(s)"),
                  "\\\\10.10.14.4\\blackfieldA"),
]  # fmt: skip
A2B_WINTER = """Backup time: 9/21/2020 3:00 PM
Backup location: Network Share labeled \\\\10.10.14.4\\blackfieldA
Version identifier: 09/21/2020-23:00
Can recover: Volume(s), File(s)

Backup time: 11/12/2024 12:23 PM
Backup location: Network Share labeled \\\\10.10.14.22\\smbshare
Version identifier: 11/12/2024-20:23
Can recover: Volume(s), File(s)"""


def test_a2b_listing_in_winter_uses_the_offset_in_force_now() -> None:
    # 23:00 UTC on 21 September is 4:00 PM by its own date's offset (PDT), yet wbadmin printed 3:00 PM in November
    assert render_get_versions(A2B_POINTS, "\\\\ignored\\x", True, PACIFIC, WINTER) == A2B_WINTER


def test_a2b_listing_in_summer_prints_the_same_points_an_hour_later() -> None:
    summer = datetime(2025, 7, 1, 18, 0, tzinfo=UTC)  # a write-up session in summer: PDT in force
    text = render_get_versions(A2B_POINTS, "\\\\ignored\\x", True, PACIFIC, summer)
    assert text == A2B_WINTER.replace("9/21/2020 3:00 PM", "9/21/2020 4:00 PM").replace(
        "11/12/2024 12:23 PM", "11/12/2024 1:23 PM"
    )
    # the identifiers never move
    assert re.findall(r"Version identifier: .*", text) == re.findall(r"Version identifier: .*", A2B_WINTER)


def test_get_versions_uses_the_offset_in_force_when_listed_not_each_dates_rules() -> None:
    january = ListedVersion(datetime(2021, 1, 15, 17, 48, tzinfo=UTC), "01/15/2021-17:48", ("Volume(s)",))
    october = ListedVersion(datetime(2020, 10, 4, 17, 48, 38), "10/04/2020-17:48", ("Volume(s)",))  # naive: UTC
    text = render_get_versions([january, october], "\\\\10.0.0.5\\r", True, PACIFIC, SUMMER)
    blocks = text.split("\n\n")
    # listed in summer: the January point too gets PDT (10:48 AM, not 9:48 AM)
    assert [b.splitlines()[0] for b in blocks] == ["Backup time: 10/4/2020 10:48 AM", "Backup time: 1/15/2021 10:48 AM"]
    assert all(len(b.splitlines()) == 4 for b in blocks) and "\n\n\n" not in text
    winter = render_get_versions([january, october], "\\\\10.0.0.5\\r", True, PACIFIC, WINTER)
    assert [b.splitlines()[0] for b in winter.split("\n\n")] == [
        "Backup time: 10/4/2020 9:48 AM",
        "Backup time: 1/15/2021 9:48 AM",
    ]


def test_get_versions_with_nothing() -> None:
    empty = render_get_versions([], "\\\\10.0.0.5\\r", True, PACIFIC, WINTER)
    assert empty == NO_BACKUP == "ERROR - No backup was found."


# -- folding command lines for paper -------------------------------------------------------------------------


@given(st.lists(st.text(alphabet="abcdefghij-:\\/.0123456789", min_size=1, max_size=30), min_size=1, max_size=12),
       st.integers(min_value=20, max_value=100))  # fmt: skip
def test_wrap_never_splits_a_token(tokens: list[str], width: int) -> None:
    line = " ".join(tokens)
    folded = wrap_command(line, width)
    assert [t for part in folded for t in part.split() if t != "^"] == tokens
    assert all(part.endswith(" ^") for part in folded[:-1]) and not folded[-1].endswith("^")
    assert all(len(part) <= width or len(part.split()) <= 2 for part in folded)  # only a lone long token overflows


def test_wrap_keeps_quotes_and_remarks() -> None:
    line = 'wbadmin get versions -backupTarget:"\\\\10.0.0.5\\dr share" -machine:DC01'
    assert wrap_command(line, 40) == ["wbadmin get versions ^", '  -backupTarget:"\\\\10.0.0.5\\dr share" ^',
                                      "  -machine:DC01"]  # fmt: skip
    remark = wrap_command("REM " + "word " * 20, 30)
    assert all(part.startswith("REM") and "^" not in part for part in remark)


def test_runbook_input_defaults_keep_old_callers_working() -> None:
    fields = {f.name: f for f in dataclasses.fields(RunbookInput)}
    for name in ("blocking", "age_days", "wizard_share", "account_hint", "data_volumes"):
        assert fields[name].default is not dataclasses.MISSING, name  # restore/ need not pass it


def test_html_sets_an_overlong_token_smaller() -> None:
    deep = "\\\\10.0.0.5\\restore\\" + "\\".join(["a-very-long-folder-name"] * 4)
    page = render_html(replace(_input("dc-bmr"), backup_target=Value(deep, "test")))
    assert '<span style="font-size: ' in page and f"-backupTarget:{deep}" in page  # whole, only smaller
