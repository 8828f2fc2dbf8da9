"""Whether a release is a significant change from the stable one, and in which ways.

A candidate whose input fields, personal-data fields, protected inputs, decision labels, model
family or training-data source differ from the stable release's changes the processing of
personal data or the decision logic: its DPIA must be reviewed (GDPR Art. 35(11)) and a change
notice goes into the technical documentation. Pure: it compares two releases' metadata and specs.
"""

from __future__ import annotations

from dataclasses import dataclass

from relevo.registry.metadata import VersionMetadata
from relevo.services.spec import ServiceSpec


@dataclass(frozen=True)
class Difference:
    """One way a candidate differs from stable: its kind, and what changed, in words."""

    kind: str
    what: str


def _fields(metadata: VersionMetadata, spec: ServiceSpec, flag: str, inputs_only: bool = False) -> set[str]:
    """Field names carrying flag (personal, protected) in the version's metadata or the spec."""
    fields = metadata.signature.inputs if inputs_only else metadata.fields
    found = {f.name for f in fields if getattr(f, flag)}
    read = set(metadata.signature.names) if inputs_only else None
    found |= {name for name, field in spec.inputs.items() if getattr(field, flag) and (read is None or name in read)}
    return found


def _sets(kind: str, label: str, before: set[str], after: set[str]) -> list[Difference]:
    if before == after:
        return []
    parts = []
    if after - before:
        parts.append("adds " + ", ".join(sorted(after - before)))
    if before - after:
        parts.append("drops " + ", ".join(sorted(before - after)))
    return [Difference(kind, f"{label}: {'; '.join(parts)}")]


def significant_differences(stable: VersionMetadata, stable_spec: ServiceSpec,
                            candidate: VersionMetadata, candidate_spec: ServiceSpec) -> list[Difference]:
    """Every significant way the candidate release differs from the stable one (empty: none)."""
    out: list[Difference] = []
    typed = lambda m, s: {f"{f.name} ({f.type})" for f in m.signature.inputs} | {  # noqa: E731
        f"request field {name} ({f.type})" for name, f in s.inputs.items()}
    out += _sets("input_fields", "input fields", typed(stable, stable_spec), typed(candidate, candidate_spec))
    out += _sets("personal_fields", "personal-data fields", _fields(stable, stable_spec, "personal"),
                 _fields(candidate, candidate_spec, "personal"))
    out += _sets("protected_inputs", "protected attributes the model reads",
                 _fields(stable, stable_spec, "protected", inputs_only=True),
                 _fields(candidate, candidate_spec, "protected", inputs_only=True))
    out += _sets("decision_labels", "decision labels",
                 set(stable_spec.decisions) | set(stable.signature.outputs.labels),
                 set(candidate_spec.decisions) | set(candidate.signature.outputs.labels))
    if stable.family is None or candidate.family is None:
        unsaid = " and ".join(n for n, m in (("the stable version", stable), ("the candidate", candidate))
                              if m.family is None)
        verb = "do" if stable.family is None and candidate.family is None else "does"
        out.append(Difference("model_family", f"model family: {unsaid} {verb} not declare it, so it cannot be "
                                              "shown unchanged"))
    elif stable.family.strip().lower() != candidate.family.strip().lower() or stable.model.format != candidate.model.format:
        out.append(Difference("model_family", f"model family: {stable.family} ({stable.model.format}) to "
                                              f"{candidate.family} ({candidate.model.format})"))
    if stable.training_data.reference != candidate.training_data.reference:
        out.append(Difference("training_data_source", f"training data source: {stable.training_data.reference} to "
                                                      f"{candidate.training_data.reference}"))
    return out


def outside_plan(differences: list[Difference], change_plan: list[str]) -> list[Difference]:
    """The differences the service's pre-determined change plan does not cover: a substantial modification."""
    return [d for d in differences if d.kind not in change_plan]
