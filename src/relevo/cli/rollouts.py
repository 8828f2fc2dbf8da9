"""`relevo rollout ...`, `relevo controller` and `relevo incident ...`."""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.markup import escape
from rich.table import Table

from relevo.cli.context import call, local_only, opened
from relevo.cli.output import console, print_json, reports_errors
from relevo.clock import parse_duration
from relevo.errors import InvalidInput

# The use cases are imported inside the commands that run them: each `relevo` command loads only
# what it runs, not every command's dependencies (start-up time).
if TYPE_CHECKING:
    from relevo.rollouts import IncidentClock, PairedSummary, ReviewReport, RolloutStatus, ShadowReport

rollout_app = typer.Typer(help="Roll a new version out step by step, judged; roll back in one command.",
                          no_args_is_help=True)
incident_app = typer.Typer(help="Incidents opened by rollbacks, their documentation and regulatory clocks.",
                           no_args_is_help=True)
ENV = typer.Option("production", "--env", help="Environment.")
JSON = typer.Option(False, "--json", help="Print JSON.")


def _finite(value: float | None) -> float | None:
    """An unbounded interval end or e-value shows as a dash, as in the JSON."""
    return None if value is None or math.isinf(value) else value


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


PHASES = {"preview": "preview: the candidate answers mirrored copies, citizens get the stable answer",
          "switched": "switched: the candidate answers every case; the stable version stays loaded"}


def _print_status(status: RolloutStatus) -> None:
    from relevo.rollouts import FINAL

    step = status.step
    ended = status.state in FINAL
    against = f"against {status.stable}, stable when it started" if ended else f"stable {status.stable}"
    console.print(f"[bold]rollout {status.id}[/] {status.service} {status.candidate} ({against}; "
                  f"release {status.release.id}, spec {status.release.spec_sha256[:12]}) "
                  f"in {status.environment}: [bold]{status.state}[/], plan {status.plan}, "
                  f"step {status.step_index + 1}/{len(status.steps)} {step['kind']}"
                  + (f" {step.get('weight'):g}%" if step.get('weight') else "")
                  + (f" ({PHASES[status.phase]})" if status.phase in PHASES else "")
                  + (f", ended {status.ended_at:%Y-%m-%d %H:%M}" if ended and status.ended_at else
                     f", until {status.step_ends_at:%Y-%m-%d %H:%M}"))
    if ended:
        console.print("The rollout has ended: the verdicts below are the last it kept, and decisions made since "
                      "are not in them.", style="dim")
    if status.hold_reason:  # a running rollout's reason is a maintenance window it waits for
        console.print(f"{'waiting' if status.state == 'running' else 'held'}: {escape(status.hold_reason)}")
    judgement = status.judgement
    current = (status.step_index, status.phase)
    finished = status.history[:-1] if status.state in FINAL else [
        h for h in status.history if (h.step_index, h.phase) != current]
    if finished:
        table = Table("step", "phase", "verdict", "decisions", "criteria", title="earlier steps (their last verdicts)")
        for h in finished:
            table.add_row(str(h.step_index + 1), str(h.phase), h.verdict.value, f"{h.decisions:,}",
                          escape(", ".join(f"{m.name} {m.verdict.value}" for m in h.metrics)))
        console.print(table)
    if judgement is None:
        return
    table = Table("criterion", "verdict", "estimate", "interval", "harm e", "non-inf e", "n cand.", "why",
                  title=f"verdict: {judgement.verdict.value} ({judgement.decisions} decisions, "
                        f"{judgement.candidate_decisions} on the candidate), at {judgement.at:%Y-%m-%d %H:%M}")
    for m in judgement.metrics:
        interval = f"[{_fmt(m.lower)}, {_fmt(_finite(m.upper))}]" if m.lower is not None else "—"
        verdict = m.verdict.value + (" (shown earlier)" if m.shown_in else "") + \
            (" (left to a later step)" if m.deferred_to else "")
        table.add_row(m.name, verdict, _fmt(m.estimate), escape(interval), _fmt(_finite(m.harm_e)),
                      _fmt(_finite(m.noninferiority_e)), _fmt(m.n_candidate), escape(m.reason))
    console.print(table)
    console.print("A criterion passes only on evidence that the candidate is within its tolerance (its "
                  "non-inferiority e-value reached 1/alpha); the estimate is the observed value, inside its "
                  "anytime-valid interval.", style="dim")
    if judgement.guard:
        console.print(f"[red]{escape(judgement.guard)}[/]")


