"""Rollouts: moving a service from its stable release to a candidate, step by step, judged.

Changes made by hand go through `manual` (gated: roles, overrides, incidents); `lifecycle`
holds a rollout's transitions; the `Controller` judges running rollouts and acts on the verdicts.
"""

from relevo.rollouts.controller import CONTROLLER, Controller, tick
from relevo.rollouts.incident_clocks import (
    KIND_ONLY_FOR_AI_ACT,
    ClockReminder,
    IncidentClock,
    classify_incident,
    record_incident_report,
    remind_incident_clocks,
)
from relevo.rollouts.incidents import Incident, document_incident, list_incidents
from relevo.rollouts.lifecycle import promote, revert, rollback, start_rollout, transition
from relevo.rollouts.manual import apply_by_hand, fallback_by_hand, route_by_hand, tag_by_hand
from relevo.rollouts.plan_check import MAX_DAILY, MIN_DAILY, PlanCheck, StepCheck, check_plan
from relevo.rollouts.judgement import KeptVerdict, StepJudgement
from relevo.rollouts.judging import MetricResult
from relevo.rollouts.queries import rollout_history, rollout_status
from relevo.rollouts.replay import Replay, replay
from relevo.rollouts.review_report import HeldAnswers, ReviewReport
from relevo.rollouts.report import IncidentRef, ReleaseRef, RolloutStatus, RolloutSummary
from relevo.rollouts.shadow_report import Flip, PairedSummary, ShadowReport
from relevo.rollouts.rollout import Rollout
from relevo.rollouts.simulation import SimulationResult, simulate_rollout
from relevo.rollouts.states import FINAL

__all__ = [
    "CONTROLLER", "FINAL", "KIND_ONLY_FOR_AI_ACT", "MAX_DAILY", "MIN_DAILY", "ClockReminder", "Controller", "Flip",
    "HeldAnswers", "Incident", "IncidentClock", "IncidentRef", "KeptVerdict", "MetricResult",
    "PairedSummary", "PlanCheck", "Replay", "replay", "ReleaseRef", "ReviewReport", "Rollout", "RolloutStatus", "RolloutSummary", "ShadowReport",
    "SimulationResult", "StepCheck", "StepJudgement", "apply_by_hand",
    "check_plan", "classify_incident", "document_incident", "fallback_by_hand", "list_incidents", "promote",
    "record_incident_report", "remind_incident_clocks", "revert", "rollback",
    "rollout_history", "rollout_status", "route_by_hand", "simulate_rollout", "start_rollout", "tag_by_hand", "tick",
    "transition",
]
