"""The sightings table."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from intel_share.tables import IntelShareTable


class Sighting(IntelShareTable, table=True):
    __tablename__ = "intel_sighting"

    id: str = Field(primary_key=True, max_length=36)
    record_id: str = Field(foreign_key="intel_record.id", max_length=36, index=True)
    country: str = Field(max_length=2)  # where it was seen
    office: str | None = Field(default=None, max_length=64)
    seen_on: date
    note: str | None = Field(default=None, sa_type=sa.Text)
    # Who reported it; shown to others only when `anonymous` is false.
    agency: str = Field(max_length=255)
    agency_country: str = Field(max_length=2)
    client_id: str = Field(max_length=255)
    anonymous: bool = False
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
