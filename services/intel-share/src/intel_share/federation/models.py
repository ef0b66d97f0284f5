"""How far the exchange with each partner got: one position per partner, direction and
collection (the `date_added` of the last object taken, in the clock of the side that added it)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from intel_share.tables import IntelShareTable


class FederationCursor(IntelShareTable, table=True):
    __tablename__ = "federation_cursor"

    partner: str = Field(primary_key=True, max_length=2)
    direction: str = Field(primary_key=True, max_length=4)  # pull, push
    collection_id: str = Field(primary_key=True, max_length=36)
    added_after: datetime = Field(sa_type=sa.DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
