"""Drills: rollback and incident rehearsals. A fault is injected into a copy of a service in a scratch
store (a bad candidate, a model that is down or slow, a database restart) and the real gateway and
controller act on it; the times to detect and to recover are measured against the runbook's targets."""

from relevo.drills.records import Drill, drill_history, drills_of, record_drill
from relevo.drills.run import run_drill
from relevo.drills.schedule import DrillReminder, DrillStatus, ScenarioState, drill_schedule, remind_overdue_drills

__all__ = ["Drill", "DrillReminder", "DrillStatus", "ScenarioState", "drill_history", "drill_schedule", "drills_of",
           "record_drill", "remind_overdue_drills", "run_drill"]
