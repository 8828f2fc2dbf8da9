"""Synthetic licence applications for the ``licence-prefilter`` demo service.

A municipality pre-filters applications for a licence (opening a shop, minor or major works, a
terrace, an event): each is either ``admissible`` (it goes on to a case worker) or ``rejected``
(rejected as incomplete). Nothing here is real data; every draw comes from one
``numpy.random.Generator`` seeded with ``seed``, so the same ``(n, seed, form_version)`` always
gives the same rows.

Generating process, per application and in this order:

1. ``licence_type`` ~ Categorical(LICENCE_TYPES, LICENCE_TYPE_P).
2. ``district`` ~ uniform over DISTRICTS.
3. ``applicant_kind`` ~ Categorical(individual .55, company .35, association .10).
4. ``age_band`` (protected) ~ Categorical(18-29 .18, 30-44 .34, 45-64 .33, 65+ .15).
5. ``nationality_group`` (protected) ~ Categorical(national .78, eu .09, non_eu .13).
6. ``submission_channel``: softmax over (online, in_person, post) of a base score per form
   version plus an age shift (younger applicants file online, 65+ in person or by post) and a
   nationality shift (non-national applicants file in person a little more often). This is the
   only path from a protected attribute to the label: a mild, realistic correlation.
7. ``documents_complete``: the licence type fixes how many documents are required
   (REQUIRED_DOCUMENTS); the applicant's diligence p ~ Beta(a, b), with (a, b) set by channel and
   form version (the online form checks attachments, so online files are more complete);
   attached ~ Binomial(required, p); ``documents_complete = attached / required`` (0..1).
8. ``zoning_compatible`` ~ Bernoulli(ZONING_P[licence_type] + DISTRICT_ZONING_SHIFT[district]).
9. ``prior_infractions`` ~ Poisson(INFRACTION_RATE[applicant_kind]).
10. ``applicant_id``: a unique synthetic id ``A-000123`` (personal data; no model may read it).
11. ``outcome``: P(admissible) = sigmoid(z), with

        z = 0.2 + 2.0 * (documents_complete - 0.75)
            + 2.5 * [documents_complete == 1]      (a complete file is rarely sent back)
            - 3.0 * [documents_complete < 0.6]     (several documents missing: nearly always)
            + 2.2 * zoning_compatible
            - 2.5 * [licence_type == works_major and not zoning_compatible]
            - 0.9 * prior_infractions
            + LICENCE_TYPE_EFFECT[licence_type]

    The rule never reads ``age_band``, ``nationality_group``, ``district``, ``applicant_kind`` or
    ``applicant_id`` directly. About 29% of applications are rejected under form version 1,
    17% under form version 2. A linear model on these inputs cannot fit the step terms exactly.

Drift knob: ``form_version=2`` models a new application form with a document checklist and a
push to the online portal: online submissions rise (about 47% to 71%) and every channel's
diligence Beta moves up, so ``documents_complete`` shifts up and fewer applications are
rejected. Everything else, including the labelling rule, is unchanged.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

LICENCE_TYPES = ("activity", "works_minor", "works_major", "terrace", "events")
LICENCE_TYPE_P = (0.34, 0.26, 0.12, 0.15, 0.13)
REQUIRED_DOCUMENTS = {"activity": 6, "works_minor": 4, "works_major": 10, "terrace": 5, "events": 7}
LICENCE_TYPE_EFFECT = {
    "activity": 0.0,
    "works_minor": 0.4,
    "works_major": -0.6,
    "terrace": -0.2,
    "events": -0.4,
}
ZONING_P = {
    "activity": 0.9,
    "works_minor": 0.94,
    "works_major": 0.78,
    "terrace": 0.82,
    "events": 0.9,
}

DISTRICTS = ("centre", "north", "south", "east", "west", "harbour")
DISTRICT_ZONING_SHIFT = {
    "centre": -0.04,
    "north": 0.0,
    "south": 0.0,
    "east": 0.02,
    "west": 0.02,
    "harbour": -0.08,
}

APPLICANT_KINDS = ("individual", "company", "association")
APPLICANT_KIND_P = (0.55, 0.35, 0.10)
INFRACTION_RATE = {"individual": 0.25, "company": 0.45, "association": 0.15}

CHANNELS = ("online", "in_person", "post")
# Softmax scores of (online, in_person, post) before the age and nationality shifts.
CHANNEL_BASE = {1: (0.0, -0.1, -1.1), 2: (0.9, -0.3, -1.6)}
AGE_CHANNEL_SHIFT = {
    "18-29": (0.8, 0.0, -0.6),
    "30-44": (0.4, 0.0, -0.3),
    "45-64": (0.0, 0.0, 0.0),
    "65+": (-0.9, 0.3, 0.5),
}
NATIONALITY_CHANNEL_SHIFT = {
    "national": (0.0, 0.0, 0.0),
    "eu": (0.0, 0.2, 0.0),
    "non_eu": (-0.3, 0.4, 0.0),
}
# Beta(a, b) of the applicant's diligence, by form version and channel.
DILIGENCE_BETA = {
    1: {"online": (6.0, 1.6), "in_person": (5.0, 1.8), "post": (3.5, 1.8)},
    2: {"online": (9.0, 1.3), "in_person": (6.5, 1.5), "post": (4.5, 1.6)},
}

AGE_BANDS = ("18-29", "30-44", "45-64", "65+")
AGE_BAND_P = (0.18, 0.34, 0.33, 0.15)
NATIONALITY_GROUPS = ("national", "eu", "non_eu")
NATIONALITY_GROUP_P = (0.78, 0.09, 0.13)

LABELS = ("admissible", "rejected")
FORM_VERSIONS = (1, 2)

# Every field, in CSV column order, with its signature type.
FIELDS: dict[str, str] = {
    "applicant_id": "string",
    "licence_type": "string",
    "district": "string",
    "documents_complete": "number",
    "zoning_compatible": "boolean",
    "prior_infractions": "integer",
    "applicant_kind": "string",
    "submission_channel": "string",
    "age_band": "string",
    "nationality_group": "string",
    "outcome": "string",
}
PROTECTED = ("age_band", "nationality_group")
PERSONAL = ("applicant_id",)
LABEL = "outcome"


def admissible_logit(
    documents_complete: np.ndarray,
    zoning_compatible: np.ndarray,
    prior_infractions: np.ndarray,
    licence_type: np.ndarray,
) -> np.ndarray:
    """The labelling rule's log-odds of ``admissible`` (see the module docstring)."""
    docs = np.asarray(documents_complete, dtype=float)
    zoning = np.asarray(zoning_compatible, dtype=bool)
    types = np.asarray(licence_type, dtype=object)
    type_effect = np.array([LICENCE_TYPE_EFFECT[t] for t in types], dtype=float)
    return (
        0.2
        + 2.0 * (docs - 0.75)
        + 2.5 * (docs >= 1.0)
        - 3.0 * (docs < 0.6)
        + 2.2 * zoning
        - 2.5 * ((types == "works_major") & ~zoning)
        - 0.9 * np.asarray(prior_infractions, dtype=float)
        + type_effect
    )


