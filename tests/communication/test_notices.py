"""Planned deployments' notices: told to the informed on a real channel, ahead of time, inside the
windows; public notices with the transparency points; the checklist's communication item from them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from relevo import governance
from relevo.demo import SERVICE_NAME as S
from relevo.errors import Conflict, InvalidInput, Refused
from relevo.governance.notice_text import relevo_template
from relevo.notify import Listeners, WebhookChannel
from relevo.rollouts import apply_by_hand, start_rollout
from relevo.services.catalogue import get_spec
from relevo.services.window_policy import WindowPolicy
from relevo.store import connect

OPERATOR = frozenset({("operator", None)})
APPROVER = frozenset({("approver", None)})


def _item(ctx, version="v2"):
    return next(i for i in governance.checklist_of(ctx, S, version=version).items if i.item == "communication")


def _close_all_but_communication(ctx):
    """Every other open item closed by whom answers for it: the approver waives, the DPO attests."""
    for item in governance.checklist_of(ctx, S, version="v2").open:
        if item.item == "dpia_review":
            governance.attest(ctx.acting_as("dora", frozenset({("dpo", None)})), S, item.item,
                              "DPIA-2026-014 reviewed for v2", version="v2")
        elif item.item == "conformity":
            governance.attest(ctx.acting_as("bea", APPROVER), S, item.item, "internal-control assessment of v2 done",
                              version="v2")
        elif item.item != "communication":
            governance.waive(ctx.acting_as("bea", APPROVER), S, item.item, "not what this test is about", version="v2")


def test_notice_told_on_a_real_channel_then_the_checklist_opens_the_start(world, receiver):
    ctx, clock, _ = world
    url, received = receiver
    olga = replace(ctx.acting_as("olga", OPERATOR), listeners=Listeners([WebhookChannel(url)]))
    _close_all_but_communication(ctx)
    item = _item(ctx)
    assert item.state == "open" and f"relevo notice schedule {S} v2" in item.evidence
    with pytest.raises(Refused, match=r"communication \(no deployment notice"):
        start_rollout(olga, S, "v2")

    notice = governance.schedule_notice(olga, S, "v2", clock.now() + timedelta(days=3), summary="a retrained model")
    assert (notice.informed, notice.channels, notice.public_due) == (["case-worker"], ["webhook"],
                                                                   "a significant change (model_family)")
    [told] = [b for b in received if b["kind"] == "notice.scheduled"]
    assert told["informed"] == ["case-worker"] and "v2 is planned in production" in told["message"]

    clock.advance(timedelta(days=1))  # given, but inside the lead time: too late to start yet
    assert "less than the lead time (2d) ago" in _item(ctx).evidence
    with pytest.raises(Refused, match="less than the lead time"):
        start_rollout(olga, S, "v2")
    clock.advance(timedelta(days=1))
    assert "not generated in es, en: relevo notice public" in _item(ctx).evidence
    for language in ("es", "en"):
        governance.public_notice(olga, S, notice.id, language)
    item = _item(ctx)
    assert (item.state, item.by) == ("passed", "relevo") and "public notice in es, en" in item.evidence
    assert start_rollout(olga, S, "v2").state == "running"
    assert [n.public for n in governance.notices_of(ctx, S)][0].keys() == {"es", "en"}


def test_refusals_name_what_is_wrong(world):
    ctx, clock, _ = world
    olga = ctx.acting_as("olga", OPERATOR)
    now = clock.now()  # Monday 2026-05-04 08:00 UTC
    with pytest.raises(Refused, match="operator"):  # a case worker (or an auditor) gives no notice
        governance.schedule_notice(ctx.acting_as("cai", frozenset({("case_worker", S)})), S, "v2",
                                   now + timedelta(days=3))
    with pytest.raises(Conflict, match=r"too soon: .* at least 2d ahead \(communication\.lead\)"):
        governance.schedule_notice(olga, S, "v2", now + timedelta(hours=5))
    with connect(ctx.engine) as conn:
        spec = get_spec(conn, S)
    windows = WindowPolicy.model_validate({"timezone": "Europe/Madrid",
                                           "slots": [{"days": ["mon"], "start": "07:00", "end": "11:00"}]})
    apply_by_hand(ctx.acting_as("pia", frozenset({("publisher", None), ("operator", None)})), spec.model_copy(update={"windows": windows}))
    with pytest.raises(Conflict, match="outside licence-prefilter's maintenance windows; next openings: "
                                       "2026-05-11 07:00 Europe/Madrid, 2026-05-18 07:00"):
        governance.schedule_notice(olga, S, "v2", now + timedelta(days=3))
    assert governance.schedule_notice(olga, S, "v2", now + timedelta(days=7)).id == 1  # Monday 10:00 in Madrid


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # words, not storage: one engine says it
def test_public_notices_make_the_transparency_points(world):
    ctx, clock, _ = world
    olga = ctx.acting_as("olga", OPERATOR)
    notice = governance.schedule_notice(olga, S, "v2", clock.now() + timedelta(days=3),
                                        review_channel="the citizen help desk")
    es = governance.public_notice(olga, S, notice.id, "es").text
    en = governance.public_notice(olga, S, notice.id, "en").text
    ca = governance.public_notice(olga, S, notice.id, "ca").text
    for text, points in ((es, ["utiliza un sistema automatizado", "nueva versión del modelo (v2)",
                               "7 de mayo de 2026 a las 08:00 (hora UTC)",
                               "Puede pedir que una persona revise", "the citizen help desk", "Para recurrir",
                               "responsable del tratamiento", "delegado de protección de datos"]),
                         (en, ["uses an automated system", "new version of its model (v2)", "7 May 2026 at 08:00",
                               "ask for a person to review", "To contest a decision", "data controller"]),
                         (ca, ["utilitza un sistema automatitzat", "7 de maig de 2026", "Pot demanar que una persona "
                               "revisi", "Per recórrer"])):
        for point in points:
            assert point in text, (point, text)
        assert "recurso de reposición" in text  # the contest path from the Art. 22 record, as written


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # words, not storage: one engine says it
def test_a_template_is_refused_naming_the_field(world):
    ctx, clock, _ = world
    olga = ctx.acting_as("olga", OPERATOR)
    notice = governance.schedule_notice(olga, S, "v2", clock.now() + timedelta(days=3))
    with pytest.raises(InvalidInput, match=r"uses the field \$mayor, which Relevo does not provide"):
        governance.public_notice(olga, S, notice.id, "es", template=relevo_template("es") + "\nFirmado: $mayor\n")
    without = relevo_template("en").replace("$human_review", "")
    with pytest.raises(InvalidInput, match=r"lacks \$human_review \(how to ask for a review by a person"):
        governance.public_notice(olga, S, notice.id, "en", template=without)
    own = governance.public_notice(olga, S, notice.id, "es", template="$purpose $change $planned_start "
                                   "$human_review $contact Coste: 0 $$")
    assert own.template.startswith("custom sha256:") and own.text.endswith("Coste: 0 $")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # words, not storage: one engine says it
def test_the_informed_are_reminded_once_the_day_before(world, receiver):
    ctx, clock, _ = world
    url, received = receiver
    olga = replace(ctx.acting_as("olga", OPERATOR), listeners=Listeners([WebhookChannel(url)]))
    notice = governance.schedule_notice(olga, S, "v2", clock.now() + timedelta(days=3))
    assert governance.remind_notices(olga) == []
    clock.advance(timedelta(days=2, hours=1))
    assert governance.remind_notices(olga) == [notice.id] and governance.remind_notices(olga) == []
    assert [b["informed"] for b in received if b["kind"] == "notice.reminder"] == [["case-worker"]]
