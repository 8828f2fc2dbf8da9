"""The gateway: where a citizen's case meets a model, and always gets an answer."""

from relevo.gateway.decision import MANUAL, Decision
from relevo.gateway.gateway import Gateway
from relevo.gateway.idempotency import MAX_KEY_LENGTH, parse_key
from relevo.gateway.pseudonym import load_key
from relevo.gateway.served import ServedRoute, ServedService, served_services
from relevo.gateway.trial import PredictedRows, predict_rows
from relevo.gateway.validation import (
    NO_NUL,
    STORABLE_VALUE,
    STORABLE_VALUE_SCHEMA,
    InputRejected,
    StorableRow,
    example_inputs,
    inputs_schema,
    text_problem,
    unstorable_inputs,
)

__all__ = [
    "MANUAL", "MAX_KEY_LENGTH", "NO_NUL", "STORABLE_VALUE", "STORABLE_VALUE_SCHEMA", "Decision", "Gateway",
    "InputRejected", "PredictedRows", "ServedRoute", "ServedService", "StorableRow", "example_inputs",
    "inputs_schema", "load_key", "parse_key", "predict_rows", "served_services",
    "text_problem", "unstorable_inputs",
]
