"""Reading a recorded decision back, with its shadow answer, feedback and review state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from relevo.errors import NotFound
from relevo.store.tables import decisions, feedback, manual_reviews, shadow_decisions, versions


def _version_names(conn: Connection, ids: set[int]) -> dict[int, str]:
    ids.discard(None)
    if not ids:
        return {}
    rows = conn.execute(select(versions.c.id, versions.c.number).where(versions.c.id.in_(ids)))
    return {r.id: f"v{r.number}" for r in rows}


def get_decision(conn: Connection, decision_id: str) -> dict[str, Any]:
    """One decision as recorded, or NotFound."""
    row = conn.execute(select(decisions).where(decisions.c.id == decision_id)).mappings().first()
    if row is None:
        raise NotFound(f"no decision with id {decision_id!r}")
    shadow = conn.execute(select(shadow_decisions).where(shadow_decisions.c.decision_id == decision_id)).mappings().first()
    notes = conn.execute(select(feedback).where(feedback.c.decision_id == decision_id).order_by(feedback.c.id)).mappings().all()
    review = conn.execute(select(manual_reviews).where(manual_reviews.c.decision_id == decision_id)).mappings().first()
    names = _version_names(conn, {row["routed_version_id"], shadow["version_id"] if shadow else None})
    served_version = names.get(row["routed_version_id"]) if row["served_by"] == "version" else None
    return {
        "decision_id": row["id"], "reference": row["reference"], "service": row["service"],
        "environment": row["environment"], "decision": row["decision"] or "manual_review",
        "served_by": row["served_by"], "version": served_version, "arm": row["arm"],
        "routed_version": names.get(row["routed_version_id"]),
        "probabilities": row["probabilities"], "fallback_cause": row["fallback_cause"],
        "latency_ms": row["latency_ms"], "inputs": row["inputs"], "step": row["step"],
        "created_at": row["created_at"].isoformat(),
        "shadow": None if shadow is None else {
            "version": names.get(shadow["version_id"]), "decision": shadow["decision"],
            "latency_ms": shadow["latency_ms"], "error": shadow["error"]},
        "feedback": [{"outcome": n["outcome"], "decision": n["decision"], "reason": n["reason"],
                      "reviewer": n["reviewer"], "at": n["at"].isoformat(), "current": n["superseded_at"] is None}
                     for n in notes],
        "review": None if review is None else {
            "status": review["status"], "claimed_by": review["claimed_by"],
            "resolved_at": review["resolved_at"].isoformat() if review["resolved_at"] else None},
    }
