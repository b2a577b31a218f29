"""Command lines and runbooks: golden files for three kinds of point, wbadmin syntax, and the HTML printed by a
real headless Chromium (pages, nothing cut), the PDF's text, and the CLI against the real Samba."""

from __future__ import annotations

import io
import json
import os
import re
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from restore.cli.app import app
from share.connect import negotiate, parse_location
from tests.lib.chromium import chromium as _chromium
from tests.lib.servers import SMB_DOMAIN, SMB_PASSWORD, SMB_USER, SambaServer
from tests.lib.treebuilder import ImageCache, bmr_dc, files_only, system_state_only, write_tree
from winre.formats import render_html, render_markdown, render_pdf, render_text
from winre.runbook import CheckLine, Disk, PreflightSummary, RunbookInput, Value, build_runbook
from winre.wbadmin import Restore, restore_commands

runner = CliRunner()
GOLDEN = Path(__file__).parent / "golden"
WHEN = datetime(2020, 10, 4, 17, 48, 38, tzinfo=UTC)
GENERATED = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def _input(kind: str) -> RunbookInput:
    """dc-bmr: a DC's BMR, data lost; dc-state: a DC's system state; sysstate and multi: a member server's."""
    dc = kind in ("dc-bmr", "dc-state")
    bmr = kind == "dc-bmr"
    return RunbookInput(
        location="smb://CORP;svc-restore@10.0.0.5/restore",
        machine=Value("DC01" if dc else ("APP01" if kind == "sysstate" else "FS02"), "the computer folder"),
        version=Value("10/04/2020-17:48", "the folder name 'Backup 2020-10-04 174838' (UTC)"),
        backup_time_utc=WHEN,
        can_recover=("Volume(s)", "File(s)", "Application(s)", "Bare Metal Recovery", "System State")
        if dc
        else ("Volume(s)", "File(s)", "System State"),
        roles=("domain-controller",) if dc else (),
        purpose="bmr" if bmr else "systemstate",
        scenario="server-lost-data-lost" if bmr else "os-damaged",
        backup_target=Value("\\\\10.0.0.5\\restore", "the share"),
        share_folder=Value("this location's folder", "where WindowsImageBackup was found"),
        account=Value("CORP\\svc-restore", "the location"),
        disks=(Disk("EFI system partition", 100 * 1024**2), Disk("C:", 80 * 1024**3)),
        generated_at=GENERATED,
        tool_version="0.0.0-test",
        preflight=PreflightSummary(
            "warn",
            GENERATED,
            (CheckLine("connect", "pass", "TCP 10.0.0.5:445 answers"), CheckLine("unc-name", "warn", "named by host")),
        ),
        several_machines=kind == "multi",
        age_days=None if kind == "dc-bmr" else 30,  # the DC BMR point is the real 2020 one: past the tombstone
    )


