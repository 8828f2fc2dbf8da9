"""What a rollout step observed, read from the decision log as arrays for the judge.

Decisions are tagged with the step that routed them (the route's `step` label), so a step's
evidence is exactly the decisions made under it, in the order they were made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any, Iterator, Sequence
from datetime import datetime, timedelta, timezone

import numpy as np
from sqlalchemy import Connection, Text, and_, cast, exists, func, null, select

from relevo.store.tables import decisions, feedback, shadow_decisions
from relevo.store.types import epoch_microseconds

MODEL_FAILURES = ("error", "timeout", "invalid_output", "circuit_open", "unavailable")
# The outcomes of feedback that review an automated answer (a held case's "decided" gives one instead)
REVIEWED = ("confirmed", "corrected")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class StepObservations:
    """Per decision, in time order: arm, outcome, latency, failure, correction, protected values."""

    candidate: np.ndarray  # bool: answered under the candidate arm
    decision: np.ndarray  # object: the label given (None for manual)
    latency_ms: np.ndarray  # float
    failed: np.ndarray  # bool: the routed model failed and the fallback answered
    corrected: np.ndarray  # bool: a case worker's current verdict on it is a correction
    reviewed: np.ndarray  # bool: a case worker gave a verdict on it (confirmed or corrected)
    held: np.ndarray  # bool: the review policy held its automated answer back for a case worker
    created_at: np.ndarray  # datetime64
    inputs: list[dict]  # minimised inputs (protected attributes for fairness)
    shadow_decision: np.ndarray  # object: the candidate's shadow answer (None when none)
    shadow_failed: np.ndarray  # bool
    shadow_latency_ms: np.ndarray  # float (nan when none)

    @property
    def n(self) -> int:
        """Decisions observed."""
        return int(self.candidate.size)

    def take(self, mask: np.ndarray) -> "StepObservations":
        """The observations of the decisions mask selects."""
        taken: dict[str, Any] = {f.name: ([row for row, keep in zip(value, mask) if keep]
                                          if isinstance(value, list) else value[mask])
                                 for f in fields(self) for value in (getattr(self, f.name),)}
        return StepObservations(**taken)

    def then(self, later: "StepObservations") -> "StepObservations":
        """These observations followed by later ones."""
        joined: dict[str, Any] = {f.name: (mine + theirs if isinstance(mine, list) else np.concatenate([mine, theirs]))
                                  for f in fields(self)
                                  for mine, theirs in ((getattr(self, f.name), getattr(later, f.name)),)}
        return StepObservations(**joined)

    @property
    def shadowed(self) -> np.ndarray:
        """bool: the candidate answered a shadow copy of the case (with a label, or failing)."""
        return (self.shadow_decision != None) | self.shadow_failed  # noqa: E711 (elementwise)


def of_decision(column: Any) -> Any:
    """column of the decision's current verdict (feedback) or shadow answer, looked up row by row.

    A correlated lookup through the unique index on the decision's id, not a join: a join let
    PostgreSQL's planner, with statistics older than the rows (a new month's partition, a table
    filled since its last analysis), walk every current verdict for each of the step's decisions
    (2.3 s a read of a 3,000-decision step, against 34 ms looked up).
    """
    where = [column.table.c.decision_id == decisions.c.id]
    if column.table is feedback:
        where.append(feedback.c.superseded_at.is_(None))
    return select(column).where(*where).scalar_subquery()


def observe_step(conn: Connection, step_label: str, attributes: Sequence[str] | None = None,
                 after: datetime | None = None, until: datetime | None = None,
                 limit: int | None = None, shadows: bool = True) -> StepObservations:
    """Every decision made under step_label (after `after`, until `until`, the first `limit`),
    with its shadow answer (unless shadows is False: a step without shadow copies) and any correction.

    attributes: the inputs to read back (the protected ones a fairness criterion or a report
    splits by); None reads them all. Each decision's inputs are a JSON document: reading only a
    few keys of it is most of the cost of a large step saved.
    """
    # One current verdict per decision at most (a later one supersedes it), so each decision
    # counts once however often feedback was posted.
    # Each wanted input as its JSON text, all decoded in one parse below (not one parse a value)
    wanted = [decisions.c.inputs] if attributes is None else [
        cast(decisions.c.inputs[name], Text).label(f"input_{i}") for i, name in enumerate(attributes)]
    query = (
        select(*wanted, decisions.c.arm, decisions.c.decision, decisions.c.latency_ms, decisions.c.fallback_cause,
               decisions.c.review, epoch_microseconds(decisions.c.created_at).label("created_us"),
               of_decision(feedback.c.outcome).label("feedback"),
               *(of_decision(shadow_decisions.c[name]) if shadows else null()
                 for name in ("decision", "error", "latency_ms")))
        # The step's label names its rollout (`rollout-7/step-2-canary`), so it alone picks the step's
        # decisions: adding the service and environment made SQLite read them through the index on
        # those two, every decision of the service's history, instead of the step's own index.
        .where(decisions.c.step == step_label)
        .order_by(decisions.c.created_at, decisions.c.id)
    )
    if after is not None:
        query = query.where(decisions.c.created_at > after)
    if until is not None:
        query = query.where(decisions.c.created_at <= until)
    if limit is not None:
        query = query.limit(limit)
    rows = conn.execute(query).all()
    return StepObservations(
        candidate=np.array([r.arm == "candidate" for r in rows], dtype=bool),
        decision=np.array([r.decision for r in rows], dtype=object),
        latency_ms=np.array([r.latency_ms for r in rows], dtype=float),
        failed=np.array([r.fallback_cause in MODEL_FAILURES for r in rows], dtype=bool),
        corrected=np.array([r.feedback == "corrected" for r in rows], dtype=bool),
        reviewed=np.array([r.feedback in REVIEWED for r in rows], dtype=bool),
        held=np.array([r.review is not None for r in rows], dtype=bool),
        created_at=np.array([r.created_us for r in rows], dtype="int64").astype("datetime64[us]"),
        inputs=[r.inputs or {} for r in rows] if attributes is None else _wanted_inputs(rows, attributes),
        shadow_decision=np.array([r[-3] for r in rows], dtype=object),
        shadow_failed=np.array([r[-2] is not None for r in rows], dtype=bool),
        shadow_latency_ms=np.array([np.nan if r[-1] is None else r[-1] for r in rows], dtype=float),
    )


def _wanted_inputs(rows: Sequence[Any], attributes: Sequence[str]) -> list[dict]:
    """Each row's wanted inputs (its first columns, JSON texts) as {name: value}, absent ones left out."""
    k = len(attributes)
    texts = ["null" if text is None else text for row in rows for text in row[:k]]
    values = json.loads(f"[{','.join(texts)}]")
    return [{name: value for name, value in zip(attributes, values[j * k:(j + 1) * k]) if value is not None}
            for j in range(len(rows))]