@rollout_app.command("start")
@reports_errors
def start(ctx: typer.Context, service: str = typer.Argument(...),
          version: Optional[str] = typer.Argument(None, help="Version to roll out (default with --spec: the stable one)."),
          env: str = ENV, plan: Optional[str] = typer.Option(None, "--plan", help="Plan name from the spec."),
          spec_file: Optional[Path] = typer.Option(
              None, "--spec", help="A changed service spec to roll out with the version (a threshold, a rule)."),
          outside_window: Optional[str] = typer.Option(
              None, "--outside-window", metavar="REASON",
              help="Start outside the service's maintenance windows: an approver's override, with the reason."),
          ) -> None:
    """Start rolling a release (a version, a spec change, or both) out against the stable one."""
    from relevo import rollouts
    from relevo.services import load_spec

    spec = load_spec(spec_file) if spec_file is not None else None
    rollout = call(ctx, rollouts.start_rollout, service, version, env, plan, spec=spec,
                   outside_window=outside_window)
    what = f"{version or 'the stable version'}" + (f" under the spec in {spec_file}" if spec_file else "")
    console.print(f"Rollout {rollout.id} started: {service} {what} in {env}, plan {rollout.plan_name}, "
                  f"first step {rollout.step['kind']}.")


@rollout_app.command("status")
@reports_errors
def status(ctx: typer.Context, service: str = typer.Argument(...), env: str = ENV,
           rollout_id: Optional[int] = typer.Option(None, "--id"), as_json: bool = JSON) -> None:
    """The rollout in progress (or the latest): state, step, and each verdict with its numbers."""
    from relevo.rollouts import rollout_status

    data = call(ctx, rollout_status, service, env, rollout_id, reads=True)
    if as_json:
        print_json(data)
        return
    _print_status(data)
    if data.shadow is not None:
        _print_shadow(data.shadow)
    if data.review is not None:
        _print_review(data.review)


def _print_review(report: ReviewReport) -> None:
    """Answers the review policy held for case workers in this step, by arm."""
    table = Table("arm", "decisions", "held for review", "answered", "corrected", "waiting",
                  title="held for a case worker (the review policy)",
                  caption="A held answer takes effect only as the case worker's answer; a different answer counts "
                          "as a correction for the judge.")
    for arm, held in report.arms.items():
        if held.decisions:
            table.add_row(arm, f"{held.decisions:,}", _share(held.held, held.decisions),
                          _share(held.answered, held.held), _share(held.corrected, held.answered), f"{held.waiting:,}")
    console.print(table)


def _share(count: int, total: int) -> str:
    return f"{count:,} ({count / total:.1%})" if total else "0"


def _agreement(summary: PairedSummary) -> str:
    if summary.agreement is None:
        return "—"
    return f"{summary.agreement:.3f} [{summary.lower:.3f}, {summary.upper:.3f}]"


def _print_shadow(report: ShadowReport) -> None:
    """The paired comparison: agreement, the flip table, the same by protected group."""
    overall, labels = report.overall, report.labels
    latency = ("—" if report.latency_p50_ms is None else
               f"p50 {report.latency_p50_ms:.3g} ms, p95 {report.latency_p95_ms:.3g} ms")
    console.print(f"[bold]shadow comparison[/] on the same cases: {report.copies:,} copies answered by the "
                  f"candidate, {_share(report.candidate_errors, report.copies)} failed; its model time "
                  f"{latency}. Agreement {_agreement(overall)} over {overall.pairs:,} pairs "
                  f"(intervals at alpha {report.alpha:g}, split over groups).")
    caption = "; ".join(f"{f.stable}→{f.candidate} {f.share:.1%} [{f.lower:.1%}, {f.upper:.1%}]"
                        for f in overall.flips) if overall.pairs else None
    table = Table("stable \\ candidate", *labels, title="flip table (pairs)", caption=caption)
    for stable in labels:
        table.add_row(stable, *(_share(overall.table[stable][c], overall.pairs) for c in labels))
    console.print(table)
    flips = [f"{f.stable}→{f.candidate}" for f in overall.flips]
    for attribute, groups in report.groups.items():
        table = Table("group", "pairs", "agreement [interval]", *flips, title=f"by {attribute} (protected)")
        for group, summary in groups.items():
            table.add_row(escape(group), f"{summary.pairs:,}", _agreement(summary),
                          *(_share(f.count, summary.pairs) for f in summary.flips))
        console.print(table)


