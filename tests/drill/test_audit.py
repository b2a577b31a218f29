"""What auditors and monitoring read from a drill, without a server: the rpo check, the restore-time estimate and
its explanation in the report and the checklist, the Prometheus textfile (checked by promtool), unique JUnit case
names, the Nagios plugin output, and each site's ledger chain through `bmr drill merge`."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from restore.checks.check import Check, Status, failed, passed, warned
from restore.cli.app import app
from restore.drill.audit import annotate, estimate_for, with_freshness
from restore.drill.estimate import LAST_STAGE, MEASURED, SAMPLE, Rate, best_estimate
from restore.drill.freshness import parse_duration
from restore.drill.inventory import ServerEntry
from restore.drill.nagios import render_nagios
from restore.drill.prometheus import render_prometheus, write_textfile
from restore.drill.report import drill_html, drill_json, drill_junit, write_report
from restore.drill.run import ServerResult
from share.connect import Access, open_backend, parse_location
from winre.formats import render_markdown
from winre.terms import Purpose

runner = CliRunner()
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
TIB = 1024**4


def _result(name: str, checks: list[Check], *, age_hours: float | None = 5, rpo: float | None = None,
            rates: tuple[Rate, ...] = (), size: int = 2 * TIB) -> ServerResult:  # fmt: skip
    entry = ServerEntry(name, parse_location(f"smb://u@10.0.0.5/{name.lower()}"), Purpose.BMR, "P", 1, rpo=rpo)
    when = NOW - timedelta(hours=age_hours) if age_hours is not None else None
    status = max((c.status for c in checks), key=[Status.PASS, Status.SKIP, Status.WARN, Status.FAIL].index)
    version = "11/19/2026-22:00" if when else None  # a server never reached has no point
    return ServerResult(entry, status, tuple(checks), 1.0, version=version, backup_time_utc=when,
                        size_bytes=size, rates=rates, newest_backup_utc=when)  # fmt: skip


def _document(results: list[ServerResult], default_rpo: float | None = None) -> dict[str, object]:
    results = with_freshness(results, default_rpo, NOW)
    estimates = [estimate_for(r) for r in results]
    return annotate(drill_json(results, NOW), results, estimates, default_rpo, NOW)


@pytest.mark.parametrize(("text", "seconds"), [("24h", 86400), ("36h", 129600), ("1d12h", 129600), ("90m", 5400),
                                               ("2w", 14 * 86400), ("1.5h", 5400), ("7 d", 7 * 86400)])  # fmt: skip
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["24", "", "h", "24 hours", "-1h", "0h", "400d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|target RPO"):
        parse_duration(text)


def test_a_stale_point_fails_its_own_check() -> None:
    fresh = _result("DC01", [passed("auth", "ok")], age_hours=5)
    stale = _result("DC02", [passed("auth", "ok")], age_hours=50)
    own = _result("DC03", [passed("auth", "ok")], age_hours=50, rpo=parse_duration("3d"))  # its own target wins
    judged = with_freshness([fresh, stale, own], 86400.0, NOW)
    assert [r.status for r in judged] == [Status.PASS, Status.FAIL, Status.PASS]
    rpo = next(c for c in judged[1].checks if c.id == "rpo")
    assert rpo.status is Status.FAIL and "2 d 2 h old, past the target RPO of 24 h" in rpo.message
    assert with_freshness([stale], None, NOW) == [stale]  # no target: no check


def test_the_drill_inventory_takes_rpo_and_the_command_line_refuses_a_bad_one(tmp_path: Path) -> None:
    inventory = tmp_path / "i.toml"
    inventory.write_text('[[server]]\nname = "A"\nlocation = "smb://u@10.0.0.5/r"\npurpose = "bmr"\n'
                         'password_env = "P"\nrpo = "yesterday"\n')  # fmt: skip
    result = runner.invoke(app, ["drill", str(inventory)])
    assert result.exit_code == 3 and "line 6: rpo:" in result.stderr
    result = runner.invoke(app, ["drill", str(inventory), "--rpo", "soon"])
    assert result.exit_code == 2 and "--rpo" in result.stderr


def test_the_estimate_takes_the_best_rate_and_says_what_it_rests_on() -> None:
    sample = Rate(SAMPLE, 8 * 1024**2, 0.05, "the first 8 MiB of x.vhdx")
    staged = Rate(LAST_STAGE, 40 * 1024**3, 400.0, "2026-11-18 02:00 UTC")
    measured = Rate(MEASURED, 110 * 1024**2 * 30, 30.0, "a read of x.vhdx bounded to 30 s")
    estimate = best_estimate(2 * TIB, [sample, staged, measured])
    assert estimate is not None and estimate.rate is measured
    assert estimate.sentence() == "at 110.0 MiB/s, 2.0 TiB restores in about 5 h 17 min"
    assert "measured during this drill: a read of x.vhdx bounded to 30 s, 3.2 GiB in 30 s" in estimate.explained()
    later = best_estimate(2 * TIB, [sample, staged])
    assert later is not None and later.rate is staged and "copy and read-back together" in later.based_on()
    assert best_estimate(None, [measured]) is None and best_estimate(TIB, []) is None


def test_the_report_and_the_checklist_explain_the_estimate(tmp_path: Path) -> None:
    from restore.drill.audit import with_estimates_in_runbooks
    from tests.winre.test_runbook import _input  # a complete RunbookInput

    measured = Rate(MEASURED, 110 * 1024**2 * 30, 30.0, "a read of x.vhdx bounded to 30 s")
    result = replace(_result("DC01", [passed("auth", "ok")], rates=(measured,)), runbook=_input("sysstate"))
    [with_book] = with_estimates_in_runbooks([result], [estimate_for(result)])
    document = _document([with_book], 86400.0)
    page = drill_html(document)
    assert "RTO estimate: at 110.0 MiB/s, 2.0 TiB restores in about 5 h 17 min" in page
    assert "based on measured during this drill" in page
    assert "RPO achieved: 5 h (target 24 h: met)" in page
    assert with_book.runbook is not None
    book = render_markdown(with_book.runbook)
    assert "Estimated restore time" in book and "at 110.0 MiB/s, 2.0 TiB restores in about 5 h 17 min" in book
    write_report(tmp_path / "r", [with_book], NOW, document=document)
    saved = json.loads((tmp_path / "r" / "drill.json").read_text())
    assert saved["servers"][0]["rto"]["estimate"]["seconds"] == 19065
    assert saved["servers"][0]["rpo"] == {"target_seconds": 86400.0, "newest_point_utc": "2026-11-19T22:00:00+00:00",
                                          "achieved_seconds": 18000, "met": True}  # fmt: skip


def _fleet() -> list[ServerResult]:
    return [
        _result("DC01", [passed("auth", "ok"), warned("path-length", "long", "shorten it")],
                rates=(Rate(SAMPLE, 8 * 1024**2, 0.1, "x"),)),
        _result('FS "02"\\ new', [failed("auth", "bad password", "fix it"), failed("drill", "a", "b"),
                                  failed("drill", "c", "d")], age_hours=None),
        _result("DC03", [passed("auth", "ok")], age_hours=40),
    ]  # fmt: skip


def test_junit_case_names_are_unique_and_name_the_server() -> None:
    root = ET.fromstring(drill_junit(_document(_fleet(), 86400.0)))
    names = [case.get("name") for case in root.iter("testcase")]
    assert len(names) == len(set(names)) == 8
    assert "DC01 (bmr)/auth" in names and "DC03 (bmr)/rpo" in names
    assert 'FS "02"\\ new (bmr)/drill' in names and 'FS "02"\\ new (bmr)/drill #2' in names
    assert int(root.find("testsuite[@name='DC03 (bmr)']").get("failures")) == 1  # type: ignore[union-attr]


def test_the_prometheus_textfile(tmp_path: Path) -> None:
    text = render_prometheus(_document(_fleet(), 86400.0))
    assert text.endswith("\n") and "\n\n" not in text
    escaped = 'FS \\"02\\"\\\\ new'  # a quote and a backslash in a label value are escaped
    assert f'bmr_drill_check_status{{server="{escaped}",purpose="bmr",machine="{escaped}",check="drill"}} 2' in text
    assert 'bmr_drill_point_age_seconds{server="DC03",purpose="bmr",machine="DC03"} 144000' in text
    assert 'bmr_drill_check_status{server="DC03",purpose="bmr",machine="DC03",check="rpo"} 2' in text
    assert "bmr_drill_estimated_rto_seconds{" in text and "bmr_drill_timestamp_seconds 1795143600" in text
    target = tmp_path / "bmr.prom"
    write_textfile(target, text)
    assert target.read_text() == text and [p.name for p in tmp_path.iterdir()] == ["bmr.prom"]


@pytest.mark.servers  # needs promtool (Debian's prometheus package)
def test_promtool_accepts_the_textfile(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "install Debian's prometheus package (tests/run.sh does)"
    document = _document(_fleet(), 86400.0)
    document["ledger"] = {"position": 7, "chain_intact": True}
    text = render_prometheus(document)
    checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout + checked.stderr == ""  # not even a lint remark
    assert "bmr_drill_ledger_position 7" in text


def test_nagios_output_and_exit_codes() -> None:
    servers = _document(_fleet(), 86400.0)["servers"]
    ok, critical, stale = (render_nagios(s) for s in servers)  # type: ignore[attr-defined]
    assert ok.code == 1 and ok.text.startswith("BMR DRILL WARNING - DC01 (bmr): path-length: long |")
    assert "'age'=18000s;;86400;0" in ok.text and "'rto'=" in ok.text
    assert critical.code == 2 and "auth: bad password (and 2 more)" in critical.text
    assert "'age'=U;;86400;0" in critical.text
    assert "'checks_failed'=3;;0;0" in critical.text
    assert stale.code == 2 and stale.text.startswith("BMR DRILL CRITICAL - DC03 (bmr): rpo: the newest point")
    assert all(o.text.count("|") == 1 and "\n" not in o.text for o in (ok, critical, stale))


def test_nagios_mode_is_unknown_when_it_cannot_run(tmp_path: Path) -> None:
    result = runner.invoke(app, ["drill", str(tmp_path / "none.toml"), "--nagios"])
    assert result.exit_code == 3 and result.stdout.startswith("BMR DRILL UNKNOWN - ")
    two = tmp_path / "two.toml"
    server = 'location = "smb://u@10.0.0.5/r"\npurpose = "bmr"\npassword_env = "P"\n'
    two.write_text(f'[[server]]\nname = "A"\n{server}\n[[server]]\nname = "B"\n{server}')
    result = runner.invoke(app, ["drill", str(two), "--nagios"])
    assert result.exit_code == 3 and "checks one server, the inventory lists 2" in result.stdout
    result = runner.invoke(app, ["drill", str(two), "--nagios", "--server", "C"])
    assert result.exit_code == 3 and "no [[server]] is named 'C'" in result.stdout


def _site(tmp_path: Path, name: str) -> Path:
    """A site's report folder whose drill.json names its ledger and the entry it appended, as bmr drill does."""
    from restore.drill.ledger import append_record

    ledger = tmp_path / f"{name}-ledger"
    ledger.mkdir()  # bmr opens only a folder that exists
    with open_backend(parse_location(str(ledger)), Access()) as backend:
        for n in range(3):
            appended = append_record(backend, {"drill": n})
    document = _document([_result(f"{name.upper()}-DC", [passed("auth", "ok")])])
    ledger_json = appended.to_json()
    document = {**document, "ledger": ledger_json,
                "servers": [{**s, "ledger": ledger_json} for s in document["servers"]]}  # type: ignore[attr-defined]  # fmt: skip
    report = tmp_path / "reports" / name
    report.parent.mkdir(exist_ok=True)
    write_report(report, [], NOW, document=document)
    return report