def older_than(obs: StepObservations, now: datetime, delay_s: float) -> np.ndarray:
    """Mask of decisions made at least delay_s before now (old enough to have been reviewed)."""
    cutoff = np.datetime64(now.replace(tzinfo=None), "us") - np.timedelta64(int(delay_s * 1e6), "us")
    return obs.created_at <= cutoff


@dataclass(frozen=True)
class ReviewedDecisions:
    """Decisions a case worker reviewed (confirmed or corrected), counted once old enough to have
    been reviewed, in the order they came to count."""

    candidate: np.ndarray  # bool: made under the candidate arm
    corrected: np.ndarray  # bool: the current verdict corrects it
    counted_at: np.ndarray  # datetime64: the later of the decision's time + the review delay and its verdict's
    revised: bool = False  # a verdict counted before was since replaced by another


def reviewed_in(obs: StepObservations, now: datetime, delay_s: float) -> ReviewedDecisions:
    """The reviewed decisions among obs old enough at now, counted from their time + delay (when
    the observations do not say when each verdict came, as in simulations)."""
    counted = older_than(obs, now, delay_s) & obs.reviewed
    return ReviewedDecisions(obs.candidate[counted], obs.corrected[counted],
                             obs.created_at[counted] + np.timedelta64(int(delay_s * 1e6), "us"))