def _simple(action: str, doc: str):
    @reports_errors
    def command(ctx: typer.Context, rollout_id: int = typer.Argument(..., metavar="ID"),
                reason: str = typer.Option("", "--reason")) -> None:
        from relevo import rollouts

        rollout = call(ctx, rollouts.transition, rollout_id, action, reason=reason)
        console.print(f"Rollout {rollout_id}: {rollout.state}.")

    command.__doc__ = doc
    return command


rollout_app.command("pause")(_simple("pause", "Stop the rollout advancing; traffic stays as it is."))
rollout_app.command("resume")(_simple("resume", "Let a paused rollout advance again."))
rollout_app.command("abort")(_simple("abort", "End a rollout without promoting; traffic back to stable."))


@rollout_app.command("extend")
@reports_errors
def extend(ctx: typer.Context, rollout_id: int = typer.Argument(..., metavar="ID"),
           by: str = typer.Option("24h", "--by", help="How much longer the held step runs.")) -> None:
    """Give a held step more time to gather evidence."""
    from relevo import rollouts

    rollout = call(ctx, rollouts.transition, rollout_id, "extend", extend_by=by)
    console.print(f"Rollout {rollout_id}: {rollout.state}, step runs until {rollout.step_ends_at():%Y-%m-%d %H:%M}.")


@rollout_app.command("promote")
@reports_errors
def promote(ctx: typer.Context, rollout_id: int = typer.Argument(..., metavar="ID"),
            override: Optional[str] = typer.Option(
                None, "--override", metavar="REASON",
                help="Promote although the evidence has not passed: your written reason, recorded with the gaps.")) -> None:
    """Promote now: an approver who did not start the rollout, once the evidence passed (or with --override).

    The current step must have passed and every criterion must have been shown within its tolerance
    by some step; a candidate that cannot load and answer is never promoted.
    """
    from relevo import rollouts

    rollout = call(ctx, rollouts.promote, rollout_id, override=override)
    console.print(f"Rollout {rollout_id}: {rollout.state}; the candidate is now stable"
                  + (" (promoted with an override, recorded)." if override else "."))


@rollout_app.command("revert")
@reports_errors
def revert(ctx: typer.Context, rollout_id: int = typer.Argument(..., metavar="ID"),
           reason: str = typer.Option(..., "--reason", help="Why the promoted release goes back.")) -> None:
    """After a promotion: go back to the release that was stable before it (version and spec), with an incident."""
    from relevo import rollouts

    rollout = call(ctx, rollouts.revert, rollout_id, reason)
    console.print(f"Rollout {rollout_id}: {rollout.state}; the previous stable release answers again; incident "
                  f"{rollout.incident_id} opened.")


@rollout_app.command("rollback")
@reports_errors
def rollback(ctx: typer.Context, rollout_id: int = typer.Argument(..., metavar="ID"),
             reason: str = typer.Option("rolled back by an operator", "--reason")) -> None:
    """Send all traffic back to stable at once; an incident is opened."""
    from relevo import rollouts

    rollout = call(ctx, rollouts.rollback, rollout_id, reason)
    console.print(f"Rollout {rollout_id}: {rollout.state}; incident {rollout.incident_id} opened.")


@rollout_app.command("history")
@reports_errors
def history(ctx: typer.Context, service: str = typer.Argument(...),
            env: Optional[str] = typer.Option(None, "--env"), as_json: bool = JSON) -> None:
    """Every rollout of a service, newest first."""
    from relevo.rollouts import rollout_history

    items = call(ctx, rollout_history, service, env, reads=True)
    if as_json:
        print_json(items)
        return
    table = Table("id", "env", "candidate", "stable", "plan", "state", "step", "started", "by", "incident")
    for r in items:
        incident = f"{r.incident.id} ({r.incident.status})" if r.incident else "—"
        table.add_row(str(r.id), r.environment, r.candidate, r.stable, r.plan, r.state,
                      f"{r.step_index + 1}/{len(r.steps)}", f"{r.started_at:%Y-%m-%d %H:%M}", r.started_by, incident)
    console.print(table)


