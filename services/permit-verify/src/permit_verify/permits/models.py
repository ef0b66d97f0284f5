"""Tables of the permit registry: a permit (boxes 1-15 of the CITES form) and its items.

A permit's boxes are stored as issued and never edited: only `status` and `version` change
(and the items' `balance`, by endorsement). `signature` is the compact JWS over the
canonical form of the boxes, so it also keeps the payload that was signed.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from permit_verify.tables import PermitVerifyTable, Quantity


class Permit(PermitVerifyTable, table=True):
    __tablename__ = "permit"
    __table_args__ = (sa.UniqueConstraint("issuing_country", "number"),)

    id: str = Field(primary_key=True, max_length=36)
    number: str = Field(max_length=64)
    type: str = Field(max_length=32)
    issuing_country: str = Field(max_length=2)
    issuing_authority: str | None = Field(default=None, max_length=255)
    security_stamp: str | None = Field(default=None, max_length=64)
    issued_on: date
    valid_until: date
    exporter_name: str = Field(max_length=255)
    exporter_address: str | None = Field(default=None, sa_type=sa.Text)
    exporter_country: str = Field(max_length=2)
    importer_name: str = Field(max_length=255)
    importer_address: str | None = Field(default=None, sa_type=sa.Text)
    importer_country: str = Field(max_length=2)
    purpose: str = Field(max_length=1)
    special_conditions: str | None = Field(default=None, sa_type=sa.Text)
    status: str = Field(max_length=20, index=True)
    # What an imported CITESEPermit message carried beyond the JSON boxes (date-times,
    # address lines, common names, last re-export country, quota figures...), kept to give
    # the message back box for box (`permit_verify.epix.citesepermit.ExchangeDetails`).
    # Not signed: the signature covers the boxes of the JSON contract.
    exchange_details: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    signature: str = Field(sa_type=sa.Text)
    signing_key_id: str = Field(max_length=16)
    version: int = 1
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class PermitItem(PermitVerifyTable, table=True):
    __tablename__ = "permit_item"
    __table_args__ = (
        sa.UniqueConstraint("permit_id", "item_id"),
        # The last guard: whatever a bug did, no balance is stored below zero.
        sa.CheckConstraint("balance >= 0", name="balance_not_negative"),
        sa.CheckConstraint("balance <= quantity", name="balance_within_quantity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    permit_id: str = Field(foreign_key="permit.id", max_length=36, index=True)
    item_id: str = Field(max_length=8)
    species: str = Field(max_length=255)
    taxon_id: int | None = None  # set once species-ref resolved the name
    description: str | None = Field(default=None, sa_type=sa.Text)
    term: str = Field(max_length=3)
    appendix: str = Field(max_length=3)
    source: str = Field(max_length=1)
    quantity: Decimal = Field(sa_type=Quantity)
    unit: str | None = Field(default=None, max_length=3)  # None: a number of specimens
    origin_country: str | None = Field(default=None, max_length=2)
    origin_permit: str | None = Field(default=None, max_length=64)
    reexport_certificate: str | None = Field(default=None, max_length=64)
    balance: Decimal = Field(sa_type=Quantity)
