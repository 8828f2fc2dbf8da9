"""Evidence packs: one rollout's evidence for an auditor (its technical documentation under the AI
Act's Annex IV, checklist, approvals, tests, verdicts, incidents, records) with its audit events
proven in the signed audit log, as one zip checked offline."""

from relevo.evidence.annex_iv import AnnexEntry, AnnexSection
from relevo.evidence.archive import CHECK, evidence_json, evidence_zip
from relevo.evidence.pack import APPROVALS, EVIDENCE_READERS, Evidence, evidence_of

__all__ = ["APPROVALS", "CHECK", "EVIDENCE_READERS", "AnnexEntry", "AnnexSection", "Evidence", "evidence_json",
           "evidence_of", "evidence_zip"]
