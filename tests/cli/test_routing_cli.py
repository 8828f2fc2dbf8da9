"""`relevo route` and `relevo fallback` from the command line: shown with version names, changed by role."""

from __future__ import annotations

from tests.conftest import clear_checklist_in, prepare_demo


def test_route_shows_and_the_kill_switch_moves_it(cli, settings):
    prepare_demo(settings)
    shown = cli.json("route", "licence-prefilter")
    assert (shown["mode"], shown["stable"], shown["candidate"], shown["fallback_forced"]) == ("stable", "v1", None, False)
    assert shown["revision"] >= 1 and shown["updated_by"]
    text = cli("route", "licence-prefilter").stdout
    assert "v1" in text and "stable" in text

    cli("fallback", "licence-prefilter", "on")
    assert cli.json("route", "licence-prefilter")["fallback_forced"] is True
    cli("fallback", "licence-prefilter", "off")
    assert cli.json("route", "licence-prefilter")["fallback_forced"] is False

    unknown = cli("route", "no-such-service", ok=False)
    assert unknown.exit_code != 0 and "unknown service 'no-such-service'" in unknown.stderr


def test_service_and_incident_tables_render(cli, settings):
    """The people-facing tables render the typed results the JSON shows field by field."""
    prepare_demo(settings)
    listing = cli("service", "list").stdout
    assert "owner" in listing and "spec sha256" in listing and "licen" in listing
    clear_checklist_in(settings, "v3", plan="canary-only")
    cli("rollout", "start", "licence-prefilter", "v3", "--plan", "canary-only")
    cli("rollout", "rollback", "1", "--reason", "checking the tables")
    table = cli("incident", "list").stdout
    # The table's width is the terminal's: on a narrow one its columns wrap, so only the header and id are sure.
    assert "status" in table and "cause" in table and "│ 1 " in table
    [incident] = cli.json("incident", "list")
    assert incident["status"] == "open" and incident["evidence"]["reason"] == "checking the tables"
    assert incident["title"].startswith("rollback of licence-prefilter v3")


def test_the_mode_option_names_every_routing_mode():
    """`relevo route --mode`'s help writes the routing table's modes out (the CLI starts without the table)."""
    import typer.main

    from relevo.cli.main import app
    from relevo.routing import MODES

    [mode] = [p for p in typer.main.get_command(app).commands["route"].params if p.name == "mode"]
    assert mode.help == f"One of {', '.join(MODES)}."
