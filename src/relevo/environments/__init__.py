"""Environments (staging, production): their fingerprints, the differences between them, and
what makes a version validated in staging for production."""

from relevo.environments.diff import Difference
from relevo.environments.records import (
    EnvironmentDiff,
    Fingerprint,
    StagingValidation,
    diff_environments,
    record_fingerprint,
    staging_validation,
    staging_validation_in,
    waive_differences,
)

__all__ = ["Difference", "EnvironmentDiff", "Fingerprint", "StagingValidation", "diff_environments",
           "record_fingerprint", "staging_validation", "staging_validation_in", "waive_differences"]