@incident_app.command("list")
@reports_errors
def incidents(ctx: typer.Context, service: Optional[str] = typer.Option(None, "--service"), as_json: bool = JSON) -> None:
    """Incidents, newest first."""
    from relevo.rollouts import list_incidents

    items = call(ctx, list_incidents, service, reads=True)
    if as_json:
        print_json(items)
        return
    table = Table("id", "service", "status", "opened", "title", "cause")
    for i in items:
        table.add_row(str(i.id), i.service, i.status, i.opened_at.strftime("%Y-%m-%d %H:%M"),
                      escape(i.title), escape(i.cause or "—"))
    console.print(table)
    clocks = [(i.id, c) for i in items for c in i.clocks]
    if clocks:
        table = Table("incident", "report", "due (UTC)", "time left", "reported", title="regulatory clocks")
        for incident_id, c in clocks:
            report = REGIMES_SHOWN[c.regime] + (f" ({c.kind})" if c.regime == "ai_act" else "")
            table.add_row(str(incident_id), report, f"{c.due_at:%Y-%m-%d %H:%M}", _left(c), _reported(c))
        console.print(table)


REGIMES = {"ai-act": "ai_act", "gdpr": "gdpr_breach"}  # as typed on the command line, as stored
REGIMES_SHOWN = {"ai_act": "AI Act Art. 73", "gdpr_breach": "GDPR Art. 33"}
KINDS = ("serious", "widespread", "critical-disruption", "death")


def _span(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    return f"{days}d {hours}h" if days else (f"{hours}h {mins}m" if hours else f"{mins}m")


def _left(clock: IncidentClock) -> str:
    if clock.seconds_left is None:
        return "stopped"
    if clock.seconds_left > 0:
        return f"{_span(clock.seconds_left)} left"
    return f"[red]OVERDUE by {_span(clock.seconds_left)}[/]"


def _reported(clock: IncidentClock) -> str:
    if clock.reported_at is None:
        return "—"
    late = " (late)" if clock.state == "reported_late" else ""
    return escape(f"{clock.reported_at:%Y-%m-%d %H:%M}{late} by {clock.reported_by}: {clock.report_reference}")


def _regime(text: str) -> str:
    if text not in REGIMES:
        raise InvalidInput(f"--regime is one of {', '.join(REGIMES)}, got {text!r}")
    return REGIMES[text]


def _moment(text: str | None, option: str) -> datetime | None:
    """An ISO 8601 time (UTC when it gives no offset), or an age such as 6h or 2d before now."""
    if text is None:
        return None
    try:
        return datetime.now(timezone.utc) - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{option} takes an ISO 8601 time (2026-05-04T08:00+02:00; UTC without an offset) or "
                           f"an age (6h, 2d), got {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


REGIME = typer.Option(..., "--regime", help="ai-act: the AI Act's serious-incident report (Art. 73); gdpr: the "
                                            "GDPR's breach notification to the supervisory authority (Art. 33).")


@incident_app.command("classify")
@reports_errors
def classify(ctx: typer.Context, incident_id: int = typer.Argument(..., metavar="ID"), regime: str = REGIME,
             kind: Optional[str] = typer.Option(
                 None, "--kind", help="With ai-act: serious (15 days, the default), widespread or "
                                      "critical-disruption (2 days), death (10 days)."),
             aware_at: Optional[str] = typer.Option(
                 None, "--aware-at", metavar="TIME", help="When the organisation became aware: an ISO 8601 time "
                                                          "(UTC without an offset) or an age (6h); by default now."),
             as_json: bool = JSON) -> None:
    """Say which reporting regime applies to an incident: its report's clock starts from --aware-at."""
    from relevo.rollouts import classify_incident

    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"--kind is one of {', '.join(KINDS)}, got {kind!r}")
    clock = call(ctx, classify_incident, incident_id, _regime(regime),
                 kind.replace("-", "_") if kind else None, _moment(aware_at, "--aware-at"))
    if as_json:
        print_json(clock)
        return
    console.print(f"Incident {incident_id}: {clock.report}, due {clock.due_at:%Y-%m-%d %H:%M} UTC, "
                  f"{_left(clock)}.")