def test_merge_keeps_each_sites_chain_and_reports_a_broken_one(tmp_path: Path) -> None:
    berlin, hamburg = _site(tmp_path, "berlin"), _site(tmp_path, "hamburg")
    merged = tmp_path / "all"
    result = runner.invoke(app, ["drill", "merge", str(berlin), str(hamburg), "--report-dir", str(merged), "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    sites = json.loads(result.stdout)["sites"]
    assert [s["ledger"]["chain"] for s in sites] == ["intact, 3 entries", "intact, 3 entries"]
    for site in ("berlin", "hamburg"):  # each chain copied as it was, never joined to another
        copied = sorted(p.name for p in (merged / "ledgers" / site).iterdir())
        assert copied == ["000001.json", "000002.json", "000003.json"]
        assert (merged / "ledgers" / site / "000002.json").read_bytes() == (
            tmp_path / f"{site}-ledger" / "000002.json").read_bytes()  # fmt: skip
    assert runner.invoke(app, ["drill", "verify-ledger", str(merged / "ledgers" / "hamburg")]).exit_code == 0

    # Hamburg's newest entry, the one its report recorded, is deleted after the drill.
    (tmp_path / "hamburg-ledger" / "000003.json").unlink()
    again = tmp_path / "all2"
    result = runner.invoke(app, ["drill", "merge", str(berlin), str(hamburg), "--report-dir", str(again), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["sites"][0]["ledger"]["intact"] is True
    assert data["sites"][1]["ledger"]["intact"] is False and "entry 3" in data["sites"][1]["ledger"]["chain"]
    assert data["servers"][1]["ledger"]["chain"].startswith("BROKEN: entry 3 (000003.json): is gone")
    page = (again / "drill.html").read_text()
    assert "drill ledger: BROKEN: entry 3" in page and "chain BROKEN: entry 3" in page


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_server_is_recorded_and_an_unreachable_ledger_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("P", "secret-pw")
    inventory = tmp_path / "i.toml"
    inventory.write_text(f'[[server]]\nname = "DC09"\nlocation = "smb://u@127.0.0.1:{_closed_port()}/r"\n'
                         'purpose = "bmr"\npassword_env = "P"\n')  # fmt: skip
    ledger = tmp_path / "ledger"
    result = runner.invoke(app, ["drill", str(inventory), "--report-dir", str(tmp_path / "r"), "--ledger", str(ledger),
                                 "--rpo", "24h", "--timeout", "2"])  # fmt: skip
    assert result.exit_code == 1 and "Ledger: entry 1 in " in result.stdout, result.stdout + result.stderr
    [server] = json.loads((ledger / "000001.json").read_text())["servers"]
    assert server["result"] == "fail" and server["version"] is None and server["rpo_achieved_seconds"] is None
    checks = {c["id"]: c["status"] for c in server["checks"]}
    assert checks["connect"] == "fail" and "rpo" not in checks  # never reached: no rpo verdict either way

    dead = f"smb://u@127.0.0.1:{_closed_port()}/ledger"
    monkeypatch.setenv("BMR_PASSWORD", "secret-pw")
    result = runner.invoke(app, ["drill", str(inventory), "--report-dir", str(tmp_path / "r2"), "--ledger", dead,
                                 "--timeout", "2"])  # fmt: skip
    assert result.exit_code == 1 and "this drill's record was NOT appended" in result.stdout
    assert "record NOT appended" in (tmp_path / "r2" / "drill.html").read_text()
    assert "secret-pw" not in result.stdout + result.stderr + (tmp_path / "r2" / "drill.json").read_text()
