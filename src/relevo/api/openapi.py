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
from relevo.gateway import NO_NUL, STORABLE_VALUE, STORABLE_VALUE_SCHEMA, Gateway, example_inputs, inputs_schema
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


def _leave_to_typed(document: dict[str, Any], names: list[str]) -> None:
    """The generic operation's `service` names the services this document has no operation for:
    a body the generic schema allows is then never one a listed service's stricter schema refuses."""
    generic = document["paths"].get(DECIDE_PATH, {}).get("post")
    if generic is None or not names:
        return
    for parameter in generic.get("parameters", []):
        if parameter.get("name") == "service":
            parameter["schema"] = {**parameter["schema"], "not": {"enum": sorted(names)}}
            parameter["description"] = (parameter.get("description", "") + "; the services listed here "
                                        "have an operation of their own, typed by their spec").lstrip("; ")


_CONSTRAINED = {"pattern", "enum", "const", "format"}  # a string schema that already says what it holds
_SHAPED = {"type", "$ref", "anyOf", "oneOf", "allOf", "not", "enum", "const", "if"}  # not an "any value" schema
_VALUE = {"$ref": f"#/components/schemas/{STORABLE_VALUE}"}


def _texts_without_nul(document: dict[str, Any]) -> None:
    """Every text a request carries, at any depth, published as the store takes it: without NUL.

    The server refuses NUL anywhere in a request (PostgreSQL cannot keep it): in a text, in a
    field name, in a free-form value. Stating it on each schema a parameter or body reaches
    (through its components) makes a request the document allows one the server takes.
    Response-only schemas are left as they are; `not` and `if` are never entered (a constraint
    added there would turn into its opposite).
    """
    components = document.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    pending: list[tuple[Any, bool]] = []  # (schema, whether it is a value's own schema)
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                pending += [(p.get("schema"), True) for p in operation.get("parameters", [])]
                pending += [(c.get("schema"), True)
                            for c in operation.get("requestBody", {}).get("content", {}).values()]
    while pending:
        node, own = pending.pop()
        if not isinstance(node, dict):
            continue
        if own and not _SHAPED & set(node):
            node.update(_VALUE)  # any JSON value: as the store keeps it
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/") and (name := ref.rsplit("/", 1)[1]) not in seen:
            seen.add(name)
            pending.append((components.get(name), True))
        if node.get("type") == "string" and not _CONSTRAINED & set(node):
            node["pattern"] = NO_NUL
        if node.get("type") == "object" and node.get("additionalProperties") is not False:
            node.setdefault("propertyNames", {"pattern": NO_NUL})
            if node.get("additionalProperties", True) is True:  # any value: as the store keeps it
                node["additionalProperties"] = dict(_VALUE)
        pending += [(value, True) for value in node.get("properties", {}).values()]
        pending += [(node.get(key), True) for key in ("items", "additionalProperties")]
        pending += [(value, True) for value in node.get("prefixItems", [])]
        pending += [(value, False) for key in ("anyOf", "oneOf", "allOf") for value in node.get(key, [])]
        pending += [(node.get(key), False) for key in ("then", "else")]


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
                document.setdefault("components", {}).setdefault("schemas", {})[STORABLE_VALUE] = STORABLE_VALUE_SCHEMA
                for _, _, spec in current:
                    _add_service(document, spec)
                _leave_to_typed(document, [spec.name for _, _, spec in current])
                _texts_without_nul(document)
                cache["key"], cache["document"] = key, document
            return cache["document"]

    app.openapi = openapi  # type: ignore[method-assign]

