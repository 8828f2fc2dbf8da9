"""A rollout step's evidence kept between judgements, so each judgement costs what arrived since.

The judge feeds each criterion's state in batches, in time order (relevo.rollouts.judging:
at least BATCH decisions a batch, never splitting decisions made at the same moment). A batch
whose decisions can no longer change is sealed: fed to the kept state once, for good. A decision
is settled once it is older than the horizon (the judgement's moment less SETTLE: every decision
is written, with its shadow answer, well within that of its time), and a batch is sealed when
all its decisions are settled and it is full; the few settled decisions after the last full
batch wait, kept, for the next judgement. What is newer than the horizon is fed on a copy only,
for this judgement's verdict.

The batches are cut the same way whether the step is judged once or in a hundred increments,
and a batch is fed only when complete, so the verdict after N decisions is the same either way
(a property test holds it to that), and the same as a judgement that reads the whole step.

Each kind of evidence has its keeper here: states fed in batches (the e-processes and
confidence sequences), tallies (counts by group or label: order does not matter), and the
candidate's most recent answers (the guards read a window at the end).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from relevo.analysis.judge.snapshot import from_plain, to_plain

SETTLE = timedelta(seconds=60)  # a decision older than this is written, with its shadow answer
BATCH = 10  # decisions in a batch at least (one stake, one look)
PASS = 200  # batches fed in one pass at most


def batch_bounds(times: np.ndarray, size: int = BATCH) -> list[tuple[int, int]]:
    """(start, stop) of each batch of decisions in time order: at least `size` decisions, ending
    only where the time changes (or at the end), so ties are never split."""
    n = times.size
    bounds, start = [], 0
    while start < n:
        stop = min(start + size, n)
        while stop < n and times[stop] == times[stop - 1]:
            stop += 1
        bounds.append((start, stop))
        start = stop
    return bounds


def feed(state, update: Callable, times: np.ndarray, arrays: Sequence[np.ndarray]):
    """state after update(state, starts, *rows): every batch of the arrays (rows in time order) one
    look, all fed in one call, each batch's rows in a fixed order (sorted by their values). A batch
    has one stake, so its order changes nothing but the rounding of sums: sorted, the same decisions
    give bit-for-bit the same numbers however the store returned them."""
    bounds = batch_bounds(times)
    for first in range(0, len(bounds), PASS):  # a catch-up's many batches a pass at a time: memory stays flat
        part = bounds[first:first + PASS]
        begin, end = part[0][0], part[-1][1]
        starts = np.array([start for start, _ in part]) - begin
        batch = np.repeat(np.arange(starts.size), [stop - start for start, stop in part])
        rows = [a[begin:end] for a in arrays]
        order = np.lexsort(tuple(rows[::-1]) + (batch,))  # by batch, then by the rows' values
        state = update(state, starts, *(a[order] for a in rows))
    return state


def last_start(times: np.ndarray, n: int) -> int:
    """Where the last n rows in time order start, moved back over every row recorded at the same
    moment as the oldest of them (the store does not order those, so all of them or none)."""
    if times.size <= n:
        return 0
    start = times.size - n
    while start > 0 and times[start - 1] == times[start]:
        start -= 1
    return start


def _update(state, starts, *rows):
    return state.update_batches(starts, *rows)


def as_us(moment: datetime) -> np.datetime64:
    """A moment as the judge's time type (microseconds, naive UTC)."""
    return np.datetime64(moment.replace(tzinfo=None), "us")


def _column(values: list, dtype: str) -> np.ndarray:
    return np.array(values, dtype=dtype)


@dataclass
class _Fed:
    """A criterion's state after its sealed batches, and its settled decisions still waiting."""

    state: Any
    times: np.ndarray
    rows: tuple[np.ndarray, ...]

    def plain(self) -> dict:
        return {"state": to_plain(self.state), "times": self.times.astype("int64").tolist(),
                "rows": [{"dtype": a.dtype.str, "values": a.tolist()} for a in self.rows]}

    @classmethod
    def read(cls, data: dict) -> "_Fed":
        return cls(from_plain(data["state"]), np.array(data["times"], dtype="int64").astype("datetime64[us]"),
                   tuple(_column(r["values"], r["dtype"]) for r in data["rows"]))