@incident_app.command("reported")
@reports_errors
def reported(ctx: typer.Context, incident_id: int = typer.Argument(..., metavar="ID"), regime: str = REGIME,
             reference: str = typer.Option(..., "--reference", help="The authority's reference for the report."),
             at: Optional[str] = typer.Option(
                 None, "--at", metavar="TIME", help="When it was filed: an ISO 8601 time (UTC without an offset) or "
                                                    "an age (6h); by default now."),
             as_json: bool = JSON) -> None:
    """Record that an incident's report was filed with the authority: its clock stops."""
    from relevo.rollouts import record_incident_report

    clock = call(ctx, record_incident_report, incident_id, _regime(regime), reference, _moment(at, "--at"))
    if as_json:
        print_json(clock)
        return
    late = " after it was due" if clock.state == "reported_late" else ", in time"
    console.print(f"Incident {incident_id}: {clock.report} filed{late} ({escape(clock.report_reference or '')}).")


@incident_app.command("document")
@reports_errors
def document(ctx: typer.Context, incident_id: int = typer.Argument(..., metavar="ID"),
             cause: str = typer.Option(..., "--cause"), remediation: str = typer.Option(..., "--remediation")) -> None:
    """Record an incident's cause and remediation; the rolled-back release may then be retried."""
    from relevo.rollouts import document_incident

    call(ctx, document_incident, incident_id, cause=cause, remediation=remediation)
    console.print(f"Incident {incident_id} documented.")


@reports_errors
def controller(ctx: typer.Context, interval: float = typer.Option(2.0, "--interval", min=0.1),
               once: bool = typer.Option(False, "--once", help="Reconcile once and exit.")) -> None:
    """Run the rollout controller: judge every active rollout on each tick (one controller leads)."""
    from relevo.rollouts import Controller

    local_only(ctx, "relevo controller")
    with opened(ctx, reads=True) as context:
        runner = Controller(context, interval)
        standing_by = None
        try:
            while True:
                reconciled = runner.step()
                if reconciled is None:
                    holder = runner.lease.current()
                    if holder != standing_by:
                        console.print(f"standing by: controller {holder[0]} leads until {holder[1][:19]}"
                                      if holder else "standing by")
                        standing_by = holder
                for rollout in reconciled or []:
                    console.print(f"rollout {rollout.id}: {rollout.state}, step {rollout.step_index + 1}")
                if once:
                    return
                time.sleep(interval)
        finally:
            runner.lease.release()


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.add_typer(rollout_app, name="rollout")
    app.add_typer(incident_app, name="incident")
    app.command("controller")(controller)
    app.command("replay")(replay_cmd)


