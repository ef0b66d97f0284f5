"""permit-verify's contracts: the events it publishes on the PERMITS stream, and the
declaration it verifies (which risk-score receives too) with its findings.

Quantities and balances are decimal strings on the wire (`Decimal` here); dates ISO 8601.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

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


# --- Declarations and their verification (issue 5: `POST /v1/verifications`). risk-score
# receives the same declaration and findings (`pangolin_core.contracts.risk`).

DeclarationText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)
]
DeclarationCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=3)
]
DeclarationCountry = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=2, max_length=2)
]
DeclarationReference = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
]
# Below a trillion, six decimals at most: the registry's quantities (BIGINT of millionths).
DeclaredQuantity = Annotated[Decimal, Field(gt=0, lt=10**12, decimal_places=6, allow_inf_nan=False)]


class DeclarationParty(BaseModel):
    """The declarant, exporter or importer as the declaration names them; a name the single
    window does not know may be null."""

    model_config = ConfigDict(extra="forbid")

    name: DeclarationText | None = None
    country: DeclarationCountry | None = None


class DeclarationCountries(BaseModel):
    """Countries of export, import and origin, and the transit countries in order."""

    # `import` is a Python keyword: the field is `import_`, always `import` on the wire.
    model_config = ConfigDict(extra="forbid", validate_by_name=True, serialize_by_alias=True)

    export: DeclarationCountry | None = None
    import_: DeclarationCountry | None = Field(None, alias="import")
    origin: DeclarationCountry | None = None
    transit: list[DeclarationCountry] = Field(default_factory=list, max_length=20)


class Transport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["air", "sea", "road", "rail", "post", "other"] | None = None
    document: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None


class PermitReference(BaseModel):
    """A CITES document as a declaration line names it (boxes 1 and 14: number, issuing
    country, security stamp)."""

    model_config = ConfigDict(extra="forbid")

    number: DeclarationReference
    issuing_country: DeclarationCountry
    security_stamp: DeclarationReference | None = None


class DeclaredValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Annotated[Decimal, Field(ge=0, lt=10**15, allow_inf_nan=False)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class DeclarationLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_no: Annotated[int, Field(ge=1, le=9999)]
    permit: PermitReference | None = Field(
        None, description="The export permit, re-export certificate or certificate presented"
    )
    import_permit: PermitReference | None = None
    species: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    description: DeclarationText | None = None
    term: DeclarationCode
    quantity: DeclaredQuantity
    unit: DeclarationCode | None = Field(None, description="None: a number of specimens")
    source: DeclarationCode
    purpose: DeclarationCode
    # HS heading and national subdivisions: "0106", "010620", "0106.20", "0106.20.00".
    hs_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}(\.?[0-9]{2}){0,4}$")] | None = (
        None
    )
    value: DeclaredValue | None = None


class Declaration(BaseModel):
    """A customs declaration carrying CITES specimens, as a national single window sends it."""

    model_config = ConfigDict(extra="forbid")

    declaration_id: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
    ]
    direction: Literal["export", "import", "re_export", "transit"]
    declared_on: date
    office: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    declarant: DeclarationParty | None = None
    exporter: DeclarationParty | None = None
    importer: DeclarationParty | None = None
    countries: DeclarationCountries
    transport: Transport | None = None
    lines: list[DeclarationLine] = Field(min_length=1, max_length=100)


Severity = Literal["error", "warning", "info"]
Verdict = Literal["valid", "discrepancies", "invalid", "unverifiable"]


class Finding(BaseModel):
    """One thing a verification found: a stable `code` (documented in
    docs/permit-verify.md), how bad it is, and where (`field`: a path in the declaration,
    such as `lines[0].quantity`), with what was expected and what was presented."""

    code: str
    severity: Severity
    message: str
    field: str | None = None
    expected: str | None = None
    actual: str | None = None


class VerifiedLineSummary(BaseModel):
    line_no: int
    verdict: Verdict
    permit_id: str | None
    finding_codes: list[str]


class VerificationCompleted(EventData):
    """A declaration was verified (its first verification: replays publish nothing)."""

    event_type: ClassVar[str] = "permits.verification.completed"
    version: ClassVar[int] = 1

    verification_id: str
    declaration_id: str
    direction: str
    declared_on: date
    office: str
    verdict: Verdict
    lines: list[VerifiedLineSummary]
    finding_codes: list[str]  # the declaration-level ones (e.g. RISK_UNAVAILABLE)
    risk_lane: str | None
    risk_score: float | None
    verified_by: str
    verifying_country: str
