"""The metadata every version carries: what it was trained on, how, and what it may be used for.

Metadata is validated when a version is registered and never changes afterwards; corrections
are annotations. Files are YAML or JSON (YAML is a superset of JSON).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from relevo.documents import format_validation_error, read_document
from relevo.errors import InvalidInput

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


class InputField(_Strict):
    """One field of the data: an input the model reads, or another field of its records."""

    name: str = Field(min_length=1)
    type: Literal["number", "integer", "string", "boolean"]
    personal: bool = Field(default=False, description="personal data under the GDPR")
    protected: bool = Field(default=False, description="a protected attribute for fairness checks")
    description: str = ""


class OutputSignature(_Strict):
    """What the model answers: one of the labels, with probabilities when it has them."""

    labels: list[str] = Field(min_length=2)
    probabilities: bool = True

    @field_validator("labels")
    @classmethod
    def _unique(cls, labels: list[str]) -> list[str]:
        if len(set(labels)) != len(labels):
            raise ValueError("labels must be unique")
        return labels


class Signature(_Strict):
    """Inputs (in the order the model expects them) and outputs."""

    inputs: list[InputField] = Field(min_length=1)
    outputs: OutputSignature

    @field_validator("inputs")
    @classmethod
    def _unique_names(cls, inputs: list[InputField]) -> list[InputField]:
        names = [f.name for f in inputs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"input names must be unique; repeated: {', '.join(dupes)}")
        return inputs

    @property
    def names(self) -> list[str]:
        """Input names in model order."""
        return [f.name for f in self.inputs]


ModelFormat = Literal["skops", "onnx", "entrypoint", "remote", "pickle"]


class ModelSpec(_Strict):
    """How to load the artifact: its format and the entry inside it."""

    format: ModelFormat
    entry: str | None = Field(
        default=None,
        description="file inside the artifact (skops, onnx, pickle), or module:callable (entrypoint)",
    )
    url: str | None = Field(default=None, description="base URL of an Open Inference Protocol server")
    model_name: str | None = Field(default=None, description="model name on the remote server")
    timeout_s: float = Field(default=2.0, gt=0, le=300)
    trusted_types: list[str] = Field(
        default_factory=list, description="extra types skops may load, reviewed by a person"
    )

    @model_validator(mode="after")
    def _needs(self) -> "ModelSpec":
        if self.format == "remote" and not (self.url and self.model_name):
            raise ValueError("a remote model needs url and model_name")
        if self.format in ("skops", "onnx", "pickle", "entrypoint") and not self.entry:
            raise ValueError(f"a {self.format} model needs entry")
        if self.format == "entrypoint" and ":" not in (self.entry or ""):
            raise ValueError("an entrypoint's entry is module:callable")
        return self


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
