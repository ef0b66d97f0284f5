"""permit-verify's contracts: the events it publishes on the PERMITS stream.

Quantities and balances are decimal strings on the wire (`Decimal` here); dates ISO 8601.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from pydantic import BaseModel

from pangolin_core.contracts.envelope import EventData


class PermitParty(BaseModel):
    """An exporter or importer as the permit names them (boxes 1 and 2)."""

    name: str
    address: str | None
    country: str


class PermitItemSummary(BaseModel):
    """One item block (A, B, ...) of an issued permit, with what is left of it."""

    item_id: str
    species: str
    term: str
    appendix: str
    source: str
    quantity: Decimal
    unit: str | None  # None: a number of specimens
    origin_country: str | None
    balance: Decimal


class PermitIssued(EventData):
    """A Management Authority issued (or back-filled) a permit in the registry."""

    event_type: ClassVar[str] = "permits.permit.issued"
    version: ClassVar[int] = 1

    permit_id: str
    number: str
    type: str
    issuing_country: str
    issued_on: date
    valid_until: date
    purpose: str
    status: str
    exporter: PermitParty
    importer: PermitParty
    items: list[PermitItemSummary]
    issued_by: str


class PermitStatusChanged(EventData):
    """The issuing Management Authority cancelled a permit or declared it lost, stolen or
    replaced (`reason` as it gave it)."""

    event_type: ClassVar[str] = "permits.permit.status_changed"
    version: ClassVar[int] = 1

    permit_id: str
    number: str
    issuing_country: str
    previous_status: str
    status: str
    reason: str
    changed_by: str
    changed_at: datetime


class EndorsedItem(BaseModel):
    item_id: str
    quantity: Decimal
    balance: Decimal  # what is left of the item after this endorsement


class PermitEndorsed(EventData):
    """Customs endorsed a permit at clearance: the quantities actually shipped."""

    event_type: ClassVar[str] = "permits.permit.endorsed"
    version: ClassVar[int] = 1

    permit_id: str
    number: str
    issuing_country: str
    endorsement_id: str
    declaration_id: str
    office: str
    endorsed_on: date
    items: list[EndorsedItem]
    status: str  # the permit's status after the endorsement
    endorsed_by: str
    endorsing_country: str
