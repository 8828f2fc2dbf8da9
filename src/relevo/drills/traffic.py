"""A drill's traffic: the service's recorded cases, minimised as a replay sends them (no personal field),
or, where none are recorded, cases generated from the spec's inputs; and how fast they arrive."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Iterator

import numpy as np
from sqlalchemy import func, select

from relevo.context import Context
from relevo.gateway.validation import InputRejected, InputValidator
from relevo.services.spec import FieldSpec, ServiceSpec
from relevo.store import connect
from relevo.registry.queries import VersionRecord
from relevo.store.tables import decisions, profiles

RECORDED = 1000  # the newest recorded cases a drill replays, over and over
MIN_RECORDED = 50  # fewer than this and the cases are generated instead
DEFAULT_DAILY = 1000.0  # cases a day where the spec declares none and none were recorded last week


@dataclass(frozen=True)
class Traffic:
    """Where a drill's cases come from, and the pace they arrive at on the simulated clock."""

    source: str  # in words, for the drill's record
    daily_cases: float
    pace: str  # where the pace comes from, in words
    cases: list[dict[str, Any]]

    def stream(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(case id, inputs) for ever: the cases in turn, each time under a new case id."""
        while True:
            for inputs in self.cases:
                yield f"drill-{uuid.uuid4().hex[:16]}", inputs


def _profiled_value(field: FieldSpec, feature: dict[str, Any], rng: np.random.Generator) -> Any:
    """A value drawn from a reference profile's column: its categories by their counts, its quantiles."""
    if feature.get("kind") == "categorical":
        categories = feature.get("categories") or {}
        if field.type == "boolean":
            categories = {k: v for k, v in categories.items() if k in ("true", "false")}
        elif field.enum:
            categories = {k: v for k, v in categories.items() if k in field.enum}
        if not categories or field.type in ("number", "integer"):
            return None
        names, counts = list(categories), np.asarray(list(categories.values()), dtype=float)
        chosen = str(rng.choice(names, p=counts / counts.sum()))
        return chosen == "true" if field.type == "boolean" else chosen
    quantiles = feature.get("quantiles") or []
    if not quantiles or field.type not in ("number", "integer"):
        return None
    value = float(np.interp(rng.random(), np.linspace(0, 1, len(quantiles)), quantiles))
    low = field.minimum if field.minimum is not None else -np.inf
    high = field.maximum if field.maximum is not None else np.inf
    value = float(np.clip(value, low, high))
    return int(np.clip(round(value), np.ceil(low), np.floor(high))) if field.type == "integer" else round(value, 4)


def _generated_value(name: str, field: FieldSpec, rng: np.random.Generator) -> Any:
    if field.enum:
        return str(rng.choice(field.enum))
    if field.type == "boolean":
        return bool(rng.random() < 0.5)
    if field.type in ("number", "integer"):
        lo = field.minimum if field.minimum is not None else (field.maximum - 100 if field.maximum is not None else 0)
        hi = field.maximum if field.maximum is not None else lo + 100
        if field.type == "integer":
            return int(rng.integers(int(np.ceil(lo)), int(np.floor(hi)) + 1))
        return round(float(rng.uniform(lo, hi)), 4)
    return f"drill-{name}-{rng.integers(10**6)}"[: field.max_length]


def generated_cases(spec: ServiceSpec, profile: dict[str, Any] | None = None, count: int = 500,
                    seed: int = 0) -> list[dict[str, Any]]:
    """Cases drawn from the spec's inputs: each value from the reference profile's column where it has one
    (so the cases look like those the version was trained on), else uniformly within what the field accepts."""
    rng = np.random.default_rng(seed)
    features = (profile or {}).get("features") or {}
    cases = []
    for _ in range(count):
        case = {}
        for name, field in spec.inputs.items():
            value = _profiled_value(field, features[name], rng) if name in features else None
            case[name] = _generated_value(name, field, rng) if value is None else value
        cases.append(case)
    return cases


def _recorded_cases(ctx: Context, spec: ServiceSpec) -> list[dict[str, Any]]:
    """The newest cases production answered with a model, without personal fields, that the spec still takes."""
    personal = {n for n, f in spec.inputs.items() if f.personal}
    # A personal field never leaves production: a required one gets a made-up value.
    made_up = {n: f"drill-{n}"[: f.max_length] for n, f in spec.inputs.items() if f.personal and f.required}
    validator = InputValidator(spec.model_copy(update={"inputs": {
        n: f for n, f in spec.inputs.items() if not f.personal}}))
    with connect(ctx.engine) as conn:
        rows = conn.execute(select(decisions.c.inputs).where(
            decisions.c.service == spec.name, decisions.c.environment == "production",
            decisions.c.served_by == "version").order_by(decisions.c.created_at.desc()).limit(RECORDED)).scalars()
        kept = []
        for inputs in rows:
            try:
                kept.append(validator.validate({k: v for k, v in (inputs or {}).items() if k not in personal})
                            | made_up)
            except InputRejected:
                continue
    return kept[::-1]


def _observed_daily(ctx: Context, service: str) -> float | None:
    since = ctx.clock.now() - timedelta(days=7)
    with connect(ctx.engine) as conn:
        count = conn.execute(select(func.count()).select_from(decisions).where(
            decisions.c.service == service, decisions.c.environment == "production",
            decisions.c.created_at >= since)).scalar_one()
    return count / 7 if count else None


def traffic_for(ctx: Context, spec: ServiceSpec, stable: VersionRecord) -> Traffic:
    """The drill's traffic for a service, read from the real store (its decisions are only read)."""
    recorded = _recorded_cases(ctx, spec)
    with connect(ctx.engine) as conn:
        profile = conn.execute(select(profiles.c.profile).where(profiles.c.version_id == stable.id)).scalar()
    if len(recorded) >= MIN_RECORDED:
        cases, source = recorded, f"{len(recorded)} recorded production cases, minimised (no personal field), replayed"
    else:
        cases = generated_cases(spec, profile)
        source = (f"generated from {stable.name}'s reference profile and the spec's inputs" if profile else
                  "generated from the spec's inputs") + " (too few recorded production cases to replay)"
    observed = None if spec.rollout.daily_cases is not None else _observed_daily(ctx, spec.name)
    if spec.rollout.daily_cases is not None:
        daily, pace = float(spec.rollout.daily_cases), "the spec's rollout.daily_cases"
    elif observed is not None:
        daily, pace = observed, "production's last week"
    else:
        daily, pace = DEFAULT_DAILY, "a default (the spec declares no daily_cases, production recorded none)"
    return Traffic(source, daily, pace, cases)
