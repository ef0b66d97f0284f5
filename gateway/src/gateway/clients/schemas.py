"""Requests and answers of the client admin API (the CLI builds the same `NewClient`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, ValidationInfo, field_validator

from gateway.clients import rules
from pangolin_core.contracts.roles import Role

ClientName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][\w .@-]*$"
    ),
]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class NewClient(BaseModel):
    name: ClientName = Field(description="Unique, e.g. `ke-single-window`.")
    country: Country = Field(description="ISO 3166-1 alpha-2 code, upper case.")
    roles: list[Role] = Field(min_length=1)
    scopes: list[str] | None = Field(
        None, description="A subset of what the roles grant; all of it when absent."
    )
    rate: float | None = Field(None, gt=0, description="Own rate limit (requests/s).")
    burst: int | None = Field(
        None, gt=0, validate_default=True, description="Own burst; set with `rate`."
    )

    @field_validator("roles")
    @classmethod
    def _distinct_roles(cls, roles: list[Role]) -> list[Role]:
        return sorted(set(roles))

    @field_validator("scopes")
    @classmethod
    def _granted_by_roles(cls, scopes: list[str] | None, info: ValidationInfo) -> list[str] | None:
        roles = info.data.get("roles")
        if scopes is None or roles is None:  # roles already failed: reported there
            return scopes
        return sorted(rules.client_scopes(roles, scopes))

    @field_validator("burst")
    @classmethod
    def _rate_and_burst_together(cls, burst: int | None, info: ValidationInfo) -> int | None:
        if (burst is None) != (info.data.get("rate") is None) and "rate" in info.data:
            raise ValueError("set `rate` and `burst` together, or neither")
        return burst

    def granted_scopes(self) -> frozenset[str]:
        return rules.client_scopes(self.roles, self.scopes)


class ClientOut(BaseModel):
    client_id: str
    name: str
    country: str
    roles: list[str]
    scopes: list[str]
    status: str
    rate: float | None
    burst: int | None
    created_at: datetime
    rotated_at: datetime
    updated_at: datetime


class IssuedClient(BaseModel):
    """Credentials, shown this once: only their hashes are kept."""

    client_id: str
    client_secret: str
    api_key: str
    client: ClientOut


class ClientPage(BaseModel):
    items: list[ClientOut]
    next: str | None = Field(None, description="Pass as `cursor` for the next page.")
