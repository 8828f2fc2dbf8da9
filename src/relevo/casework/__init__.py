"""Case work: reading decisions back, case workers' feedback, and the manual-review queue."""

from relevo.casework.feedback import FeedbackRecorded, record_feedback, record_feedback_in
from relevo.casework.lookup import (READ_ROLES, FeedbackNote, RecordedDecision, ReviewState, ShadowAnswer, find_case,
                                    get_decision, read_decision)
from relevo.casework.queue import Claimed, QueuedCase, Resolved, claim, list_queue, resolve

__all__ = [
    "READ_ROLES", "Claimed", "FeedbackNote", "FeedbackRecorded", "QueuedCase", "RecordedDecision", "Resolved", "ReviewState",
    "ShadowAnswer", "claim", "find_case", "get_decision", "list_queue", "read_decision", "record_feedback", "record_feedback_in",
    "resolve",
]
