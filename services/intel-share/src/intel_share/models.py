"""Every table of intel-share, imported in one place (the app, Alembic's autogenerate)."""

from intel_share.audit.models import IntelAuditEntry, IntelAuditRecord
from intel_share.federation.models import FederationCursor
from intel_share.idempotency.models import IdempotentRequest
from intel_share.proposals.models import Proposal
from intel_share.records.models import (
    IntelRecord,
    IntelRecordFacet,
    IntelRecordVersion,
    IntelRelationship,
)
from intel_share.sharing_groups.models import SharingGroup, SharingGroupMember
from intel_share.sightings.models import Sighting
from intel_share.taxii.models import TaxiiObject, TaxiiStatus

__all__ = [
    "FederationCursor",
    "IdempotentRequest",
    "IntelAuditEntry",
    "IntelAuditRecord",
    "IntelRecord",
    "IntelRecordFacet",
    "IntelRecordVersion",
    "IntelRelationship",
    "Proposal",
    "SharingGroup",
    "SharingGroupMember",
    "Sighting",
    "TaxiiObject",
    "TaxiiStatus",
]