@reports_errors
def replay_cmd(ctx: typer.Context, service: str = typer.Argument(..., help="The service."),
               source: str = typer.Option("production", "--from", help="Whose recorded cases."),
               target: str = typer.Option("staging", "--to", help="Where the version answers them."),
               version: Optional[str] = typer.Option(None, "--version", help="The version to replay to [default: the "
                                                     "candidate routed in --to, else its stable one, else the candidate tag]."),
               since: Optional[str] = typer.Option(None, "--since", help="Only cases since then (2026-11-01, 7d)."),
               limit: int = typer.Option(1000, "--limit", min=1, help="At most this many of the newest cases."),
               as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Send recorded cases, minimised, to a version in another environment and compare its answers
    with the ones given, as a shadow step would; check-plan then sizes paired steps on it."""
    from relevo import rollouts

    done = call(ctx, rollouts.replay, service, source, target, version, since, limit)
    if as_json:
        print_json(done)
        return
    console.print(f"Replay {done.id}: {done.cases_read:,} recorded {source} cases of {service}, {done.replayed:,} "
                  f"replayed to {done.version} in {target}.")
    for reason, count in sorted(done.not_replayed.items(), key=lambda item: -item[1]):
        console.print(f"  not replayed: {count:,}, {escape(reason)}")
    if done.replayed:
        _print_shadow(done.report)


@rollout_app.command("check-plan")
@reports_errors
def check_plan_cmd(ctx: typer.Context, service: str = typer.Argument(...),
                   plan: Optional[str] = typer.Option(None, "--plan"),
                   daily_cases: Optional[float] = typer.Option(
                       # The range is the use case's to check (1 to 50,000): naming it here would load the judge
                       # on every command's start.
                       None, "--daily-cases",
                       help="Expected cases a day [default: the spec's rollout.daily_cases, else observed]."),
                   env: str = ENV) -> None:
    """What each step of a plan can catch and show at the service's traffic; warns and proposes a step that can.

    Exits 1 when the plan does not pass its check (a rollout under it would be held or could miss
    a regression twice its tolerance).
    """
    from relevo.rollouts import check_plan

    with console.status("simulating the judge at this traffic"):
        result = call(ctx, check_plan, service, plan, daily_cases, env, reads=True)
    console.print(f"Plan {result.plan_name} of {service} at {result.daily_cases:,.0f} cases a day "
                  f"({result.traffic_source}); base rates: "
                  + ", ".join(f"{k} {v:.1%}" for k, v in result.base_rates.items()))
    for name, (value, where) in result.discordance.items():
        used = "" if value is None else f"{value:.1%}, "
        console.print(f"  paired steps size {escape(name)} with a disagreement of {used}{escape(where)}")
    for check in result.steps:
        table = Table("metric", "test", "candidate", "stable", "tolerance", "smallest regression caught in 80%",
                      "catches 2x tolerance", "as good as stable shown within tolerance",
                      title=f"step {check.index + 1}: "
                            + (f"{check.kind} preview, judged as {check.step}" if check.kind else f"{check.step}"))
        for m in (check.plan.metrics if check.plan is not None else ()):
            def effect(value: float, digits: str = ".3g") -> str:  # called for this `m` only
                return f"x{value:{digits}}" if m.scale == "relative" else f"+{100 * value:{digits}} points"  # noqa: B023

            resolution = "nothing on the grid" if m.resolution is None else effect(m.resolution)
            shown = (f"[green]after {m.shown_after}[/]" if m.shows else
                     f"[red]in {m.pass_rate:.0%} of runs[/]")
            table.add_row(m.name, m.form, f"{m.candidate_decisions:,}", f"{m.stable_decisions:,}",
                          effect(m.tolerance, "g"), resolution,
                          f"[green]yes[/] ({effect(m.must_detect, 'g')})" if m.meets else
                          f"[red]no[/] ({effect(m.must_detect, 'g')})", shown)
        for v in check.limits:  # a share under a limit, or fairness: the candidate's answers alone
            shown = (f"[green]after {v.shown_after}[/]" if v.shows else
                     f"[red]needs {v.needed:,} {v.unit}[/]" if v.needed is not None else "[red]not within reach[/]")
            table.add_row(v.name, escape(v.test), f"{v.decisions:,}", "—", v.bound, "—",
                          f"[green]yes[/] ({v.harm})" if v.meets else f"[red]no[/] ({v.harm})", shown)
        console.print(table)
        if check.suggestion is not None:
            names = ", ".join(m.name for m in check.suggestion.original.metrics)
            console.print(f"  [yellow]proposed:[/] for {escape(names)}, " + (
                f"{check.suggestion.plan.step} instead of step {check.index + 1} would catch and show it"
                if check.suggestion.plan is not None else escape(check.suggestion.reason)))
            for position, (name, alone) in enumerate(check.alone):
                needs = f"alone it needs {alone.plan.step}" if alone.plan is not None else "no step on the grid shows it"
                lead = f"  blocking: [bold]{escape(name)}[/]" if position == 0 else f"  then {escape(name)}"
                console.print(f"{lead}: {needs}" + (" (the smallest change that satisfies it)" if position == 0 else ""))
    for name, index in result.shown_in.items():
        if index is not None:
            console.print(f"{escape(name)}: shown within its tolerance in step {index + 1}; later steps watch it "
                          f"for harm")
    if result.unsized:
        console.print(f"Judged at run time, not sized here: {escape(', '.join(result.unsized))}.")
    if result.passes:
        console.print(f"[green]The plan passes its check[/] at {result.daily_cases:,.0f} cases a day.")
        return
    for problem in result.problems:
        console.print(f"[red]problem:[/] {escape(problem)}")
    raise typer.Exit(1)
