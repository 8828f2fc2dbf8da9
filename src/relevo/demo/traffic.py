"""A stream of licence applications as decision requests, for the demo and the benchmarks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from relevo.demo.applications import generate

# What a client of the service sends: the spec's inputs (the label is what we want to know).
REQUEST_FIELDS = (
    "licence_type", "district", "documents_complete", "zoning_compatible", "prior_infractions",
    "applicant_kind", "submission_channel", "applicant_id", "age_band", "nationality_group",
)


def requests(n: int, seed: int, *, form_version: int = 1) -> Iterator[tuple[str, dict[str, Any]]]:
    """(case id, inputs) pairs for n generated applications; case ids are file numbers."""
    for i, row in enumerate(generate(n, seed, form_version=form_version)):
        yield f"EXP-{seed:04d}-{i:06d}", {name: row[name] for name in REQUEST_FIELDS}


@dataclass
class Tally:
    """Who answered how many requests."""

    by_answerer: Counter = field(default_factory=Counter)
    by_decision: Counter = field(default_factory=Counter)

    def add(self, answer: dict[str, Any]) -> None:
        """Count one answer (as the API returns it)."""
        who = answer["version"] if answer["served_by"] == "version" else answer["served_by"]
        self.by_answerer[who] += 1
        self.by_decision[answer["decision"]] += 1


def stream(send: Callable[[str, dict[str, Any]], dict[str, Any]], n: int, seed: int, *,
           form_version: int = 1, tick: Callable[[], None] = lambda: None) -> Tally:
    """Send n applications through send(case_id, inputs) and count the answers."""
    tally = Tally()
    for case_id, inputs in requests(n, seed, form_version=form_version):
        tally.add(send(case_id, inputs))
        tick()
    return tally
