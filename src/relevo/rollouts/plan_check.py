"""`check-plan`: before a rollout, what each step of a plan can show at the traffic there is.

Two questions per rate criterion (error rate, a decision label's rate, correction rate), answered
with the judge's own tests by simulation (relevo.analysis.judge.power):

- does a step catch a regression twice the tolerance in 80% of runs (the harm test that rolls
  back), and
- how soon does it show a candidate exactly as good as the stable version within the tolerance
  (the non-inferiority test a pass needs)?

A criterion needs positive evidence once in a rollout (relevo.rollouts.judgement), so the plan
passes its check when every criterion has a step that shows it in 80% of runs, with that step
(or an earlier one) also catching twice its tolerance. Later steps keep watching for harm; their
resolution is reported, not required. Steps are planned only for the criteria their evidence
can speak to (no corrections in shadow).

Traffic: the --daily-cases given, else the cases a day the spec declares (`rollout.daily_cases`),
else the service's decisions over the last week; base rates from the service's decisions of the
last 30 days (corrections among the reviewed ones, and the share reviewed among decisions old
enough to have been), with stated defaults where there are none. Paired steps are sized with the share of
cases on which two versions disagreed in the service's last shadow step or, when newer, its last
replay of recorded cases (relevo replay: before any citizen's case reaches the candidate), else
with 2p(1-p), the disagreement of two unrelated versions; the report says which. Latency
against the stable version is a rate (the share of answers over budget) sized as the others;
latency as a share over budget under a limit (`max_share`) is the judge's one-sample test on the
candidate's answers, sized by relevo.analysis.judge.share_power at the stable version's observed
share over budget (half the limit where none was seen). Fairness is the judge's reading of the
candidate's decisions per group, sized by relevo.analysis.judge.fairness_power at the stable
version's selection rate and share of traffic per group over the last 30 days (equal groups at the
label's rate where fewer than MIN_GROUP decisions of a group were seen). Agreement is not sized
here: it is listed as such. A blue/green step is planned by its preview, judged on pairs as a
shadow step of the same length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import case, func, select

from relevo.analysis.judge import split_alpha
from relevo.analysis.judge.durations import duration_text
from relevo.analysis.judge.fairness_power import FairnessPlan, plan_fairness
from relevo.analysis.judge.power import POWER, MetricTarget, Step, StepPlan, Suggestion, plan_step, suggest
from relevo.analysis.judge.share_power import SharePlan, plan_share
from relevo.context import Context
from relevo.errors import Conflict, InvalidInput, NotFound
from relevo.rollouts.observations import MODEL_FAILURES, REVIEWED, observe_step
from relevo.rollouts.replay import newest_replay
from relevo.rollouts.judging import criterion_name, not_applicable
from relevo.services.rollout_policy import Criterion, RolloutPolicy, parse_duration
from relevo.services.catalogue import get_spec
from relevo.store import connect
from relevo.store.tables import decisions, feedback

DEFAULT_ERROR_RATE = 0.02
DEFAULT_CORRECTION_RATE = 0.10
DEFAULT_REVIEW_SHARE = 0.25  # share of decisions case workers review, where none were seen
RATES_DAYS = 30  # base rates are read over this many days (traffic over the last week)
DEFAULT_OVER_BUDGET = 0.05  # share of answers over a latency budget, where none were seen
SIZED = ("error_rate", "decision_rate", "correction_rate", "latency")
DEFAULT_LABEL_RATE = 0.3  # a decision label's share, where none was seen
MIN_DAILY, MAX_DAILY = 1, 50_000  # cases a day a plan is checked at: above a large city's 30,000
MIN_GROUP = 20  # decisions of every group before its observed rate is used to size fairness
Limit = SharePlan | FairnessPlan  # a criterion read on the candidate's answers alone


@dataclass(frozen=True)
class StepCheck:
    """One plan step: what it can see, and a better step when it cannot see enough."""

    index: int
    step: Step
    plan: StepPlan | None  # None: no rate criterion applies to this step
    suggestion: Suggestion | None
    kind: str = ""  # the plan's step kind, when it differs from the planned step's ("bluegreen")
    # Each criterion the suggestion is for, with the step it alone would need, dearest first: the
    # first one blocks the step, and its own suggestion is the smallest change that satisfies it.
    alone: tuple[tuple[str, Suggestion], ...] = ()
    limits: tuple[Limit, ...] = ()  # latency under a max_share and fairness: the candidate's answers alone

    @property
    def blocking(self) -> str | None:
        """The criterion that asks most of this step (None when one criterion or none is short)."""
        return self.alone[0][0] if self.alone else None


@dataclass(frozen=True)
class PlanCheck:
    """The whole plan at a traffic level."""

    service: str
    plan_name: str
    daily_cases: float
    traffic_source: str  # "as given", "declared in the spec", "observed over the last week"
    base_rates: dict[str, float]
    discordance: dict[str, tuple[float | None, str]]  # metric -> (value used, where it comes from)
    steps: list[StepCheck]
    shown_in: dict[str, int | None]  # metric -> the plan index of the first step that shows it
    unsized: list[str]  # criteria this check does not size (agreement)
    problems: list[str] = field(default_factory=list)

    @property
    def observed(self) -> bool:
        """True when the traffic figure was observed rather than given or declared."""
        return self.traffic_source == "observed over the last week"

    @property
    def passes(self) -> bool:
        """Every sized criterion is shown by a step that (or an earlier one) also catches twice its tolerance."""
        return not self.problems


def _observed(ctx: Context, service: str, environment: str, review_lag: timedelta,
              budgets: set[float]) -> tuple[float | None, dict[str, float]]:
    """(cases a day over the last week, rates over the last RATES_DAYS days): errors, each label,
    corrections among reviewed decisions, the share reviewed among decisions old enough, and the
    share of the versions' answers over each latency budget."""
    now = ctx.clock.now()
    scope = [decisions.c.service == service, decisions.c.environment == environment]
    with connect(ctx.engine) as conn:
        week = conn.execute(select(func.count()).where(*scope, decisions.c.created_at >= now - timedelta(days=7))
                            ).scalar()
        since = now - timedelta(days=RATES_DAYS)
        rows = conn.execute(select(decisions.c.decision, decisions.c.fallback_cause, func.count())
                            .where(*scope, decisions.c.created_at >= since)
                            .group_by(decisions.c.decision, decisions.c.fallback_cause)).all()
        old = [*scope, decisions.c.created_at >= since, decisions.c.created_at < now - review_lag,
               decisions.c.served_by == "version"]
        reviewable = conn.execute(select(func.count()).where(*old)).scalar()
        reviewed = conn.execute(select(feedback.c.outcome, func.count())
                                .select_from(feedback.join(decisions, decisions.c.id == feedback.c.decision_id))
                                .where(*old, feedback.c.superseded_at.is_(None),
                                       feedback.c.outcome.in_(REVIEWED))
                                .group_by(feedback.c.outcome)).all()
        answered = [*scope, decisions.c.created_at >= since, decisions.c.served_by == "version"]
        over = {budget: conn.execute(select(func.count(), func.sum(case((decisions.c.latency_ms > budget, 1),
                                                                       else_=0))).where(*answered)).one()
                for budget in budgets}
    total = sum(r[2] for r in rows)
    rates: dict[str, float] = {}
    if total:
        rates["error_rate"] = sum(r[2] for r in rows if r[1] in MODEL_FAILURES) / total
        for label in {r[0] for r in rows if r[0]}:
            rates[f"decision_rate:{label}"] = sum(r[2] for r in rows if r[0] == label) / total
    n_reviewed = sum(c for _, c in reviewed)
    if n_reviewed:
        rates["correction_rate"] = sum(c for o, c in reviewed if o == "corrected") / n_reviewed
        rates["review_share"] = n_reviewed / reviewable
    for budget, (n, n_over) in over.items():
        if n:
            rates[f"latency:{budget:g}"] = (n_over or 0) / n
    return (week / 7 if week else None), rates


