"""The CLI through a remote `relevo serve`: with RELEVO_URL and RELEVO_TOKEN set, each command calls
the same use case over HTTP (`relevo.api.commands`) and prints the typed result it gets back,
exactly as it prints a local one.

The token travels only over HTTPS, or plain HTTP to this machine (127.0.0.1, ::1, localhost). A
refusal from the server is shown as the same error a local store gives.
"""

from __future__ import annotations

import inspect
import ipaddress
import os
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import quote, urlsplit

import httpx
from pydantic import TypeAdapter

from relevo import __version__
from relevo.api.commands import BY_FUNCTION
from relevo.blobs.manifest import artifact_files
from relevo.api.errors import STATUS
from relevo.errors import InvalidInput, NotFound, Refused, RelevoError, StoreUnavailable
from relevo.registry import VersionRecord

# The server's error types back to the errors a local store raises (the most general of each type).
ERRORS: dict[str, type[RelevoError]] = {kind: cls for cls, _, kind in STATUS} | {
    kind: InvalidInput for kind in ("invalid_request", "payload_too_large", "unsupported_media_type")}
LOCAL_CALLBACKS = ("progress", "step")  # parameters that call back into the CLI, never sent
TIMEOUT = httpx.Timeout(10.0, read=600.0, write=600.0)  # a plan check or a large upload takes a while


def _local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Remote:
    """A `relevo serve` the CLI acts through, as the identity of a token."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput(f"RELEVO_URL must be an http(s) address such as https://relevo.example.org "
                               f"(got {url!r})")
        if parts.scheme == "http" and not _local(parts.hostname):
            raise Refused(f"RELEVO_URL {url} would send your token unencrypted: use https:// (plain http only to "
                          "this machine)")
        if not token:
            raise Refused("RELEVO_URL is set: set RELEVO_TOKEN to a token of yours too")
        self.url = url.rstrip("/")
        self.client = httpx.Client(base_url=self.url, timeout=TIMEOUT, headers={
            "Authorization": f"Bearer {token}", "User-Agent": f"relevo-cli/{__version__}"})

    def __enter__(self) -> "Remote":
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    @classmethod
    def from_environment(cls) -> "Remote | None":
        """The remote RELEVO_URL names, or None to act on a local store."""
        url = os.environ.get("RELEVO_URL", "").strip()
        return cls(url, os.environ.get("RELEVO_TOKEN", "").strip()) if url else None

    def _send(self, method: str, path: str, **request: Any) -> httpx.Response:
        try:
            response = self.client.request(method, path, **request)
        except httpx.TransportError as exc:
            raise StoreUnavailable(f"cannot reach {self.url}: {exc}") from None
        if response.is_success:
            return response
        try:
            error = response.json()["error"]
            kind, message = error["type"], error["message"]
        except (ValueError, KeyError, TypeError):
            raise StoreUnavailable(f"{self.url} answered {response.status_code} without an error Relevo knows") from None
        if response.status_code == 401:
            raise Refused(f"{self.url} refused the token (RELEVO_TOKEN): it is unknown, expired or revoked")
        raise ERRORS.get(kind, RelevoError)(message)

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """fn(context, *args, **kwargs) on the server, its result as fn returns it."""
        command = BY_FUNCTION.get(fn)
        if command is None:
            raise Refused(f"{fn.__name__} works only on a local store; unset RELEVO_URL to run it there")
        bound = inspect.signature(fn).bind(None, *args, **kwargs)
        # A progress callback shows work done on this machine; the server's work shows none.
        given = {name: value for name, value in bound.arguments.items() if name not in ("ctx", *LOCAL_CALLBACKS)}
        if not set(given) <= {p.name for p in command.parameters}:
            raise Refused(f"{command.name} with {', '.join(sorted(given))} works only on a local store")
        plain = {name: TypeAdapter(command.hints[name]).dump_python(value, mode="json") for name, value in given.items()}
        path = command.url(plain)
        rest = {name: value for name, value in plain.items() if name not in command.in_path}
        if command.reads:
            request: dict[str, Any] = {"params": {k: v for k, v in rest.items() if v is not None}}
        elif rest or any(p.name not in command.in_path for p in command.parameters):
            request = {"json": rest}
        else:
            request = {}
        response = self._send(command.method, path, **request)
        return TypeAdapter(command.hints["return"]).validate_json(response.content)

    def register(self, service: str, source: Path, metadata: Path, *, tags: list[str],
                 reference_data: Path | None, progress: Callable[[int], None] | None = None) -> VersionRecord:
        """Upload the artifact, its metadata and reference data as one archive, and register them."""
        names = {"artifact": source.name, "metadata": metadata.name}
        if reference_data is not None:
            names["reference_data"] = reference_data.name
        if len(set(names.values())) < len(names):
            raise InvalidInput("the artifact, metadata and reference data need different file names to travel "
                               "together")
        files = [(f"{source.name}/{rel}" if source.is_dir() else rel, path) for rel, path in artifact_files(source)]
        for name, path in ((metadata.name, metadata), (reference_data.name if reference_data else "", reference_data)):
            if path is not None:
                if not path.is_file():
                    raise NotFound(f"file not found: {path}")
                files.append((name, path))
        with tempfile.TemporaryFile() as archive:
            with tarfile.open(fileobj=archive, mode="w:", format=tarfile.PAX_FORMAT) as tar:
                for name, path in files:
                    tar.add(path, arcname=name, recursive=False)
                    if progress is not None:
                        progress(path.stat().st_size)
            archive.seek(0)
            response = self._send("POST", f"/v1/services/{quote(service, safe='')}/versions",
                                  params={**names, "tag": tags}, content=_chunks(archive),
                                  headers={"Content-Type": "application/x-tar"})
        return TypeAdapter(VersionRecord).validate_json(response.content)


def _chunks(file: Any, size: int = 1 << 20) -> Iterator[bytes]:
    while chunk := file.read(size):
        yield chunk
