"""Continuity: what keeps a service answering citizens through a change or an incident. Its runbook,
generated from the spec and confirmed by its owners, version by version."""

from relevo.continuity.confirmations import OWNER_ROLES, confirm_runbook, confirmations_of, runbook_of
from relevo.continuity.markdown import runbook_markdown
from relevo.continuity.runbook import Confirmation, Runbook, Section, runbook_from_spec

__all__ = ["OWNER_ROLES", "Confirmation", "Runbook", "Section", "confirm_runbook", "confirmations_of",
           "runbook_from_spec", "runbook_markdown", "runbook_of"]
