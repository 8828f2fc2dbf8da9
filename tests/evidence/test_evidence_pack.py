"""A rollout's evidence pack, on each engine: the zip holds a self-contained report with the Annex IV
headings, the checklist and the incident, the same data as JSON, and an audit part the offline
bundle check verifies (and refuses once one byte of an event changed); bad input is one clear
error; `relevo evidence` writes it; the API's JSON of it reads back as the same evidence."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from pydantic import ConfigDict, TypeAdapter
from typer.testing import CliRunner

from relevo import audit
from relevo.cli.main import app
from relevo.context import Context
from relevo.errors import NotFound, Refused
from relevo.evidence import Evidence, evidence_json, evidence_of, evidence_zip
from relevo.rollouts import apply_by_hand, rollback, tick
from relevo.services import parse_spec
from relevo.settings import Settings
from relevo.web import evidence_html

from tests.conftest import start_cleared

S = "licence-prefilter"
REASON = "the canary rejected more applications than the stable version"
ANNEX_IV = ["1. General description of the AI system", "2. Detailed description of the elements of the AI system",
            "3. Monitoring, functioning and control", "4. Performance metrics", "5. Risk management",
            "6. Changes through the lifecycle", "7. Standards and conformity", "9. Post-market monitoring"]


class _Fetched(HTMLParser):
    """Every address the page would load by itself (a script's, a style's, an image's, a frame's)."""

    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.addresses += [value for name, value in attrs if name in ("src", "href") and tag != "a" and value]


def _report_and_json(found: Evidence, files: dict[str, bytes], rollout_id: int) -> None:
    """The report is self-contained and shows what the pack holds; the JSON is the same data."""
    assert set(files) == {"report.html", "evidence.json", "audit/bundle.json", "audit/key.pub", "README.txt"}
    html = files["report.html"].decode("utf-8")
    fetched = _Fetched()
    fetched.feed(html)
    assert fetched.addresses == [], "the report loads nothing from anywhere"
    assert "Plotly.newPlot" in html and "the judge's verdicts over time" in html  # the chart, inline

    assert all(heading in html for heading in ANNEX_IV), [h for h in ANNEX_IV if h not in html]
    assert "EU AI Act, Annex IV" in html and found.candidate.record.metadata.training_data.sha256 in html
    assert found.candidate.record.metadata.code_revision in html and "gradient boosting" in html
    # The checklist the rollout started with: every item, its state and who answered for it.
    assert found.checklist is not None and [i.item for i in found.checklist.items][:3] == ["metadata", "tests", "staging"]
    for item in found.checklist.items:
        assert f"<strong>{item.item}</strong>" in html and f'class="{item.state}">{item.state}' in html
    assert "model family: logistic regression (skops) to gradient boosting (skops)" in html  # significant change
    # The incident the rollback opened, its waivers and attestations, the smoke run that gated the start.
    [incident] = found.incidents
    assert incident.rollout_id == rollout_id and REASON in incident.title and f"Incident {incident.id}: " in html
    assert {e.action for e in found.approvals} == {"checklist.waived", "checklist.attested"}
    assert found.smoke_run is not None and "gated this rollout's start" in html
    assert len(found.verdicts) == 1 and found.verdicts[0].verdict.value == "not_yet" and "1 (canary)" in html
    assert {"dpia", "fria", "ai_act"} <= set(found.records) and "DPIA-2026-014" in html
    assert found.change_notice is not None and found.change_notice["substantial_modification"] is True

    data = json.loads(files["evidence.json"])
    assert data == json.loads(json.dumps(evidence_json(found)))
    assert data["rollout"]["id"] == rollout_id and data["rollout"]["state"] == "rolled_back"
    assert [s["point"] for s in data["annex_iv"]] == ["1", "2", "3", "4", "5", "6", "7", "9"]
    assert [i["item"] for i in data["checklist"]["items"]] == [i.item for i in found.checklist.items]
    assert data["incidents"][0]["title"] == incident.title and "audit_bundle" not in data
    assert data["audit"]["bundle"] == "audit/bundle.json" and data["audit"]["events"] == len(found.events)
    # As GET /v1/services/{service}/rollouts/{id}/evidence answers it (the API's JSON of a result) and a
    # remote `relevo evidence` reads it back (typed by the use case's return), to write the same pack.
    answered = TypeAdapter(Any, config=ConfigDict(ser_json_inf_nan="constants")).dump_json(found)
    assert evidence_json(TypeAdapter(Evidence).validate_json(answered)) == evidence_json(found)


def _audit_part(found: Evidence, files: dict[str, bytes], tmp_path: Path) -> None:
    """The audit part passes the offline bundle check, and fails it once one byte of an event changed."""
    for name in ("audit/bundle.json", "audit/key.pub"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(files[name])
    key = [audit.read_verifier(str(tmp_path / "audit/key.pub"))]
    report = audit.verify_bundle(tmp_path / "audit/bundle.json", key)
    assert report.ok and report.events == len(found.events) >= 10, report.problems
    actions = [e.action for e in found.events]
    assert {"rollout.started", "release.change_notice", "incident.opened", "rollout.rolled_back",
            "checklist.waived", "route.changed"} <= set(actions)
    assert all(e.subject.startswith(f"{S}/") for e in found.events)

    # One byte of the rollback's reason, in the file the auditor was given.
    raw = files["audit/bundle.json"]
    at = raw.index(REASON.encode())
    (tmp_path / "tampered.json").write_bytes(raw[:at] + b"T" + raw[at + 1:])
    tampered = audit.verify_bundle(tmp_path / "tampered.json", key)
    rolled_back = next(e for e in found.events if e.action == "rollout.rolled_back")
    assert not tampered.ok and any("details do not match" in p for p in tampered.problems), tampered.problems
    assert tampered.first_bad_event in (rolled_back.id, next(e.id for e in found.events if e.action == "incident.opened"))


def _bad_input(ctx: Context, rollout_id: int) -> None:
    """A rollout that is not there, or not the service's, is NotFound; a case worker is refused."""
    with pytest.raises(NotFound, match=f"{S} has no rollout 999"):
        evidence_of(ctx, S, 999)
    with pytest.raises(NotFound, match="unknown service 'no-such-service'"):
        evidence_of(ctx, "no-such-service", rollout_id)
    # Another service's: the rollout is licence-prefilter's, not this one's.
    apply_by_hand(ctx, parse_spec({"name": "parking-permits", "description": "another service"}, "a test"))
    with pytest.raises(NotFound, match=f"parking-permits has no rollout {rollout_id}"):
        evidence_of(ctx, "parking-permits", rollout_id)
    with pytest.raises(Refused, match="needs the auditor, approver, operator, dpo or admin role"):
        evidence_of(ctx.acting_as("carla", frozenset({("case_worker", None)})), S, rollout_id)
    assert isinstance(evidence_of(ctx.acting_as("audrey", frozenset({("auditor", S)})), S, rollout_id), Evidence)


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELEVO_")}
    return env | {"RELEVO_HOME": str(settings.home), "RELEVO_DATABASE_URL": settings.database_url or "",
                  "RELEVO_ACTOR": "audrey", "COLUMNS": "200"}


