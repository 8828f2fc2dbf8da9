"""Registering versions on both engines: content addressing, immutability, atomicity, errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml
from sqlalchemy import event, func, select

from relevo.errors import Conflict, InvalidInput, NotFound, Refused
from relevo.registry.annotate import annotate_version
from relevo.registry.queries import list_versions, resolve_version, version_details
from relevo.registry.register import register_version
from relevo.registry.tags import move_tag
from relevo.store import connect
from relevo.store.tables import audit_events, versions

from tests.registry.conftest import metadata_dict


def _count(ctx, table) -> int:
    with connect(ctx.engine) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_register_records_hash_metadata_blob_and_audit(ctx, service, artifact, reference_csv):
    folder, meta = artifact
    record = register_version(ctx, service, folder, meta, tags=["candidate"], reference_data=reference_csv)
    assert record.name == "v1" and record.tags == ("candidate",)
    assert len(record.sha256) == 64 and record.file_count == 2
    assert {f.path for f in record.manifest.files} == {"model.skops", "README.txt"}
    stored = ctx.blobs.local_path(record.blob_uri)
    for f in stored.iterdir():
        assert not f.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), f"{f} is writable"
    assert record.metadata.author == "Test Team"
    with connect(ctx.engine) as conn:
        events = conn.execute(select(audit_events.c.action, audit_events.c.subject)).all()
        details = version_details(conn, record)
    assert ("version.registered", "licence-prefilter/v1") in events
    assert ("tag.moved", "licence-prefilter/candidate") in events
    profile = details.profile
    assert profile.rows == 300
    assert "applicant_id" not in profile.features, "personal data must not be profiled"
    assert profile.skipped == ["applicant_id"]
    assert set(profile.features["age_band"]["categories"]) == {"18-29", "30-44", "45-64", "65+"}
    assert sum(profile.features["documents_complete"]["counts"]) == 300


def test_identical_content_is_refused_naming_the_existing_version(ctx, service, artifact):
    folder, meta = artifact
    first = register_version(ctx, service, folder, meta)
    events = _count(ctx, audit_events)
    with pytest.raises(Conflict, match=r"already registered as licence-prefilter v1"):
        register_version(ctx, service, folder, meta)
    assert _count(ctx, versions) == 1 and _count(ctx, audit_events) == events
    assert ctx.blobs.scan(first.blob_uri)  # the first version's files are untouched


def test_changed_content_gets_the_next_number(ctx, service, artifact, tmp_path):
    folder, meta = artifact
    register_version(ctx, service, folder, meta)
    (folder / "README.txt").chmod(0o644)
    (folder / "README.txt").write_text("model card, revised\n")
    second = register_version(ctx, service, folder, meta)
    assert second.name == "v2"
    with connect(ctx.engine) as conn:
        assert [v.name for v in list_versions(conn, service)] == ["v1", "v2"]


def test_single_file_artifact(ctx, service, artifact):
    folder, meta = artifact
    record = register_version(ctx, service, folder / "model.skops", meta)
    assert [f.path for f in record.manifest.files] == ["model.skops"]


def test_invalid_metadata_names_file_and_field(ctx, service, artifact, tmp_path):
    folder, _ = artifact
    bad = metadata_dict()
    del bad["training_data"]["sha256"]
    bad["metrics"] = {"accuracy": "high"}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(InvalidInput) as err:
        register_version(ctx, service, folder, path)
    message = str(err.value)
    assert str(path) in message and "training_data.sha256" in message and "metrics.accuracy" in message
    assert _count(ctx, versions) == 0 and _count(ctx, audit_events) == 1  # only the service event


def test_unreadable_or_missing_inputs(ctx, service, artifact, tmp_path):
    folder, meta = artifact
    with pytest.raises(NotFound, match="artifact path not found"):
        register_version(ctx, service, tmp_path / "nope", meta)
    with pytest.raises(NotFound, match="metadata file not found"):
        register_version(ctx, service, folder, tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("model: [unclosed")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        register_version(ctx, service, folder, broken)
    with pytest.raises(NotFound, match="unknown service 'other'"):
        register_version(ctx, "other", folder, meta)
    with pytest.raises(NotFound, match="reference data file not found"):
        register_version(ctx, service, folder, meta, reference_data=tmp_path / "none.csv")
    assert _count(ctx, versions) == 0


def test_entry_must_be_in_the_artifact(ctx, service, artifact, tmp_path):
    folder, _ = artifact
    path = tmp_path / "meta.yaml"
    path.write_text(yaml.safe_dump(metadata_dict(entry="missing.skops")))
    with pytest.raises(InvalidInput, match="missing.skops"):
        register_version(ctx, service, folder, path)


def test_pickle_is_refused_unless_the_spec_trusts_it(ctx, service, artifact, tmp_path):
    folder, _ = artifact
    (folder / "model.joblib").write_bytes(b"not really a pickle")
    path = tmp_path / "meta.yaml"
    path.write_text(yaml.safe_dump(metadata_dict(entry="model.joblib", fmt="pickle")))
    with pytest.raises(Refused, match="trust_pickle"):
        register_version(ctx, service, folder, path)
    assert _count(ctx, versions) == 0


def test_failure_mid_registration_leaves_nothing_behind(ctx, service, artifact):
    folder, meta = artifact

    def fail_on_audit(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENTS"):
            raise RuntimeError("simulated crash while writing the audit event")

    event.listen(ctx.engine, "before_cursor_execute", fail_on_audit)
    try:
        with pytest.raises(RuntimeError, match="simulated crash"):
            register_version(ctx, service, folder, meta, tags=["candidate"])
    finally:
        event.remove(ctx.engine, "before_cursor_execute", fail_on_audit)
    assert _count(ctx, versions) == 0
    root = Path(ctx.blobs.root)
    published = list((root / "sha256").rglob("*")) if (root / "sha256").exists() else []
    assert [p for p in published if p.is_file()] == []
    assert list((root / "staging").iterdir()) == []
    # and the same content registers cleanly afterwards
    assert register_version(ctx, service, folder, meta).name == "v1"


def test_tags_move_and_every_move_is_recorded(ctx, service, artifact):
    folder, meta = artifact
    with pytest.raises(Refused, match="stable tag marks the version citizens get"):
        register_version(ctx, service, folder, meta, tags=["stable"])  # earned by a rollout, not at registration
    register_version(ctx, service, folder, meta, tags=["reviewed"])
    (folder / "README.txt").chmod(0o644)
    (folder / "README.txt").write_text("v2\n")
    register_version(ctx, service, folder, meta, tags=["candidate"])
    assert move_tag(ctx, service, "reviewed", "v2") is True
    assert move_tag(ctx, service, "reviewed", "candidate") is False  # already there
    with connect(ctx.engine) as conn:
        assert resolve_version(conn, service, "reviewed").name == "v2"
        assert resolve_version(conn, service, "2").name == "v2"
        history = version_details(conn, resolve_version(conn, service, "v1")).tag_history
    assert [(m.tag, m.from_version, m.to_version) for m in history] == [("reviewed", None, "v1"), ("reviewed", "v1", "v2")]
    with pytest.raises(InvalidInput, match="invalid tag"):
        move_tag(ctx, service, "v7", "v1")
    with pytest.raises(NotFound, match="has no version or tag 'v9'; it has v1, v2"):
        move_tag(ctx, service, "reviewed", "v9")


def test_annotations_never_change_metadata(ctx, service, artifact):
    folder, meta = artifact
    record = register_version(ctx, service, folder, meta)
    annotate_version(ctx, service, "v1", "training data also excludes 2020", field="training_data")
    with pytest.raises(InvalidInput, match="unknown metadata field"):
        annotate_version(ctx, service, "v1", "x", field="colour")
    with connect(ctx.engine) as conn:
        details = version_details(conn, resolve_version(conn, service, "v1"))
    assert details.annotations[0].note == "training data also excludes 2020"
    assert details.annotations[0].author == "tester"
    assert details.record.metadata == record.metadata


def test_versions_are_numbered_per_service(ctx, service, artifact):
    from relevo.services.catalogue import apply_spec
    from relevo.services.spec import ServiceSpec

    folder, meta = artifact
    apply_spec(ctx, ServiceSpec(name="request-triage"))
    register_version(ctx, service, folder, meta)
    assert register_version(ctx, "request-triage", folder, meta).name == "v1"  # same content, other service
