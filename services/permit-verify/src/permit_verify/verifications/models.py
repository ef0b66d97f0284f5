"""Stored verifications: the answer as first given (a replay returns it), and which permits
each declaration presented (so a later declaration sees the permit in use elsewhere)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from permit_verify.tables import PermitVerifyTable


class Verification(PermitVerifyTable, table=True):
    __tablename__ = "verification"

    id: str = Field(primary_key=True, max_length=36)
    # One verification per declaration: a replay answers the stored one.
    declaration_id: str = Field(max_length=64, unique=True)
    # A SHA-256 of the validated declaration: the same id with another body is refused.
    fingerprint: str = Field(max_length=64)
    verdict: str = Field(max_length=16)
    response: dict[str, Any] = Field(sa_type=sa.JSON)
    client_id: str = Field(max_length=255)
    country: str = Field(max_length=2)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class VerificationPermit(PermitVerifyTable, table=True):
    """A permit of this registry presented on a line of a verified declaration."""

    __tablename__ = "verification_permit"

    id: int | None = Field(default=None, primary_key=True)
    verification_id: str = Field(foreign_key="verification.id", max_length=36, index=True)
    declaration_id: str = Field(max_length=64)
    permit_id: str = Field(foreign_key="permit.id", max_length=36, index=True)
    line_no: int
