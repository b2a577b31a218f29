"""`bmr drill merge`: two sites' drill reports as one (JSON, HTML, JUnit, checklists), without a server."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from restore.checks.check import Check, Status, failed, passed, warned
from restore.cli.app import app
from restore.drill.inventory import ServerEntry
from restore.drill.report import write_report
from restore.drill.run import ServerResult
from share.connect import parse_location
from winre.terms import Purpose

runner = CliRunner()
WHEN = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def _result(name: str, purpose: Purpose, status: Status, checks: list[Check]) -> ServerResult:
    entry = ServerEntry(name, parse_location(f"smb://u@10.0.0.5/{name.lower()}"), purpose, "P", 1)
    return ServerResult(entry, status, tuple(checks), 1.0, version="10/04/2020-17:48", size_bytes=2**30)


def _sites(tmp_path: Path) -> tuple[Path, Path]:
    berlin = tmp_path / "reports" / "berlin"
    berlin.parent.mkdir()  # report folders are made only under an existing one
    write_report(berlin, [
        _result("DC01", Purpose.BMR, Status.PASS, [passed("auth", "logged on")]),
        _result("DC01", Purpose.SYSTEM_STATE, Status.WARN, [warned("path-length", "long path", "shorten it")]),
    ], WHEN)  # fmt: skip
    (berlin / "checklists").mkdir(exist_ok=True)
    (berlin / "checklists" / "001-DC01.md").write_text("# DC01\n")
    hamburg = tmp_path / "reports" / "hamburg"
    write_report(hamburg, [
        _result("FS02", Purpose.BMR, Status.FAIL, [failed("share-root", "the share is the tree", "share its parent")]),
    ], WHEN)  # fmt: skip
    return berlin, hamburg


def test_two_sites_make_one_report(tmp_path: Path) -> None:
    berlin, hamburg = _sites(tmp_path)
    out = tmp_path / "all"
    junit = tmp_path / "all-junit.xml"
    result = runner.invoke(app, ["drill", "merge", str(berlin), str(hamburg / "drill.json"), "--report-dir", str(out),
                                 "--junit", str(junit)])  # fmt: skip
    assert result.exit_code == 1, result.stdout + result.stderr  # one server failed at one site
    assert "Merged 3 servers from berlin (2), hamburg (1): 1 pass, 1 warn, 1 fail" in result.stdout
    data = json.loads((out / "drill.json").read_text())
    assert [(s["site"], s["name"], s["purpose"], s["status"]) for s in data["servers"]] == [
        ("berlin", "DC01", "bmr", "pass"), ("berlin", "DC01", "systemstate", "warn"), ("hamburg", "FS02", "bmr", "fail")
    ]  # fmt: skip
    assert data["summary"] == {"pass": 1, "warn": 1, "fail": 1}
    assert [(s["site"], s["summary"]["fail"]) for s in data["sites"]] == [("berlin", 0), ("hamburg", 1)]
    html = (out / "drill.html").read_text()
    assert html.count("<tr class=") == 3 and "site hamburg" in html and "from 2 sites" in html
    assert "share its parent" in html
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert [(s.get("name"), s.get("failures")) for s in suites] == [
        ("berlin: DC01 (bmr)", "0"), ("berlin: DC01 (systemstate)", "0"), ("hamburg: FS02 (bmr)", "1")
    ]  # fmt: skip
    assert (out / "junit.xml").read_text() == junit.read_text()
    assert (out / "checklists" / "berlin" / "001-DC01.md").read_text() == "# DC01\n"


def test_merge_json_and_all_passing(tmp_path: Path) -> None:
    berlin, _hamburg = _sites(tmp_path)
    result = runner.invoke(app, ["drill", "merge", str(berlin), "--report-dir", str(tmp_path / "one"), "--json"])
    assert result.exit_code == 0, result.stdout  # warnings allowed
    assert json.loads(result.stdout)["report_dir"] == str(tmp_path / "one")


def test_an_unreadable_report_writes_nothing(tmp_path: Path) -> None:
    berlin, _hamburg = _sites(tmp_path)
    broken = tmp_path / "reports" / "broken"
    broken.mkdir()
    (broken / "drill.json").write_text("{not json")
    out = tmp_path / "all"
    result = runner.invoke(app, ["drill", "merge", str(berlin), str(broken), str(tmp_path / "none"),
                                 "--report-dir", str(out)])  # fmt: skip
    assert result.exit_code == 3
    assert str(broken / "drill.json") in result.stderr and str(tmp_path / "none" / "drill.json") in result.stderr
    assert not out.exists()


def test_drill_still_takes_the_inventory_first(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    for args in (["drill", str(missing)], ["drill", "run", str(missing)], ["drill", "--json", str(missing)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 3 and "nope.toml" in result.stdout + result.stderr, args
    assert runner.invoke(app, ["drill"]).exit_code == 2  # no inventory: usage error, as before
    assert "INVENTORY" in runner.invoke(app, ["drill", "--help"]).stdout.upper()