def _observed_groups(ctx: Context, service: str, environment: str, attribute: str,
                     label: str) -> dict[str, tuple[int, int]]:
    """group of the protected input -> (decisions, decisions with the label), answered by a version
    over the last RATES_DAYS days."""
    since = ctx.clock.now() - timedelta(days=RATES_DAYS)
    group = decisions.c.inputs[attribute].label("group")
    with connect(ctx.engine) as conn:
        rows = conn.execute(select(group, func.count(), func.sum(case((decisions.c.decision == label, 1), else_=0)))
                            .where(decisions.c.service == service, decisions.c.environment == environment,
                                   decisions.c.created_at >= since, decisions.c.served_by == "version")
                            .group_by(group)).all()
    return {str(value): (n, int(hits or 0)) for value, n, hits in rows if value is not None}


def _fairness_groups(ctx: Context, service: str, environment: str, c: Criterion, spec_values: list[str] | None,
                     labels: int, rates: dict[str, float]) -> tuple[dict[str, tuple[float, float]], str]:
    """(group -> (share of traffic, selection rate) a candidate as fair as stable would have, where from).

    With too few decisions per group: the spec's values of the input (else two) as equal groups,
    each at the label's observed rate, else at an even share among the service's labels.
    """
    label, attribute = str(c.label), str(c.attribute)
    seen = _observed_groups(ctx, service, environment, attribute, label)
    if len(seen) >= 2 and all(n >= MIN_GROUP for n, _ in seen.values()):
        total = sum(n for n, _ in seen.values())
        return ({g: (n / total, hits / n) for g, (n, hits) in seen.items()},
                f"observed, {len(seen)} groups over {RATES_DAYS} days")
    names = spec_values if spec_values and len(spec_values) >= 2 else ["group 1", "group 2"]
    rate = min(max(rates.get(f"decision_rate:{label}", 1 / labels), 0.005), 0.995)
    where = f"the spec's {len(names)} values" if names is spec_values else "two"
    return ({g: (1 / len(names), rate) for g in names},
            f"assumed: {where} equal groups at the label's rate, too few decisions per group seen")


