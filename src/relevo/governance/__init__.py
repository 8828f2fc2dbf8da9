"""Governance: the pre-deployment checklist that gates every rollout, a service's DPIA and AI Act
records, significant-change detection, and its vendors' contracts."""

from relevo.governance.checklist import ITEMS, STATES, Checklist, ChecklistItem, ItemKind
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
    "ITEMS", "ITEM_IDS", "KINDS", "STATES", "Checklist", "ChecklistItem", "Difference", "ItemKind", "RecordEntry",
    "ServiceRecords", "Vendor", "VendorRecord", "attest", "checklist_json", "checklist_of", "list_vendors",
    "parse_records", "parse_vendor", "record_vendor", "remind_renewals", "require_clear", "service_records_of",
    "set_records", "significant_differences", "stored_checklist", "waive",
]
