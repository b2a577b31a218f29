"""JUnit XML for schedulers: one testsuite per server, one testcase per check."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from restore.checks.check import Check, Status


def render_junit(suites: list[tuple[str, tuple[Check, ...]]], name: str = "bmr") -> str:
    root = ET.Element("testsuites", name=name)
    for suite_name, checks in suites:
        failures = sum(1 for c in checks if c.status is Status.FAIL)
        skips = sum(1 for c in checks if c.status is Status.SKIP)
        suite = ET.SubElement(
            root, "testsuite", name=suite_name, tests=str(len(checks)), failures=str(failures), skipped=str(skips)
        )
        for check in checks:
            case = ET.SubElement(suite, "testcase", classname=f"bmr.{suite_name}", name=check.id)
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
