"""The registry from the command line, on both engines."""

from __future__ import annotations

import json
import os

import yaml

from tests.registry.conftest import FEATURES, metadata_dict


def test_register_list_show_tag_annotate_verify(cli, spec_file, artifact, reference_csv, tmp_path):
    folder, meta = artifact
    assert "Initialised" in cli.init().stdout and "RELEVO_TOKEN" in cli.env
    assert "up to date" in cli("init").stdout
    assert "created" in cli("service", "apply", spec_file).stdout
    refused = cli("register", "licence-prefilter", folder, "--metadata", meta, "--tag", "stable", ok=False)
    assert refused.exit_code == 1 and "stable tag marks the version citizens get" in refused.stderr
    out = cli("register", "licence-prefilter", folder, "--metadata", meta,
              "--reference-data", reference_csv).stdout
    assert "Registered licence-prefilter v1" in out
    refused = cli("tag", "licence-prefilter", "stable", "v1", ok=False)
    assert refused.exit_code == 1 and "has not passed a rollout in production" in refused.stderr
    cli("tag", "licence-prefilter", "stable", "v1", "--override", "first version, validated offline")

    [listed] = cli.json("versions", "licence-prefilter")
    assert listed["version"] == "v1" and listed["tags"] == ["stable"] and listed["file_count"] == 2
    table = cli("versions", "licence-prefilter").stdout
    assert "v1" in table and "stable" in table and listed["sha256"][:12] in table

    shown = cli.json("show", "licence-prefilter", "stable")
    assert shown["metadata"]["author"] == "Test Team"
    assert shown["profile"]["rows"] == 300 and "applicant_id" not in shown["profile"]["features"]
    text = cli("show", "licence-prefilter", "v1").stdout
    assert "reference profile" in text and "documents_complete" in text and "intended use" in text

    cli("annotate", "licence-prefilter", "v1", "metrics measured on 2025 data", "--field", "metrics")
    cli("tag", "licence-prefilter", "candidate", "v1")
    shown = cli.json("show", "licence-prefilter", "v1")
    assert shown["annotations"][0]["field"] == "metrics" and shown["tags"] == ["candidate", "stable"]

    assert cli.json("verify", "licence-prefilter") == [{"version": "v1", "ok": True, "problems": []}]

    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([dict(zip(FEATURES, [0.95, 0, 1.0])), dict(zip(FEATURES, [0.05, 3, -1.0]))]))
    answers = cli.json("predict", "licence-prefilter", "v1", rows)
    assert [a["decision"] for a in answers] == ["admissible", "rejected"]

    actions = [e["action"] for e in cli.json("audit")]
    assert actions == ["audit.key_created", "identity.created", "token.created", "service.created", "version.registered", "override.recorded", "tag.moved",
                       "version.annotated", "tag.moved"]


def test_verify_names_tampered_file_and_exits_non_zero(cli, spec_file, artifact, settings):
    folder, meta = artifact
    cli.init()
    cli("service", "apply", spec_file)
    cli("register", "licence-prefilter", folder, "--metadata", meta)
    stored = next((settings.home / "blobs" / "sha256").rglob("model.skops"))
    os.chmod(stored, 0o644)
    with open(stored, "r+b") as f:
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 0xFF]))
    result = cli("verify", "licence-prefilter", ok=False)
    assert result.exit_code == 1 and "FAIL" in result.stdout and "modified file: model.skops" in result.stdout
    result = cli("predict", "licence-prefilter", "v1", folder / "README.txt", ok=False)
    assert result.exit_code == 1


def test_errors_are_clear_and_exit_non_zero(cli, spec_file, artifact, tmp_path):
    folder, meta = artifact
    result = cli("versions", "licence-prefilter", ok=False)
    assert result.exit_code == 1 and "run `relevo init` first" in result.stderr
    cli.init()
    result = cli("register", "nobody", folder, "--metadata", meta, ok=False)
    assert result.exit_code == 1 and "unknown service 'nobody'" in result.stderr
    cli("service", "apply", spec_file)
    bad = metadata_dict()
    bad["trained_at"] = "last tuesday"
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text(yaml.safe_dump(bad))
    result = cli("register", "licence-prefilter", folder, "--metadata", bad_file, ok=False)
    assert result.exit_code == 1 and str(bad_file) in result.stderr and "trained_at" in result.stderr
    result = cli("show", "licence-prefilter", "v4", ok=False)
    assert "has no version or tag 'v4'" in result.stderr
    broken_spec = tmp_path / "broken.yaml"
    broken_spec.write_text("name: Not A Valid Name\nunknown_key: 1\n")
    result = cli("service", "apply", broken_spec, ok=False)
    assert str(broken_spec) in result.stderr and "name" in result.stderr and "unknown_key" in result.stderr
    cli("register", "licence-prefilter", folder, "--metadata", meta)
    result = cli("register", "licence-prefilter", folder, "--metadata", meta, ok=False)
    assert "already registered as licence-prefilter v1" in result.stderr
    assert "Traceback" not in result.output


def test_real_program_reports_an_unreachable_database(cli):
    cli.env["RELEVO_DATABASE_URL"] = "postgresql://relevo:pw@127.0.0.1:9/relevo"
    done = cli.process("versions", "licence-prefilter")
    assert done.returncode == 1
    assert "cannot reach the database at postgresql+psycopg://relevo:***@127.0.0.1:9/relevo" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_setting_that_does_not_validate_is_named(cli):
    cli.env.update({"RELEVO_API_TRUSTED_PROXIES": "10.0.0.5, the-proxy", "RELEVO_AUDIT_CHECKPOINT_EVERY": "soon"})
    refused = cli("versions", "licence-prefilter", ok=False)
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "RELEVO_API_TRUSTED_PROXIES: Value error, 'the-proxy' is not an address or network" in refused.stderr
    assert "RELEVO_AUDIT_CHECKPOINT_EVERY:" in refused.stderr
