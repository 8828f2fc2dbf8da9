"""Where a step's kept evidence lives between judgements, and the news each judgement reads.

One row per rollout step and phase (`step_evidence`): the criteria's states after every decision
up to `decisions_until` and every verdict that came to count up to `reviews_until`, with the
digest of the criteria they were built for. A judgement reads the decisions made since (in
chunks, so a step judged for the first time after a long pause never holds millions of rows at
once), advances the states (relevo.rollouts.ledger) and keeps them again, unless another judge
kept newer ones meanwhile.

The evidence is read again from the step's start when it can no longer be trusted to be the
same as a reading from the start: the criteria changed, or a shadow answer came later than the
judge waits for. A verdict replacing one already counted has the correction criteria read
their verdicts again (relevo.rollouts.observations.observe_reviews).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

import numpy as np
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from relevo.rollouts.judging import PAIRED
from relevo.rollouts.ledger import SETTLE, Ledger, as_us
from relevo.rollouts.observations import (
    ReviewedDecisions,
    StepObservations,
    late_shadow_answers,
    observe_reviews,
    observe_step,
)
from relevo.rollouts.rollout import Rollout
from relevo.services.rollout_policy import Criterion, RolloutPolicy, parse_duration
from relevo.store.tables import step_evidence

CHUNK = 20_000  # decisions read at once when catching up


def policy_digest(policy: RolloutPolicy) -> str:
    """A digest of everything in the policy the kept states depend on."""
    return hashlib.sha256(policy.model_dump_json().encode()).hexdigest()


def _no_reviews(criterion: Criterion) -> ReviewedDecisions:
    empty = np.zeros(0, dtype=bool)
    return ReviewedDecisions(empty, empty, np.zeros(0, dtype="datetime64[us]"))


@dataclass
class StepEvidence:
    """A step's kept evidence, as read for one judgement at `now`."""

    rollout: Rollout
    digest: str
    now: datetime
    ledger: Ledger
    decisions_until: datetime | None
    reviews_until: datetime | None
    row_id: int | None
    revision: int

    @classmethod
    def load(cls, conn: Connection, rollout: Rollout, policy: RolloutPolicy, now: datetime) -> "StepEvidence":
        """The kept evidence of the rollout's current step and phase (none yet: an empty one)."""
        row = conn.execute(select(step_evidence).where(
            step_evidence.c.rollout_id == rollout.id, step_evidence.c.step_index == rollout.step_index,
            step_evidence.c.phase == rollout.phase)).mappings().first()
        digest = policy_digest(policy)
        evidence = cls(rollout, digest, now, Ledger(), None, None, None if row is None else row["id"],
                       0 if row is None else row["revision"])
        if row is None or row["policy_digest"] != digest:
            return evidence  # nothing kept, or kept for other criteria: read from the start
        until = row["decisions_until"]
        if (rollout.phase in PAIRED and until is not None
                and late_shadow_answers(conn, rollout.step_label, until, now)):
            return evidence
        evidence.ledger = Ledger.read(json.loads(row["kept"]), None)
        evidence.decisions_until, evidence.reviews_until = until, row["reviews_until"]
        return evidence

    @property
    def horizon(self) -> datetime:
        """Decisions up to here are settled: written, with their shadow answers."""
        horizon = self.now - SETTLE
        return max(horizon, self.decisions_until) if self.decisions_until else horizon

    def news(self, conn: Connection, attributes: list[str]) -> Iterator[
            tuple[StepObservations, Callable[[Criterion], ReviewedDecisions]]]:
        """The decisions since the kept ones, as (observations, reviews): settled ones in chunks,
        then the rest with the verdicts that came to count (the last pair gives the verdict); the
        ledger follows along."""
        label, cursor, horizon, size = self.rollout.step_label, self.decisions_until, self.horizon, CHUNK
        shadows = self.rollout.phase in PAIRED  # only these steps send shadow copies
        while True:
            chunk = observe_step(conn, label, attributes, after=cursor, until=horizon, limit=size, shadows=shadows)
            if chunk.n < size:
                break
            last = chunk.created_at[-1]
            settled = chunk.created_at < last  # the last moment's decisions may go on in the next chunk
            if not settled.any():
                size *= 2  # more decisions at one moment than a chunk holds
                continue
            self.ledger.horizon = last - np.timedelta64(1, "us")
            yield chunk.take(settled), _no_reviews
            cursor = _moment(self.ledger.horizon)
        self.ledger.horizon = as_us(horizon)
        # The settled ones just read, then the ones since the horizon (not read twice)
        yield (chunk.then(observe_step(conn, label, attributes, after=horizon, shadows=shadows)),
               self._reviews(conn, horizon))
        self.decisions_until = horizon

    def _reviews(self, conn: Connection, horizon: datetime) -> Callable[[Criterion], ReviewedDecisions]:
        read: dict[timedelta, tuple[ReviewedDecisions, bool]] = {}
        after = self.reviews_until

        def reviews(criterion: Criterion) -> ReviewedDecisions:
            delay = parse_duration(criterion.review_delay)
            if delay not in read:
                found = observe_reviews(conn, self.rollout.step_label, delay, after, self.now)
                if found.revised:  # a verdict counted before was replaced: count them all again
                    read[delay] = (observe_reviews(conn, self.rollout.step_label, delay, None, self.now), True)
                else:
                    read[delay] = (found, after is None)
            found, from_start = read[delay]
            if from_start:
                self.ledger.forget(criterion.name)
            return found

        self.reviews_until = horizon
        return reviews

    def keep(self, conn: Connection, judgement: dict) -> bool:
        """Keep the advanced evidence with the judgement made from it; False when another judge
        kept newer evidence meanwhile (theirs stays)."""
        values = dict(policy_digest=self.digest, decisions_until=self.decisions_until,
                      reviews_until=self.reviews_until,
                      kept=json.dumps(self.ledger.plain()), judgement=judgement, judged_at=self.now,
                      revision=self.revision + 1)
        if self.row_id is None:
            try:
                with conn.begin_nested():
                    conn.execute(step_evidence.insert().values(
                        rollout_id=self.rollout.id, step_index=self.rollout.step_index, phase=self.rollout.phase,
                        **values))
            except IntegrityError:
                return False
            return True
        done = conn.execute(step_evidence.update().where(step_evidence.c.id == self.row_id,
                                                         step_evidence.c.revision == self.revision).values(**values))
        return done.rowcount == 1


def _moment(value: np.datetime64) -> datetime:
    """A judge time back as an aware UTC datetime."""
    return value.astype("datetime64[us]").astype(datetime).replace(tzinfo=timezone.utc)
