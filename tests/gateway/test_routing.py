"""Sticky assignment, the routing table use case, and how fast gateways apply a change."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import stats
from sqlalchemy import select, update

from relevo.context import Context
from relevo.demo.setup import set_up_demo
from relevo.errors import Conflict, NotFound
from relevo.gateway.gateway import Gateway
from relevo.routing.assign import case_bucket, goes_to_candidate
from relevo.routing.table import get_route, set_fallback, set_route
from relevo.services import ServiceSpec
from relevo.services.catalogue import apply_spec
from relevo.store import connect
from relevo.store.tables import audit_events, routes

from tests.conftest import demo_training


def test_assignment_is_sticky_and_matches_the_weight():
    cases = [f"case-{i}" for i in range(100_000)]
    chosen = sum(goes_to_candidate(c, 5.0, salt="licence-prefilter") for c in cases)
    assert stats.binomtest(chosen, len(cases), 0.05).pvalue > 0.001
    assert all(goes_to_candidate(c, 5.0, "s") == goes_to_candidate(c, 5.0, "s") for c in cases[:1000])
    # a case in the 5% stays in the candidate arm when the weight grows (steps only add cases)
    assert all(goes_to_candidate(c, 25.0, "s") for c in cases[:5000] if goes_to_candidate(c, 5.0, "s"))
    buckets = np.array([case_bucket(c) for c in cases[:20_000]])
    assert stats.kstest(buckets, "uniform").pvalue > 0.001


@pytest.fixture
def demo_ctx(settings):
    set_up_demo(settings, trained=demo_training())
    context = Context.open(settings)
    yield context
    context.close()


def test_route_changes_are_validated_and_audited(demo_ctx):
    with pytest.raises(NotFound, match="has no route in staging"):
        get_route(demo_ctx, "licence-prefilter", "staging")
    with pytest.raises(Conflict, match="needs a candidate"):
        set_route(demo_ctx, "licence-prefilter", "staging", stable="v1", mode="canary", weight=5)
    with pytest.raises(NotFound, match="unknown environment"):
        set_route(demo_ctx, "licence-prefilter", "prod", stable="v1")
    established = get_route(demo_ctx, "licence-prefilter", "production")  # the demo's approver routed v1
    assert established.revision == 1 and established.mode == "stable"
    first = set_route(demo_ctx, "licence-prefilter", "production", stable="stable")
    second = set_route(demo_ctx, "licence-prefilter", "production", candidate="v3", mode="canary", weight=5)
    assert (first.revision, second.revision) == (2, 3) and second.stable_version_id == first.stable_version_id
    killed = set_fallback(demo_ctx, "licence-prefilter", "production", True)
    assert killed.fallback_forced and killed.mode == "canary" and killed.revision == 4
    with connect(demo_ctx.engine) as conn:
        actions = conn.execute(select(audit_events.c.action).where(
            audit_events.c.subject == "licence-prefilter/production")).scalars().all()
    assert actions == ["route.changed", "route.changed", "route.changed", "fallback.forced"]


def test_every_gateway_applies_a_route_change_within_a_second(demo_ctx, settings):
    set_route(demo_ctx, "licence-prefilter", "production", stable="v1", candidate="v2", mode="canary", weight=50)
    contexts = [Context.open(settings) for _ in range(2)]
    gateways = [Gateway(c, pseudonym_key=b"k" * 32, poll_interval=0.2).start() for c in contexts]
    try:
        changed = set_route(demo_ctx, "licence-prefilter", "production", mode="stable", weight=0)
        started = time.monotonic()
        while time.monotonic() - started < 5:
            if all(g.runtime("licence-prefilter").route.revision == changed.revision for g in gateways):
                break
            time.sleep(0.01)
        elapsed = time.monotonic() - started
        assert all(g.runtime("licence-prefilter").route.mode == "stable" for g in gateways)
        assert elapsed < 1.0, f"took {elapsed:.2f} s"
    finally:
        for g, c in zip(gateways, contexts):
            g.close()
            c.close()


def test_on_postgresql_a_change_is_applied_without_waiting_for_the_poll(demo_ctx, settings):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite gateways rely on the poll alone")
    set_route(demo_ctx, "licence-prefilter", "production", stable="v1", candidate="v2", mode="canary", weight=50)
    context = Context.open(settings)
    gateway = Gateway(context, pseudonym_key=b"k" * 32, poll_interval=5.0).start()
    try:
        time.sleep(0.5)  # let the gateway's listener connect
        for mode, weight in (("stable", 0), ("canary", 5)):
            changed = set_route(demo_ctx, "licence-prefilter", "production", mode=mode, weight=weight)
            started = time.monotonic()
            while gateway.runtime("licence-prefilter").route.revision != changed.revision:
                assert time.monotonic() - started < 2.5, "the change waited for the 5 s poll"
                time.sleep(0.005)
            assert gateway.runtime("licence-prefilter").route.mode == mode
    finally:
        gateway.close()
        context.close()


def test_on_postgresql_a_change_whose_notification_was_lost_still_comes_by_the_poll(demo_ctx, settings):
    """While a gateway listens it polls once a second only: a change that came without its NOTIFY
    (a notification lost with a connection) is still applied within about that second."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite gateways rely on the poll alone")
    from relevo.gateway.gateway import LISTENING_POLL_S

    set_route(demo_ctx, "licence-prefilter", "production", stable="v1", candidate="v2", mode="canary", weight=50)
    context = Context.open(settings)
    gateway = Gateway(context, pseudonym_key=b"k" * 32).start()
    try:
        time.sleep(0.5)  # let the gateway's listener connect
        with connect(demo_ctx.engine) as conn:  # the route changed with no announcement
            conn.execute(update(routes).where(routes.c.service == "licence-prefilter",
                                              routes.c.environment == "production")
                         .values(mode="stable", weight=0, revision=routes.c.revision + 1))
        started = time.monotonic()
        while gateway.runtime("licence-prefilter").route.mode != "stable":
            assert time.monotonic() - started < LISTENING_POLL_S + 1.5, "the poll never brought the change"
            time.sleep(0.01)
    finally:
        gateway.close()
        context.close()


