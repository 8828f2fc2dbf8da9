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
import uuid
import zipfile
from html.parser import HTMLParser
from typing import Any

import pytest
from pydantic import ConfigDict, TypeAdapter
from sqlalchemy import create_engine, text
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

from tests.conftest import POSTGRES_URL, REQUIRE_POSTGRES, postgres_reason, prepare_demo, start_cleared

S = "licence-prefilter"
REASON = "the canary rejected more applications than the stable version"
ANNEX_IV = ["1. General description of the AI system", "2. Detailed description of the elements of the AI system",
            "3. Monitoring, functioning and control", "4. Performance metrics", "5. Risk management",
            "6. Changes through the lifecycle", "7. Standards and conformity", "9. Post-market monitoring"]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path_factory):
    """A demo store (built once per engine for this module's tests, which only read it) where v2's
    canary was judged once and then rolled back: (settings, rollout id)."""
    folder = tmp_path_factory.mktemp(request.param)
    schema, admin = None, None
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'relevo.db'}"
    else:
        reason = postgres_reason()
        if reason:
            if REQUIRE_POSTGRES:
                pytest.fail(reason)
            pytest.skip(reason)
        schema, admin = f"t_{uuid.uuid4().hex[:12]}", create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    settings = prepare_demo(Settings(home=folder / "home", database_url=url, actor="tester"))
    ctx = Context.open(settings)
    try:
        rollout = start_cleared(ctx, S, "v2", plan="canary-only")
        tick(ctx)  # the judge keeps its first verdict on the canary
        rollback(ctx, rollout.id, REASON)
    finally:
        ctx.close()
    yield settings, rollout.id
    if admin is not None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def pack(store):
    """(the evidence, the zip's members by name) of the store's rollout."""
    settings, rollout_id = store
    ctx = Context.open(settings)
    try:
        found = evidence_of(ctx, S, rollout_id)
    finally:
        ctx.close()
    with zipfile.ZipFile(io.BytesIO(evidence_zip(found, evidence_html(found)))) as archive:
        return found, {name: archive.read(name) for name in archive.namelist()}


class _Fetched(HTMLParser):
    """Every address the page would load by itself (a script's, a style's, an image's, a frame's)."""

    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.addresses += [value for name, value in attrs if name in ("src", "href") and tag != "a" and value]


def test_the_pack_holds_a_self_contained_report_and_the_same_data_as_json(pack, store):
    found, files = pack
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
    assert incident.rollout_id == store[1] and REASON in incident.title and f"Incident {incident.id}: " in html
    assert {e.action for e in found.approvals} == {"checklist.waived", "checklist.attested"}
    assert found.smoke_run is not None and "gated this rollout's start" in html
    assert len(found.verdicts) == 1 and found.verdicts[0].verdict.value == "not_yet" and "1 (canary)" in html
    assert {"dpia", "fria", "ai_act"} <= set(found.records) and "DPIA-2026-014" in html
    assert found.change_notice is not None and found.change_notice["substantial_modification"] is True

    data = json.loads(files["evidence.json"])
    assert data == json.loads(json.dumps(evidence_json(found)))
    assert data["rollout"]["id"] == store[1] and data["rollout"]["state"] == "rolled_back"
    assert [s["point"] for s in data["annex_iv"]] == ["1", "2", "3", "4", "5", "6", "7", "9"]
    assert [i["item"] for i in data["checklist"]["items"]] == [i.item for i in found.checklist.items]
    assert data["incidents"][0]["title"] == incident.title and "audit_bundle" not in data
    assert data["audit"]["bundle"] == "audit/bundle.json" and data["audit"]["events"] == len(found.events)
    # As GET /v1/services/{service}/rollouts/{id}/evidence answers it (the API's JSON of a result) and a
    # remote `relevo evidence` reads it back (typed by the use case's return), to write the same pack.
    answered = TypeAdapter(Any, config=ConfigDict(ser_json_inf_nan="constants")).dump_json(found)
    assert evidence_json(TypeAdapter(Evidence).validate_json(answered)) == evidence_json(found)


def test_the_audit_part_verifies_offline_and_fails_once_an_event_changed(pack, store, tmp_path):
    found, files = pack
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


def test_a_rollout_that_is_not_there_or_not_the_services_is_not_found(store):
    settings, rollout_id = store
    ctx = Context.open(settings)
    try:
        with pytest.raises(NotFound, match=f"{S} has no rollout 999"):
            evidence_of(ctx, S, 999)
        with pytest.raises(NotFound, match="unknown service 'no-such-service'"):
            evidence_of(ctx, "no-such-service", rollout_id)
        # Another service's: the rollout is licence-prefilter's, not this one's.
        other = parse_spec({"name": "parking-permits", "description": "another service"}, "a test")
        apply_by_hand(ctx, other)
        with pytest.raises(NotFound, match=f"parking-permits has no rollout {rollout_id}"):
            evidence_of(ctx, "parking-permits", rollout_id)
        case_worker = ctx.acting_as("carla", frozenset({("case_worker", None)}))
        with pytest.raises(Refused, match="needs the auditor, approver, operator, dpo or admin role"):
            evidence_of(case_worker, S, rollout_id)
        auditor = ctx.acting_as("audrey", frozenset({("auditor", S)}))
        assert isinstance(evidence_of(auditor, S, rollout_id), Evidence)
    finally:
        ctx.close()


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELEVO_")}
    return env | {"RELEVO_HOME": str(settings.home), "RELEVO_DATABASE_URL": settings.database_url or "",
                  "RELEVO_ACTOR": "audrey", "COLUMNS": "200"}


def test_relevo_evidence_writes_the_pack_and_says_where(store, tmp_path):
    settings, rollout_id = store
    if not (settings.database_url or "").startswith("sqlite"):
        pytest.skip("the command is the same on both engines: run once, on SQLite")
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

    # A path it cannot write is one clear line, said before any evidence is gathered.
    nowhere = CliRunner().invoke(app, ["evidence", S, str(rollout_id), "--out", str(tmp_path / "no" / "pack.zip")],
                                 env=_env(settings))
    assert nowhere.exit_code == 1 and "Traceback" not in nowhere.output
    assert f"error: cannot write the evidence pack to {tmp_path / 'no' / 'pack.zip'}: no folder" in " ".join(
        nowhere.output.split()) and "Gathering" not in nowhere.output


