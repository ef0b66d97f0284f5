"""The permit as a Management Authority posts it and as the registry answers (issue 5's
contract: keep these names)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from permit_verify.tables import QUANTITY_SCALE


class PermitType(StrEnum):
    EXPORT = "export"
    RE_EXPORT = "re_export"
    IMPORT = "import"
    CERTIFICATE_OF_ORIGIN = "certificate_of_origin"
    PRE_CONVENTION = "pre_convention"
    CAPTIVE_BRED = "captive_bred"
    ARTIFICIALLY_PROPAGATED = "artificially_propagated"
    INTRODUCTION_FROM_SEA = "introduction_from_sea"
    TRAVELLING_EXHIBITION = "travelling_exhibition"
    MUSICAL_INSTRUMENT = "musical_instrument"
    PERSONAL_OWNERSHIP = "personal_ownership"


class PermitStatus(StrEnum):
    VALID = "valid"
    PARTIALLY_USED = "partially_used"
    USED = "used"
    CANCELLED = "cancelled"
    LOST = "lost"
    STOLEN = "stolen"
    REPLACED = "replaced"


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=3)]
Country = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
# Below a trillion, six decimals at most: fits the stored BIGINT of millionths.
PositiveQuantity = Annotated[
    Decimal,
    Field(gt=0, lt=10**12, decimal_places=QUANTITY_SCALE, allow_inf_nan=False),
]


class Party(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    address: Text | None = None
    country: Country


class PermitItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z]{1,2}$")] = (
        Field(description="The item block: A, B, ...")
    )
    species: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    description: Text | None = None
    term: Code
    appendix: Literal["I", "II", "III"]
    source: Code
    quantity: PositiveQuantity
    unit: Code | None = Field(None, description="None: a number of specimens")
    origin_country: Country | None = None
    origin_permit: Reference | None = None
    reexport_certificate: Reference | None = None


class PermitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: Reference
    type: PermitType
    issuing_country: Country
    issuing_authority: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
        | None
    ) = None
    security_stamp: Reference | None = None
    issued_on: date
    valid_until: date
    exporter: Party
    importer: Party
    purpose: Code
    special_conditions: Text | None = None
    items: list[PermitItemIn] = Field(min_length=1, max_length=100)


class PermitItemOut(BaseModel):
    item_id: str
    species: str
    taxon_id: int | None
    description: str | None
    term: str
    appendix: str
    source: str
    quantity: Decimal
    unit: str | None
    origin_country: str | None
    origin_permit: str | None
    reexport_certificate: str | None
    balance: Decimal = Field(description="What is left to ship of this item")


class PermitOut(BaseModel):
    id: str
    number: str
    type: PermitType
    issuing_country: str
    issuing_authority: str | None
    security_stamp: str | None
    issued_on: date
    valid_until: date
    exporter: Party
    importer: Party
    purpose: str
    special_conditions: str | None
    status: PermitStatus
    items: list[PermitItemOut]
    signature: str = Field(description="Compact JWS (EdDSA) over the canonical permit boxes")
    signing_key_id: str
    version: int
    created_at: datetime


class IssueWarning(BaseModel):
    """What was found at issue without refusing the permit (a split listing the origin does
    not settle, a synonym, or a back-filled permit's refusals): kept in the audit trail."""

    code: str = Field(
        description="Stable: APPENDIX_UNDETERMINED, SPECIES_SYNONYM, TRADE_SUSPENDED..."
    )
    message: str
    field: str | None


class IssuedPermitOut(PermitOut):
    """The 201 answer to an issue: the stored permit and what was found without refusing it."""

    warnings: list[IssueWarning] = Field(default_factory=list)


class StatusChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["cancelled", "lost", "stolen", "replaced"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
