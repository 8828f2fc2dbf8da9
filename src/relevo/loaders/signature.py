"""How to call a model: its signature (inputs in model order, output labels) and its format.

Registry metadata carries these; every loader reads them. They live here, below the registry,
so that the registry depends on the loaders and never the other way round.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputField(_Strict):
    """One field of the data: an input the model reads, or another field of its records."""

    name: str = Field(min_length=1, description="the field's name, as in the service spec's inputs",
                      examples=["district"])
    type: Literal["number", "integer", "string", "boolean"] = Field(description="the value's type",
                                                                    examples=["string"])
    personal: bool = Field(default=False, description="personal data under the GDPR: never profiled",
                           examples=[False])
    protected: bool = Field(default=False, description="a protected attribute for fairness checks",
                            examples=[False])
    description: str = Field(default="", description="what the field holds", examples=["city district"])


class OutputSignature(_Strict):
    """What the model answers: one of the labels, with probabilities when it has them."""

    labels: list[str] = Field(min_length=2, description="the labels the model answers (its classes, in its order)",
                              examples=[["admissible", "rejected"]])
    probabilities: bool = Field(default=True, description="the model gives a probability per label",
                                examples=[True])

    @field_validator("labels")
    @classmethod
    def _unique(cls, labels: list[str]) -> list[str]:
        if len(set(labels)) != len(labels):
            raise ValueError("labels must be unique")
        return labels


class Signature(_Strict):
    """Inputs (in the order the model expects them) and outputs."""

    inputs: list[InputField] = Field(min_length=1, description="the fields the model reads, in the order it "
                                     "expects them")
    outputs: OutputSignature = Field(description="what the model answers")

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

    format: ModelFormat = Field(description="skops (scikit-learn, safe to load), onnx, entrypoint (Python code "
                                "in the artifact), remote (an Open Inference Protocol server) or pickle (unsafe: "
                                "needs the spec's trust_pickle)", examples=["skops"])
    entry: str | None = Field(
        default=None,
        description="file inside the artifact (skops, onnx, pickle), or module:callable (entrypoint)",
        examples=["model.skops"],
    )
    url: str | None = Field(default=None, description="base URL of an Open Inference Protocol server",
                            examples=["https://models.example.org"])
    model_name: str | None = Field(default=None, description="model name on the remote server",
                                   examples=["licence-prefilter"])
    timeout_s: float = Field(default=2.0, gt=0, le=300, description="remote models: how long a call may take",
                             examples=[2.0])
    trusted_types: list[str] = Field(
        default_factory=list, description="extra types skops may load, reviewed by a person",
        examples=[["sklearn.ensemble._hist_gradient_boosting.binning._BinMapper"]],
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