def _categorical(
    rng: np.random.Generator, values: Sequence[str], p: Sequence[float], n: int
) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=np.asarray(p))]


def _channels(
    rng: np.random.Generator, age: np.ndarray, nationality: np.ndarray, form_version: int
) -> np.ndarray:
    scores = np.tile(np.asarray(CHANNEL_BASE[form_version], dtype=float), (len(age), 1))
    scores += np.array([AGE_CHANNEL_SHIFT[a] for a in age], dtype=float).reshape(-1, 3)
    scores += np.array([NATIONALITY_CHANNEL_SHIFT[g] for g in nationality]).reshape(-1, 3)
    p = np.exp(scores)
    p /= p.sum(axis=1, keepdims=True)
    picks = (rng.random(len(age))[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    return np.asarray(CHANNELS, dtype=object)[np.minimum(picks, len(CHANNELS) - 1)]


def _applicant_ids(rng: np.random.Generator, n: int) -> list[str]:
    width = max(6, len(str(n * 10)))
    numbers = rng.choice(10**width, size=n, replace=False)
    return [f"A-{int(k):0{width}d}" for k in numbers]


def generate(n: int, seed: int, *, form_version: int = 1) -> list[dict[str, Any]]:
    """``n`` synthetic applications keyed by FIELDS; the same arguments give the same rows."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if form_version not in FORM_VERSIONS:
        raise ValueError(f"form_version must be one of {FORM_VERSIONS}, got {form_version}")
    rng = np.random.default_rng([seed, form_version])

    licence_type = _categorical(rng, LICENCE_TYPES, LICENCE_TYPE_P, n)
    district = _categorical(rng, DISTRICTS, [1 / len(DISTRICTS)] * len(DISTRICTS), n)
    applicant_kind = _categorical(rng, APPLICANT_KINDS, APPLICANT_KIND_P, n)
    age_band = _categorical(rng, AGE_BANDS, AGE_BAND_P, n)
    nationality_group = _categorical(rng, NATIONALITY_GROUPS, NATIONALITY_GROUP_P, n)
    channel = _channels(rng, age_band, nationality_group, form_version)

    beta = DILIGENCE_BETA[form_version]
    a = np.array([beta[c][0] for c in channel], dtype=float)
    b = np.array([beta[c][1] for c in channel], dtype=float)
    diligence = rng.beta(a, b)
    required = np.array([REQUIRED_DOCUMENTS[t] for t in licence_type], dtype=int)
    attached = rng.binomial(required, diligence)
    documents_complete = np.round(attached / required, 4)

    zoning_p = [ZONING_P[t] + DISTRICT_ZONING_SHIFT[d] for t, d in zip(licence_type, district)]
    zoning_compatible = rng.random(n) < np.array(zoning_p, dtype=float)
    infraction_rate = np.array([INFRACTION_RATE[k] for k in applicant_kind], dtype=float)
    prior_infractions = rng.poisson(infraction_rate)
    applicant_id = _applicant_ids(rng, n)

    z = admissible_logit(documents_complete, zoning_compatible, prior_infractions, licence_type)
    p_admissible = 1.0 / (1.0 + np.exp(-z))
    outcome = np.where(rng.random(n) < p_admissible, "admissible", "rejected")

    return [
        {
            "applicant_id": applicant_id[i],
            "licence_type": str(licence_type[i]),
            "district": str(district[i]),
            "documents_complete": float(documents_complete[i]),
            "zoning_compatible": bool(zoning_compatible[i]),
            "prior_infractions": int(prior_infractions[i]),
            "applicant_kind": str(applicant_kind[i]),
            "submission_channel": str(channel[i]),
            "age_band": str(age_band[i]),
            "nationality_group": str(nationality_group[i]),
            "outcome": str(outcome[i]),
        }
        for i in range(n)
    ]


_NUMPY_DTYPES = {"number": float, "integer": np.int64, "boolean": bool, "string": object}


def columns(
    rows: Sequence[dict[str, Any]], names: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """The rows as one numpy array per field (float, int64, bool, or object for strings)."""
    names = list(FIELDS) if names is None else list(names)
    return {
        name: np.array([row[name] for row in rows], dtype=_NUMPY_DTYPES[FIELDS.get(name, "string")])
        for name in names
    }


def matrix(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> np.ndarray:
    """The rows as a 2-D object array, one column per name in order: what the demo models read."""
    out = np.empty((len(rows), len(names)), dtype=object)
    for j, name in enumerate(names):
        out[:, j] = [row[name] for row in rows]
    return out


def _csv_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv(
    rows: Sequence[dict[str, Any]], path: Path, fields: Sequence[str] | None = None
) -> Path:
    """Write rows (all FIELDS, or just ``fields``) as UTF-8 CSV: LF line ends, booleans as
    true/false, so equal rows give equal bytes."""
    fields = list(FIELDS) if fields is None else list(fields)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(fields)
        for row in rows:
            writer.writerow([_csv_value(row[f]) for f in fields])
    return path


_PARSERS = {
    "number": float,
    "integer": int,
    "boolean": lambda s: s.strip().lower() in ("true", "1", "yes"),
    "string": str,
}


def read_csv(path: Path) -> list[dict[str, Any]]:
    """Read a CSV written by write_csv back into typed rows (known fields typed, others strings)."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return [
            {k: _PARSERS[FIELDS.get(k, "string")](v) for k, v in row.items()}
            for row in csv.DictReader(handle)
        ]