def test_folded_versions_answer_in_the_request_thread_as_scikit_learn_would(demo_ctx):
    from relevo.demo import applications as apps
    from relevo.demo.training import model_matrix
    from relevo.registry.load import load_version

    set_route(demo_ctx, "licence-prefilter", "production", stable="v1", candidate="v2", mode="canary", weight=50)
    with Gateway(demo_ctx, pseudonym_key=b"k" * 32) as gateway:
        runtime = gateway.runtime("licence-prefilter")
        # logistic regression and gradient boosting are both folded: bounded, called inline
        # (models that run their own code keep a pool: see test_chaos)
        assert runtime.stable.pool is None and runtime.candidate.pool is None
        fields = list(runtime.spec.inputs)
        applications = apps.generate(300, seed=4)
        answers = [gateway.decide("licence-prefilter", row["applicant_id"], {f: row[f] for f in fields})
                   for row in applications]
    assert {a.version for a in answers} == {"v1", "v2"} and {a.served_by for a in answers} == {"version"}
    # each version's answers are scikit-learn's own, computed here without Relevo's loader
    for version in ("v1", "v2"):
        _, model = load_version(demo_ctx, "licence-prefilter", version)
        served = [(a, row) for a, row in zip(answers, applications) if a.version == version]
        expected = model.estimator.predict_proba(model_matrix([row for _, row in served]))
        got = [[a.probabilities[c] for c in model.estimator.classes_] for a, _ in served]
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_a_declared_service_that_cannot_decide_is_named_as_such(demo_ctx):
    apply_spec(demo_ctx, ServiceSpec(name="pickup-triage", description="declared before its inputs are known"))
    with Gateway(demo_ctx, "production", pseudonym_key=b"k" * 32) as gateway:
        with pytest.raises(NotFound, match="'pickup-triage' is declared but not served: its spec declares no inputs"):
            gateway.runtime("pickup-triage")
        with pytest.raises(NotFound, match="unknown service 'pickup-triag' "):
            gateway.runtime("pickup-triag")
