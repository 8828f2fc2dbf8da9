"""Governance: the pre-deployment checklist that gates every rollout, a service's DPIA and AI Act
records, significant-change detection, its vendors' contracts, and planned deployments' notices."""

from relevo.governance.checklist import ITEMS, STATES, Checklist, ChecklistItem, ItemKind
from relevo.governance.communication import (
    DeploymentNotice,
    PublicNotice,
    notices_of,
    public_notice,
    remind_notices,
    schedule_notice,
)
from relevo.governance.gate import (
    ITEM_IDS,
    attest,
    checklist_json,
    checklist_of,
    require_clear,
    stored_checklist,
    waive,
)
from relevo.governance.records import (
    KINDS,
    RecordEntry,
    ServiceRecords,
    parse_records,
    service_records_of,
    set_records,
)
from relevo.governance.significance import Difference, significant_differences
from relevo.governance.vendors import Vendor, VendorRecord, list_vendors, parse_vendor, record_vendor, remind_renewals

__all__ = [
    "ITEMS", "ITEM_IDS", "KINDS", "STATES", "Checklist", "ChecklistItem", "DeploymentNotice", "Difference", "ItemKind",
    "PublicNotice", "RecordEntry", "ServiceRecords", "Vendor", "VendorRecord", "attest", "checklist_json",
    "checklist_of", "list_vendors", "notices_of", "parse_records", "parse_vendor", "public_notice", "record_vendor",
    "remind_notices", "remind_renewals", "require_clear", "schedule_notice", "service_records_of", "set_records",
    "significant_differences", "stored_checklist", "waive",
]
