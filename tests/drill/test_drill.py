"""`bmr drill` against the real Samba with mixed outcomes, inventory validation with line numbers, the HTML
report in headless Chromium, and `bmr demo` end to end."""

from __future__ import annotations

import json
import socket
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from restore.cli.app import app
from tests.lib.chromium import chromium as _chromium
from tests.lib.proxy import SilentServer
from tests.lib.servers import SMB_PASSWORD, SambaServer, SshServer
from tests.lib.treebuilder import ImageCache, bmr_dc, system_state_only, write_tree

runner = CliRunner()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def drill_shares(samba: SambaServer, images: ImageCache) -> dict[str, str]:
    base = samba.base / "drill"
    good = base / "good"
    write_tree(good, {"DC01": bmr_dc()}, images)
    samba.add_share("dg", good)  # short names: the image paths stay under the 110-character warning
    state = base / "state"
    write_tree(state, {"APP01": system_state_only()}, images)
    samba.add_share("ds", state)
    samba.add_share("dw", good / "WindowsImageBackup")
    dead = f"smb://BMRFILES;root@127.0.0.1:{_closed_port()}/x"
    return {"good": samba.url("dg"), "state": samba.url("ds"), "wrongroot": samba.url("dw"), "dead": dead}


def _inventory(tmp_path: Path, servers: list[dict[str, str | bool]]) -> Path:
    lines = []
    for server in servers:
        lines.append("[[server]]")
        lines += [f"{k} = {str(v).lower() if isinstance(v, bool) else repr(v)}" for k, v in server.items()]
        lines.append("")
    path = tmp_path / "inventory.toml"
    path.write_text("\n".join(lines))
    return path


