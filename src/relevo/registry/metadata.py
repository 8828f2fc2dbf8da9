"""The metadata every version carries: what it was trained on, how, and what it may be used for.

Metadata is validated when a version is registered and never changes afterwards; corrections
are annotations. Files are YAML or JSON (YAML is a superset of JSON).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from relevo.documents import format_validation_error, read_document, refuse_placeholders
from relevo.errors import InvalidInput
from relevo.loaders.signature import InputField, ModelSpec, Signature

SHA256_PATTERN = r"^[0-9a-f]{64}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataReference(_Strict):
    """A dataset named by where it lives and pinned by its content hash."""

    reference: str = Field(min_length=1, description="URI or path of the data", examples=["data/training.csv"])
    sha256: str = Field(pattern=SHA256_PATTERN, description="sha256 of the data file (`sha256sum FILE`)",
                        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"])


class DatasetUse(_Strict):
    """A dataset used to train, validate or test the version."""

    name: str = Field(min_length=1, description="the dataset's name", examples=["applications-2025"])
    role: Literal["training", "validation", "test", "calibration", "other"] = Field(
        default="training", description="what the version used it for", examples=["test"])
    reference: str = Field(min_length=1, description="URI or path of the data", examples=["data/test.csv"])
    sha256: str | None = Field(default=None, pattern=SHA256_PATTERN, description="sha256 of the data file",
                               examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"])
    rows: int | None = Field(default=None, ge=0, description="how many records it holds", examples=[3000])


class VersionMetadata(_Strict):
    """Everything recorded about a version at registration."""

    description: str = Field(default="", description="what this version is, for people",
                             examples=["gradient boosting, retrained on 2025 applications"])
    model: ModelSpec = Field(description="how to load the artifact")
    family: str | None = Field(default=None, min_length=1, max_length=200,
                               description="the kind of model (logistic regression, gradient boosting, rules): a "
                               "release that changes it is a significant change; a version that does not say "
                               "counts as changing it", examples=["gradient boosting"])
    signature: Signature = Field(description="what the model reads and answers")
    other_fields: list[InputField] = Field(
        default_factory=list,
        description="fields of the records the model does not read (identifiers, protected attributes kept "
        "for fairness checks), with their personal/protected flags",
    )
    training_data: DataReference = Field(description="the data it was trained on, pinned by hash")
    trained_at: date | datetime = Field(description="when it was trained", examples=["2026-11-30"])
    hyperparameters: dict[str, Any] = Field(default_factory=dict, description="the training settings, as named "
                                            "by the training code", examples=[{"C": 1.0, "max_iter": 1000}])
    metrics: dict[str, float] = Field(default_factory=dict, description="measured quality, by name, on the test "
                                      "datasets", examples=[{"accuracy": 0.91, "rejection_rate": 0.26}])
    datasets: list[DatasetUse] = Field(min_length=1, description="every dataset used: training, validation, test")
    code_revision: str = Field(min_length=1, description="the revision of the training code (a commit hash)",
                               examples=["4f2c1e9"])
    author: str = Field(min_length=1, description="person or vendor responsible", examples=["Data team, IT department"])
    intended_use: str = Field(min_length=1, description="what the version may be used for, and by whom",
                              examples=["pre-filter licence applications for a case worker's review"])
    limitations: str = Field(min_length=1, description="where it must not be trusted",
                             examples=["not validated for events licences; needs the district field"])

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
    refuse_placeholders(data, "metadata", source)
    try:
        return VersionMetadata.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(format_validation_error(exc, "metadata", source)) from None


def load_metadata(path: Path) -> VersionMetadata:
    """Read and validate a metadata file."""
    return parse_metadata(read_document(path, "metadata"), str(path))
