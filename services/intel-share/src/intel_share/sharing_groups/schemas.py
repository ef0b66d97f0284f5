"""Sharing groups as the API takes and gives them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class MemberIn(BaseModel):
    """A whole country (no `agency`), or one agency of it (`customs`, `management_authority`,
    or a client id: see the access rule's organisations)."""

    model_config = ConfigDict(extra="forbid")

    country: Country
    agency: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None


class SharingGroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    description: str | None = Field(None, max_length=4000)
    members: list[MemberIn] = Field(min_length=1, max_length=500)


class MembersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    members: list[MemberIn] = Field(min_length=1, max_length=500)


class SharingGroupOut(BaseModel):
    id: str
    name: str
    description: str | None
    members: list[MemberIn]
    owner_country: str
    owner_agency: str
    created_by: str
    created_at: datetime


class SharingGroupList(BaseModel):
    sharing_groups: list[SharingGroupOut]
