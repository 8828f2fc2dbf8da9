"""`relevo monitor ...`: monitoring passes, reports (a table, and an HTML page with charts), runs, alerts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.markup import escape
from rich.table import Table

from relevo.cli.context import call
from relevo.cli.output import console, print_json, progress_bar, reports_errors, write_document

# The use cases are imported inside the commands that run them: each `relevo` command loads only
# what it runs, not every command's dependencies (start-up time).
if TYPE_CHECKING:
    from relevo.monitoring import Monitored

monitor_app = typer.Typer(help="Monitoring: drift, performance and fairness over windows of decisions; alerts.",
                          no_args_is_help=True)
ENV = typer.Option("production", "--env", help="The environment whose decisions are monitored.")
STATE = {"breached": "bold red", "normal": "green", "holding": "yellow", "not evaluated": "dim"}


def _num(value: float | None, digits: int = 3) -> str:
    if value is None:
        return ""
    return "<0.001" if 0 < abs(value) < 0.001 else f"{value:.{digits}g}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def show(found: Monitored) -> None:
    """A monitored window as tables: the rules, the fields, performance and fairness."""
    report = found.report
    answerers = {"version": "the model", "rules": "the fallback rules", "manual": "case workers"}
    who = ", ".join(f"{answerers.get(k, k)} {v:,}" for k, v in report.answered_by.items())
    reference = f"its reference profile ({report.reference})" if report.reference else "no reference profile"
    previous = f"the window before ({report.previous})" if report.previous else "no window before"
    console.print(f"[bold]{report.service}[/] in {report.environment}, {report.window}: {report.decisions:,} decisions"
                  f"{f' ({who})' if who else ''}; {report.version or 'no version'} held against {escape(reference)} "
                  f"and {escape(previous)}.")
    rules = Table("rule", "state", "found", title="alert rules")
    for finding in found.findings:
        rules.add_row(escape(finding.rule), f"[{STATE[finding.state]}]{finding.state}[/]", escape(finding.summary))
    console.print(rules)
    fields = Table("field", "values", "missing", "PSI", "KS ± bound", "Wasserstein", "JS",
                   title=f"inputs against the reference profile{f' of {report.version}' if report.version else ''}")
    fields.columns[0].no_wrap = True
    moved = {name for finding in found.findings for name in finding.breached}
    for f in report.fields:
        name = f"[bold red]{f.field}[/]" if f.field in moved else f.field if f.compared else f"[dim]{f.field}[/]"
        missing = ("" if f.missing_rate is None else f"{f.reference_missing_rate or 0:.0%}→{f.missing_rate:.0%}")
        fields.add_row(name, f"{f.n:,}", missing, _num(f.psi),
                       f"{_num(f.ks)} ± {_num(f.ks_bound, 2)}" if f.ks is not None else "", _num(f.wasserstein),
                       _num(f.js))
    console.print(fields)
    for f in report.fields:
        if not f.compared:
            console.print(f"  [dim]{f.field}: {f.status} ({escape(f.detail)})[/]")
    out, perf = report.output, report.performance
    decided = ", ".join(f"{k} {v:,}" for k, v in out.decisions.items()) or "none"
    console.print(f"Decisions: {decided}; against the window before: "
                  + (f"PSI {_num(out.psi)}, confidence KS {_num(out.confidence_ks)}." if out.psi is not None
                     else f"{escape(out.detail)}."))
    console.print(f"Corrected by case workers: {_pct(perf.corrections.estimate) or 'none reviewed'} "
                  f"({_pct(perf.corrections.lower)} to {_pct(perf.corrections.upper)}) of {perf.reviewed:,} reviewed; "
                  f"accuracy the probabilities predict {_pct(perf.estimated.estimate)} "
                  f"({_pct(perf.estimated.lower)} to {_pct(perf.estimated.upper)}). Calibration: "
                  f"{escape(perf.calibration)}.")
    for fair in report.fairness:
        if fair.ratio is None:
            console.print(f"Fairness by {fair.attribute}: [dim]{fair.status}: {escape(fair.detail)}[/]")
            continue
        rates = ", ".join(f"{escape(g.group)} {g.rate:.1%}" for g in fair.groups)
        console.print(f"Fairness by {fair.attribute} (rate of {fair.label}): {rates}; lowest over highest "
                      f"{_num(fair.ratio.estimate)} ({_num(fair.ratio.lower)} to {_num(fair.ratio.upper)}).")
    for change in found.alerts:
        console.print(f"[bold]Alert {change.alert_id} {change.change}[/] ({change.severity}): {escape(change.rule)}")


def write_html(found: Monitored, path: Path) -> None:
    """The monitored window as an HTML report with its charts, at path."""
    from relevo.web import monitoring_html  # Jinja2 and plotly, only when a page is written

    write_document(path, monitoring_html(found), "the HTML report")
    console.print(f"HTML report written to {path}.")


@monitor_app.command("run")
@reports_errors
def run(ctx: typer.Context, service: str = typer.Argument(..., help="The service."), env: str = ENV,
        as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """One monitoring pass now, as `relevo serve` runs them: every window that is due (the periods
    completed since the last pass, or the last N decisions), alerts opened, escalated, resolved."""
    from relevo.monitoring import run_monitors

    with progress_bar(as_json) as progress:
        done = call(ctx, run_monitors, service, env, progress=progress)
    if as_json:
        print_json(done)
        return
    if not done:
        console.print(f"Nothing due: every completed window of {service} in {env} was monitored already "
                      f"(`relevo monitor report {service}` shows any period now).")
    for found in done:
        show(found)


@monitor_app.command("report")
@reports_errors
def report(ctx: typer.Context, service: str = typer.Argument(..., help="The service."),
           window: str = typer.Option("7d", "--window", help="The period ending now (1d, 7d, 30d)."),
           last: Optional[int] = typer.Option(None, "--last", min=10, help="Instead, the last N decisions."),
           html: Optional[Path] = typer.Option(None, "--html", help="Write the HTML report here "
                                               "[default: SERVICE-monitoring.html]."),
           env: str = ENV, as_json: bool = typer.Option(False, "--json", help="Print JSON (no HTML).")) -> None:
    """The period ending now against the reference profile and the period before: a table here and an
    HTML report with charts (nothing is recorded; no alert changes)."""
    from relevo.monitoring import monitoring_report

    with progress_bar(as_json) as progress:
        found = call(ctx, monitoring_report, service, env, window, last, progress=progress, reads=True)
    if as_json:
        print_json(found)
        return
    show(found)
    write_html(found, html or Path(f"{service}-monitoring.html"))


@monitor_app.command("show")
@reports_errors
def show_run(ctx: typer.Context, run_id: int = typer.Argument(..., help="A monitor run's id."),
             html: Optional[Path] = typer.Option(None, "--html", help="Also write it as an HTML report here."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """One stored monitor run, as it was."""
    from relevo.monitoring import monitor_run

    found = call(ctx, monitor_run, run_id, reads=True)
    if as_json:
        print_json(found)
        return
    show(found)
    if html is not None:
        write_html(found, html)


@monitor_app.command("runs")
@reports_errors
def runs(ctx: typer.Context, service: str = typer.Argument(..., help="The service."),
         env: Optional[str] = typer.Option(None, "--env", help="Only this environment's."),
         limit: int = typer.Option(20, "--limit", min=1, help="At most this many."),
         as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The newest monitor runs of a service."""
    from relevo.monitoring import monitor_runs_of

    found = call(ctx, monitor_runs_of, service, env, limit, reads=True)
    if as_json:
        print_json(found)
        return
    table = Table("run", "environment", "window", "decisions", "version", "rules breached", "at", "by")
    for r in found:
        table.add_row(str(r.id), r.environment, r.window, f"{r.decisions:,}", r.version or "",
                      escape(", ".join(r.breached)) or "[green]none[/]", f"{r.ran_at:%Y-%m-%d %H:%M}", r.ran_by)
    console.print(table)


