"""`relevo rollout status` of a shadow step: agreement, the flip table, by protected group."""

from __future__ import annotations

from itertools import islice

from relevo.context import Context
from relevo.demo.scenario import cases
from relevo.gateway.gateway import Gateway
from relevo.gateway.pseudonym import load_key
from tests.conftest import prepare_demo, start_cleared

SERVICE = "licence-prefilter"


def test_status_of_a_shadow_step_shows_the_paired_comparison(cli, settings):
    ctx = Context.open(prepare_demo(settings))
    try:
        start_cleared(ctx, SERVICE, "v2")  # the standard plan starts in shadow
        gateway = Gateway(ctx, "production", pseudonym_key=load_key(settings.pseudonym_key, settings.home)).start()
        try:
            gateway.refresh()
            answers = [gateway.decide(SERVICE, case_id, inputs) for case_id, inputs, _ in islice(cases(7), 300)]
            gateway.wait_for_shadow()
        finally:
            gateway.close()
    finally:
        ctx.close()

    status = cli.json("rollout", "status", SERVICE)
    report = status["shadow"]
    answered = sum(a.served_by == "version" for a in answers)
    assert report["copies"] == answered and report["candidate_errors"] == 0
    overall = report["overall"]
    assert overall["pairs"] == answered
    assert sum(sum(row.values()) for row in overall["table"].values()) == answered
    assert overall["lower"] <= overall["agreement"] <= overall["upper"]
    assert set(report["groups"]) == {"age_band", "nationality_group"}
    assert sum(g["pairs"] for g in report["groups"]["age_band"].values()) == answered
    assert report["latency_p50_ms"] <= report["latency_p95_ms"]

    text = cli("rollout", "status", SERVICE).stdout
    print(text)
    for expected in ("shadow comparison", "flip table", "by age_band (protected)", "by nationality_group",
                     "admissible→rejected", "Agreement"):
        assert expected in text
