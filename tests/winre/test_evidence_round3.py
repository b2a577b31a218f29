"""evidence.md, last rows of the failure table (round three): the error codes vsserror.h adds or corrects, the
critical-disk rule beside every -excludeDisks, netsh by index, the wizard's first notice, KB 2961238, the role
steps, and "Backup time" as wbadmin prints it on the day the runbook is made. Pure text: fast tier."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tests.winre.test_runbook import _input
from winre.errorcodes import ERROR_CODES
from winre.formats import render_html, render_markdown, render_text
from winre.runbook import ImageContents, Value
from winre.wbadmin import Restore, restore_commands

CODES = {c.code: c for c in ERROR_CODES}


def _intact_bmr() -> list[str]:
    return restore_commands(
        Restore("\\\\10.0.0.5\\restore", "FS02", "10/04/2020-17:48", "CORP\\svc", "bmr",
                scenario="server-lost-data-intact")  # type: ignore[arg-type]
    )  # fmt: skip


def test_new_and_corrected_error_codes() -> None:
    assert {"0x80042415", "0x80042402", "0x80042403", "0x80042406"} <= set(CODES)
    assert "critical at backup" in CODES["0x80042415"].cause
    assert "never exclude a disk that held a critical volume" in CODES["0x80042415"].action
    assert "data to keep" in CODES["0x80042415"].action  # what to do when that disk also holds data
    assert "BACKUP-time" in CODES["0x80042404"].cause and "online" in CODES["0x80042404"].action
    assert "too few" in CODES["0x80042401"].cause and "too small" in CODES["0x80042401"].cause
    assert "active in the BIOS" in CODES["0x80042406"].cause and "restart" in CODES["0x80042403"].cause
    wizard = CODES["0x8007001F"]
    assert "Server 2019" in wizard.cause and "physical machines too" in wizard.cause and "work" in wizard.action
    text = render_markdown(_input("dc-bmr"))
    for code in ("0x80042415", "0x80042402", "0x80042403", "0x80042406"):
        assert f"**{code}:**" in text


def test_every_exclude_disks_line_carries_the_critical_disk_rule() -> None:
    lines = _intact_bmr()
    for index, line in enumerate(lines):
        if "-excludeDisks" in line and not line.startswith("REM"):
            near = " ".join(lines[max(0, index - 3) : index])
            assert "0x80042415" in near and "never exclude a disk that held a critical volume" in near
    assert any("-excludeDisks" in line and not line.startswith("REM") for line in lines)
    intact = render_markdown(replace(_input("dc-bmr"), scenario="server-lost-data-intact"))
    wizard = next(line for line in intact.splitlines() if "'Exclude disks'" in line)
    assert "0x80042415" in wizard and "copy that data off first" in wizard


def test_static_address_by_interface_index() -> None:
    text = render_markdown(_input("dc-bmr"))
    assert text.index("netsh interface ipv4 show interface") < text.index(
        "netsh interface ipv4 set address NIC_INDEX static"
    )
    assert "NIC_INDEX" in text and '"Ethernet"' not in text and "localized WinRE" in text


def test_the_wizard_first_notice_is_cancelled() -> None:
    text = render_markdown(_input("dc-bmr"))
    gui = next(line for line in text.splitlines() if "GUI path" in line)
    assert gui.index("Cancel that notice") < gui.index("Search for a system image on the network")


def _contents(media: str | None, firmware: str | None) -> ImageContents:
    return ImageContents(firmware=firmware, install_media=media, disk_sizes=(80 * 1024**3,))


@pytest.mark.parametrize(
    ("contents", "shown"),
    [
        (None, True),  # unknown version: the step is there for who needs it
        (_contents("Windows Server 2012 R2 Standard, build 9600, x64, UEFI", "UEFI"), True),
        (_contents("Windows Server 2012 Datacenter, build 9200, x64, UEFI", "UEFI"), True),
        (_contents("Windows Server 2019 Standard, build 17763, x64, UEFI", "UEFI"), False),
        (_contents("Windows Server 2012 R2 Standard, build 9600, x64, BIOS", "BIOS"), False),
    ],
)
def test_catalog_reset_after_a_2012_uefi_bmr(contents: ImageContents | None, shown: bool) -> None:
    text = render_markdown(replace(_input("dc-bmr"), contents=contents))
    after = text[text.index("After the restore") :]
    assert ("wbadmin delete catalog" in after) is shown
    if shown:
        assert "KB 2961238" in text[text.rindex("References") :]
    assert "wbadmin delete catalog" not in render_markdown(_input("dc-state"))  # system state: no BMR


def test_no_special_role_line_only_without_roles() -> None:
    listed = render_markdown(_input("dc-state"))
    assert "No special role" not in listed and "domain-controller" in listed
    assert "No special role" in render_markdown(_input("sysstate"))


def test_backup_time_as_wbadmin_prints_it_now_in_the_runbook() -> None:
    local = Value("10/4/2020 9:48 AM", "America/Los_Angeles, the server's SYSTEM hive (Pacific Standard Time)")
    inp = replace(_input("dc-bmr"), backup_time_local=local)
    for text in (render_markdown(inp), render_text(inp), render_html(inp)):
        flat = " ".join(re.sub(r"<[^>]+>", "", text).split())
        assert "Backup time (as wbadmin prints it now)" in flat and "10/4/2020 9:48 AM" in flat
        assert "moves by an hour across a daylight-saving change" in flat
    text = render_markdown(inp)
    refs = text[text.rindex("References") :]
    assert "FileTimeToLocalFileTime" in refs and "2024-11-12" in refs and "windowsZones" in refs
    assert "as wbadmin prints it now" not in render_markdown(_input("dc-bmr"))  # unknown: not shown


@pytest.mark.parametrize("kind", ["dc-bmr", "dc-state", "sysstate", "multi"])
def test_every_cited_number_is_in_the_list(kind: str) -> None:
    inp = replace(_input(kind), backup_time_local=Value("x", "y"), scenario="server-lost-data-intact")
    text = render_markdown(inp)
    listed = set(re.findall(r"^- \*\*\[(\d+)\]:\*\*", text, re.MULTILINE))
    cited = {
        n for group in re.findall(r"\[(\d+(?:, \d+)*)\]", text[: text.rindex("References")]) for n in group.split(", ")
    }
    assert cited and cited == listed
