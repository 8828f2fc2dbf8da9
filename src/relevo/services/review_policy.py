"""Human review by rule, as declared in a service spec's `review` section.

Some automated answers must not take effect before a person has looked at them (EU AI Act Art.
14, GDPR Art. 22): an answer with a label that affects a citizen's rights, an answer the model
was unsure of, a case of a protected group the service owner wants seen by a person. Such a case
is recorded with the answer proposed, goes to the review queue, and the citizen is told it is
under review; the case worker's answer is the decision of record.
"""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProbabilityBand(_Strict):
    """A model's answer whose probability of `label` lies in [low, high]: the model was unsure."""

    label: str = Field(description="the label whose probability is read; one of decisions", examples=["rejected"])
    low: float = Field(ge=0, le=1, description="the band's lower end (included)", examples=[0.35])
    high: float = Field(ge=0, le=1, description="the band's upper end (included)", examples=[0.65])

    @model_validator(mode="after")
    def _ordered(self) -> "ProbabilityBand":
        if self.low > self.high:
            raise ValueError("low is greater than high")
        return self


Scalar = str | int | float | bool


class ReviewPolicy(_Strict):
    """Which automated answers wait for a case worker before they take effect. A case goes to
    review when any part holds; the first that holds is recorded as the reason."""

    labels: list[str] = Field(default_factory=list, description="answers with these labels (from the model or the "
                              "fallback rules) go to a case worker", examples=[["rejected"]])
    probability_bands: list[ProbabilityBand] = Field(
        default_factory=list, description="a model's answer whose probability of a label lies in a band goes to a "
        "case worker")
    groups: dict[str, list[Scalar]] = Field(
        default_factory=dict, description="protected input to the values whose cases go to a case worker, whatever "
        "the answer", examples=[{"applicant_age_band": ["75+"]}])

    @property
    def active(self) -> bool:
        """True when any case can be sent to review."""
        return bool(self.labels or self.probability_bands or self.groups)

    def reason(self, decision: str, probabilities: Mapping[str, float] | None,
               inputs: Mapping[str, Any]) -> str | None:
        """Why this answer waits for a case worker ('label rejected', 'p(rejected) 0.35-0.65',
        'group applicant_age_band'), or None: it takes effect."""
        if decision in self.labels:
            return f"label {decision}"
        if probabilities:
            for band in self.probability_bands:
                p = probabilities.get(band.label)
                if p is not None and band.low <= p <= band.high:
                    return f"p({band.label}) {band.low:g}-{band.high:g}"
        for name, values in self.groups.items():
            value = inputs.get(name)
            # bool is an int in Python: True must not match a group value of 1. The value itself
            # is not in the reason: a protected field may be personal, and the reason is logged.
            if value is not None and any(isinstance(value, bool) == isinstance(v, bool) and value == v
                                         for v in values):
                return f"group {name}"
        return None