@monitor_app.command("alerts")
@reports_errors
def alerts(ctx: typer.Context, service: Optional[str] = typer.Argument(None, help="One service [default: all]."),
           every: bool = typer.Option(False, "--all", help="Resolved ones too."),
           as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Open alerts (with --all, resolved ones too), newest first."""
    from relevo.monitoring import list_alerts

    found = call(ctx, list_alerts, service, "all" if every else "open", reads=True)
    if as_json:
        print_json(found)
        return
    table = Table("alert", "service", "rule", "severity", "status", "opened", "taken in hand by", "what")
    for a in found:
        table.add_row(str(a.id), f"{a.service} ({a.environment})", escape(a.rule), a.severity, a.status,
                      f"{a.opened_at:%Y-%m-%d %H:%M}", a.acknowledged_by or "", escape(a.summary))
    console.print(table if found else "No alert." if every else "No open alert.")


@monitor_app.command("ack")
@reports_errors
def ack(ctx: typer.Context, alert_id: int = typer.Argument(..., help="The alert."),
        note: str = typer.Option(..., "--note", help="What is being done about it (on record).")) -> None:
    """Take an open alert in hand (operators): it is no longer escalated."""
    from relevo.monitoring import acknowledge_alert

    done = call(ctx, acknowledge_alert, alert_id, note)
    console.print(f"Alert {done.id} taken in hand by {done.acknowledged_by}: {escape(done.acknowledgement or '')}")


def add_to(app: typer.Typer) -> None:
    """Register this module's commands."""
    app.add_typer(monitor_app, name="monitor")
