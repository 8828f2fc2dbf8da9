"""Proving a version answers before anything relies on it: load it, then answer probe rows.

Registration loads the artifact from the very files it stores and asks it a few questions:
rows from the reference sample when one is given, otherwise rows built from the signature and
the service spec's field rules (every enum value, both ends of every range). A file that is not
what its format says, a model fitted on other inputs than the metadata names, a model reading
an input the service does not send, or one that cannot answer, is refused then, with the reason,
instead of failing later in front of citizens. Promotion runs the same check on the stored files.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

from relevo.errors import InvalidInput, Refused, RelevoError
from relevo.loaders import load_model
from relevo.loaders.base import Model
from relevo.loaders.signature import InputField, Signature
from relevo.registry.metadata import VersionMetadata
from relevo.registry.reference_data import read_rows
from relevo.services.spec import FieldSpec, ServiceSpec

PROBE_ROWS = 8
PROBE_TIMEOUT_S = 30.0


def _values(field: InputField, rule: FieldSpec | None) -> list[Any]:
    """Plausible values of one input, from the spec's rule for it where there is one."""
    kind = rule.type if rule is not None else field.type
    if rule is not None and rule.enum:
        return list(rule.enum)
    if kind == "string" and rule is not None:
        return [f"probe-{i}"[: rule.max_length] for i in range(2)]
    if kind == "boolean":
        return [True, False]
    if kind in ("number", "integer"):
        lo = rule.minimum if rule is not None and rule.minimum is not None else 0.0
        hi = rule.maximum if rule is not None and rule.maximum is not None else lo + 10.0
        points = [lo, lo + (hi - lo) * 0.25, lo + (hi - lo) * 0.5, lo + (hi - lo) * 0.8, hi]
        return [int(round(p)) for p in points] if kind == "integer" else [float(p) for p in points]
    return ["probe", "another value"]


def probe_rows(signature: Signature, spec: ServiceSpec | None, reference_data: Path | None = None,
               n: int = PROBE_ROWS) -> list[dict[str, Any]]:
    """Rows to ask a model: the reference sample's first rows when given, else built from the
    signature and the spec's rules, each input's values cycled so every enum value appears."""
    names = signature.names
    rules = spec.inputs if spec is not None else {}
    # A model is called with every input the service's requests carry (the gateway passes the
    # validated request), of which it reads the signature's.
    fields = {f.name: f for f in signature.inputs}
    for name, rule in rules.items():
        fields.setdefault(name, InputField(name=name, type=rule.type))
    values = {name: _values(field, rules.get(name)) for name, field in fields.items()}
    rows = [{name: values[name][i % len(values[name])] for name in values}
            for i in range(max(n, max(len(v) for v in values.values())))]
    if reference_data is not None:
        sample = read_rows(reference_data, names, n)
        # A reference row misses an input only where the sample lacks that column: fill it in.
        rows = [built | row for row, built in zip(sample, itertools.cycle(rows))] or rows
    return rows


def check_inputs(signature: Signature, spec: ServiceSpec) -> None:
    """InvalidInput when the model reads an input the service's requests do not carry."""
    if not spec.inputs:
        return
    absent = [name for name in signature.names if name not in spec.inputs]
    if absent:
        raise InvalidInput(
            f"the model reads {', '.join(absent)}, which the {spec.name} spec does not declare as inputs; "
            f"every case would fail (inputs declared: {', '.join(spec.inputs)})")


def probe(model: Model, signature: Signature, spec: ServiceSpec | None, rows: list[dict[str, Any]],
          source: str, timeout: float | None = None) -> None:
    """Ask the model the rows; InvalidInput naming what went wrong when it cannot answer them."""
    timeout = PROBE_TIMEOUT_S if timeout is None else timeout
    outcome: dict[str, Any] = {}

    def ask() -> None:
        try:
            outcome["answers"] = model.predict(rows)
        except BaseException as exc:  # anything the model raises is the reason to refuse it
            outcome["error"] = exc

    worker = threading.Thread(target=ask, name="relevo-probe", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise InvalidInput(f"{source} did not answer {len(rows)} probe rows within {timeout:g} s")
    if "error" in outcome:
        exc = outcome["error"]
        reason = str(exc) if isinstance(exc, RelevoError) else f"{type(exc).__name__}: {exc}"
        raise InvalidInput(f"{source} cannot answer a probe row ({show_row(rows[0])}): {reason}")
    answers = outcome["answers"]
    if len(answers) != len(rows):
        raise InvalidInput(f"{source} gave {len(answers)} answers to {len(rows)} probe rows")
    if spec is not None and spec.decisions:
        wrong = sorted({a.decision for a in answers} - set(spec.decisions))
        if wrong:
            raise InvalidInput(f"{source} answered {', '.join(wrong)}, which the {spec.name} spec does not list "
                               f"among its decisions ({', '.join(spec.decisions)}): every such case would "
                               f"go to the fallback")


def show_row(row: dict[str, Any]) -> str:
    """A case's inputs in one line, shortened past 200 characters."""
    text = ", ".join(f"{k}={v!r}" for k, v in row.items())
    return text if len(text) <= 200 else text[:197] + "..."


def load_and_probe(artifact_dir: Path, metadata: VersionMetadata, spec: ServiceSpec, *,
                   reference_data: Path | None = None, source: str = "the model") -> Model:
    """Load the artifact as its metadata says and make it answer probe rows; InvalidInput or
    Refused with the reason when it cannot."""
    check_inputs(metadata.signature, spec)
    try:
        model = load_model(artifact_dir, metadata.model, metadata.signature, trust_pickle=spec.trust_pickle)
    except Refused as exc:
        raise Refused(f"{source} cannot be loaded as {metadata.model.format}: {exc}") from None
    except RelevoError as exc:
        raise InvalidInput(f"{source} cannot be loaded as {metadata.model.format}: {exc}") from None
    except Exception as exc:  # a loader meeting a file that is not what its format says
        raise InvalidInput(f"{source} cannot be loaded as {metadata.model.format}: {type(exc).__name__}: {exc}") from None
    probe(model, metadata.signature, spec, probe_rows(metadata.signature, spec, reference_data), source)
    return model