@dataclass
class Ledger:
    """The kept evidence of one step (or blue/green phase), and its horizon for this judgement.

    horizon None: nothing is settled, every decision is fed on a copy (a one-off judgement of
    decisions read in full, as tests and simulations do).
    """

    horizon: np.datetime64 | None = None
    fed: dict[str, _Fed] = field(default_factory=dict)
    tallies: dict[str, Counter] = field(default_factory=dict)
    recents: dict[str, _Fed] = field(default_factory=dict)

    def _settled(self, times: np.ndarray) -> int:
        """How many of the rows (in time order) are settled."""
        if self.horizon is None:
            return 0
        return int(np.searchsorted(times, self.horizon, side="right"))

    def batched(self, key: str, start: Callable[[], Any], times: np.ndarray, *arrays: np.ndarray,
                update: Callable = _update):
        """The state for this judgement: the kept one, fed the new rows in batches (rows in time
        order, all newer than the last horizon); full settled batches are kept for good."""
        kept = self.fed.get(key)
        if kept is not None:
            times = np.concatenate([kept.times, times])
            arrays = tuple(np.concatenate([old, new.astype(old.dtype)]) for old, new in zip(kept.rows, arrays))
        state = kept.state if kept is not None else start()
        settled = self._settled(times)
        sealed = 0
        for begin, stop in batch_bounds(times[:settled]):
            if stop - begin < BATCH:
                break
            sealed = stop
        if self.horizon is not None:
            state = feed(state, update, times[:sealed], [a[:sealed] for a in arrays])
            self.fed[key] = _Fed(state, times[sealed:settled], tuple(a[sealed:settled] for a in arrays))
        return feed(state, update, times[sealed:], [a[sealed:] for a in arrays])

    def tally(self, key: str, labels: Iterable[str], times: np.ndarray) -> Counter:
        """Counts of each label over every row so far (the kept ones and these)."""
        labels = list(labels)
        kept = self.tallies.get(key, Counter())
        settled = self._settled(times)
        if self.horizon is not None:
            self.tallies[key] = kept + Counter(labels[:settled])
        return kept + Counter(labels)

    def count(self, key: str, mask: np.ndarray, times: np.ndarray) -> int:
        """How many rows so far the mask holds (the kept ones and these)."""
        kept = self.tallies.get(key, Counter())
        if self.horizon is not None:
            self.tallies[key] = kept + Counter({"n": int(mask[:self._settled(times)].sum())})
        return kept["n"] + int(mask.sum())

    def recent(self, key: str, last: int, times: np.ndarray,
               *arrays: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """The rows so far that a window over the last `last` ones reads (last_start), the kept
        ones and these, in time order."""
        kept = self.recents.get(key)
        if kept is not None:
            times = np.concatenate([kept.times, times])
            arrays = tuple(np.concatenate([old, new.astype(old.dtype)]) for old, new in zip(kept.rows, arrays))
        settled = self._settled(times)
        if self.horizon is not None:
            first = last_start(times[:settled], last)
            self.recents[key] = _Fed(None, times[first:settled], tuple(a[first:settled] for a in arrays))
        return times, arrays

    def plain(self) -> dict:
        """JSON-ready form of what is kept."""
        return {"fed": {k: v.plain() for k, v in self.fed.items()},
                "tallies": {k: dict(v) for k, v in self.tallies.items()},
                "recents": {k: v.plain() for k, v in self.recents.items()}}

    @classmethod
    def read(cls, data: dict | None, horizon: np.datetime64 | None) -> "Ledger":
        """The ledger kept as plain data (None: nothing kept yet), for a judgement at horizon."""
        data = data or {}
        return cls(horizon, {k: _Fed.read(v) for k, v in data.get("fed", {}).items()},
                   {k: Counter(v) for k, v in data.get("tallies", {}).items()},
                   {k: _Fed.read(v) for k, v in data.get("recents", {}).items()})

    def forget(self, name: str) -> None:
        """Drop what is kept under a name (and its parts, `name/...`): read again from the start."""
        for kept in (self.fed, self.tallies, self.recents):
            for key in [k for k in kept if k == name or k.startswith(f"{name}/")]:
                del kept[key]