def test_mixed_outcomes(drill_shares: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DR_GOOD_PW", SMB_PASSWORD)
    monkeypatch.setenv("DR_BAD_PW", "not-" + SMB_PASSWORD)
    inventory = _inventory(tmp_path, [
        {"name": "DC01", "location": drill_shares["good"], "purpose": "bmr", "password_env": "DR_GOOD_PW"},
        {"name": "APP01", "location": drill_shares["state"], "purpose": "systemstate", "password_env": "DR_GOOD_PW"},
        {"name": "DC01 (shared one level too deep)", "machine": "DC01", "location": drill_shares["wrongroot"],
         "purpose": "bmr", "password_env": "DR_GOOD_PW"},
        {"name": "DC02", "location": drill_shares["good"], "purpose": "bmr", "password_env": "DR_BAD_PW"},
        {"name": "DC03", "location": drill_shares["dead"], "purpose": "bmr", "password_env": "DR_GOOD_PW"},
    ])  # fmt: skip
    report = tmp_path / "report"
    junit = tmp_path / "drill-junit.xml"
    result = runner.invoke(app, ["drill", str(inventory), "--report-dir", str(report), "--junit", str(junit),
                                 "--json", "--timeout", "5"])  # fmt: skip
    assert result.exit_code == 1, result.stdout + result.stderr
    assert SMB_PASSWORD not in result.stdout + result.stderr
    data = json.loads((report / "drill.json").read_text())
    statuses = [(s["name"], s["status"]) for s in data["servers"]]
    # DC01: the sample's 2020 point is past the tombstone lifetime, a warning
    assert statuses == [("DC01", "warn"), ("APP01", "pass"), ("DC01 (shared one level too deep)", "fail"),
                        ("DC02", "fail"), ("DC03", "fail")]  # fmt: skip
    assert [s["machine"] for s in data["servers"]] == ["DC01", "APP01", "DC01", "DC02", "DC03"]
    failing = [{c["id"] for c in s["checks"] if c["status"] == "fail"} for s in data["servers"]]
    assert failing == [set(), set(), {"share-root"}, {"auth"}, {"connect"}]
    good = data["servers"][0]
    assert good["version"] == "10/04/2020-17:48" and good["size_bytes"] > 0 and good["age_days"] > 365
    assert good["throughput_bytes_per_second"] > 0 and good["estimated_copy_seconds"] is not None
    html = (report / "drill.html").read_text()
    assert html.count("<tr class=") == 5 and "share-root" in html and "fix:" in html
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert [s.get("failures") for s in suites] == ["0", "0", "1", "1", "1"]
    books = sorted(p.name for p in (report / "checklists").iterdir())
    assert [b.split("-")[0] for b in books] == ["001", "001", "002", "002", "003", "003", "004", "004", "005", "005"]
    for book in (report / "checklists").glob("*.md"):  # every server has one; a failing one opens with the banner
        assert book.read_text().startswith("> **FAIL") == (book.name[:3] in ("003", "004", "005")), book.name
    assert "FAIL share-root:" in next((report / "checklists").glob("003-*.md")).read_text()
    shot = tmp_path / "drill.png"
    _chromium(report / "drill.html", shot, f"--screenshot={shot}", "--window-size=1400,900")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = tmp_path / "drill.pdf"
    _chromium(report / "drill.html", pdf, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_a_deep_failure_is_the_checklists_banner(
    drill_shares: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server whose point fails the contents check (--deep: the sample's images hold no Windows) gets a checklist
    that opens with the FAIL banner, as `bmr checklist --deep` and `bmr preflight --deep` say FAIL."""
    monkeypatch.setenv("DR_GOOD_PW", SMB_PASSWORD)
    inventory = _inventory(tmp_path, [
        {"name": "DC01", "location": drill_shares["good"], "purpose": "bmr", "password_env": "DR_GOOD_PW",
         "deep": True},
    ])  # fmt: skip
    report = tmp_path / "report"
    result = runner.invoke(app, ["drill", str(inventory), "--report-dir", str(report), "--timeout", "5"])
    assert result.exit_code == 1, result.stdout + result.stderr
    book = (report / "checklists" / "001-DC01.md").read_text()
    assert book.startswith("> **FAIL") and "FAIL contents:" in book
    monkeypatch.setenv("BMR_PASSWORD", SMB_PASSWORD)
    for command in (["preflight", "--for", "bmr"], ["checklist"]):
        run = runner.invoke(app, [command[0], drill_shares["good"], *command[1:], "--deep", "--json"])
        assert run.exit_code == 1, (command, run.stdout, run.stderr)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            '[[server]]\nname = "A"\nlocation = "smb://u@h/r"\npurpose = "bmr"\npassword_env = "P"\ncolour = "x"\n',
            "line 6: unknown key 'colour'",
        ),
        (
            '[[server]]\nname = "A"\nlocation = "smb://u@10.0.0.5/r"\npurpose = "bmr"\n',
            "line 1: this [[server]] has no 'password_env'",
        ),
        (
            '[[server]]\nname = "A"\nlocation = "smb://u@10.0.0.5/r"\npurpose = "bmr"\npassword_env = "P"\n\n'
            '[[server]]\nname = "a"\nlocation = "smb://u@10.0.0.5/r"\npurpose = "bmr"\npassword_env = "P"\n',
            "line 7: server 'a' is already listed for bmr at line 1",
        ),
        ('[[server]]\nname = "A"\nlocation = "ftp://x"\npurpose = "bmr"\npassword_env = "P"\n', "line 3: location"),
        ('[[server]]\nname = "A"\nlocation = "smb://u@h/r"\npurpose = "bmr"\npassword_env = "hunter2!"\n', "line 5"),
        ('[[server]]\nname = "A"\nlocation = "smb://u@h/r"\npurpose = "restore"\npassword_env = "P"\n', "line 4"),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_inventory_validation_names_the_line(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "inventory.toml"
    path.write_text(text)
    result = runner.invoke(app, ["drill", str(path), "--report-dir", str(tmp_path / "r")])
    assert result.exit_code == 3 and words in result.stderr, result.stderr
    assert not (tmp_path / "r").exists()  # nothing ran


def test_missing_inventory(tmp_path: Path) -> None:
    result = runner.invoke(app, ["drill", str(tmp_path / "nope.toml")])
    assert result.exit_code == 3 and "examples/drill-inventory.toml" in result.stderr


@pytest.mark.servers  # the demo starts its own smbd (as root)
def test_demo_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--dir", str(folder), "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["samba"] is True  # smbd is installed here and the suite runs as root
    assert data["staged"]["verified"] is True and data["staged"]["bytes_copied"] > 0
    checks = {c["id"]: c["status"] for c in data["preflight"]}
    assert checks["recovery-point"] == "pass" and checks["share-root"] == "pass"  # yesterday's DC point: all green
    version = data["staged"]["version"]
    assert any(line.startswith(f"wbadmin start sysrecovery -version:{version}") for line in data["commands"])
    assert (folder / "checklists" / "DC01-bmr.html").exists() and (folder / "share" / "SHA256SUMS").exists()
    assert not (folder / ".samba-state").exists()  # the throwaway server is gone
    refused = runner.invoke(app, ["demo", "--dir", str(folder)])
    assert refused.exit_code == 2  # a folder with files in it is never reused
    local = runner.invoke(app, ["demo", "--dir", str(tmp_path / "local"), "--no-samba"])
    assert local.exit_code == 0 and "192.0.2.10" in local.stdout


def test_share_that_is_the_tree_is_not_called_misnamed(drill_shares: dict[str, str], password_env: str) -> None:
    result = runner.invoke(app, ["preflight", drill_shares["wrongroot"], "--for", "bmr", "--json",
                                 "--password-env", password_env])  # fmt: skip
    check = next(c for c in json.loads(result.stdout)["checks"] if c["id"] == "share-root")
    assert check["status"] == "fail" and "rename" not in check["fix"] and "level(s) above" in check["fix"]


def test_drill_stages_from_a_source_and_checks_the_server_side(
    samba: SambaServer, sshd: SshServer, tmp_path: Path, images: ImageCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DR_GOOD_PW", SMB_PASSWORD)
    source = tmp_path / "mabs-export"
    write_tree(source, {"FS09": system_state_only()}, images)
    empty = samba.base / "drill-empty"
    empty.mkdir()
    samba.add_share("de", empty)
    inventory = _inventory(tmp_path, [{
        "name": "FS09", "location": samba.url("de"), "purpose": "systemstate", "password_env": "DR_GOOD_PW",
        "source": str(source), "stage": True, "ssh": f"{sshd.user}@127.0.0.1:{sshd.port}",
        "ssh_smb_conf": str(samba.conf),
    }])  # fmt: skip
    report = tmp_path / "report"
    result = runner.invoke(app, ["drill", str(inventory), "--report-dir", str(report), "--ssh-known-hosts",
                                 str(sshd.known_hosts), "--ssh-key", str(sshd.client_key)])  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    server = json.loads((report / "drill.json").read_text())["servers"][0]
    assert server["status"] == "pass" and server["staged"]["ok"] is True and server["staged"]["verified"] is True
    checks = {c["id"]: c["status"] for c in server["checks"]}
    assert checks["server-share"] == "pass" and checks["recovery-point"] == "pass"
    assert (empty / "WindowsImageBackup" / "FS09").is_dir() and (empty / "SHA256SUMS").exists()


def test_a_hung_server_does_not_hold_up_the_rest(
    drill_shares: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DR_GOOD_PW", SMB_PASSWORD)
    hung = SilentServer()
    try:
        inventory = _inventory(tmp_path, [
            {"name": "HUNG", "location": f"smb://BMRFILES;root@127.0.0.1:{hung.port}/x", "purpose": "bmr",
             "password_env": "DR_GOOD_PW"},
            {"name": "DC01", "location": drill_shares["good"], "purpose": "bmr", "password_env": "DR_GOOD_PW"},
        ])  # fmt: skip
        started = time.monotonic()
        result = runner.invoke(app, ["drill", str(inventory), "--report-dir", str(tmp_path / "r"), "--json",
                                     "--timeout", "2", "--server-timeout", "3", "--concurrency", "2"])  # fmt: skip
        elapsed = time.monotonic() - started
    finally:
        hung.close()
    data = json.loads(result.stdout)
    # DC01's 2020 point is past the tombstone lifetime: a warning
    assert [(s["name"], s["status"]) for s in data["servers"]] == [("HUNG", "fail"), ("DC01", "warn")]
    assert elapsed < 15  # bounded by the per-server budget, not by the hung server


def test_summary_on_the_terminal(drill_shares: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DR_GOOD_PW", SMB_PASSWORD)
    monkeypatch.delenv("DR_UNSET_PW", raising=False)
    inventory = _inventory(tmp_path, [
        {"name": "DC01", "location": drill_shares["good"], "purpose": "BMR", "password_env": "DR_GOOD_PW"},
        {"name": "DC01 deep", "machine": "DC01", "location": drill_shares["wrongroot"], "purpose": "bmr",
         "password_env": "DR_GOOD_PW"},
        {"name": "DC01 no password", "machine": "DC01", "location": drill_shares["good"], "purpose": "systemstate",
         "password_env": "DR_UNSET_PW"},
    ])  # fmt: skip
    result = runner.invoke(app, ["drill", str(inventory), "--report-dir", str(tmp_path / "r"), "--timeout", "5"])
    assert result.exit_code == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    # WARN: the sample's 2020 DC point is past the tombstone lifetime
    assert drill_shares["good"] in lines[0] and "WARN" in lines[0] and "10/04/2020-17:48" in lines[0]
    assert lines[1].strip().startswith("warning: recovery-point: ") and "tombstone" in lines[1]
    assert drill_shares["wrongroot"] in lines[2] and "FAIL" in lines[2]
    assert lines[3].strip().startswith("failing: share-root: ")
    assert lines[5].strip().startswith("failing: ") and "DR_UNSET_PW is not set" in lines[5]
    data = json.loads((tmp_path / "r" / "drill.json").read_text())
    unset = next(c for c in data["servers"][2]["checks"] if c["status"] == "fail")
    assert "DR_UNSET_PW" in unset["fix"] and "line 14" in unset["fix"]
    assert "--password-file" not in json.dumps(data) + result.stdout  # drill has no such option
    assert "prompt" not in unset["fix"]


def test_a_source_without_stage_sizes_the_checks_and_copies_nothing(
    drill_shares: dict[str, str], samba: SambaServer, tmp_path: Path, images: ImageCache,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("DR_GOOD_PW", SMB_PASSWORD)
    source = tmp_path / "mabs-export"
    write_tree(source, {"FS09": system_state_only()}, images)
    empty = samba.base / "drill-nostage"
    empty.mkdir()
    samba.add_share("dn", empty)
    inventory = _inventory(tmp_path, [{
        "name": "FS09", "location": samba.url("dn"), "purpose": "systemstate", "password_env": "DR_GOOD_PW",
        "source": str(source),
    }])  # fmt: skip
    result = runner.invoke(app, ["drill", str(inventory), "--report-dir", str(tmp_path / "r"), "--json"])
    server = json.loads((tmp_path / "r" / "drill.json").read_text())["servers"][0]
    checks = {c["id"]: c for c in server["checks"]}
    assert server["staged"] is None and not any(empty.iterdir()), result.stdout  # nothing was copied
    assert checks["write"]["status"] == "pass" and checks["free-space"]["status"] == "pass"
    # as `bmr preflight --source`: the checks of a copy still to come
    assert "will create WindowsImageBackup" in checks["share-root"]["message"]
    assert checks["machine"]["message"] == "nothing staged yet"


def test_an_unreadable_source_is_a_failed_check_and_the_share_is_still_checked(
    drill_shares: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DR_GOOD_PW", SMB_PASSWORD)
    inventory = _inventory(tmp_path, [{"name": "DC01", "location": drill_shares["good"], "purpose": "bmr",
                                       "password_env": "DR_GOOD_PW", "source": str(tmp_path / "missing")}])  # fmt: skip
    result = runner.invoke(app, ["drill", str(inventory), "--report-dir", str(tmp_path / "r"), "--json"])
    assert result.exit_code == 1, result.stdout
    checks = {c["id"]: c for c in json.loads(result.stdout)["servers"][0]["checks"]}
    assert checks["source"]["status"] == "fail" and str(tmp_path / "missing") in checks["source"]["message"]
    # the share itself was checked (a warning: the sample's 2020 DC point is past the tombstone lifetime)
    assert checks["recovery-point"]["status"] == "warn" and "tombstone" in checks["recovery-point"]["message"]
