"""The OpenAPI document, with one precisely typed decision operation per served service.

The generic `POST /v1/services/{service}/decisions` accepts any object as `inputs`, because
services are declared at run time. So that clients, the docs page and fuzzers see what each
service really accepts, the document also lists `POST /v1/services/<name>/decisions` for every
served service, its body schema built from the service spec (types, ranges, enums, required
fields, no extra fields). The document is rebuilt when the set of services or their specs change.
"""

from __future__ import annotations

import copy
import re
import threading
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from relevo.errors import NotFound
from relevo.gateway import Gateway, example_inputs, inputs_schema
from relevo.services import ServiceSpec

DECIDE_PATH = "/v1/services/{service}/decisions"


def _component_name(service: str) -> str:
    return "DecisionRequest_" + re.sub(r"[^A-Za-z0-9]", "_", service)


def _add_service(document: dict[str, Any], spec: ServiceSpec) -> None:
    generic = document["paths"].get(DECIDE_PATH, {}).get("post")
    if generic is None:
        return
    name = _component_name(spec.name)
    case_id = copy.deepcopy(document["components"]["schemas"]["DecisionRequest"]["properties"]["case_id"])
    document["components"]["schemas"][name] = {
        "title": name, "type": "object", "additionalProperties": False, "required": ["case_id", "inputs"],
        "properties": {"case_id": case_id, "inputs": inputs_schema(spec)},
        "examples": [{"case_id": "example-1", "inputs": example_inputs(spec)}],
    }
    operation = copy.deepcopy(generic)
    operation["operationId"] = "decide_" + re.sub(r"[^A-Za-z0-9]", "_", spec.name)
    operation["summary"] = f"Decide a {spec.name} case"
    operation["description"] = (spec.description or "").strip()
    operation["parameters"] = [p for p in operation.get("parameters", []) if p.get("name") != "service"]
    operation["requestBody"]["content"]["application/json"]["schema"] = {"$ref": f"#/components/schemas/{name}"}
    document["paths"][DECIDE_PATH.replace("{service}", spec.name)] = {"post": operation}


def install(app: FastAPI, gateway: Gateway) -> None:
    """Replace app.openapi by a builder that adds every served service's operation."""
    lock = threading.Lock()
    cache: dict[str, Any] = {}

    def specs() -> list[tuple[str, str, ServiceSpec]]:
        out = []
        for name in gateway.service_names():
            try:
                runtime = gateway.runtime(name)
            except NotFound:  # removed between the two calls
                continue
            out.append((name, runtime.spec_sha256, runtime.spec))
        return out

    def openapi() -> dict[str, Any]:
        current = specs()
        key = tuple((name, digest) for name, digest, _ in current)
        with lock:
            if cache.get("key") != key:
                document = get_openapi(title=app.title, version=app.version, description=app.description,
                                       routes=app.routes)
                for _, _, spec in current:
                    _add_service(document, spec)
                cache["key"], cache["document"] = key, document
            return cache["document"]

    app.openapi = openapi  # type: ignore[method-assign]

