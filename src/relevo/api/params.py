"""Path, query and header parameters shared by the routers, and the error responses they document."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Path, Query
from pydantic import AfterValidator

from relevo.api.schemas import ErrorBody
from relevo.gateway import MAX_KEY_LENGTH, text_problem
from relevo.services import SERVICE_NAME


def storable(value: Any) -> Any:
    """A query value the store can keep as text, or ValueError saying why not (others pass)."""
    if isinstance(value, str) and (problem := text_problem(value)):
        raise ValueError(problem)
    return value


DecisionId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$",
                                 description="a decision id, as returned with the decision")]
ServiceName = Annotated[str, Path(max_length=100, pattern=SERVICE_NAME.pattern, description="a service this gateway serves (see /v1/services)")]
ReadyFor = Annotated[str | None, Query(max_length=100, pattern=SERVICE_NAME.pattern, description="ready to answer this service (default: every "
                                                                   "service served here)"), AfterValidator(storable)]
# What parse_key takes: 1 to 255 printable ASCII characters, in double quotes (a structured-field
# string, whose escapes it reads) or bare.
KEY_PATTERN = r'^(?:"[ -~]*[!-~][ -~]*"|[!-~](?:[ -~]{0,253}[!-~])?)$'
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=MAX_KEY_LENGTH + 2, pattern=KEY_PATTERN,
    description='a key of the client\'s choosing, e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324": a retry with the '
                'same key and body gets the decision first recorded (kept 48 hours)')]
ServiceFilter = Annotated[str | None, Query(max_length=100, pattern=SERVICE_NAME.pattern,
                                            description="only this service's cases"),
                          AfterValidator(storable)]

_DESCRIBED = {400: "malformed request (a key given twice in the JSON body, a bad header)",
              401: "no valid token (missing, malformed, unknown, expired or revoked)",
              403: "refused by policy (a role the caller does not hold, four eyes)", 404: "not found",
              409: "conflicts with the record (the Idempotency-Key was used for another body; or, with "
                   "Retry-After, the same key is still being answered)",
              413: "body too large", 415: "the body is not JSON",
              422: "invalid input; error.fields names each field",
              429: "too many failed tokens from this address: retry after the Retry-After seconds",
              503: "the store is unavailable"}
# Every operation behind a token can answer these, whatever else it does.
AUTHENTICATED = (401, 403, 429)


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented error responses of an operation behind a token, each with the ErrorBody schema."""
    return {code: {"model": ErrorBody, "description": _DESCRIBED[code]} for code in sorted({*codes, *AUTHENTICATED})}


# What a request with a body can be refused for, before and after its own checks.
BODY_ERRORS = (400, 404, 409, 413, 415, 422, 503)
