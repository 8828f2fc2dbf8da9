"""`relevo audit verify | export | checkpoint | prove | key | rotate-key` from the command line,
and an auditor's offline check run as the real program with the public key alone."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from relevo.store import upgrade


def test_init_prints_the_key_and_an_untouched_log_verifies(cli, settings, tmp_path):
    out = cli.init().stdout
    key = cli("audit", "key").stdout.strip()
    assert key in out.replace("\n", "") and key.count("+") >= 2
    cli("service", "apply", _spec(tmp_path))
    assert "ok the store's audit log" in cli("audit", "verify").stdout
    bundle = tmp_path / "bundle.json"
    assert "Wrote" in cli("audit", "export", bundle).stdout
    # The auditor's side: the real program, the bundle and the key, nothing else.
    auditor = cli.process("audit", "verify", "--bundle", bundle, "--key", key)
    assert auditor.returncode == 0 and "ok" in auditor.stdout, auditor.stderr
    refused = cli.process("audit", "verify", "--bundle", bundle)
    assert refused.returncode == 1 and "pass --key" in refused.stderr and "Traceback" not in refused.stderr
    proof = tmp_path / "proof.json"
    cli("audit", "prove", "--event", "2", "--out", proof)
    assert "is place 1 of the log" in cli.process("audit", "verify", "--proof", proof, "--key", key).stdout
    kept = tmp_path / "kept.txt"
    kept.write_text(cli("audit", "checkpoint").stdout)
    cli("audit", "rotate-key")
    growth = tmp_path / "growth.json"
    cli("audit", "prove", "--checkpoint", kept, "--out", growth)
    new_key = cli("audit", "key").stdout.strip()
    check = cli.process("audit", "verify", "--proof", growth, "--key", key, "--key", new_key)
    assert check.returncode == 0 and "is the start of the log" in check.stdout, check.stderr
    both = cli("audit", "prove", "--event", "1", "--checkpoint", kept, ok=False)
    assert both.exit_code == 1 and "either --event ID or --checkpoint FILE" in both.output


def test_a_rewritten_log_fails_verify_naming_the_first_bad_event(cli, settings, tmp_path):
    upgrade(settings.resolved_database_url())
    cli.init()
    cli("service", "apply", _spec(tmp_path))
    engine = create_engine(settings.resolved_database_url())
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
        else:
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        event_id = conn.execute(text("SELECT id FROM audit_events WHERE action = 'service.created'")).scalar_one()
        conn.execute(text("UPDATE audit_events SET actor = 'someone-else' WHERE id = :id"), {"id": event_id})
    engine.dispose()
    result = cli("audit", "verify", ok=False)
    assert result.exit_code == 1
    assert "FAIL" in result.stderr and f"the first bad event is #{event_id}" in result.stderr
    assert "Traceback" not in result.output


def _spec(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("name: licence-prefilter\ndescription: pre-filter of licence applications\nowner: Urbanism\n")
    return path
