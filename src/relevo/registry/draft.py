"""A first spec and metadata for a new service, drafted from its model file and its training data.

The model says what it reads, in which order, and what it answers (scikit-learn's
`feature_names_in_` and `classes_`, read from a skops file); the data says each field's type and,
for text with few values, the values allowed. What only a person can say is left for them: every
field is marked personal data until they say otherwise (so nothing personal is profiled or logged
in clear by default), and the texts an auditor reads (who is responsible, the intended use, the
limitations) are `TODO`, which registration and `service apply` refuse until they are written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    import pyarrow as pa

from relevo.blobs.manifest import hash_file
from relevo.errors import InvalidInput, NotFound, Refused
from relevo.registry.metadata import VersionMetadata
from relevo.registry.reference_data import read_table
from relevo.services.spec import NAME, ServiceSpec

ENUM_AT_MOST = 20  # a text field with at most this many distinct values is drafted as an enum
# skops refuses types outside its defaults; these libraries' own are what a scikit-learn model is
# made of, so drafting may load them (registration still needs them listed in the metadata).
DRAFT_LOADS = ("sklearn.", "numpy.", "scipy.")
FORMATS = {".skops": "skops", ".onnx": "onnx", ".pkl": "pickle", ".pickle": "pickle", ".joblib": "pickle"}
TODO = "TODO"


@dataclass(frozen=True)
class ServiceDraft:
    """A drafted spec and metadata (YAML texts), and what a person must still decide."""

    spec: str
    metadata: str
    inputs: list[str]
    other_fields: list[str]
    labels: list[str]
    unreviewed: list[str]  # fields still marked personal because nobody said otherwise


@dataclass(frozen=True)
class _Model:
    format: str
    inputs: list[str] | None
    labels: list[str] | None
    probabilities: bool
    trusted_types: list[str]


def _read_model(path: Path, trust_types: Sequence[str]) -> _Model:
    """What the model file itself says: its format, inputs, labels and the types skops must trust."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InvalidInput(f"{path.name}: a model file is .skops, .onnx, .pkl or .joblib")
    if kind != "skops":
        # An ONNX graph names tensors, not fields, and a pickle runs code when read: the data decides.
        return _Model(kind, None, None, True, [])
    from relevo.loaders.skops_model import read_estimator, untrusted_types  # skops only when drafting from one

    untrusted = untrusted_types(path)
    foreign = [t for t in untrusted if not t.startswith(DRAFT_LOADS) and t not in trust_types]
    if foreign:
        raise Refused(f"{path.name} holds types from outside scikit-learn, numpy and scipy: {', '.join(foreign)}. "
                      f"Loading them can run their code; after reviewing them, give each with --trust-type")
    estimator = read_estimator(path, untrusted)
    names = getattr(estimator, "feature_names_in_", None)
    classes = getattr(estimator, "classes_", None)
    return _Model("skops", [str(n) for n in names] if names is not None else None,
                  [str(c) for c in classes] if classes is not None else None,
                  hasattr(estimator, "predict_proba"), untrusted)


def _field_type(array: pa.ChunkedArray) -> str:
    import pyarrow as pa  # on first use: importing it adds ~0.1 s to every command's start
    kind = array.type
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "number"
    return "string"


def _values(array: pa.ChunkedArray) -> list[str]:
    return sorted({str(v) for v in array.to_pylist() if v is not None})


def _names(given: Iterable[str], columns: Sequence[str], option: str) -> set[str]:
    names = {n.strip() for item in given for n in item.split(",") if n.strip()}
    unknown = sorted(names - set(columns))
    if unknown:
        raise InvalidInput(f"{option} names {', '.join(unknown)}, which the data does not have "
                           f"(its columns: {', '.join(columns)})")
    return names


