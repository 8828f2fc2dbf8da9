"""The evidence pack as one zip an auditor checks offline: the report for people, the same data as
JSON, and the audit part (the rollout's events with their proofs, and the public key) that
`relevo audit verify --bundle` checks."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from pydantic import ConfigDict, TypeAdapter

from relevo.evidence.pack import Evidence

REPORT, DATA, BUNDLE, KEY, README = "report.html", "evidence.json", "audit/bundle.json", "audit/key.pub", "README.txt"
CHECK = f"relevo audit verify --bundle {BUNDLE} --key {KEY}"
# Unbounded numbers (an e-value, an interval's end) as Infinity, as the API and the CLI's --json write them.
_JSON = TypeAdapter(Any, config=ConfigDict(ser_json_inf_nan="constants"))


def evidence_json(evidence: Evidence) -> dict[str, Any]:
    """The pack's data as JSON (its audit bundle stands beside it, named under `audit`)."""
    data = _JSON.dump_python(evidence, mode="json")
    del data["audit_bundle"]
    data["audit"] = {"bundle": BUNDLE, "key": KEY, "check": CHECK,
                     "events": len(evidence.events), "checkpoint": evidence.audit_bundle["checkpoints"][0]}
    return data


def _readme(evidence: Evidence) -> str:
    rollout = evidence.rollout
    return (f"Evidence of {evidence.service} rollout {rollout.id}: {rollout.candidate} against {rollout.stable} in "
            f"{rollout.environment}, generated {evidence.generated_at.isoformat()} by {evidence.generated_by}.\n\n"
            f"{REPORT}  the report, for people (opens in a browser, with no network)\n"
            f"{DATA}  the same data as JSON\n"
            f"{BUNDLE}  the rollout's {len(evidence.events)} audit events, each with its inclusion proof in one "
            "signed checkpoint of the audit log\n"
            f"{KEY}  the public key that signed it (compare it with the one the body publishes)\n\n"
            f"To check the audit part offline:\n  {CHECK}\n")


def evidence_zip(evidence: Evidence, report_html: str) -> bytes:
    """The pack's bytes: report_html (the report rendered from evidence), the JSON, the audit bundle and the key."""
    moment = evidence.generated_at.timetuple()[:6]
    files = {
        REPORT: report_html,
        DATA: json.dumps(evidence_json(evidence), indent=1) + "\n",
        BUNDLE: json.dumps(evidence.audit_bundle, indent=1, sort_keys=True) + "\n",
        KEY: evidence.public_key + "\n",
        README: _readme(evidence),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as pack:
        for name, text in files.items():
            pack.writestr(zipfile.ZipInfo(name, date_time=moment), text.encode("utf-8"),
                          compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
