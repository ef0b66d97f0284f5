"""The audit trail as `GET /v1/intel/audit` answers it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel


class AuditAction(StrEnum):
    CREATED = "created"
    READ = "read"  # one record by id (its sightings, proposals and versions too)
    SEARCHED = "searched"  # a search: `query` holds its filters, the records are its page
    MATCHED = "matched"  # POST /v1/intel/match: `query` holds the query, the records its answer
    EXPORTED = "exported"  # a bulk read by a partner (TAXII, federation)
    UPDATED = "updated"
    REVOKED = "revoked"
    SIGHTED = "sighted"
    PROPOSED = "proposed"
    PROPOSAL_ACCEPTED = "proposal_accepted"
    PROPOSAL_REJECTED = "proposal_rejected"


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    action: AuditAction
    # None where the actor is not to be named: an anonymous sighting, to anyone but its own
    # organisation and admins.
    client_id: str | None
    agency: str | None
    country: str | None
    query: dict[str, Any]
    record_ids: list[str]


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next: str | None
