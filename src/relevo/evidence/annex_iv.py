"""A release's technical documentation under the headings of the EU AI Act's Annex IV, laid out
from what Relevo holds: the candidate version's metadata, the spec it serves under, its
checklist, its tests, its change notice and the service's records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from relevo.governance import Checklist, RecordEntry
from relevo.registry import VersionDetails
from relevo.rollouts import Incident
from relevo.services import ServiceSpec
from relevo.suites import SuiteRun


@dataclass(frozen=True)
class AnnexEntry:
    """One line of a section: what it is, and its value as JSON (text, a number, a list or a mapping; None when not recorded)."""

    label: str
    value: Any


@dataclass(frozen=True)
class AnnexSection:
    """One heading of Annex IV (its point number and title) with what Relevo holds for it."""

    point: str
    title: str
    entries: list[AnnexEntry]


def _record(records: dict[str, RecordEntry], kind: str) -> dict[str, Any] | None:
    entry = records.get(kind)
    return None if entry is None else entry.body | {"recorded_by": entry.recorded_by,
                                                    "recorded_at": entry.recorded_at.isoformat()}


def _runs(runs: list[SuiteRun], smoke_run: int | None) -> list[dict[str, Any]]:
    return [{"test run": r.id, "kind": r.kind + (" (before this rollout)" if r.id == smoke_run else ""),
             "outcome": r.outcome, "environment": r.environment, "finished": r.finished_at.isoformat(),
             "run by": r.ran_by, "checks": len(r.results), "failed": len(r.failures)} for r in runs]


def annex_iv(version: VersionDetails, spec: ServiceSpec, checklist: Checklist | None,
             records: dict[str, RecordEntry], change_notice: dict[str, Any] | None, runs: list[SuiteRun],
             smoke_run: int | None, incidents: list[Incident]) -> list[AnnexSection]:
    """The sections of Annex IV this release's evidence speaks to (1 to 7, and 9), in order."""
    record, meta = version.record, version.record.metadata
    conformity = next((i for i in checklist.items if i.item == "conformity"), None) if checklist else None
    ai_act = records.get("ai_act")
    return [
        AnnexSection("1", "General description of the AI system", [
            AnnexEntry("service", f"{spec.name}: {spec.description}" if spec.description else spec.name),
            AnnexEntry("owner", spec.owner or None),
            AnnexEntry("version", f"{record.name} (sha256 {record.sha256})"),
            AnnexEntry("what this version is", meta.description or None),
            AnnexEntry("intended purpose", meta.intended_use),
            AnnexEntry("responsible for the version", meta.author),
            AnnexEntry("registered", f"{record.registered_at.isoformat()} by {record.registered_by}"),
            AnnexEntry("decisions it takes", spec.decisions or None),
            AnnexEntry("role and classification under the AI Act", _record(records, "ai_act")),
            AnnexEntry("registration in the EU database", _record(records, "eu_registration")),
        ]),
        AnnexSection("2", "Detailed description of the elements of the AI system and of its development", [
            AnnexEntry("design choices", meta.description or None),
            AnnexEntry("model family", meta.family),
            AnnexEntry("model format", meta.model.model_dump(mode="json", exclude_defaults=True)),
            AnnexEntry("inputs it reads", [f.model_dump(mode="json") for f in meta.signature.inputs]),
            AnnexEntry("other fields of the records", [f.model_dump(mode="json") for f in meta.other_fields] or None),
            AnnexEntry("outputs", meta.signature.outputs.model_dump(mode="json")),
            AnnexEntry("training data", meta.training_data.model_dump(mode="json")),
            AnnexEntry("datasets", [d.model_dump(mode="json") for d in meta.datasets]),
            AnnexEntry("hyperparameters", meta.hyperparameters or None),
            AnnexEntry("trained", meta.trained_at.isoformat()),
            AnnexEntry("code revision of the training", meta.code_revision),
            AnnexEntry("artifact", {"sha256": record.sha256, "format": record.format, "bytes": record.size_bytes,
                                    "files": record.file_count}),
            AnnexEntry("pre-determined changes (the change plan)", ai_act.body.get("change_plan") if ai_act else None),
            AnnexEntry("validation and testing", _runs(runs, smoke_run) or None),
        ]),
        AnnexSection("3", "Monitoring, functioning and control of the AI system", [
            AnnexEntry("limitations", meta.limitations),
            AnnexEntry("human oversight: answers a case worker reviews first", spec.review.model_dump(mode="json")),
            AnnexEntry("human oversight: solely automated decisions (GDPR Art. 22)",
                       _record(records, "automated_decisions")),
            AnnexEntry("the model's answer held back unless it is sure",
                       spec.threshold.model_dump(mode="json") if spec.threshold else None),
            AnnexEntry("fallback when the model cannot answer", spec.fallback.model_dump(mode="json")),
            AnnexEntry("time a model answer may take (ms)", spec.timeout_ms),
        ]),
        AnnexSection("4", "Performance metrics", [
            AnnexEntry("measured on the test datasets", meta.metrics or None),
            AnnexEntry("acceptance criteria the rollout judged it by",
                       [c.model_dump(mode="json", exclude_defaults=True) for c in spec.rollout.criteria] or None),
        ]),
        AnnexSection("5", "Risk management", [
            AnnexEntry("significant changes against the stable release", checklist.significant if checklist else None),
            AnnexEntry("outside the pre-determined change plan (a substantial modification)",
                       checklist.substantial if checklist else None),
            AnnexEntry("guards that roll back at once",
                       [g.model_dump(mode="json", exclude_defaults=True) for g in spec.rollout.guards] or None),
            AnnexEntry("data-protection impact assessment", _record(records, "dpia")),
            AnnexEntry("fundamental-rights impact assessment", _record(records, "fria")),
            AnnexEntry("incidents of this rollout", [f"incident {i.id} ({i.status}): {i.title}" for i in incidents]
                       or None),
        ]),
        AnnexSection("6", "Changes through the lifecycle", [
            AnnexEntry("change notice of this release", change_notice),
            AnnexEntry("tag history", [{"tag": m.tag, "from": m.from_version, "to": m.to_version,
                                        "at": m.at.isoformat(), "by": m.actor} for m in version.tag_history] or None),
            AnnexEntry("annotations (corrections and remarks)", [
                {"field": a.field, "note": a.note, "by": a.author, "at": a.at.isoformat()}
                for a in version.annotations] or None),
        ]),
        AnnexSection("7", "Standards and conformity", [
            AnnexEntry("conformity record of a substantial modification", None if conformity is None else {
                "state": conformity.state, "evidence": conformity.evidence, "by": conformity.by,
                "at": conformity.at.isoformat() if conformity.at else None, "link": conformity.link}),
        ]),
        AnnexSection("9", "Post-market monitoring", [
            AnnexEntry("monitoring plan (the spec's monitoring section)", spec.monitoring.model_dump(mode="json")),
        ]),
    ]
