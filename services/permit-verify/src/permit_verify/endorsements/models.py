"""Endorsements: the quantities customs cleared against a permit, per item."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field

from permit_verify.tables import PermitVerifyTable, Quantity


class Endorsement(PermitVerifyTable, table=True):
    __tablename__ = "endorsement"
    # A declaration endorses a permit once: a retry without an Idempotency-Key cannot take
    # the quantities twice.
    __table_args__ = (sa.UniqueConstraint("permit_id", "declaration_id"),)

    id: str = Field(primary_key=True, max_length=36)
    permit_id: str = Field(foreign_key="permit.id", max_length=36, index=True)
    declaration_id: str = Field(max_length=64)
    office: str = Field(max_length=32)
    endorsed_on: date
    client_id: str = Field(max_length=255)
    country: str = Field(max_length=2)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class EndorsementLine(PermitVerifyTable, table=True):
    __tablename__ = "endorsement_line"
    __table_args__ = (sa.UniqueConstraint("endorsement_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    endorsement_id: str = Field(foreign_key="endorsement.id", max_length=36, index=True)
    permit_item_id: int = Field(foreign_key="permit_item.id")
    item_id: str = Field(max_length=8)
    quantity: Decimal = Field(sa_type=Quantity)
