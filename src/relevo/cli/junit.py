"""A test run as JUnit XML, the format CI servers read: one testsuite per kind of check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the suites load with the command that runs one (start-up time)
    from relevo.suites import SuiteRun


def write_junit(run: SuiteRun, path: Path) -> None:
    """Write run to path as JUnit XML (a not-applicable check is a skipped test case)."""
    root = ET.Element("testsuites", name=f"{run.service} {run.version}", tests=str(len(run.results)),
                      failures=str(len(run.failures)))
    for check, results in groupby(run.results, key=lambda r: r.check):
        items = list(results)
        suite = ET.SubElement(root, "testsuite", name=check, tests=str(len(items)),
                              failures=str(sum(r.outcome == "failed" for r in items)),
                              skipped=str(sum(r.outcome == "not applicable" for r in items)),
                              timestamp=run.started_at.isoformat())
        for result in items:
            case = ET.SubElement(suite, "testcase", classname=f"{run.service}.{run.version}.{check}",
                                 name=result.name, time=f"{result.seconds:.6f}")
            if result.outcome == "failed":
                ET.SubElement(case, "failure", message=result.detail).text = result.detail
            elif result.outcome == "not applicable":
                ET.SubElement(case, "skipped", message=result.detail)
            else:
                ET.SubElement(case, "system-out").text = result.detail
        properties = ET.SubElement(suite, "properties")
        for name, value in (("version_sha256", run.version_sha256), ("suite_sha256", run.suite_sha256),
                            ("environment", run.environment),
                            ("packages_sha256", str(run.fingerprint.get("packages_sha256"))),
                            ("test_run_id", str(run.id))):
            ET.SubElement(properties, "property", name=name, value=value)
    ET.indent(root)
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
