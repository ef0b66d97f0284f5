"""`POST /v1/permits/verify-token`: a scanned token in, what checking it found out."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from permit_verify.permits.schemas import PermitStatus
from permit_verify.tokens.compact import MAX_TOKEN_LENGTH


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TOKEN_LENGTH)
    ] = Field(description="The compact JWS a permit's QR code carries")


class TokenVerdict(StrEnum):
    VALID = "valid"  # signed by the issuing country, equal to the registry's permit
    ALTERED = "altered"  # the signature fails or the registry's permit says otherwise
    UNKNOWN_KEY = "unknown_key"  # signed with a key the issuing country does not publish
    NOT_FOUND = "not_found"  # the registry has no such permit of that country
    MALFORMED = "malformed"  # not a permit token at all


class TokenDifference(BaseModel):
    field: str = Field(description="The permit's field: `items[0].quantity`, `valid_until`")
    registry: Any
    token: Any


class TokenCheckOut(BaseModel):
    verdict: TokenVerdict
    valid: bool = Field(description="Authentic and equal to the registry's permit")
    signature_valid: bool
    reason: str | None = None
    key_id: str | None = None
    issuing_country: str | None = None
    number: str | None = None
    permit_id: str | None = None
    status: PermitStatus | None = Field(None, description="The permit's status now")
    expired: bool | None = Field(None, description="Past its valid_until today")
    differences: list[TokenDifference] = Field(default_factory=list)
