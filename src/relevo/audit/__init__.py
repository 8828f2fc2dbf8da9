"""The audit log: an append-only record of every change of state, the one recorder that writes
it, and what makes it verifiable (a Merkle tree, signed checkpoints, bundles and proofs)."""

from relevo.audit.bundle import bundle_of, export_bundle, read_bundle, selection_of, verify_bundle, write_bundle
from relevo.audit.checkpoints import StoredCheckpoint, checkpoint, checkpoint_if_due, signer_of
from relevo.audit.keys import read_verifier
from relevo.audit.proofs import ProofCheck, check_proof, prove_event, prove_growth
from relevo.audit.queries import AuditEvent, list_events, parse_since, read_events
from relevo.audit.recorder import Change, record_change
from relevo.audit.trail import public_key, replace_lost_key, rotate_key, verify_store
from relevo.audit.verification import LogVerification

__all__ = [
    "AuditEvent", "Change", "LogVerification", "ProofCheck", "StoredCheckpoint", "bundle_of", "check_proof", "checkpoint",
    "checkpoint_if_due", "export_bundle", "list_events", "parse_since", "prove_event", "prove_growth", "public_key",
    "read_bundle", "read_events", "read_verifier", "record_change", "replace_lost_key", "rotate_key", "selection_of", "signer_of",
    "verify_bundle", "verify_store", "write_bundle",
]