def _last_shadow_label(ctx: Context, service: str, environment: str) -> tuple[str, datetime] | None:
    """The step label of the service's most recent shadow step (or blue/green preview) that saw
    decisions, and when its last decision was made."""
    with connect(ctx.engine) as conn:
        row = conn.execute(select(decisions.c.step, func.max(decisions.c.created_at)).where(
            decisions.c.service == service, decisions.c.environment == environment,
            decisions.c.step.like("%-shadow") | decisions.c.step.like("%-bluegreen-preview"))
            .group_by(decisions.c.step).order_by(func.max(decisions.c.created_at).desc()).limit(1)).first()
    return None if row is None else (row[0], row[1])


def _replayed_discordance(report: dict[str, Any], version: str, criteria: list[Criterion]
                          ) -> dict[str, tuple[float, str]]:
    """metric -> (share of replayed pairs on which the versions disagreed, where), from a replay's flip table."""
    overall, out = report["overall"], {}
    pairs, table = overall["pairs"], overall["table"]
    where = f"measured by replaying recorded cases to {version} ({pairs:,} pairs)"
    for c in criteria:
        if c.metric == "decision_rate" and pairs:
            flipped = sum(n for s, row in table.items() for k, n in row.items() if (s == c.label) != (k == c.label))
            out[criterion_name(c)] = (flipped / pairs, where)
        elif c.metric == "error_rate" and report["copies"]:
            out[criterion_name(c)] = (report["candidate_errors"] / report["copies"], where)
    return out