@pytest.mark.parametrize("kind", ["dc-bmr", "dc-state", "sysstate", "multi"])
@pytest.mark.parametrize(("ext", "render"), [("md", render_markdown), ("txt", render_text), ("html", render_html)])
def test_golden(kind: str, ext: str, render: object) -> None:
    text = render(_input(kind))  # type: ignore[operator]
    path = GOLDEN / f"{kind}.{ext}"
    if os.environ.get("BMR_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path} differs: rerun with BMR_UPDATE_GOLDEN=1 and review"


def test_runbook_content_rules() -> None:
    dc = render_markdown(_input("dc-bmr"))
    assert "bcdedit" not in dc  # a BMR runs from WinRE: no DSRM
    assert "msDFSR-Options = 1" in dc and "First DC restored in the domain only" in dc
    assert "regular MABS/DPM recovery of the data" in dc  # server-lost-data-lost adds the data recovery
    assert "Search for a system image on the network" in dc and "wpeinit" in dc and "drvload" in dc
    assert "Password: ______" in dc
    assert "0.0.0-test" in dc and "2026-11-25 03:00 UTC" in dc  # tool version and generation time
    state = render_markdown(_input("sysstate"))
    assert "wbadmin start systemstaterecovery -version:10/04/2020-17:48" in state and "bcdedit" not in state
    assert "sysrecovery" not in state
    assert "-machine:FS02 is required" in render_markdown(_input("multi"))
    titles = [s.title for s in build_runbook(_input("dc-bmr"))]
    assert [t.split(" ")[0] for t in titles] == [f"{n}." for n in range(1, len(titles) + 1)]
    assert titles[-1].endswith("References")


WBADMIN = {
    "net": re.compile(r"^net use (\\\\[\d.]+\\\S+|\"\\\\[\d.]+\\[^\"]+\") /user:\S+\\\S+ \*$"),
    "get": re.compile(r"^wbadmin get versions -backupTarget:(\\\\[\d.]+\\\S+|\"[^\"]+\") -machine:\S+$"),
    "ss": re.compile(
        r"^wbadmin start systemstaterecovery -version:\d\d/\d\d/\d{4}-\d\d:\d\d -backupTarget:\S+ -machine:\S+"
        r"( -authsysvol)?$"
    ),
    "bmr": re.compile(
        r"^wbadmin start sysrecovery -version:\d\d/\d\d/\d{4}-\d\d:\d\d -backupTarget:\S+ -machine:\S+"
        r" -recreateDisks( -excludeDisks:[A-Z_]+| -restoreAllVolumes)?$"
    ),
}


@pytest.mark.parametrize(("purpose", "dc", "auth"), [("bmr", True, False), ("systemstate", True, True),
                                                    ("systemstate", False, False)])  # fmt: skip
def test_command_syntax(purpose: str, dc: bool, auth: bool) -> None:
    lines = restore_commands(
        Restore("\\\\10.0.0.5\\restore", "DC01", "10/04/2020-17:48", "CORP\\svc", purpose, dc, auth)
    )  # type: ignore[arg-type]
    commands = [line for line in lines if not line.startswith("REM")]
    assert WBADMIN["net"].match(commands[0]) and WBADMIN["get"].match(commands[1])
    assert WBADMIN["ss" if purpose == "systemstate" else "bmr"].match(commands[-1]), commands[-1]
    assert commands[-1].endswith("-authsysvol") is auth
    assert any("wipes" in line for line in lines) is (purpose == "bmr")
    assert not any("-backuptarget " in line.lower() for line in lines)  # the seed's broken form


def test_quoting_and_refusals() -> None:
    lines = restore_commands(Restore("\\\\10.0.0.5\\dr share", "DC01", "10/04/2020-17:48", "CORP\\svc", "bmr"))
    assert 'net use "\\\\10.0.0.5\\dr share" /user:CORP\\svc *' in lines
    assert any('-backupTarget:"\\\\10.0.0.5\\dr share"' in line for line in lines)
    for bad in (
        Restore("\\\\10.0.0.5\\r", "DC01", "10/4/2020-17:48", "A\\b", "bmr"),
        Restore("\\\\10.0.0.5\\r", "FS01", "10/04/2020-17:48", "A\\b", "systemstate", False, True),
    ):
        with pytest.raises(ValueError):
            restore_commands(bad)


# -- printed: headless Chromium and the PDF -------------------------------------------------------------------


def _page_texts(data: bytes) -> list[str]:
    """Each page's text, ligatures (Chromium's "fi") unfolded."""
    return [unicodedata.normalize("NFKC", page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


def _printed_rules(pages: list[str], inp: RunbookInput) -> None:
    """What every printed runbook must show: each sheet names the server and the point and says "page N of M";
    every token of every command line arrives whole on one line (never broken at a hyphen or the margin)."""
    for number, text in enumerate(pages, start=1):
        assert inp.machine.text in text and inp.version.text in text, f"page {number} lacks the server or point"
        assert f"page {number} of {len(pages)}" in text, f"page {number} lacks 'page {number} of {len(pages)}'"
    lines = [line.strip() for text in pages for line in text.splitlines()]
    joined = re.sub(r"\s+", "", "".join(pages))
    squeezed = [re.sub(r"\s+", "", text) for text in pages]
    for section in build_runbook(inp):
        assert re.sub(r"\s+", "", section.title) in joined, section.title
        for step in section.steps:
            for line in step.code:
                for token in line.split():
                    assert any(token in printed.split() or token in printed for printed in lines), (token, line)
            if step.code:  # a step is kept together: its text and its last command line share a sheet
                head = re.sub(r"\s+", "", step.text)[:40]
                page = next(i for i, text in enumerate(squeezed) if head in text)
                tail = re.sub(r"\s+", "", step.code[-1])[-20:]
                assert tail in squeezed[page], (step.text, page + 1)


@pytest.mark.servers  # Chromium
@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_html_prints_in_chromium(tmp_path: Path, paper: str) -> None:
    inp = _input("dc-bmr")
    page = render_html(inp).replace("@page {", f"@page {{ size: {paper};")
    html_file = tmp_path / "runbook.html"
    html_file.write_text(page, encoding="utf-8")
    pdf = tmp_path / "runbook.pdf"
    _chromium(html_file, pdf, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    pages = _page_texts(pdf.read_bytes())
    # sections flow (it was 7 pages, one per section); 5 since round three's error codes, steps and sources
    assert len(pages) <= 5, len(pages)
    _printed_rules(pages, inp)
    assert any(line.rstrip().endswith(" ^") for text in pages for line in text.splitlines())  # folds are marked
    shot = tmp_path / "runbook.png"
    _chromium(html_file, shot, f"--screenshot={shot}", "--window-size=900,1300")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    assert "<script" not in page and "http" not in page.split("<body>")[0]  # self-contained, no assets


def test_html_print_rules_in_css() -> None:
    page = render_html(_input("dc-bmr"))
    css = page.split("<style>")[1].split("</style>")[0]
    assert "break-before: page" not in css  # sections flow
    assert 'counter(page) " of " counter(pages)' in css and "DC01 - version 10/04/2020-17:48" in css
    pre = css.split("pre {")[1].split("}")[0]
    assert "white-space: pre;" in pre and "hyphens: none" in pre and "word-break: keep-all" in pre
    for token in ("-backupTarget", "-recreateDisks", "10/04/2020-17:48", "\\\\10.0.0.5\\restore"):
        assert f'<span class="t">{token}' in page, token  # never broken at its hyphen or backslash


@pytest.mark.servers  # Chromium
@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_pdf_text(paper: str) -> None:
    inp = _input("dc-bmr")
    pages = _page_texts(render_pdf(inp, paper=paper))
    text = "\n".join(pages)
    assert len(pages) <= 4, len(pages)  # was 7: a page per section
    for needle in ("Restore runbook: DC01", "10/04/2020-17:48", "wbadmin start sysrecovery", "msDFSR-Options = 1",
                   "0.0.0-test", "Password: ____", "References"):  # fmt: skip
        assert needle in text, needle
    _printed_rules(pages, inp)
    assert any(line.rstrip().endswith(" ^") for line in text.splitlines())


def test_fail_banner_opens_every_format() -> None:
    inp = replace(_input("sysstate"), blocking=("FAIL share-root: the share is WindowsImageBackup itself; share "
                                                "the folder above it",))  # fmt: skip
    md, txt, page = render_markdown(inp), render_text(inp), render_html(inp)
    assert md.startswith("> **FAIL:") and "share the folder above it" in md.split("# Restore runbook")[0]
    assert txt.startswith("!!!") and "!! FAIL:" in txt.split("RESTORE RUNBOOK")[0]
    body = page.split("<body>")[1]
    assert body.lstrip().startswith('<div class="fail"') and body.index("FAIL:") < body.index("<h1>")
    first = _page_texts(render_pdf(inp))[0]
    assert first.index("FAIL:") < first.index("Restore runbook: APP01, system state recovery\nGenerated")
    assert "FAIL:" not in render_markdown(_input("sysstate"))


# -- CLI against the real Samba ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tree_share(samba: SambaServer, images: ImageCache) -> str:
    root = samba.base / "runbook-share"
    write_tree(root, {"DC01": bmr_dc(), "APP01": system_state_only(), "FS01": files_only()}, images)
    samba.add_share("rb", root)
    return samba.url("rb")


def test_commands_cli(tree_share: str, password_env: str) -> None:
    args = ["--password-env", password_env, "--json"]
    result = runner.invoke(app, ["commands", tree_share, "--machine", "dc01", *args])
    assert result.exit_code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["backup_target"] == "\\\\127.0.0.1\\rb" and data["purpose"] == "bmr"
    assert "net use \\\\127.0.0.1\\rb /user:BMRFILES\\root *" in data["lines"]
    assert SMB_PASSWORD not in result.stdout
    several = runner.invoke(app, ["commands", tree_share, *args])
    assert several.exit_code == 1 and "APP01, DC01, FS01" in several.stdout
    missing = runner.invoke(app, ["commands", tree_share, "-m", "DC01", "--version", "01/01/2021-00:00", *args])
    assert missing.exit_code == 1 and "10/04/2020-17:48" in missing.stdout
    assert runner.invoke(app, ["commands", tree_share, "-m", "DC01", "--version", "2020-10-04", *args]).exit_code == 2
    fs = runner.invoke(app, ["commands", tree_share, "-m", "FS01", *args])
    assert fs.exit_code == 1 and "cannot do" in fs.stdout
    nodc = runner.invoke(app, ["commands", tree_share, "-m", "APP01", "--authoritative-sysvol", *args])
    assert nodc.exit_code == 2 and "domain controller" in nodc.stdout
    text = runner.invoke(app, ["commands", tree_share, "-m", "APP01", "--password-env", password_env])
    assert "wbadmin start systemstaterecovery -version:10/04/2020-17:48" in text.stdout


def test_bare_user_is_qualified_with_the_file_servers_netbios_name(
    samba: SambaServer, tree_share: str, password_env: str
) -> None:
    # The server names itself in its NTLM CHALLENGE (Samba: netbios name = BMRFILES); WinRE needs SERVER\user.
    offer = negotiate(parse_location(tree_share), "127.0.0.1", 5.0)
    assert offer.server_names is not None and offer.server_names.computer == SMB_DOMAIN
    bare = samba.url("rb", user=SMB_USER)
    result = runner.invoke(app, ["commands", bare, "-m", "APP01", "--password-env", password_env])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"net use \\\\127.0.0.1\\rb /user:{SMB_DOMAIN}\\{SMB_USER} *" in result.stdout
    assert f"REM The account was given without a domain: using {SMB_DOMAIN}\\{SMB_USER}" in result.stdout
    assert "FILESERVER" not in result.stdout


def test_checklist_cli_embeds_preflight(tree_share: str, password_env: str, tmp_path: Path) -> None:
    out = tmp_path / "dc01.pdf"
    result = runner.invoke(
        app, ["checklist", tree_share, "-m", "DC01", "--format", "pdf", "-o", str(out), "--password-env", password_env]
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    text = "\n".join(p.extract_text() for p in PdfReader(out).pages)
    assert "Last preflight:" in text and "bmr stage" in text and SMB_PASSWORD not in text
    md = runner.invoke(app, ["checklist", tree_share, "-m", "APP01", "--password-env", password_env])
    assert md.exit_code == 0 and "# Restore runbook: APP01" in md.stdout and "- [ ]" in md.stdout
