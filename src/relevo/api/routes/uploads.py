"""Registering a version over HTTP: the artifact, its metadata and reference data in one tar archive.

The archive holds, at its top, the artifact (a file or a folder) and the metadata file, and
optionally the reference data, under the names the query gives. It is streamed to a private
temporary folder (up to RELEVO_API_MAX_UPLOAD_MB), unpacked with Python's `data` filter (no
absolute paths, no `..`, no links out, no devices), and registered exactly as `relevo register`
registers local files: the same checks, the same version.
"""

from __future__ import annotations

import re
import tarfile
import tempfile
from pathlib import Path
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from relevo.api.auth import acting
from relevo.api.limits import Scope
from relevo.api.params import ServiceName, errors
from relevo.api.routes.commands import RESULT
from relevo.errors import InvalidInput, RelevoError
from relevo.context import Context
from relevo.registry import VersionRecord, register_version

router = APIRouter(tags=["registry"])
UPLOAD_PATH = re.compile(r"^/v1/services/[^/]+/versions$")
TAR = "application/x-tar"
PLAIN_NAME = r"^[^/\\\x00]{1,255}$"  # and not . or .. (checked below)
Name = Annotated[str, Query(pattern=PLAIN_NAME, description="a name at the archive's top (no folders)")]


def is_upload(scope: Scope) -> bool:
    """Whether a request is a registration upload (which the JSON and size checks let through)."""
    return scope.get("method") == "POST" and bool(UPLOAD_PATH.match(scope.get("path", "")))


async def _receive(request: Request, into: Path, limit: int) -> None:
    size = 0
    with into.open("wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPException(413, f"the archive is larger than the limit of {limit // 2**20} MiB "
                                         "(RELEVO_API_MAX_UPLOAD_MB on the server)")
            out.write(chunk)


def _unpack(archive: Path, into: Path, limit: int) -> None:
    try:
        with tarfile.open(archive, mode="r:") as tar:
            if sum(member.size for member in tar.getmembers()) > limit:
                raise InvalidInput("the archive unpacks to more than the upload limit")
            tar.extractall(into, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise InvalidInput(f"the body is not a readable tar archive: {exc}") from None


@router.post("/v1/services/{service}/versions", response_model=VersionRecord, operation_id="register_version",
             summary="Register a version (a tar archive of the artifact, its metadata and reference data)",
             openapi_extra={"requestBody": {"required": True, "content": {TAR: {"schema": {
                 "type": "string", "format": "binary"}}}}},
             responses=errors(400, 403, 404, 409, 413, 415, 422, 503))
async def register(request: Request, service: ServiceName,
                   ctx: Annotated[Context, Depends(acting("publisher"))],  # before a byte of the body is read
                   artifact: Name, metadata: Name, reference_data: Annotated[
                       str | None, Query(pattern=PLAIN_NAME, description="the reference data's name, if sent")] = None,
                   tag: Annotated[list[str] | None, Query(max_length=20)] = None) -> Response:
    """The next immutable version of service, from the archive in the body (publishers)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != TAR:
        raise HTTPException(415, f"send the files as one tar archive with Content-Type: {TAR} (got {media or 'none'})")
    if {artifact, metadata, reference_data} & {".", ".."}:
        raise InvalidInput("artifact, metadata and reference_data name files at the archive's top, not . or ..")
    limit = request.app.state.max_upload_bytes
    with tempfile.TemporaryDirectory(prefix="relevo-upload-") as folder:
        root = Path(folder)
        await _receive(request, root / "archive.tar", limit)
        files = root / "files"
        await anyio.to_thread.run_sync(_unpack, root / "archive.tar", files, limit)

        def registered() -> VersionRecord:
            try:
                return register_version(ctx, service, files / artifact, files / metadata, tags=tag or [],
                                        reference_data=files / reference_data if reference_data else None)
            except RelevoError as exc:
                # Name the files as the caller sent them, not where this server unpacked them.
                exc.args = tuple(str(a).replace(f"{files}/", "") for a in exc.args)
                raise

        record = await anyio.to_thread.run_sync(registered)
    return Response(RESULT.dump_json(record), media_type="application/json")
