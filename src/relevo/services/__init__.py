"""Services: the citizen-facing decision services Relevo manages, declared in spec files."""

from relevo.services.communication_policy import LANGUAGES, CommunicationPolicy
from relevo.services.catalogue import DeclaredService, get_spec, list_services, rules_digest, spec_digest
from relevo.services.changes import SpecChanges, spec_changes
from relevo.services.rollout_policy import Criterion, Guard, RolloutPolicy, Tolerance, given_fields
from relevo.services.spec import NAME as SERVICE_NAME
from relevo.services.spec import ServiceSpec, load_spec, parse_spec
from relevo.services.window_listing import ServiceWindows, service_windows

__all__ = [
    "LANGUAGES", "SERVICE_NAME", "CommunicationPolicy", "Criterion", "DeclaredService", "Guard", "RolloutPolicy", "ServiceSpec", "SpecChanges", "Tolerance", "get_spec", "given_fields", "list_services",
    "ServiceWindows", "load_spec", "parse_spec", "rules_digest", "service_windows", "spec_changes", "spec_digest",
]
