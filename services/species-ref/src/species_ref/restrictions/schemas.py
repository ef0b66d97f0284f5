"""What the restriction endpoints answer (the items are the contracts other services read)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from pangolin_core.contracts.species import ExportQuota, TradeSuspension


class TaxonQuotas(BaseModel):
    taxon_id: int
    full_name: str
    year: int | None
    country: str | None
    quotas: list[ExportQuota]


class TaxonSuspensions(BaseModel):
    taxon_id: int
    full_name: str
    as_of: date | None
    country: str | None
    suspensions: list[TradeSuspension]
