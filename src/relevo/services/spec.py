"""The service spec (YAML): what a decision service is and which policies apply to it.

This is the part of the spec the registry needs; the gateway and rollouts add their own
sections (input schema, fallback, plans) in later revisions.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from relevo.errors import InvalidInput
from relevo.documents import format_validation_error, read_document

NAME = re.compile(r"^[a-z][a-z0-9-]{1,62}[a-z0-9]$")


class ServiceSpec(BaseModel):
    """A decision service and its registry policies."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    owner: str = Field(default="", description="accountable service owner")
    trust_pickle: bool = Field(
        default=False,
        description="allow plain pickle/joblib artifacts (unsafe: loading runs arbitrary code)",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not NAME.match(name):
            raise ValueError(
                "a service name is 3-64 characters of lowercase letters, digits and '-', "
                "starting with a letter"
            )
        return name


def parse_spec(data: dict, source: str) -> ServiceSpec:
    """Validate a spec mapping; errors name the source file and each bad field."""
    try:
        return ServiceSpec.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(format_validation_error(exc, "service spec", source)) from None


def load_spec(path: Path) -> ServiceSpec:
    """Read and validate a service spec file."""
    return parse_spec(read_document(path, "service spec"), str(path))