def _measured_discordance(ctx: Context, service: str, environment: str,
                          criteria: list[Criterion]) -> dict[str, tuple[float, str]]:
    """metric -> (share of pairs on which the versions disagreed, where) from the newer of the
    last shadow step and the last replay of this environment's cases."""
    last = _last_shadow_label(ctx, service, environment)
    with connect(ctx.engine) as conn:
        replayed = newest_replay(conn, service, environment)
    if replayed is not None and (last is None or replayed[0] > last[1]):
        return _replayed_discordance(replayed[2], replayed[1], criteria)
    if last is None:
        return {}
    label = last[0]
    with connect(ctx.engine) as conn:
        obs = observe_step(conn, label, attributes=[])
    out: dict[str, tuple[float, str]] = {}
    paired = (obs.shadow_decision != None) & (obs.decision != None)  # noqa: E711
    for c in criteria:
        name = criterion_name(c)
        if c.metric == "decision_rate" and paired.any():
            disagree = (obs.shadow_decision[paired] == c.label) != (obs.decision[paired] == c.label)
            out[name] = (float(np.mean(disagree)), f"measured on {label} ({int(paired.sum()):,} pairs)")
        elif c.metric == "error_rate":
            cases = obs.shadowed | obs.failed
            if cases.any():
                disagree = obs.shadow_failed[cases] != obs.failed[cases]
                out[name] = (float(np.mean(disagree)), f"measured on {label} ({int(cases.sum()):,} cases)")
    return out


def _rate_key(c: Criterion) -> str:
    """The key of a criterion's base rate in the observed rates."""
    if c.metric == "decision_rate":
        return f"decision_rate:{c.label}"
    return f"latency:{c.budget_ms:g}" if c.metric == "latency" else c.metric


def _target(c: Criterion, rates: dict[str, float], measured: dict[str, tuple[float, str]]) -> MetricTarget:
    key = _rate_key(c)
    default = {"error_rate": DEFAULT_ERROR_RATE, "correction_rate": DEFAULT_CORRECTION_RATE,
               "latency": DEFAULT_OVER_BUDGET}.get(c.metric, DEFAULT_LABEL_RATE)
    base = min(max(rates.get(key, default), 0.005), 0.95)
    if c.tolerance.relative is not None:
        tolerance, scale = min(c.tolerance.relative, 1 / base), "relative"
    else:
        tolerance, scale = min(c.tolerance.absolute, 0.99 - base), "absolute"
    discordance = None
    if criterion_name(c) in measured:
        # At least one flip in a thousand, and no more than the rate allows.
        discordance = min(max(measured[criterion_name(c)][0], 0.001), 2 * min(base, 1 - base))
    counted, lag = 1.0, 0.0
    if c.metric == "correction_rate":
        counted = rates.get("review_share", DEFAULT_REVIEW_SHARE)
        lag = parse_duration(c.review_delay).total_seconds() / 3600
    return MetricTarget(criterion_name(c), base, tolerance, scale, discordance, counted, lag)


def _planned_step(step) -> tuple[Step, str, str]:
    """(step as planned, its phase for applicability, the kind shown when it differs)."""
    hours = step.length.total_seconds() / 3600
    if step.kind == "canary":
        return Step.canary(step.weight / 100, hours), "canary", ""
    return Step.shadow(hours), "shadow", "bluegreen" if step.kind == "bluegreen" else ""


