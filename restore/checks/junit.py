"""JUnit XML for schedulers: one testsuite per server, one testcase per check."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from restore.checks.check import Check, Status


def render_junit(suites: list[tuple[str, tuple[Check, ...]]], name: str = "bmr", *, qualified: bool = False) -> str:
    """With ``qualified``, each case is named ``suite/check`` and made unique in the whole document (" #2" on a
    repeat): GitLab and Jenkins merge or drop cases of the same name, so two servers' ``auth`` must differ."""
    root = ET.Element("testsuites", name=name)
    used: set[str] = set()
    for suite_name, checks in suites:
        failures = sum(1 for c in checks if c.status is Status.FAIL)
        skips = sum(1 for c in checks if c.status is Status.SKIP)
        suite = ET.SubElement(
            root, "testsuite", name=suite_name, tests=str(len(checks)), failures=str(failures), skipped=str(skips)
        )
        for check in checks:
            case_name = f"{suite_name}/{check.id}" if qualified else check.id
            if qualified:
                base, count = case_name, 1
                while case_name in used:
                    count += 1
                    case_name = f"{base} #{count}"
                used.add(case_name)
            case = ET.SubElement(suite, "testcase", classname=f"bmr.{suite_name}", name=case_name)
            if check.status is Status.FAIL:
                failure = ET.SubElement(case, "failure", message=check.message)
                failure.text = f"fix: {check.fix}" if check.fix else check.message
            elif check.status is Status.SKIP:
                ET.SubElement(case, "skipped", message=check.message)
            else:
                out = ET.SubElement(case, "system-out")
                out.text = f"{check.status.value.upper()}: {check.message}" + (
                    f"\nfix: {check.fix}" if check.fix else ""
                )
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
