"""Every error as one JSON shape: {"error": {"type", "message"[, "fields"]}}.

RelevoErrors map to their status (NotFound 404, InvalidInput 422, Conflict 409, Refused 403,
StoreUnavailable 503); FastAPI's request validation errors become 422 naming each field; an
unexpected exception is logged and answered 500 as a last resort (the tests show none occurs).
A 5xx body names the failing part only (the store, a version's files): what the database's
address is or why it failed goes to the server log, never to a client.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from relevo.errors import (
    Busy,
    Conflict,
    IntegrityFailure,
    InvalidInput,
    NotFound,
    Refused,
    RelevoError,
    StoreUnavailable,
)
from relevo.api.auth import TooManyAttempts, Unauthorised
from relevo.gateway import InputRejected

log = logging.getLogger(__name__)

# Most specific first: InputRejected is an InvalidInput.
STATUS: list[tuple[type[RelevoError], int, str]] = [
    (InputRejected, 422, "invalid_input"),
    (InvalidInput, 422, "invalid_input"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (Refused, 403, "refused"),
    (StoreUnavailable, 503, "store_unavailable"),
    (IntegrityFailure, 503, "integrity_failure"),
]
PUBLIC_5XX = {"store_unavailable": "the decision store is unavailable; retry shortly (with the same Idempotency-Key)",
              "integrity_failure": "a version's files failed their integrity check; the operators have been told"}
HTTP_TYPES = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
              415: "unsupported_media_type"}


def error_body(kind: str, message: str, fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The one error shape of the API."""
    error: dict[str, Any] = {"type": kind, "message": message}
    if fields is not None:
        error["fields"] = fields
    return {"error": error}


def _fields_message(fields: list[dict[str, str]]) -> str:
    return "; ".join(f"{f['field']}: {f['message']}" for f in fields)


def input_fields(errors: Iterable[tuple[str, str]], where: str = "inputs") -> list[dict[str, str]]:
    """InputRejected's (field, message) pairs, named as they appear in the request body."""
    return [{"field": field if not where or field == where else f"{where}.{field}", "message": message}
            for field, message in errors]


def _location(loc: tuple[Any, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "path", "query", "header", "cookie"):
        where = parts.pop(0)
        if where == "body" and parts and isinstance(parts[0], int) and len(parts) == 1:
            return "body"  # a JSON syntax error: FastAPI puts the character position here
        if not parts:
            return where
    return ".".join(str(p) for p in parts)


def validation_fields(exc: RequestValidationError) -> list[dict[str, str]]:
    """FastAPI's validation errors as {field, message}, without echoing the input."""
    out = []
    for e in exc.errors():
        loc = tuple(e.get("loc", ()))
        message = str(e.get("msg", "invalid"))
        if e.get("type") == "json_invalid":
            position = loc[1] if len(loc) > 1 else "?"
            reason = (e.get("ctx") or {}).get("error", "")
            message = f"malformed JSON at character {position}" + (f": {reason}" if reason else "")
        elif e.get("type") == "missing" and loc == ("body",):
            message = "a JSON body is required"
        elif message.startswith("Value error, "):
            message = message[len("Value error, "):]
        out.append({"field": _location(loc), "message": message})
    return out


async def _relevo_error(request: Request, exc: RelevoError) -> JSONResponse:
    for cls, status, kind in STATUS:
        if isinstance(exc, cls):
            break
    else:
        status, kind = 400, "invalid_request"
    fields = input_fields(exc.errors, exc.where) if isinstance(exc, InputRejected) else None
    message = _fields_message(fields) if fields else str(exc)
    if status >= 500:
        log.error("answering %s %s with %d: %s", request.method, request.url.path, status, message)
        message = PUBLIC_5XX.get(kind, "the service is unavailable; retry shortly")
    # A 503, or a retry racing its own first request: worth retrying, after a second.
    headers = {"Retry-After": "1"} if status == 503 or isinstance(exc, Busy) else None
    return JSONResponse(error_body(kind, message, fields), status_code=status, headers=headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = validation_fields(exc)
    return JSONResponse(error_body("invalid_input", _fields_message(fields), fields), status_code=422)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    kind = HTTP_TYPES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"no such endpoint: {request.method} {request.url.path}"
    return JSONResponse(error_body(kind, message), status_code=exc.status_code, headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    request.app.state.internal_errors += 1
    log.exception("unexpected error answering %s %s", request.method, request.url.path)
    return JSONResponse(error_body("internal", "an unexpected error occurred; it has been logged"), status_code=500)


async def _unauthorised(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(error_body("unauthorized", "a valid bearer token is needed"), status_code=401,
                        headers={"WWW-Authenticate": "Bearer"})


async def _too_many(request: Request, exc: Exception) -> JSONResponse:
    wait = getattr(exc, "wait", 60.0)
    return JSONResponse(error_body("too_many_attempts", str(exc)), status_code=429,
                        headers={"Retry-After": f"{wait:.0f}"})


def install(app: FastAPI) -> None:
    """Register the handlers on app (and the counter of unexpected errors the tests read)."""
    app.add_exception_handler(Unauthorised, _unauthorised)
    app.add_exception_handler(TooManyAttempts, _too_many)
    app.state.internal_errors = 0
    app.add_exception_handler(RelevoError, _relevo_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
