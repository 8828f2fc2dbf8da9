"""The metadata every version carries: what it was trained on, how, and what it may be used for.

Metadata is validated when a version is registered and never changes afterwards; corrections
are annotations. Files are YAML or JSON (YAML is a superset of JSON).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from relevo.documents import format_validation_error, read_document
from relevo.errors import InvalidInput
from relevo.loaders.signature import InputField, ModelSpec, Signature

SHA256_PATTERN = r"^[0-9a-f]{64}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataReference(_Strict):
    """A dataset named by where it lives and pinned by its content hash."""

    reference: str = Field(min_length=1, description="URI or path of the data")
    sha256: str = Field(pattern=SHA256_PATTERN, description="sha256 of the data file")


class DatasetUse(_Strict):
    """A dataset used to train, validate or test the version."""

    name: str = Field(min_length=1)
    role: Literal["training", "validation", "test", "calibration", "other"] = "training"
    reference: str = Field(min_length=1)
    sha256: str | None = Field(default=None, pattern=SHA256_PATTERN)
    rows: int | None = Field(default=None, ge=0)


class VersionMetadata(_Strict):
    """Everything recorded about a version at registration."""

    description: str = ""
    model: ModelSpec
    signature: Signature
    other_fields: list[InputField] = Field(
        default_factory=list,
        description="fields of the records the model does not read (identifiers, protected attributes kept "
        "for fairness checks), with their personal/protected flags",
    )
    training_data: DataReference
    trained_at: date | datetime
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    datasets: list[DatasetUse] = Field(min_length=1)
    code_revision: str = Field(min_length=1)
    author: str = Field(min_length=1, description="person or vendor responsible")
    intended_use: str = Field(min_length=1)
    limitations: str = Field(min_length=1)

    @property
    def fields(self) -> list[InputField]:
        """Every declared field: model inputs first, then the other fields."""
        return [*self.signature.inputs, *self.other_fields]

    @model_validator(mode="after")
    def _distinct_fields(self) -> "VersionMetadata":
        clash = set(self.signature.names) & {f.name for f in self.other_fields}
        if clash:
            raise ValueError(f"other_fields repeats model inputs: {', '.join(sorted(clash))}")
        return self


def parse_metadata(data: dict[str, Any], source: str) -> VersionMetadata:
    """Validate a metadata mapping; the error names the source and each bad field."""
    try:
        return VersionMetadata.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(format_validation_error(exc, "metadata", source)) from None


def load_metadata(path: Path) -> VersionMetadata:
    """Read and validate a metadata file."""
    return parse_metadata(read_document(path, "metadata"), str(path))
