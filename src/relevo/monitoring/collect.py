"""Reading one window of the decision log for the monitors, streamed in chunks: never the whole table,
and of the window only what the statistics need (each input field as one column of numbers or the
counts of its categories; the serving version's decisions, confidence, feedback and protected groups).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from sqlalchemy import Connection, and_, func, select

from relevo.monitoring.windows import Window
from relevo.services.spec import ServiceSpec
from relevo.store.tables import decisions, feedback

CHUNK = 5000  # decisions read at a time
NUMERIC = ("number", "integer")


def category(value: Any) -> str | None:
    """A value as a category, the way reference profiles count them (true/false for booleans)."""
    if value is None:
        return None
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _number(value: Any) -> float:
    if value is None or isinstance(value, str):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):  # an integer beyond a float's range: not a number here
        return math.nan


@dataclass
class WindowData:
    """What the monitors read of one window."""

    window: Window
    start: datetime | None  # the first decision's time (a window of the last N decisions)
    decisions: int = 0
    answered_by: Counter[str] = field(default_factory=Counter)
    numeric: dict[str, list[np.ndarray]] = field(default_factory=dict)
    categories: dict[str, Counter[str]] = field(default_factory=dict)
    version_id: int | None = None  # the version that answered the most stable-arm decisions
    labels: list[str] = field(default_factory=list)  # that version's decisions...
    confidence: list[float] = field(default_factory=list)  # ...the probability it gave each (nan: none)...
    outcomes: list[str | None] = field(default_factory=list)  # ...the case worker's verdict, if any...
    groups: dict[str, list[str | None]] = field(default_factory=dict)  # ...and each protected input's value

    def values(self, name: str) -> np.ndarray:
        """A numeric field's values (nan where missing)."""
        chunks = self.numeric.get(name, [])
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks) if chunks else np.empty(0)

    def present(self, name: str) -> int:
        """How many decisions carry a value of the field."""
        if name in self.numeric:
            return int(np.count_nonzero(~np.isnan(self.values(name))))
        return sum(self.categories.get(name, Counter()).values())


def _bounds(conn: Connection, service: str, environment: str, window: Window) -> tuple[datetime | None, datetime]:
    """[start, end) of the window's decisions: a period as it is, the last N from the Nth newest."""
    if window.last is None:
        return window.start, window.end
    nth = conn.execute(select(decisions.c.created_at).where(
        decisions.c.service == service, decisions.c.environment == environment, decisions.c.created_at < window.end)
        .order_by(decisions.c.created_at.desc()).offset(window.last - 1).limit(1)).scalar()
    if nth is None:  # fewer than N decisions ever: all of them
        nth = conn.execute(select(func.min(decisions.c.created_at)).where(
            decisions.c.service == service, decisions.c.environment == environment)).scalar()
    return nth, window.end


def _period(service: str, environment: str, start: datetime | None, end: datetime) -> list[Any]:
    where = [decisions.c.service == service, decisions.c.environment == environment, decisions.c.created_at < end]
    if start is not None:
        where.append(decisions.c.created_at >= start)
    return where


def serving_version(conn: Connection, service: str, environment: str, start: datetime | None,
                    end: datetime) -> int | None:
    """The version that answered the most of the window's stable-arm decisions."""
    row = conn.execute(select(decisions.c.routed_version_id, func.count().label("n"))
                       .where(*_period(service, environment, start, end), decisions.c.served_by == "version",
                              decisions.c.arm == "stable")
                       .group_by(decisions.c.routed_version_id).order_by(func.count().desc()).limit(1)).first()
    return None if row is None else row[0]


def read_window(conn: Connection, spec: ServiceSpec, environment: str, window: Window,
                progress: Callable[[int], None] = lambda n: None) -> WindowData:
    """Stream the window's decisions (and their current feedback) into the monitors' columns."""
    start, end = _bounds(conn, spec.name, environment, window)
    data = WindowData(window, start)
    monitored = {n: f for n, f in spec.inputs.items() if not f.personal}
    numeric = [n for n, f in monitored.items() if f.type in NUMERIC]
    categorical = [n for n in monitored if n not in numeric]
    # A protected field that is also personal is logged as pseudonyms: no group to compare.
    protected = [n for n, f in spec.inputs.items() if f.protected and not f.personal]
    data.numeric = {n: [] for n in numeric}
    data.categories = {n: Counter() for n in categorical}
    data.groups = {n: [] for n in protected}
    if start is None:  # no decision at all in the store
        return data
    data.version_id = serving_version(conn, spec.name, environment, start, end)
    current = and_(feedback.c.decision_id == decisions.c.id, feedback.c.superseded_at.is_(None))
    query = (select(decisions.c.served_by, decisions.c.arm, decisions.c.routed_version_id, decisions.c.decision,
                    decisions.c.probabilities, decisions.c.inputs, feedback.c.outcome)
             .select_from(decisions.outerjoin(feedback, current))
             .where(*_period(spec.name, environment, start, end)))
    result = conn.execution_options(yield_per=CHUNK).execute(query)
    for rows in result.partitions(CHUNK):
        _take(data, rows, numeric, categorical, protected)
        progress(len(rows))
    data.numeric = {name: [np.concatenate(chunks)] if chunks else [] for name, chunks in data.numeric.items()}
    return data


def _take(data: WindowData, rows: Sequence[Any], numeric: list[str], categorical: list[str],
          protected: list[str]) -> None:
    data.decisions += len(rows)
    data.answered_by.update(r.served_by for r in rows)
    inputs = [r.inputs or {} for r in rows]
    for name in numeric:
        data.numeric[name].append(np.fromiter((_number(i.get(name)) for i in inputs), float, len(inputs)))
    for name in categorical:
        data.categories[name].update(c for c in (category(i.get(name)) for i in inputs) if c is not None)
    for row, given in zip(rows, inputs):
        if (row.served_by != "version" or row.arm != "stable" or row.routed_version_id != data.version_id
                or row.decision is None):
            continue
        data.labels.append(row.decision)
        probabilities = row.probabilities or {}
        data.confidence.append(float(probabilities.get(row.decision, math.nan)))
        data.outcomes.append(row.outcome)
        for name in protected:
            data.groups[name].append(category(given.get(name)))


def count_decisions(conn: Connection, service: str, environment: str, windows: Iterable[Window]) -> int:
    """How many decisions the windows hold together (the last N: N), for a progress bar's total."""
    total = 0
    for window in windows:
        total += window.last if window.last is not None else int(conn.execute(select(func.count()).where(
            *_period(service, environment, window.start, window.end))).scalar() or 0)
    return total
