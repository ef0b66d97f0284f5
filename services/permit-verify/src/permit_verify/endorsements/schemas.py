"""An endorsement as customs posts it, and the answer with the remaining balances."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from permit_verify.permits.schemas import PermitStatus, PositiveQuantity


class EndorsedItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8)]
    quantity: PositiveQuantity


class EndorsementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    declaration_id: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
    ]
    office: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    endorsed_on: date
    items: list[EndorsedItemIn] = Field(min_length=1, max_length=100)


class EndorsedItemOut(BaseModel):
    item_id: str
    quantity: Decimal
    balance: Decimal = Field(description="What is left of the item after this endorsement")


class ItemBalance(BaseModel):
    item_id: str
    balance: Decimal


class EndorsementOut(BaseModel):
    id: str
    permit_id: str
    declaration_id: str
    office: str
    endorsed_on: date
    items: list[EndorsedItemOut]
    status: PermitStatus = Field(description="The permit's status after the endorsement")
    balances: list[ItemBalance] = Field(description="Every item's remaining balance")
