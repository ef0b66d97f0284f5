"""Tables of CITES restrictions: export quotas, trade suspensions and reservations.

The taxon is stored as its source names it (name, rank, optional id) and not as a foreign
key: restrictions sit on genera, families and orders, on taxa missing from the checklist
snapshot, or on no taxon at all (a country-wide suspension). Code sets are JSON lists
(sorted; empty = all). `source` names the file and `source_row` its row, so every record
can be traced back.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field

from species_ref.tables import SpeciesRefTable


class _Restriction(SpeciesRefTable):
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    taxon_name: str | None = Field(default=None, max_length=255, index=True)
    rank: str | None = Field(default=None, max_length=20)
    taxon_id: int | None = Field(default=None, index=True)
    country: str | None = Field(default=None, max_length=2, index=True)
    start_date: date
    end_date: date | None = None
    notes: str | None = Field(default=None, sa_type=sa.Text)
    internal_notes: str | None = Field(default=None, sa_type=sa.Text)
    source: str = Field(max_length=100)
    source_row: int | None = None


class ExportQuota(_Restriction, table=True):
    __tablename__ = "export_quota"

    quota: Decimal = Field(max_digits=18, decimal_places=3)
    units: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    terms: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    sources: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    purposes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    quota_type: str | None = Field(default=None, max_length=50)


class TradeSuspension(_Restriction, table=True):
    __tablename__ = "trade_suspension"

    direction: str = Field(max_length=10)  # export | import | both
    excluded_terms: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    excluded_sources: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    excluded_purposes: list[str] = Field(default_factory=list, sa_type=sa.JSON)


class Reservation(_Restriction, table=True):
    __tablename__ = "reservation"
