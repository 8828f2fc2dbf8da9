"""The gateway: where a citizen's case meets a model, and always gets an answer; how long the
decision log keeps its decisions, and the keys of its pseudonyms."""

from relevo.gateway.decision import MANUAL, Decision
from relevo.gateway.gateway import Gateway
from relevo.gateway.idempotency import MAX_KEY_LENGTH, parse_key
from relevo.gateway.key_rotation import KeyChange, PseudonymKey, pseudonym_keys, retire_pseudonym_key, rotate_pseudonym_key
from relevo.gateway.pseudonym import Keyring, load_key, load_keyring
from relevo.gateway.retention import DroppedMonth, Purge, purge_decisions, purge_expired
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
    "MANUAL", "MAX_KEY_LENGTH", "NO_NUL", "STORABLE_VALUE", "STORABLE_VALUE_SCHEMA", "Decision", "DroppedMonth", "Gateway",
    "InputRejected", "KeyChange", "Keyring", "PredictedRows", "PseudonymKey", "Purge", "ServedRoute", "ServedService",
    "StorableRow", "example_inputs", "inputs_schema", "load_key", "load_keyring", "parse_key", "predict_rows",
    "pseudonym_keys", "purge_decisions", "purge_expired", "retire_pseudonym_key", "rotate_pseudonym_key",
    "served_services", "text_problem", "unstorable_inputs",
]