def _flow(value: Any) -> str:
    """One value as a single line of YAML (a lone scalar without the document-end marker)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6, allow_unicode=True, sort_keys=False)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def draft_service(name: str, model_path: Path, data_path: Path, *, label: str | None = None,
                  personal: Iterable[str] = (), protected: Iterable[str] = (),
                  trust_types: Sequence[str] = ()) -> ServiceDraft:
    """Draft a spec and metadata for service name from its model file and training data (CSV or Parquet)."""
    if not NAME.match(name):
        raise InvalidInput(f"{name!r} is not a service name: 3-64 characters of lowercase letters, digits and "
                           f"'-', starting with a letter")
    for path, what in ((model_path, "model file"), (data_path, "data file")):
        if not path.is_file():
            raise NotFound(f"{what} not found: {path}")
    model = _read_model(model_path, trust_types)
    table = read_table(data_path, "data")
    if table.num_rows == 0:
        raise InvalidInput(f"data {data_path} has no rows")
    columns = table.column_names
    if label is not None and label not in columns:
        raise InvalidInput(f"--label {label!r} is not a column of {data_path.name} (its columns: {', '.join(columns)})")
    inputs = model.inputs or [c for c in columns if c != label]
    missing = [n for n in inputs if n not in columns]
    if missing:
        raise InvalidInput(f"the model reads {', '.join(missing)}, which {data_path.name} does not have: give the "
                           f"data the model was trained on")
    labels = model.labels or (_values(table.column(label)) if label is not None else None)
    if not labels:
        raise InvalidInput(f"{model_path.name} does not say which labels it answers: give --label COLUMN, the "
                           f"column of {data_path.name} holding the outcome")
    if len(labels) < 2:
        raise InvalidInput(f"the labels are only {', '.join(labels)}: a decision needs at least two")
    others = [c for c in columns if c not in inputs and c != label]
    marked_personal = _names(personal, columns, "--personal")
    marked_protected = _names(protected, columns, "--protected")
    both = sorted(marked_personal & marked_protected)
    if both:
        raise InvalidInput(f"{', '.join(both)}: a field is either personal (never profiled) or protected "
                           f"(profiled, to check fairness by group), not both")
    reviewed = marked_personal | marked_protected
    unreviewed = [c for c in [*inputs, *others] if c not in reviewed] if not reviewed else []

    fields: dict[str, dict[str, Any]] = {}
    for column in [*inputs, *others]:
        array = table.column(column)
        field: dict[str, Any] = {"type": _field_type(array)}
        values = _values(array) if field["type"] == "string" else []
        if field["type"] == "string" and len(values) <= ENUM_AT_MOST:
            field["enum"] = values
        if column not in inputs:
            field["required"] = False
        if column in marked_personal or column in unreviewed:
            field["personal"] = True
        if column in marked_protected:
            field["protected"] = True
        fields[column] = field

    spec = _spec_text(name, fields, labels, unreviewed)
    metadata = _metadata_text(model_path, data_path, table.num_rows, model, inputs, others, fields, labels,
                              unreviewed)
    # The drafts are valid documents but for their TODOs: a mistake here would be the user's first error.
    ServiceSpec.model_validate(yaml.safe_load(spec))
    VersionMetadata.model_validate(yaml.safe_load(metadata))
    return ServiceDraft(spec, metadata, inputs, others, labels, unreviewed)


def _review_note(column: str, unreviewed: list[str]) -> str:
    return "  # TODO: personal data? If not, set personal: false" if column in unreviewed else ""


def _spec_text(name: str, fields: dict[str, dict[str, Any]], labels: list[str], unreviewed: list[str]) -> str:
    lines = [
        "# Drafted by `relevo service init`; every field is in docs/reference/spec.md.",
        f"name: {name}",
        f"description: {TODO} what the service decides, for whom",
        f"owner: {TODO} the accountable service owner",
        "",
        "# What a decision request carries. Fields marked personal are pseudonymised in the decision log",
        "# and never profiled; protected ones are kept to check fairness by group.",
        "inputs:",
    ]
    lines += [f"  {column}: {_flow(field)}{_review_note(column, unreviewed)}" for column, field in fields.items()]
    lines += [
        "",
        f"decisions: {_flow(labels)}",
        "",
        "# When no model can answer: rules first (none yet), then manual review with a reference.",
        "fallback:",
        "  manual_reference_prefix: REF",
        "  rules: []",
        "",
        "timeout_ms: 500",
        "",
        "rollout:",
        "  # The cases a day you expect: `relevo rollout check-plan` sizes the plan with it (until it is",
        "  # written, check-plan asks for --daily-cases rather than guess).",
        "  # daily_cases: 500",
        "  criteria:",
        "    - {metric: error_rate, tolerance: {absolute: 0.01}, min_sample: 100}",
        "    - {metric: latency, budget_ms: 800, max_share: 0.05, min_sample: 100}",
        "",
    ]
    return "\n".join(lines)


def _metadata_text(model_path: Path, data_path: Path, rows: int, model: _Model, inputs: list[str],
                   others: list[str], fields: dict[str, dict[str, Any]], labels: list[str],
                   unreviewed: list[str]) -> str:
    def field_line(column: str, indent: str) -> str:
        flags = {k: v for k, v in fields[column].items() if k in ("personal", "protected")}
        return f"{indent}- {_flow({'name': column, 'type': fields[column]['type'], **flags})}" \
               f"{_review_note(column, unreviewed)}"

    sha256 = hash_file(data_path).sha256
    trained = date.fromtimestamp(os.stat(model_path).st_mtime)
    lines = [
        "# Drafted by `relevo service init`; every field is in docs/reference/metadata.md.",
        f"description: {TODO} what this version is",
        "model:",
        f"  format: {model.format}",
        f"  entry: {_flow(model_path.name)}",
    ]
    if model.trusted_types:
        lines += ["  # Types skops loads only because they are listed: review them.",
                  f"  trusted_types: {_flow(model.trusted_types)}"]
    lines += [
        "signature:",
        "  # The fields the model reads, in the order it reads them" + (
            ": from the model itself." if model.inputs else ": from the data. TODO: check the order."),
        "  inputs:",
        *[field_line(c, "    ") for c in inputs],
        "  outputs:",
        f"    labels: {_flow(labels)}",
        f"    probabilities: {'true' if model.probabilities else 'false'}",
    ]
    if others:
        lines += ["# Fields of the records the model does not read.", "other_fields:",
                  *[field_line(c, "  ") for c in others]]
    lines += [
        "training_data:",
        f"  reference: {_flow(str(data_path))}",
        f"  sha256: {sha256}",
        f"trained_at: {trained.isoformat()}  # the model file's date: correct it if it was trained earlier",
        "hyperparameters: {}",
        "metrics: {}",
        "datasets:",
        f"  - {_flow({'name': data_path.stem, 'role': 'training', 'reference': str(data_path), 'sha256': sha256, 'rows': rows})}",
        f"code_revision: {TODO} the training code's revision",
        f"author: {TODO} the person or vendor responsible",
        f"intended_use: {TODO} what the version may be used for",
        f"limitations: {TODO} where it must not be trusted",
        "",
    ]
    return "\n".join(lines)
