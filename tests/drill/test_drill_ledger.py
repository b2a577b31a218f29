"""`bmr drill` against the real Samba with what auditors and monitoring read: the signed ledger record of each run
(and the chain across runs), the rpo check, the restore-time estimate from a bounded read, from this drill's copy
and from the last stage's manifest, the Prometheus textfile (promtool), JUnit, and the Nagios mode."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from restore.cli.app import app
from share.connect import Access
from share.credentials import PasswordSource
from tests.lib.servers import SMB_PASSWORD, SambaServer
from tests.lib.treebuilder import ImageCache, bmr_dc, system_state_only, write_tree

runner = CliRunner()


@pytest.fixture(scope="module")
def audit_shares(samba: SambaServer, images: ImageCache) -> dict[str, str]:
    good = samba.base / "audit" / "good"
    write_tree(good, {"DC01": bmr_dc()}, images)
    samba.add_share("ag", good)
    return {"good": samba.url("ag")}


def _inventory(tmp_path: Path, servers: list[dict[str, str | bool]], name: str = "inventory.toml") -> Path:
    lines = []
    for server in servers:
        lines.append("[[server]]")
        lines += [f"{k} = {str(v).lower() if isinstance(v, bool) else repr(v)}" for k, v in server.items()]
        lines.append("")
    path = tmp_path / name
    path.write_text("\n".join(lines))
    return path


def _keys(tmp_path: Path) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private, public = tmp_path / "ledger-key", tmp_path / "ledger-key.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))  # fmt: skip
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))  # fmt: skip
    return private, public


def test_a_drill_appends_a_signed_record_and_reports_rpo_rto_and_the_chain(
    audit_shares: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DR_GOOD_PW", SMB_PASSWORD)
    inventory = _inventory(tmp_path, [
        {"name": "DC01", "location": audit_shares["good"], "purpose": "bmr", "password_env": "DR_GOOD_PW"},
        {"name": "DC01 state", "machine": "DC01", "location": audit_shares["good"], "purpose": "systemstate",
         "password_env": "DR_GOOD_PW", "rpo": "366d"},
    ])  # fmt: skip
    private, public = _keys(tmp_path)
    ledger, prom, junit = tmp_path / "ledger", tmp_path / "bmr.prom", tmp_path / "junit.xml"
    for run in (1, 2):
        result = runner.invoke(app, [
            "drill", str(inventory), "--report-dir", str(tmp_path / f"report{run}"), "--rpo", "24h", "--ledger",
            str(ledger), "--sign-key", str(private), "--note", "Q4 DR test", "--measure-read", "1", "--prometheus",
            str(prom), "--junit", str(junit), "--timeout", "5",
        ])  # fmt: skip
        assert result.exit_code == 1, result.stdout + result.stderr  # the sample's 2020 point is stale
        assert f"Ledger: entry {run} in {ledger}" in result.stdout and f"chain intact, {run} entries" in result.stdout
    assert SMB_PASSWORD not in result.stdout + result.stderr + "".join(p.read_text() for p in ledger.iterdir())

    data = json.loads((tmp_path / "report2" / "drill.json").read_text())
    bmr, state = data["servers"]
    rpo = next(c for c in bmr["checks"] if c["id"] == "rpo")
    assert rpo["status"] == "fail" and "past the target RPO of 24 h" in rpo["message"]
    assert bmr["status"] == "fail" and bmr["rpo"]["met"] is False and bmr["rpo"]["target_seconds"] == 86400
    assert state["rpo"]["target_seconds"] == 366 * 86400  # the inventory's own target wins over --rpo
    estimate = bmr["rto"]["estimate"]
    assert estimate["basis"] == "measured-read" and estimate["seconds"] >= 0 and "restores in about" in estimate["text"]
    assert data["ledger"]["position"] == 2 and data["ledger"]["chain_intact"] is True

    record = json.loads((ledger / "000002.json").read_text())
    assert record["note"] == "Q4 DR test" and record["performed_by"]["user"] and record["performed_by"]["host"]
    assert record["tool"].startswith("bmr ") and record["result"] == "fail"
    assert [s["name"] for s in record["servers"]] == ["DC01", "DC01 state"]
    first = record["servers"][0]
    assert first["version"] == "10/04/2020-17:48" and first["rpo_met"] is False and first["rto_estimated_seconds"] >= 0
    assert {"id": "rpo", "status": "fail"}.items() <= next(c for c in first["checks"] if c["id"] == "rpo").items()
    assert record["signature"]["algorithm"] == "ed25519"

    verified = runner.invoke(app, ["drill", "verify-ledger", str(ledger), "--public-key", str(public)])
    assert verified.exit_code == 0 and "Signed by SHA256:" in verified.stdout and "2 of 2" in verified.stdout

    page = (tmp_path / "report2" / "drill.html").read_text()
    assert "RPO achieved:" in page and "(target 24 h: MISSED)" in page
    assert "RTO estimate: at " in page and "based on measured during this drill: all of " in page
    assert "ledger entry 2 (sha256 " in page and "chain intact, 2 entries" in page
    books = sorted((tmp_path / "report2" / "checklists").glob("*.md"))
    assert books and all("Estimated restore time" in b.read_text() for b in books)

    names = [case.get("name") for case in ET.parse(junit).getroot().iter("testcase")]
    assert len(names) == len(set(names)) and "DC01 (bmr)/rpo" in names and "DC01 state (systemstate)/auth" in names

    promtool = shutil.which("promtool")
    assert promtool, "install Debian's prometheus package (tests/run.sh does)"
    checked = subprocess.run([promtool, "check", "metrics"], input=prom.read_text(), capture_output=True, text=True,
                             timeout=60)  # fmt: skip
    assert checked.returncode == 0 and not checked.stdout + checked.stderr, checked.stdout + checked.stderr
    text = prom.read_text()
    assert text.endswith("\n") and "bmr_drill_ledger_position 2" in text
    assert 'bmr_drill_check_status{server="DC01",purpose="bmr",machine="DC01",check="rpo"} 2' in text
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("bmr.prom.")]  # no temporary file left


def test_the_estimate_rests_on_this_drills_copy_then_on_the_last_stage(
    samba: SambaServer, tmp_path: Path, images: ImageCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DR_GOOD_PW", SMB_PASSWORD)
    source = tmp_path / "mabs-export"
    write_tree(source, {"FS09": system_state_only()}, images)
    empty = samba.base / "audit-empty"
    empty.mkdir()
    samba.add_share("ae", empty)
    server = {"name": "FS09", "location": samba.url("ae"), "purpose": "systemstate", "password_env": "DR_GOOD_PW"}
    staging = _inventory(tmp_path, [{**server, "source": str(source), "stage": True}], "stage.toml")
    result = runner.invoke(app, ["drill", str(staging), "--report-dir", str(tmp_path / "r1"), "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["servers"][0]["rto"]["estimate"]["basis"] == "this-drill-stage"
    later = _inventory(tmp_path, [server], "later.toml")
    result = runner.invoke(app, ["drill", str(later), "--report-dir", str(tmp_path / "r2"), "--json"])
    estimate = json.loads(result.stdout)["servers"][0]["rto"]["estimate"]
    assert estimate["basis"] == "last-stage" and "the last bmr stage to this share" in estimate["based_on"]


def test_nagios_mode_for_one_server(
    audit_shares: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DR_GOOD_PW", SMB_PASSWORD)
    inventory = _inventory(tmp_path, [
        {"name": "DC01", "location": audit_shares["good"], "purpose": "bmr", "password_env": "DR_GOOD_PW"},
        {"name": "APP01", "location": audit_shares["good"], "purpose": "bmr", "password_env": "DR_GOOD_PW"},
    ])  # fmt: skip
    result = runner.invoke(app, ["drill", str(inventory), "--nagios", "--server", "dc01", "--rpo", "24h"])
    assert result.exit_code == 2, result.stdout
    line = result.stdout.strip()
    assert "\n" not in line and line.startswith("BMR DRILL CRITICAL - DC01 (bmr): rpo: the newest point")
    assert "'age'=" in line and ";;86400;0" in line and "'checks_failed'=1;;0;0" in line
    assert not list(Path.cwd().glob("drill-report-*"))  # no report folder in Nagios mode
    result = runner.invoke(app, ["drill", str(inventory), "--nagios", "--server", "DC01"])
    assert result.exit_code == 1 and result.stdout.startswith("BMR DRILL WARNING - DC01 (bmr): recovery-point:")


def test_a_ledger_on_a_share_two_drills_at_once_and_tampering_seen_through_smb(
    samba: SambaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from restore.drill.chains import append_to_ledger

    monkeypatch.setenv("BMR_PASSWORD", SMB_PASSWORD)
    folder = samba.base / "audit-ledger"
    folder.mkdir()
    samba.add_share("al", folder)
    url = samba.url("al") + "/site-a"
    access = Access(password=PasswordSource(), timeout=10)

    def drill(worker: int) -> None:
        for n in range(4):
            append_to_ledger(url, access, {"worker": worker, "n": n}, None)

    threads = [threading.Thread(target=drill, args=(w,)) for w in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    result = runner.invoke(app, ["drill", "verify-ledger", url, "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["entries"] == 12
    assert SMB_PASSWORD not in result.stdout + result.stderr
    assert sorted(p.name for p in (folder / "site-a").iterdir()) == [f"{n:06d}.json" for n in range(1, 13)]
    (folder / "site-a" / "000005.json").unlink()
    result = runner.invoke(app, ["drill", "verify-ledger", url])
    assert result.exit_code == 1 and "entry 6 (000006.json): comes after a gap: entry 5 is missing" in result.stdout
