"""Refusing request bodies that are not one unambiguous JSON document, before the application.

A body sent with another media type than JSON is answered 415; a JSON object that repeats a key
(which parsers resolve differently: the first, the last, an error) is answered 400 naming the
key, so what is recorded is never a guess at what the client meant. Malformed JSON is left to
the application, which answers 422 naming where the syntax breaks.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from relevo.api.limits import ASGIApp, Message, Receive, Scope, Send, refuse

WITH_BODY = (b"POST", b"PUT", b"PATCH")


class DuplicateKey(ValueError):
    """A JSON object with a key given twice."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(key)
        out[key] = value
    return out


def _is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


class JsonBodies:
    """ASGI middleware: 415 for a body that is not JSON, 400 for a JSON object repeating a key."""

    def __init__(self, app: ASGIApp, exempt: Callable[[Scope], bool] = lambda scope: False) -> None:
        self.app = app
        self.exempt = exempt  # requests whose body is not JSON by design (an upload)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method", "").encode() not in WITH_BODY or self.exempt(scope):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # a disconnect: let the application see it
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if body.strip():
            content_type = next((v for k, v in scope.get("headers", []) if k.lower() == b"content-type"), b"")
            if not _is_json(content_type):
                shown = content_type.decode("latin-1")[:100] or "none"
                await refuse(send, 415, "unsupported_media_type",
                             f"the request body must be JSON, sent with Content-Type: application/json (got {shown})")
                return
            try:
                json.loads(body, object_pairs_hook=_no_duplicates)
            except DuplicateKey as exc:
                await refuse(send, 400, "invalid_request", f"the JSON body gives the key {str(exc)!r} more than once")
                return
            except (ValueError, RecursionError):
                pass  # malformed, or nested too deep to read here: the application says so

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)
