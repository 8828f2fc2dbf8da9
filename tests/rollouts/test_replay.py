"""Replay: production's recorded cases, minimised, answered by a version in staging; the same
paired report as a shadow step, checked against the two versions asked directly; check-plan then
sizes paired steps on the replay's disagreement."""

from __future__ import annotations

import pytest

from relevo.errors import InvalidInput, NotFound
from relevo.registry import load_version
from relevo.rollouts import check_plan, replay, route_by_hand
from relevo.rollouts.replay import BY_CANDIDATE
from relevo.demo.traffic import requests

SERVICE = "licence-prefilter"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_replay_compares_recorded_answers_with_the_versions_and_sizes_the_plan(world):
    ctx, clock, gateway = world
    cases = list(requests(400, seed=21))
    for case_id, inputs in cases:
        gateway.decide(SERVICE, case_id, inputs)

    done = replay(ctx, SERVICE, version="v3", limit=1000)
    assert (done.cases_read, done.replayed, done.not_replayed) == (400, 400, {})
    # Independently: both versions asked directly, on the inputs as clients sent them.
    _, v1 = load_version(ctx, SERVICE, "v1")
    _, v3 = load_version(ctx, SERVICE, "v3")
    rows = [inputs for _, inputs in cases]
    pairs = list(zip((p.decision for p in v1.predict(rows)), (p.decision for p in v3.predict(rows))))
    overall = done.report.overall
    assert overall.pairs == 400 and overall.agreeing == sum(a == b for a, b in pairs)
    assert overall.table["admissible"]["rejected"] == sum(pair == ("admissible", "rejected") for pair in pairs)
    assert overall.lower <= overall.agreement <= overall.upper
    assert set(done.report.groups) == {"age_band", "nationality_group"}
    assert sum(g.pairs for g in done.report.groups["age_band"].values()) == 400

    # Cases a canary's candidate answered are not the stable version's answers: not compared.
    route_by_hand(ctx, SERVICE, "production", candidate="v2", mode="canary", weight=50,
                  override="a hand-set canary, to record cases the candidate answered")
    gateway.refresh()
    arms = [gateway.decide(SERVICE, case_id, inputs).arm for case_id, inputs in requests(60, seed=22)]
    mixed = replay(ctx, SERVICE, version="v3", limit=1000)
    assert mixed.not_replayed == {BY_CANDIDATE: arms.count("candidate")} and 0 < arms.count("candidate") < 60
    assert mixed.replayed == 400 + arms.count("stable")

    planned = check_plan(ctx, SERVICE)
    used, where = planned.discordance["decision_rate(rejected)"]  # from the newest replay
    flipped = sum(f.count for f in mixed.report.overall.flips) / mixed.report.overall.pairs
    assert used == pytest.approx(flipped) and f"replaying recorded cases to v3 ({mixed.replayed:,} pairs)" in where
    assert sum(a != b for a, b in pairs) == sum(f.count for f in overall.flips)  # two labels: a flip moves the share


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_replay_refuses_what_cannot_be_replayed(world):
    ctx, _, _ = world
    with pytest.raises(InvalidInput, match="both are production"):
        replay(ctx, SERVICE, source="production", target="production", version="v3")
    with pytest.raises(NotFound, match="unknown environment 'qa'"):
        replay(ctx, SERVICE, target="qa", version="v3")
    with pytest.raises(InvalidInput, match="limit must lie between"):
        replay(ctx, SERVICE, version="v3", limit=0)
    empty = replay(ctx, SERVICE, version="v3")  # nothing recorded yet: an honest empty report
    assert empty.cases_read == 0 and empty.report.overall.pairs == 0 and empty.report.overall.agreement is None
