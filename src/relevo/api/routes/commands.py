"""The operations of `relevo.api.commands` as routes: parameters typed from each use case's signature,
its result answered as JSON; and the upload that registers a version (`relevo.api.routes.uploads`).

The route only authenticates (and, for a narrowed read, checks the role); the use case checks the
rest, exactly as it does for the CLI on a local store.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Callable, Literal

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, create_model, model_validator

from relevo.api.auth import acting, principal_of
from relevo.api.commands import COMMANDS, Command
from relevo.api.dependencies import GatewayDep
from relevo.api.params import errors, storable
from relevo.context import Context
from relevo.identity import Principal
from relevo.gateway import NO_NUL, unstorable_inputs
from relevo.identity import IDENTITY_KINDS, IDENTITY_NAME
from relevo.registry import TAG_NAME
from relevo.routing import ENVIRONMENT_NAME, MODES
from relevo.rollouts import MAX_DAILY, MIN_DAILY
from relevo.services import SERVICE_NAME

router = APIRouter()
# A result as JSON by what it is; unbounded values (an e-value, an interval's end) as Infinity, as
# the CLI's --json writes them (Python's json and pydantic read them back).
RESULT = TypeAdapter(Any, config=ConfigDict(ser_json_inf_nan="constants"))


class _Body(BaseModel):
    """A use case's parameters in a JSON body: no unknown field, no text the store cannot keep."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        if isinstance(data, dict) and (problems := unstorable_inputs(data)):
            raise ValueError("; ".join(f"{field}: {problem}" for field, problem in problems))
        return data


async def _anyone(principal: Annotated[Principal, Depends(principal_of)], gateway: GatewayDep) -> Context:
    """The use cases' Context acting as any caller with a valid token (the use case checks the rest)."""
    return gateway.ctx.acting_as(principal.name, principal.grants)


# What the use cases require of a parameter, by its name, stated in the published schema too: a
# request the schema allows is then one the server does not refuse for its form.
NAMED: dict[str, dict[str, Any]] = {
    "service": {"pattern": SERVICE_NAME.pattern},
    "tag": {"pattern": TAG_NAME.pattern},
    "name": {"pattern": IDENTITY_NAME.pattern},
    "limit": {"ge": 1},
    "rows": {"min_length": 1},
    "weight": {"ge": 0, "le": 100},
    "daily_cases": {"ge": MIN_DAILY, "le": MAX_DAILY},
}
# Environments, wherever a use case names one.
NAMED.update({name: {"pattern": ENVIRONMENT_NAME.pattern} for name in ("environment", "source", "target", "left", "right")})
TEXTS = (str, str | None)
# Texts that take one of a few values: published as the enum they are.
CHOICES: dict[str, Any] = {"kind": Literal[IDENTITY_KINDS], "mode": Literal[MODES]}  # type: ignore[valid-type]


def _bounded(name: str, hint: Any, where: Callable[..., Any]) -> Any:
    """A parameter's type as the published schema states it: an integer (an id, a limit) as both
    databases store it (32 bits), a name by its pattern, any other text without NUL characters."""
    if name in CHOICES and hint in TEXTS:
        return Annotated[CHOICES[name] | None if hint == (str | None) else CHOICES[name], where()]
    constraints = dict(NAMED.get(name, {}))
    if hint is int or hint == (int | None):
        constraints = {"ge": -(2**31), "le": 2**31 - 1} | constraints
    elif hint in TEXTS:
        constraints.setdefault("pattern", NO_NUL)
    return Annotated[hint, where(**constraints)]


def _endpoint(command: Command) -> Callable[..., Response]:
    """The route function for command, with a signature FastAPI reads its parameters from."""
    parameters = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY,
                                    annotation=Annotated[Context, Depends(
                                        acting(*command.roles) if command.roles else _anyone)])]
    in_body: list[str] = []
    fields: dict[str, Any] = {}
    for p in command.parameters:
        hint = command.hints[p.name]
        default = inspect.Parameter.empty if p.default is inspect.Parameter.empty else p.default
        if p.name in command.in_path:
            parameters.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY,
                                                annotation=_bounded(p.name, hint, Path)))
        elif command.reads:
            parameters.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[_bounded(p.name, hint, Query), AfterValidator(storable)],
                                                default=default))
        else:
            in_body.append(p.name)
            fields[p.name] = (_bounded(p.name, hint, Field), ... if default is inspect.Parameter.empty else default)
    if in_body:
        base = _Body if command.body_rules is None else type("_RuledBody", (_Body,), {
            "model_config": ConfigDict(extra="forbid", json_schema_extra=command.body_rules)})
        model_name = "".join(part.title() for part in command.name.split("_")) + "Request"
        model: type[BaseModel] = create_model(model_name, __base__=base, **fields)
        parameters.append(inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY,
                                            annotation=Annotated[model, Body()]))

    def endpoint(**kwargs: Any) -> Response:
        ctx = kwargs.pop("ctx")
        body = kwargs.pop("body", None)
        arguments = kwargs | ({name: getattr(body, name) for name in in_body} if body is not None else {})
        return Response(RESULT.dump_json(command.fn(ctx, **arguments)), media_type="application/json")

    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = command.name
    endpoint.__doc__ = command.fn.__doc__
    return endpoint


for _command in COMMANDS:
    router.add_api_route(
        _command.path, _endpoint(_command), methods=[_command.method], operation_id=_command.name,
        tags=[_command.tag], summary=(_command.fn.__doc__ or _command.name).strip().splitlines()[0].rstrip("."),
        response_model=_command.hints["return"],
        responses=errors(403, 404, 409, 422, 503) if _command.reads else errors(400, 403, 404, 409, 413, 415, 422, 503))