def check_plan(ctx: Context, service: str, plan: str | None = None, daily_cases: float | None = None,
               environment: str = "production") -> PlanCheck:
    """Per step of the plan: decisions per arm, the smallest regression caught in 80% of runs, how
    soon a candidate as good as stable is shown within tolerance; and whether the plan as a whole
    shows every criterion."""
    if daily_cases is not None and not MIN_DAILY <= daily_cases <= MAX_DAILY:
        raise InvalidInput(f"daily cases must lie between {MIN_DAILY:,} and {MAX_DAILY:,}, got {daily_cases:g}")
    with connect(ctx.engine) as conn:
        spec = get_spec(conn, service)
    policy: RolloutPolicy = spec.rollout
    plan_name = plan or policy.default_plan
    if plan_name not in policy.plans:
        raise NotFound(f"unknown plan {plan_name!r}; plans of {service}: {', '.join(policy.plans)}")
    delays = [parse_duration(c.review_delay) for c in policy.criteria if c.metric == "correction_rate"]
    budgets = {c.budget_ms for c in policy.criteria if c.metric == "latency" and c.budget_ms is not None}
    observed_daily, rates = _observed(ctx, service, environment, max(delays, default=timedelta(hours=72)), budgets)
    if daily_cases is not None:
        source = "as given"
    elif policy.daily_cases is not None:
        daily_cases, source = policy.daily_cases, "declared in the spec"
    elif observed_daily is not None:
        daily_cases, source = observed_daily, "observed over the last week"
    else:
        raise Conflict(f"{service} has no decisions in {environment} over the last week and its spec declares "
                       "no rollout.daily_cases; give the expected traffic with --daily-cases")
    # Latency under a max_share is the one-sample test, not a comparison with stable.
    sized = [c for c in policy.criteria if c.metric in SIZED and c.tolerance is not None and c.max_share is None]
    limits = [c for c in policy.criteria if (c.metric == "latency" and c.max_share is not None)
              or c.metric == "fairness"]
    if not sized and not limits:
        raise Conflict("the plan's criteria have no rate, latency or fairness criterion to plan for")
    fair_groups = {criterion_name(c): _fairness_groups(ctx, service, environment, c,
                                                       spec.inputs[str(c.attribute)].enum, len(spec.decisions), rates)
                   for c in limits if c.metric == "fairness"}
    measured = _measured_discordance(ctx, service, environment, sized)
    targets = {criterion_name(c): _target(c, rates, measured) for c in sized}
    discordance = {}
    for c in sized:
        if c.metric != "correction_rate":
            name = criterion_name(c)
            used = targets[name].discordance
            discordance[name] = (used, measured[name][1]) if name in measured else (
                None, "2p(1-p), two unrelated versions' disagreement (no shadow step measured yet)")
    checks: list[StepCheck] = []
    by_name = {criterion_name(c): c for c in sized}
    last_step: dict[str, int] = {}  # phase -> position in checks of the last step of that kind
    unsized_at: dict[int, list[str]] = {}  # position in checks -> criteria to propose a better step for
    shown_in: dict[str, int | None] = {name: None for name in [*targets, *map(criterion_name, limits)]}
    caught: dict[str, bool] = {name: False for name in shown_in}
    last_limit: dict[str, Limit] = {}  # the last step's view of each criterion read on the candidate alone
    problems: list[str] = []
    for index, step in enumerate(policy.plans[plan_name]):
        if step.kind not in ("shadow", "canary", "bluegreen"):
            continue
        planned, phase, kind = _planned_step(step)
        here = [targets[criterion_name(c)] for c in sized if not_applicable(c, phase) is None]
        limits_here = [c for c in limits if not_applicable(c, phase) is None]
        if not here and not limits_here:
            continue
        # A blue/green preview is judged at half the step's alpha (the other half is the watch's).
        alpha = policy.alpha / 2 if step.kind == "bluegreen" else policy.alpha
        result = plan_step(daily_cases, planned, here, alpha) if here else None
        judged = sum(not_applicable(c, phase) is None for c in policy.criteria)  # as the judge splits alpha
        answers = int(round(planned.decisions(daily_cases) * (planned.weight if planned.kind == "canary"
                                                                  else planned.shadow_share)))
        views: list[Limit] = []
        for c in limits_here:
            name, key = criterion_name(c), _rate_key(c)
            view: Limit
            if c.metric == "fairness":
                groups, groups_source = fair_groups[name]
                view = plan_fairness(name, answers, planned.hours, groups, float(c.min_ratio or 1),
                                     split_alpha(alpha, judged), c.min_sample, groups_source)
            else:
                limit = float(c.max_share or 0)  # set for every latency criterion in limits
                share, share_source = ((rates[key], "observed") if key in rates else
                                       (limit / 2, "assumed: half the limit, none observed"))
                view = plan_share(name, answers, planned.hours, share, limit, split_alpha(alpha, judged),
                                  c.min_sample, share_source)
            views.append(view)
            last_limit[name] = view
            if shown_in[name] is None:
                caught[name] |= view.meets
                if view.shows:
                    shown_in[name] = index
                    if not caught[name]:
                        problems.append(f"{name}: {view.claim} shown in step {index + 1}, but no step up to it "
                                        f"rolls back a candidate at {view.harm} in {POWER:.0%} of runs")
        unsized = []
        for metric in (result.metrics if result is not None else ()):
            if shown_in[metric.name] is None:
                caught[metric.name] |= metric.meets
                if metric.shows:
                    shown_in[metric.name] = index
                    if not caught[metric.name]:
                        unsized.append(metric.name)
                        problems.append(f"{metric.name}: shown within its tolerance in step {index + 1}, but no step "
                                        f"up to it catches a regression twice the tolerance in {POWER:.0%} of runs")
        checks.append(StepCheck(index, planned, result, None, kind, limits=tuple(views)))
        last_step[phase] = len(checks) - 1
        unsized_at[len(checks) - 1] = unsized
    for name, view in last_limit.items():
        if shown_in[name] is None:
            hours = view.needed_hours()
            needs = (f"it needs about {view.needed:,} of the candidate's {view.unit} ({duration_text(hours)} of a "
                     f"step like step {checks[-1].index + 1})" if view.needed is not None and hours is not None
                     else view.unreachable)
            problems.append(f"{name}: no step of the plan shows {view.claim} in {POWER:.0%} of runs, so a rollout "
                            f"under it would be held; {needs}")
    for name, index in shown_in.items():
        if index is None and name in targets:
            problems.append(f"{name}: no step of the plan shows a candidate as good as stable within its tolerance "
                            f"in {POWER:.0%} of runs, so a rollout under it would be held")
            where = max((last_step[p] for p in ("shadow", "canary") if p in last_step and not_applicable(
                by_name[name], p) is None), default=None)
            if where is not None:
                unsized_at.setdefault(where, []).append(name)
    # A better step, proposed where a criterion the plan cannot size would be shown.
    for position, names in unsized_at.items():
        if names:
            check = checks[position]
            assert check.plan is not None  # only steps with rate criteria are listed here
            metrics = [targets[name] for name in names]
            in_shadow = all(not_applicable(by_name[name], "shadow") is None for name in names)
            better = suggest(daily_cases, check.step, metrics, check.plan.alpha, shadow=in_shadow)
            alone: list[tuple[str, Suggestion]] = []
            if len(names) > 1:
                # Each criterion on its own, at its share of the step's alpha and among the kinds of
                # step the proposal could be: which one asks for the dearest step.
                shares = {m.name: m.alpha for m in check.plan.metrics}
                alone = sorted(((name, suggest(daily_cases, check.step, [targets[name]], shares[name],
                                               shadow=in_shadow)) for name in names),
                               key=lambda pair: pair[1].cost, reverse=True)
            checks[position] = StepCheck(check.index, check.step, check.plan, better, check.kind, tuple(alone),
                                         check.limits)
    unsized = [criterion_name(c) for c in policy.criteria if c not in sized and c not in limits]
    base_rates = {t.name: t.base_rate for t in targets.values()} | {
        name: view.share for name, view in last_limit.items()
        if isinstance(view, SharePlan) and view.share_source == "observed"}
    return PlanCheck(service, plan_name, daily_cases, source, base_rates,
                     discordance, checks, shown_in, unsized, problems)
