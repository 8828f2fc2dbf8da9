"""Judging a rollout's current step (or blue/green phase), and the verdicts kept for it.

A criterion needs positive evidence once in a rollout: a step that showed it within its
tolerance (paired evidence in shadow is the strongest there is) hands that on to the later
steps, which still watch it for harm (a failure there rolls back) but do not need to show it
again. A criterion a step cannot speak to (corrections in shadow) is not applicable there and is
left to a later step. Before promotion every criterion must have been shown in some step.

The verdicts are kept per step and phase (`rollout_verdicts`, changes only), so every finished
step's evidence stays readable and the next steps know what was shown.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, Callable

import numpy as np

from sqlalchemy import Connection, select

from relevo.analysis.judge import Verdict
from relevo.context import Context
from relevo.rollouts.guards import check_guards
from relevo.rollouts.judging import (
    PAIRED,
    MetricResult,
    criterion_name,
    judge_after_switch,
    judge_canary,
    judge_shadow,
    not_applicable,
    step_verdict,
)
from relevo.rollouts.ledger import Ledger
from relevo.rollouts.observations import ReviewedDecisions, StepObservations, held_answers, observe_step
from relevo.rollouts.review_report import ReviewReport, review_report
from relevo.rollouts.shadow_report import ShadowReport, shadow_report
from relevo.rollouts.step_evidence import StepEvidence
from relevo.rollouts.rollout import Rollout
from relevo.services.catalogue import get_spec
from relevo.services.rollout_policy import Criterion, RolloutPolicy
from relevo.store import connect
from relevo.store.tables import rollout_verdicts


@dataclass(frozen=True)
class StepJudgement:
    """The judge's view of a rollout's current step (or blue/green phase)."""

    verdict: Verdict
    metrics: list[MetricResult]
    guard: str | None
    decisions: int
    candidate_decisions: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as recorded with the step and with the transition it causes."""
        return {"verdict": self.verdict.value, "guard": self.guard, "decisions": self.decisions,
                "candidate_decisions": self.candidate_decisions, "metrics": [m.as_dict() for m in self.metrics]}

    @property
    def shown(self) -> set[str]:
        """Criteria this step itself showed within their tolerance."""
        return {m.name for m in self.metrics if m.verdict is Verdict.PASS}


@dataclass(frozen=True)
class KeptVerdict(StepJudgement):
    """A judgement as kept with its step and phase, and when it was made."""

    step_index: int
    phase: str | None
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"step_index": self.step_index, "phase": self.phase, "at": self.at.isoformat()} | super().as_dict()

    @classmethod
    def kept(cls, step_index: int, at: datetime, details: dict[str, Any]) -> "KeptVerdict":
        """A verdict read back from the details record_verdict stored."""
        return cls(verdict=Verdict(details["verdict"]), guard=details.get("guard"),
                   decisions=details.get("decisions", 0), candidate_decisions=details.get("candidate_decisions", 0),
                   metrics=[MetricResult.kept(m) for m in details.get("metrics", [])],
                   step_index=step_index, phase=details.get("phase"), at=at)

    @classmethod
    def of(cls, judgement: StepJudgement, rollout: Rollout, at: datetime) -> "KeptVerdict":
        """A live judgement of the rollout's current step, placed like a kept one."""
        return cls(**{f.name: getattr(judgement, f.name) for f in fields(StepJudgement)},
                   step_index=rollout.step_index, phase=rollout.phase, at=at)


def step_where(step_index: int, phase: str) -> str:
    """How a step (and phase) is named in reasons: 'step 1 (shadow)'."""
    return f"step {step_index + 1} ({phase})"


