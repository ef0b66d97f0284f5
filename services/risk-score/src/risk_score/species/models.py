"""The species read model: each taxon's current CITES appendices, from SPECIES events."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from risk_score.tables import RiskScoreTable, UtcDateTime


class SpeciesTaxon(RiskScoreTable, table=True):
    __tablename__ = "species_taxon"

    taxon_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    full_name: str = Field(max_length=255, index=True)
    appendices: list[str] = Field(sa_type=sa.JSON)
    updated_at: datetime = Field(sa_type=UtcDateTime)
