"""Sightings as the API takes and gives them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class SightingIn(BaseModel):
    """ "Seen here too": where and when. `anonymous`: others are not told which agency saw it."""

    model_config = ConfigDict(extra="forbid")

    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    office: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    seen_on: date
    note: str | None = Field(None, max_length=4000)
    anonymous: bool = False


class SightingOut(BaseModel):
    id: str
    record_id: str
    country: str
    office: str | None
    seen_on: date
    note: str | None
    anonymous: bool
    # None for an anonymous sighting, unless the caller is the organisation that made it.
    agency: str | None
    agency_country: str | None
    created_at: datetime


class SightingList(BaseModel):
    record_id: str
    sightings: list[SightingOut]