def judge_step(policy: RolloutPolicy, rollout: Rollout, obs: StepObservations, now: datetime,
               shown: dict[str, str] | None = None, ledger: Ledger | None = None,
               reviews: Callable[[Criterion], ReviewedDecisions] | None = None) -> StepJudgement:
    """The judgement of the rollout's current step (or phase) on observations already read;
    shown: criteria earlier steps showed within tolerance, and where; ledger: the step's kept
    evidence, when obs holds only the decisions since; reviews: the verdicts that came to count."""
    ledger = ledger or Ledger()
    phase = rollout.phase
    if phase in ("preview", "switched"):
        # A blue/green step is judged twice (preview, then after the switch): each phase gets
        # half the step's alpha, so the step's chance of a false rollback stays within alpha.
        policy = policy.model_copy(update={"alpha": policy.alpha / 2})
    times = obs.created_at
    if phase in ("shadow", "preview"):
        metrics = judge_shadow(policy, obs, ledger)
        guard = check_guards(policy.guards, obs, shadow=True, ledger=ledger)
        n_candidate = ledger.count("candidate", obs.shadowed, times)
    elif phase == "canary":
        metrics = judge_canary(policy, obs, float(rollout.step["weight"]) / 100, now, ledger, reviews)
        guard = check_guards(policy.guards, obs, ledger=ledger)
        n_candidate = ledger.count("candidate", obs.candidate, times)
    elif phase == "switched":
        metrics = judge_after_switch(policy, obs, ledger)
        guard = check_guards(policy.guards, obs, ledger=ledger)
        n_candidate = ledger.count("candidate", obs.candidate, times)
    else:
        return StepJudgement(Verdict.NOT_APPLICABLE, [], None, 0, 0)
    decisions = ledger.count("decisions", np.ones(obs.n, dtype=bool), times)
    by_name = {criterion_name(c): c for c in policy.criteria}
    metrics = [replace(m, definition=by_name[m.name].digest) if m.name in by_name else m for m in metrics]
    metrics = [m.carried(shown[m.name]) if shown and m.name in shown else m for m in metrics]
    later = later_phases(rollout)
    metrics = [_defer(m, by_name.get(m.name), later) for m in metrics]
    verdict = Verdict.FAIL if guard else step_verdict(metrics, n_candidate)
    return StepJudgement(verdict, metrics, guard, decisions, n_candidate)


def later_phases(rollout: Rollout) -> list[tuple[str, str]]:
    """(phase, where) of every phase the plan still has after the current one, in order."""
    out = []
    if rollout.phase == "preview":
        out.append(("switched", step_where(rollout.step_index, "switched")))
    for index in range(rollout.step_index + 1, len(rollout.plan)):
        kind = rollout.plan[index]["kind"]
        for phase in ({"bluegreen": ("preview", "switched")}.get(kind, (kind,))):
            out.append((phase, step_where(index, phase)))
    return out


def _defer(metric: MetricResult, criterion, later: list[tuple[str, str]]) -> MetricResult:
    """The metric, left to the first later phase that can still show it (if any)."""
    if criterion is None:
        return metric
    for phase, where in later:
        if not_applicable(criterion, phase) is None:
            return metric.deferred(where)
    return metric


@dataclass(frozen=True)
class StepReading:
    """What one look at a step shows: the judgement, and the reports status shows with it."""

    judgement: StepJudgement
    shadow: ShadowReport | None  # the paired comparison of a shadow step or blue/green preview
    review: ReviewReport | None  # the review policy's work, where it holds answers


def judge_rollout(ctx: Context, rollout: Rollout, keep: bool = True) -> StepJudgement:
    """Judge the current step (or blue/green phase) of a rollout from its decisions so far: the
    kept evidence advanced with what arrived since, kept again unless keep is False."""
    return read_step(ctx, rollout, keep).judgement


def read_step(ctx: Context, rollout: Rollout, keep: bool = True, compare: bool = False) -> StepReading:
    """The judgement of the rollout's current step with its reports, from the kept evidence
    advanced with what arrived since (kept again unless keep is False); compare: with the paired
    comparison of a shadow step (or preview), read from the whole step."""
    now = ctx.clock.now()
    with connect(ctx.engine) as conn:
        spec = get_spec(conn, rollout.service)
        policy = spec.rollout
        protected = [name for name, field in spec.inputs.items() if field.protected]
        read = sorted(set(protected) | set(judged_attributes(policy)))  # the inputs read from each decision
        shown = shown_earlier(conn, rollout, policy)
        evidence = StepEvidence.load(conn, rollout, policy, now)
        ledger = evidence.ledger
        shadow = None
        for obs, reviews in evidence.news(conn, read):
            judgement = judge_step(policy, rollout, obs, now, shown, ledger, reviews)
            arms = {"candidate": obs.candidate, "stable": ~obs.candidate}
            decided = {arm: ledger.count(f"report/decisions/{arm}", mask, obs.created_at) for arm, mask in arms.items()}
            held = {arm: ledger.count(f"report/held/{arm}", mask & obs.held, obs.created_at)
                    for arm, mask in arms.items()}
        if compare and rollout.phase in PAIRED:
            # The paired comparison per protected group is status's alone: read from the whole step
            # when asked, rather than kept at every tick (a sequence per group, each judgement).
            whole = observe_step(conn, rollout.step_label, read)
            shadow = shadow_report(whole, protected, spec.decisions, policy.alpha)
        review = None
        if spec.review.active or any(held.values()):
            review = review_report(decided, held, held_answers(conn, rollout.step_label))
        if keep:
            evidence.keep(conn, judgement.as_dict())
    return StepReading(judgement, shadow, review)


def judged_attributes(policy: RolloutPolicy) -> list[str]:
    """The inputs the criteria read from each decision (the protected attributes of fairness)."""
    return sorted({c.attribute for c in policy.criteria if c.attribute is not None})


