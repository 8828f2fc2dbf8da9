"""Refusing oversized request bodies before any of them reaches the application."""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, MutableMapping

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 64 * 1024


async def refuse(send: Send, status: int, kind: str, message: str) -> None:
    """Answer with the API's error shape and close the connection."""
    body = json.dumps({"error": {"type": kind, "message": message}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: 413 for a body above max_bytes.

    A declared Content-Length above the limit is refused without reading anything. A body sent
    without one (chunked) is read here, counting bytes, up to the limit; past it the request is
    refused, otherwise the buffered body is handed to the application unchanged.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 exempt: Callable[[Scope], bool] = lambda scope: False,
                 only: Callable[[Scope], bool] = lambda scope: True) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt  # requests that bound their own bodies (an upload streamed to disk)
        self.only = only  # the requests this limit is for (a larger one for a test suite's cases)

    def _too_large(self) -> str:
        return f"the request body is larger than the limit of {self.max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.exempt(scope) or not self.only(scope):
            await self.app(scope, receive, send)
            return
        declared = [v for k, v in scope.get("headers", []) if k.lower() == b"content-length"]
        if declared:
            try:
                length = int(declared[0])
            except ValueError:
                await refuse(send, 400, "invalid_request", "Content-Length is not a number")
                return
            if length > self.max_bytes:
                await refuse(send, 413, "payload_too_large", self._too_large())
                return
            await self.app(scope, receive, send)
            return
        # No Content-Length: read the body here (bounded), then replay it.
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break  # a disconnect: let the application see it
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await refuse(send, 413, "payload_too_large", self._too_large())
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if buffered:
                return buffered.pop(0)
            return await receive()

        await self.app(scope, replay, send)
