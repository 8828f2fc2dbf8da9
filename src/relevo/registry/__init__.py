"""The registry: versions as immutable, content-addressed artifacts with complete metadata."""

from relevo.registry.annotate import annotate_version
from relevo.registry.draft import ServiceDraft, draft_service
from relevo.registry.load import check_answers, load_version
from relevo.registry.metadata import VersionMetadata, load_metadata, parse_metadata
from relevo.registry.queries import (
    Annotation,
    ProfileSummary,
    TagMove,
    VersionDetails,
    VersionRecord,
    describe_version,
    list_versions,
    name_of,
    resolve_version,
    version_by_id,
    version_details,
    version_name,
    version_names,
    versions_of,
)
from relevo.registry.register import register_version
from relevo.registry.tags import TAG as TAG_NAME
from relevo.registry.tags import move_tag
from relevo.registry.verify import Verification, verify

__all__ = [
    "TAG_NAME", "Annotation", "ProfileSummary", "ServiceDraft", "draft_service", "TagMove", "VersionDetails", "Verification", "VersionMetadata", "VersionRecord", "annotate_version", "describe_version", "check_answers", "list_versions",
    "load_metadata", "load_version", "move_tag", "name_of", "parse_metadata", "register_version", "resolve_version",
    "verify", "version_by_id", "version_details", "version_name", "version_names", "versions_of",
]