def observe_reviews(conn: Connection, step_label: str, delay: timedelta, after: datetime | None,
                    until: datetime) -> ReviewedDecisions:
    """The step's reviewed decisions that came to count after `after` and by `until`.

    A decision comes to count when it is old enough to have been reviewed (its time + delay)
    and reviewed, whichever is later: a verdict given late is news when it is given, not a
    change to what was already counted. Read in two parts, each through an index: decisions
    crossing the delay in the period (the step's), verdicts recorded in it on older ones
    (the verdicts' time).
    """
    current = feedback.alias("current")
    reviewed = and_(current.c.superseded_at.is_(None), current.c.outcome.in_(REVIEWED))
    step = (select(decisions.c.arm, decisions.c.created_at, *(of_decision(feedback.c[name]).label(name)
                                                               for name in ("outcome", "at")))
            .where(decisions.c.step == step_label, decisions.c.created_at <= until - delay))
    if after is not None:
        step = step.where(decisions.c.created_at > after - delay)
    crossed = step.subquery()
    crossing = (select(crossed.c.arm, epoch_microseconds(crossed.c.created_at), crossed.c.outcome,
                       epoch_microseconds(crossed.c.at))
                .where(crossed.c.outcome.in_(REVIEWED), crossed.c.at <= until)
                .execution_options(yield_per=CHUNK_ROWS))  # a step's first reading may hold millions
    parts = [_reviewed_rows([])] + [_reviewed_rows(part) for part in conn.execute(crossing).partitions()]
    revised = False
    if after is not None:
        # The verdicts given since the last look first (their time's index: a few), then their
        # decisions by id: joined in one statement, SQLite walked the step's older decisions.
        given = conn.execute(select(current.c.decision_id, current.c.outcome, current.c.at, current.c.id)
                             .where(current.c.at > after, current.c.at <= until, reviewed)).all()
        verdicts = {row.decision_id: row for row in given}
        late = [(decision, verdicts[decision.id]) for decision in decisions_by_id(conn, list(verdicts))
                if decision.step == step_label and decision.created_at <= after - delay]
        parts.append(_reviewed_rows([(decision.arm, _microseconds(decision.created_at), verdict.outcome,
                                      _microseconds(verdict.at)) for decision, verdict in late]))
        if late:
            # A verdict replacing one already counted changes the past: the caller counts again.
            earlier = feedback.alias("earlier")
            revised = bool(conn.execute(select(exists().where(
                earlier.c.superseded_by.in_([verdict.id for _, verdict in late]),
                earlier.c.outcome.in_(REVIEWED), earlier.c.at <= after))).scalar())
    candidate, corrected, created, at = (np.concatenate(column) for column in zip(*parts))
    counted_at = np.maximum(created + np.int64(delay // timedelta(microseconds=1)), at).astype("datetime64[us]")
    order = np.argsort(counted_at, kind="stable")
    return ReviewedDecisions(candidate[order], corrected[order], counted_at[order], revised)


CHUNK_ROWS = 20_000  # verdicts turned into arrays at a time


def _reviewed_rows(rows: Sequence[Any]) -> tuple[np.ndarray, ...]:
    """(candidate, corrected, decision's time in µs, verdict's time in µs) of (arm, outcome, ...) rows."""
    return (np.array([r[0] == "candidate" for r in rows], dtype=bool),
            np.array([r[2] == "corrected" for r in rows], dtype=bool),
            np.array([r[1] for r in rows], dtype="int64"), np.array([r[3] for r in rows], dtype="int64"))


def _microseconds(moment: datetime) -> int:
    """An aware moment as microseconds since 1970 (as epoch_microseconds reads it)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def late_shadow_answers(conn: Connection, step_label: str, after: datetime, until: datetime) -> bool:
    """Whether a shadow answer written after `after` (and by `until`) belongs to a decision of the
    step made by `after`: evidence that arrived later than the judge waits for."""
    # The answers written since first (their time's index: a few), then their decisions by id.
    ids = list(conn.execute(select(shadow_decisions.c.decision_id).where(
        shadow_decisions.c.created_at > after, shadow_decisions.c.created_at <= until)).scalars())
    return any(d.step == step_label and d.created_at <= after for d in decisions_by_id(conn, ids))


def decisions_by_id(conn: Connection, ids: Sequence[str]) -> Iterator[Any]:
    """The decisions ids names (id, arm, step, created_at), through the primary key, a thousand at
    a time. Not filtered by step in the statement: SQLite then walked the step's index over every
    earlier decision of the step (a tenth of a second at 300,000) instead of looking the few up."""
    for start in range(0, len(ids), 1000):
        yield from conn.execute(select(decisions.c.id, decisions.c.arm, decisions.c.step, decisions.c.created_at)
                                .where(decisions.c.id.in_(ids[start:start + 1000])))


def held_answers(conn: Connection, step_label: str) -> dict[str, tuple[int, int]]:
    """Per arm, the step's held answers a case worker answered, and of those the corrected ones
    (through the index of held answers: a few of the step's decisions)."""
    held = (select(decisions.c.arm, of_decision(feedback.c.outcome).label("outcome"))
            .where(decisions.c.step == step_label, decisions.c.review.is_not(None))).subquery()
    rows = conn.execute(select(held.c.arm, held.c.outcome, func.count())
                        .where(held.c.outcome.in_(REVIEWED)).group_by(held.c.arm, held.c.outcome))
    out: dict[str, tuple[int, int]] = {}
    for arm, outcome, count in rows:
        arm = "candidate" if arm == "candidate" else "stable"
        answered, corrected = out.get(arm, (0, 0))
        out[arm] = (answered + count, corrected + (count if outcome == "corrected" else 0))
    return out
