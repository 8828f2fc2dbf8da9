"""`check-plan`: before a rollout, what each step of a plan can detect at the traffic there is.

Daily cases come from the service's own decisions over the last week (or are given); base rates
come from the stable version's recent decisions, with stated defaults where there are none.
Rate criteria (error rate, a decision label's rate, correction rate) are planned with the
judge's own tests (relevo.analysis.judge.planner); latency and fairness are one-arm checks the
planner does not size. A blue/green step is planned by its preview, which is judged on pairs as
a shadow step of the same length (after the switch only one-arm checks remain).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from relevo.analysis.judge.planner import MetricTarget, Step, StepPlan, Suggestion, plan_step, suggest
from relevo.context import Context
from relevo.errors import InvalidInput
from relevo.rollouts.evidence import MODEL_FAILURES
from relevo.services.catalogue import get_spec
from relevo.store import connect
from relevo.store.tables import decisions, feedback

DEFAULT_ERROR_RATE = 0.02
DEFAULT_CORRECTION_RATE = 0.10


@dataclass(frozen=True)
class StepCheck:
    """One plan step: what it can see, and a better step when it cannot see enough."""

    index: int
    step: Step
    plan: StepPlan
    suggestion: Suggestion | None
    kind: str = ""  # the plan's step kind, when it differs from the planned step's ("bluegreen")


@dataclass(frozen=True)
class PlanCheck:
    """The whole plan at a traffic level."""

    service: str
    plan_name: str
    daily_cases: float
    observed: bool
    base_rates: dict[str, float]
    steps: list[StepCheck]


def _observed(ctx: Context, service: str, environment: str) -> tuple[float | None, dict[str, float]]:
    since = ctx.clock.now() - timedelta(days=7)
    with connect(ctx.engine) as conn:
        rows = conn.execute(select(decisions.c.decision, decisions.c.fallback_cause, func.count())
                            .where(decisions.c.service == service, decisions.c.environment == environment,
                                   decisions.c.created_at >= since)
                            .group_by(decisions.c.decision, decisions.c.fallback_cause)).all()
        corrected = conn.execute(select(feedback.c.outcome, func.count())
                                 .select_from(feedback.join(decisions, decisions.c.id == feedback.c.decision_id))
                                 .where(decisions.c.service == service, decisions.c.created_at >= since)
                                 .group_by(feedback.c.outcome)).all()
    total = sum(r[2] for r in rows)
    if not total:
        return None, {}
    rates = {"error_rate": sum(r[2] for r in rows if r[1] in MODEL_FAILURES) / total}
    for label in {r[0] for r in rows if r[0]}:
        rates[f"decision_rate:{label}"] = sum(r[2] for r in rows if r[0] == label) / total
    reviewed = sum(c for _, c in corrected)
    if reviewed:
        rates["correction_rate"] = sum(c for o, c in corrected if o == "corrected") / reviewed
    return total / 7, rates


def _targets(policy, rates: dict[str, float]) -> list[MetricTarget]:
    targets = []
    for c in policy.criteria:
        if c.metric not in ("error_rate", "decision_rate", "correction_rate") or c.tolerance is None:
            continue
        key = f"decision_rate:{c.label}" if c.metric == "decision_rate" else c.metric
        default = {"error_rate": DEFAULT_ERROR_RATE, "correction_rate": DEFAULT_CORRECTION_RATE}.get(c.metric, 0.3)
        base = min(max(rates.get(key, default), 0.005), 0.95)
        if c.tolerance.relative is not None:
            tolerance, scale = min(c.tolerance.relative, 1 / base), "relative"
        else:
            tolerance, scale = min(c.tolerance.absolute, 0.99 - base), "absolute"
        targets.append(MetricTarget(f"{c.metric}({c.label})" if c.label else c.metric, base, tolerance, scale))
    return targets


def check_plan(ctx: Context, service: str, plan: str | None = None, daily_cases: float | None = None,
               environment: str = "production") -> PlanCheck:
    """Per step of the plan: decisions per arm, the smallest regression caught in 80% of runs, a better step."""
    with connect(ctx.engine) as conn:
        policy = get_spec(conn, service).rollout
    plan_name = plan or policy.default_plan
    if plan_name not in policy.plans:
        raise InvalidInput(f"unknown plan {plan_name!r}; plans of {service}: {', '.join(policy.plans)}")
    observed_daily, rates = _observed(ctx, service, environment)
    if daily_cases is None:
        if observed_daily is None:
            raise InvalidInput(f"{service} has no decisions in {environment} over the last week; "
                               "give the expected traffic with --daily-cases")
        daily_cases = observed_daily
    targets = _targets(policy, rates)
    if not targets:
        raise InvalidInput("the plan's criteria have no rate metric with a tolerance to plan for")
    checks = []
    for index, step in enumerate(policy.plans[plan_name]):
        if step.kind not in ("shadow", "canary", "bluegreen"):
            continue
        hours = step.length.total_seconds() / 3600
        planned = Step.canary(step.weight / 100, hours) if step.kind == "canary" else Step.shadow(hours)
        # A blue/green preview is judged at half the step's alpha (the other half is the watch's).
        alpha = policy.alpha / 2 if step.kind == "bluegreen" else policy.alpha
        result = plan_step(daily_cases, planned, targets, alpha)
        better = None if result.meets else suggest(daily_cases, planned, targets, alpha)
        checks.append(StepCheck(index, planned, result, better, "bluegreen" if step.kind == "bluegreen" else ""))
    return PlanCheck(service, plan_name, daily_cases, daily_cases == observed_daily,
                     {t.name: t.base_rate for t in targets}, checks)
