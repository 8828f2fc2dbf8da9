"""`relevo demo`: the licence pre-filter, end to end on the embedded store."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from relevo.cli.context import local_only, settings_of
from relevo.cli.output import console, reports_errors
from relevo.cli.registry import versions_table

# The use cases are imported inside the commands that run them: each `relevo` command loads only
# what it runs, not every command's dependencies (start-up time).
if TYPE_CHECKING:
    from relevo.rollouts import RolloutStatus


@reports_errors
def demo(ctx: typer.Context,
         applications: int = typer.Option(500, "--applications", min=0, help="Applications to send through the gateway."),
         burst: int = typer.Option(60, "--burst", min=0, help="Applications sent while the kill switch is on."),
         seed: int = typer.Option(2026, "--seed", help="Seed of the generated applications."),
         scenario: bool = typer.Option(True, "--scenario/--no-scenario",
                                       help="Run the reference rollout scenario on a simulated clock."),
         daily_cases: int = typer.Option(3000, "--daily-cases", min=100, help="Simulated applications a day.")) -> None:
    """The licence pre-filter end to end: store, service, three versions, then live traffic over HTTP."""
    from relevo.demo import SERVICE_NAME
    from relevo.registry import versions_of

    local_only(ctx, "relevo demo")
    from relevo.context import Context
    from relevo.demo.setup import set_up_demo
    from relevo.demo.timeline import demo_clock

    settings = settings_of(ctx)
    # On a new store the demo's story is told in the past (the last two weeks), so that nothing it
    # records is dated after now; on a store where it already ran, only today's traffic is added.
    clock = demo_clock(settings, scenario)
    with console.status("starting") as status:
        result = set_up_demo(settings, step=lambda text: (status.update(text), console.log(text)), clock=clock,
                             people=True)

    story = Table("trained", "registered", "algorithm", "rejects", "accuracy", "AUC", "verified",
                  title="licence pre-filter versions, measured on held-out synthetic applications")
    verified = {v.version.name: v.ok for v in result.verifications}
    for v in result.versions:
        m = v.record.metadata.metrics
        story.add_row(v.trained.name, v.record.name + ("" if v.newly_registered else " (earlier)"),
                      str(v.record.metadata.hyperparameters.get("algorithm", "")),
                      f"{m['rejection_rate']:.1%}", f"{m['accuracy']:.3f}", f"{m.get('auc', float('nan')):.3f}",
                      "[green]yes[/]" if verified.get(v.record.name) else "[red]NO[/]")
    console.print(story)
    context = Context.open(settings)
    try:
        console.print(versions_table(SERVICE_NAME, versions_of(context, SERVICE_NAME)))
    finally:
        context.close()
    console.print(
        f"Store: {settings.resolved_database_url()}\n"
        "Next: [bold]relevo show licence-prefilter v3[/] (metadata, files, reference profile), "
        "[bold]relevo verify licence-prefilter[/], [bold]relevo audit[/]."
    )
    if not all(verified.values()):
        raise typer.Exit(1)
    if applications or burst:
        _traffic(settings, applications, burst, seed, clock)
    if scenario:
        _scenario(settings, daily_cases, clock.now())
    _your_token(settings)


def _your_token(settings) -> None:
    """The store now has the story's people: every change needs a token; hand one over."""
    from relevo.context import Context
    from relevo.demo.people import ADMIN, token_of

    context = Context.open(settings)
    try:
        token = token_of(context, ADMIN, "trying out the demo")
    finally:
        context.close()
    console.print(f"The demo acted as the people of its story ([bold]relevo user list[/]); from now on every "
                  f"change needs a token. To act as {ADMIN} for the next 24 hours (shown once):")
    print(f"export RELEVO_TOKEN={token}")


def _verdicts(status: RolloutStatus) -> Table:
    table = Table("criterion", "verdict", "estimate", "interval", "n cand.", "why",
                  title=f"rollout {status.id} of {status.candidate}: {status.state}")
    for m in status.judgement.metrics if status.judgement else []:
        interval = "—" if m.lower is None else (
            f"[{m.lower:.3g}, {m.upper:.3g}]" if m.upper is not None and math.isfinite(m.upper) else f"[{m.lower:.3g}, ∞)")
        estimate = "—" if m.estimate is None else f"{m.estimate:.3g}"
        table.add_row(m.name, m.verdict.value, estimate, escape(interval), str(m.n_candidate), escape(m.reason))
    return table


