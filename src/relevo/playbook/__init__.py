"""A service's deployment playbook: one document, generated from the records, that gathers its versioning
process, shadowing procedure, rollback runbook, drill schedule and last results, RACI and maintenance windows.
A document built above the use cases, as the evidence pack is."""

from relevo.playbook.document import Chapter, Playbook, playbook_of
from relevo.playbook.markdown import playbook_markdown

__all__ = ["Chapter", "Playbook", "playbook_markdown", "playbook_of"]