def _command(settings: Settings, rollout_id: int, tmp_path: Path) -> None:
    """`relevo evidence` writes the pack and says where; a path it cannot write is one clear line."""
    out = tmp_path / "pack.zip"
    run = subprocess.run([sys.executable, "-m", "relevo", "evidence", S, str(rollout_id), "--out", str(out)],
                         env=_env(settings), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    printed = " ".join(run.stdout.split())
    assert f"Gathering the evidence of {S} rollout {rollout_id}" in printed and f"Wrote {out}" in printed
    assert "relevo audit verify --bundle audit/bundle.json --key audit/key.pub" in printed
    with zipfile.ZipFile(out) as archive:
        assert json.loads(archive.read("evidence.json"))["generated_by"] == "audrey"
        assert "report.html" in archive.namelist()
    # Said before any evidence is gathered.
    nowhere = CliRunner().invoke(app, ["evidence", S, str(rollout_id), "--out", str(tmp_path / "no" / "pack.zip")],
                                 env=_env(settings))
    assert nowhere.exit_code == 1 and "Traceback" not in nowhere.output
    assert f"error: cannot write the evidence pack to {tmp_path / 'no' / 'pack.zip'}: no folder" in " ".join(
        nowhere.output.split()) and "Gathering" not in nowhere.output


def test_a_rolled_back_rollouts_evidence_pack(demo, demo_settings, tmp_path):
    # One store per engine serves every check (a demo store is most of the cost): v2's canary,
    # judged once, then rolled back, which opens an incident.
    rollout = start_cleared(demo, S, "v2", plan="canary-only")
    tick(demo)
    rollback(demo, rollout.id, REASON)

    found = evidence_of(demo, S, rollout.id)
    with zipfile.ZipFile(io.BytesIO(evidence_zip(found, evidence_html(found)))) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    _report_and_json(found, files, rollout.id)
    _audit_part(found, files, tmp_path)
    if demo.engine.dialect.name == "sqlite":  # the command is the same on both engines: run once
        _command(demo_settings, rollout.id, tmp_path)
    _bad_input(demo, rollout.id)