def shown_earlier(conn: Connection, rollout: Rollout, policy: RolloutPolicy) -> dict[str, str]:
    """The policy's criteria an earlier step (or phase) of the rollout showed within tolerance,
    under the same definition, and where."""
    rows = conn.execute(select(rollout_verdicts.c.step_index, rollout_verdicts.c.details)
                        .where(rollout_verdicts.c.rollout_id == rollout.id).order_by(rollout_verdicts.c.id))
    current = (rollout.step_index, rollout.phase)
    definitions = {c.name: c.digest for c in policy.criteria}
    out: dict[str, str] = {}
    for row in rows:
        phase = row.details.get("phase")
        if (row.step_index, phase) == current:
            continue
        for metric in row.details.get("metrics", []):
            name = metric["name"]
            if (metric["verdict"] == Verdict.PASS.value and name not in out
                    and metric.get("definition") == definitions.get(name)):
                out[name] = step_where(row.step_index, phase)
    return out


def never_shown(policy: RolloutPolicy, shown: set[str]) -> list[str]:
    """The policy's criteria that no step has shown within tolerance (promotion needs none)."""
    return [name for name in (criterion_name(c) for c in policy.criteria) if name not in shown]


def promotion_gaps(ctx: Context, rollout: Rollout) -> list[str]:
    """What stands between the rollout's evidence and a promotion (nothing: it may be promoted).

    The current step, when it is a judged one, must have passed (a person may promote before it
    ends), and every criterion must have been shown within its tolerance by some step.
    """
    with connect(ctx.engine) as conn:
        policy = get_spec(conn, rollout.service).rollout
        shown = set(shown_earlier(conn, rollout, policy))
    gaps = []
    if rollout.step["kind"] != "promote":
        judgement = judge_rollout(ctx, rollout)
        if judgement.verdict is not Verdict.PASS:
            waiting = judgement.guard or "; ".join(f"{m.name}: {m.reason}" for m in judgement.metrics
                                                   if m.effective is not Verdict.PASS
                                                   and m.verdict is not Verdict.NOT_APPLICABLE)
            gaps.append(f"{step_where(rollout.step_index, rollout.phase)} has not passed"
                        + (f" ({waiting})" if waiting else ""))
        shown |= judgement.shown
    missing = never_shown(policy, shown)
    if missing:
        gaps.append("never shown within the tolerance by any step: " + ", ".join(missing))
    return gaps


def record_verdict(ctx: Context, rollout: Rollout, judgement: StepJudgement) -> None:
    """Keep the judgement with its step when it differs from the last one kept."""
    with connect(ctx.engine) as conn:
        record_verdict_in(conn, ctx, rollout, judgement)


def record_verdict_in(conn: Connection, ctx: Context, rollout: Rollout, judgement: StepJudgement,
                      final: bool = False) -> None:
    """record_verdict inside the caller's transaction; final keeps it even when unchanged (the
    numbers the step's transition acted on)."""
    details = {"phase": rollout.phase} | judgement.as_dict()
    summary = (judgement.verdict.value, judgement.guard, tuple((m.name, m.verdict.value) for m in judgement.metrics))
    last = conn.execute(select(rollout_verdicts.c.verdict, rollout_verdicts.c.details)
                        .where(rollout_verdicts.c.rollout_id == rollout.id,
                               rollout_verdicts.c.step_index == rollout.step_index)
                        .order_by(rollout_verdicts.c.id.desc()).limit(1)).first()
    if last is not None and last.details.get("phase") == rollout.phase and not final:
        previous = (last.verdict, last.details.get("guard"),
                    tuple((m["name"], m["verdict"]) for m in last.details.get("metrics", [])))
        if previous == summary:
            return  # only changes are kept between ticks
    conn.execute(rollout_verdicts.insert().values(rollout_id=rollout.id, step_index=rollout.step_index,
                                                  at=ctx.clock.now(), verdict=judgement.verdict.value,
                                                  details=details))


def step_history(conn: Connection, rollout_id: int) -> list[KeptVerdict]:
    """The last verdict kept for each step and phase of a rollout, in order: every finished step's evidence."""
    rows = conn.execute(select(rollout_verdicts).where(rollout_verdicts.c.rollout_id == rollout_id)
                        .order_by(rollout_verdicts.c.id)).mappings().all()
    last: dict[tuple[int, str], KeptVerdict] = {}
    for row in rows:
        key = (row["step_index"], row["details"].get("phase"))
        last[key] = KeptVerdict.kept(row["step_index"], row["at"], row["details"] | {"verdict": row["verdict"]})
    return list(last.values())