def _scenario(settings, daily_cases: int, start) -> None:
    from relevo.demo.scenario import run_scenario

    console.rule("the reference scenario")
    with console.status("simulating") as status:
        report = run_scenario(settings, daily_cases=daily_cases, start=start,
                              step=lambda text: (status.update(text), console.print(text)))
    if report.already_ran:
        console.print("The reference scenario already ran on this store; its rollouts:")
        for r in report.history:
            incident = f", incident {r.incident.id} ({r.incident.status})" if r.incident else ""
            console.print(f"  rollout {r.id}: {r.candidate} {r.state}{incident}")
        return
    bad, good = report.bad, report.good
    assert bad and good and report.bad_status and report.good_status  # all set when it ran
    console.print(_verdicts(report.bad_status))
    console.print(f"v3 was [bold]{bad.rollout.state.replace('_', ' ')}[/] automatically after {bad.decisions:,} "
                  f"decisions ({bad.simulated.total_seconds() / 3600:.1f} simulated hours of a 48-hour step); "
                  f"incident {bad.rollout.incident_id} opened.")
    console.print(f"Retrying v3 was refused: {escape(report.refused or '')}")
    console.print(_verdicts(report.good_status))
    who = (f"by {report.approved_by} with an override on record (held: {escape(report.held_because or '')})"
           if report.approved_by else "by the controller: every criterion was shown within its tolerance")
    console.print(f"v2 was [bold]promoted[/] {who}: {good.decisions:,} decisions over "
                  f"{good.simulated.total_seconds() / 3600:.0f} simulated hours, {good.reviews:,} case-worker reviews.")
    console.print("See [bold]relevo rollout history licence-prefilter[/] and [bold]relevo incident list[/].")
    if report.monitoring is not None:
        _monitoring(settings, report.monitoring)


def _monitoring(settings, story) -> None:
    from relevo.cli.monitoring import show, write_html

    console.rule("monitoring")
    quiet, moved = story.days[0], story.days[-1]
    fired = [f for f in quiet.findings if f.is_breached]
    console.print(f"{quiet.report.window}: {quiet.report.decisions:,} usual applications; the monitors found "
                  + ("nothing to alert on." if not fired else f"{', '.join(f.rule for f in fired)}."))
    show(moved)
    page = settings.home / "licence-prefilter-monitoring.html"
    write_html(moved, page)
    console.print(f"The team's channel ({story.channel}, a webhook receiver started for the story) received "
                  f"{len(story.received)} notice(s):")
    for notice in story.received:
        console.print(f"  [bold]{notice['kind']}[/] ({notice['severity']}): {escape(notice['message'])}")
    console.print("See [bold]relevo monitor alerts[/], [bold]relevo monitor runs licence-prefilter[/].")


def _traffic(settings, applications: int, burst: int, seed: int, clock) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeRemainingColumn,
    )

    from relevo.demo.serving import run_traffic

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("decisions", total=applications + burst)
        report = run_traffic(settings, applications, burst, seed, step=lambda text: bar.console.print(text),
                             tick=lambda: bar.advance(task), clock=clock)
    table = Table("answered by", "fallback cause", "decisions", title=f"{report.summary.total} decisions, all recorded")
    for row in report.summary.answered:
        who = row.version if row.served_by == "version" else row.served_by
        table.add_row(who, row.fallback_cause or "—", str(row.count))
    console.print(table)
    shadow = report.summary.shadow
    if shadow.compared:
        console.print(f"Shadow: v2 answered {shadow.compared} of v1's cases off the hot path and agreed on "
                      f"{shadow.agreed / shadow.compared:.1%} of them ({shadow.failed} failed).")
    console.print("Serve it yourself: [bold]relevo serve[/], then, with the token below, [bold]curl -H "
                  "\"Authorization: Bearer $RELEVO_TOKEN\" localhost:8000/v1/services/licence-prefilter/example[/] "
                  "and POST that body to /v1/services/licence-prefilter/decisions.")


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.command("demo")(demo)
