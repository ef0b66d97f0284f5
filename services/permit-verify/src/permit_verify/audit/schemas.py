"""The audit trail of a permit as `GET /v1/permits/{id}/history` answers it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel


class AuditAction(StrEnum):
    ISSUED = "issued"
    STATUS_CHANGED = "status_changed"
    ENDORSED = "endorsed"
    QR_CHECKED = "qr_checked"  # a scanned QR token checked against the registry
    LOOKED_UP = "looked_up"  # a partner country read the permit (`/v1/permits/lookup`)
    CONFIRMED = "confirmed"  # a partner confirmed quantities it endorsed on the permit


class AuditEntryOut(BaseModel):
    id: int
    action: AuditAction
    client_id: str
    country: str
    at: datetime
    details: dict[str, Any]


class PermitHistoryOut(BaseModel):
    permit_id: str
    entries: list[AuditEntryOut]
    next: str | None
