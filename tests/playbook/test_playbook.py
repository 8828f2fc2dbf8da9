"""The deployment playbook: every section with the service's real values (its versions and routes, its
runbook's plans and criteria, a recorded drill, the next window's opening, its RACI), versioned by the
spec's hash; one self-contained HTML page; an unknown service named."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import yaml

from relevo.demo import SERVICE_NAME as S
from relevo.demo import spec_resource
from relevo.drills import Drill, record_drill
from relevo.errors import NotFound
from relevo.playbook import playbook_markdown, playbook_of
from relevo.services import parse_spec, service_windows, spec_digest
from relevo.services.catalogue import apply_spec
from relevo.store import connect
from relevo.web import playbook_document

MADRID = {"timezone": "Europe/Madrid", "slots": [{"days": ["mon", "tue", "wed", "thu"], "start": "07:00",
                                                  "end": "11:00"}]}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_playbook_gathers_every_section_from_the_records(demo):
    spec = parse_spec(yaml.safe_load(spec_resource().read_text()) | {"windows": MADRID}, "windowed.yaml")
    apply_spec(demo, spec)
    now = demo.clock.now()
    with connect(demo.engine) as conn:
        record_drill(conn, demo, Drill(S, "staging", "model-down", "simulated", "passed", 12.0, 95.0, 3600.0, 14400.0,
                                       300, 0, 0, now - timedelta(hours=1), now - timedelta(minutes=40), "olga"))

    book = playbook_of(demo, S)
    text = playbook_markdown(book)
    assert book.spec_sha256 == spec_digest(spec) and f"spec sha256 {spec_digest(spec)}" in text
    assert f"generated: {book.generated_at:%Y-%m-%d %H:%M} UTC" in text
    titles = [c.title for c in book.chapters]
    assert titles[:6] == ["Versioning process", "Shadowing procedure", "Rollback runbook",
                          "Drill schedule and last results", "RACI", "Maintenance windows"]
    # Versioning: the registered versions with their hashes, production's stable one, the checklist.
    versions = "\n".join(book.chapters[0].sections[1].points)
    assert versions.count("sha256 ") == 3 and "v1: sha256" in versions
    assert "production: stable v1" in text and "`dpia_review`: the DPIA reviewed" in text
    # Shadowing: the plan's steps and criteria in the runbook's words; the rollback runbook's fallback.
    assert "1. shadow for at least 5d" in text and "### Acceptance criteria" in text
    assert "### Fallback procedure" in text and f"`relevo fallback {S} on`" in text
    assert "### Deployment steps" not in text.split("## 3. Rollback runbook")[1]  # said once, in shadowing
    # Drills: the schedule, and the drill just recorded as model-down's last result.
    assert "They are due `0 9 1 1,4,7,10 *` (cron, Europe/Madrid), with 7d of grace" in text
    assert f"model-down: last passed {now - timedelta(hours=1):%Y-%m-%d %H:%M} UTC, model-down in staging" in text
    assert "detected 12s (target 3600s), recovered 95s (target 14400s); 0 lost, 0 unanswered of 300" in text
    # RACI and windows: the spec's roles, the next opening as `relevo windows` lists it.
    assert "informed: case-worker" in text
    first = service_windows(demo, S, 1).openings[0]
    assert f"{first.local_start:%a %Y-%m-%d %H:%M} - {first.local_end:%H:%M} Europe/Madrid" in text

    page = playbook_document(demo, S, "html")
    assert page.format == "html" and page.text.count("<html") == 1
    assert "<h2>4. Drill schedule and last results</h2>" in page.text
    assert not re.search(r"<(script|link|img)[^>]*(src|href)=", page.text)  # self-contained: nothing fetched
    assert "http://" not in page.text and "https://" not in page.text
    assert playbook_document(demo, S).text.startswith(f"# Deployment playbook: {S}")

    with pytest.raises(NotFound, match=f"unknown service 'nope'; known services: {S}"):
        playbook_of(demo, "nope")
