"""Trying a version by hand (`relevo predict`): rows answered by one version, each validated
first exactly as the gateway validates a citizen's request, so a row it would refuse is refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from relevo.context import Context
from relevo.errors import InvalidInput
from relevo.gateway.validation import InputRejected, InputValidator, StorableRow
from relevo.loaders.base import Prediction
from relevo.registry import load_version
from relevo.services import get_spec
from relevo.store import connect


@dataclass(frozen=True)
class PredictedRows:
    """What a version answered to rows given by hand."""

    version: str
    answers: list[Prediction]


def predict_rows(ctx: Context, service: str, ref: str, rows: list[StorableRow]) -> PredictedRows:
    """Validate rows against the service's inputs, then answer them with the version ref names."""
    if not rows:
        raise InvalidInput("give at least one row to answer")
    with connect(ctx.engine) as conn:
        spec = get_spec(conn, service)
    validator = InputValidator(spec)
    clean = [_validated(validator, row, index) for index, row in enumerate(rows)] if spec.inputs else rows
    record, model = load_version(ctx, service, ref)
    return PredictedRows(record.name, [Prediction(p.decision, dict(p.probabilities) if p.probabilities else None)
                                       for p in model.predict(clean)])


def _validated(validator: InputValidator, row: Any, index: int) -> dict[str, Any]:
    # A spec declaring no inputs yet is skipped above: the version's signature alone decides then.
    try:
        return validator.validate(row)
    except InputRejected as exc:
        raise InvalidInput(f"row {index} is refused as the gateway would refuse it: {exc}") from None
