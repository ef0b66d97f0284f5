"""Tables of sharing groups and their members."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from intel_share.tables import IntelShareTable


class SharingGroup(IntelShareTable, table=True):
    __tablename__ = "sharing_group"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=255, unique=True)
    description: str | None = Field(default=None, sa_type=sa.Text)
    # The organisation that manages the group's members (an admin may too).
    owner_country: str = Field(max_length=2)
    owner_agency: str = Field(max_length=255)
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class SharingGroupMember(IntelShareTable, table=True):
    """A member: a whole country (`agency` None), or one agency of a country."""

    __tablename__ = "sharing_group_member"
    __table_args__ = (sa.Index("ix_sharing_group_member_group_country", "group_id", "country"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: str = Field(foreign_key="sharing_group.id", max_length=36)
    country: str = Field(max_length=2)
    agency: str | None = Field(default=None, max_length=255)
