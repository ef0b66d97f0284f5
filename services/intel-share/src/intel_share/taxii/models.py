"""Tables of the TAXII server: the STIX objects of every record version, and status resources.

`taxii_object` is the STIX projection of `intel_record_version`: one row per object version,
written in the unit of work that stores the record version, so a page, a manifest and
`versions` read indexed columns instead of mapping records on every request. `record_id`
links an object to the record whose access rule it follows; the objects every record shares
(TLP markings, extension-definitions, agencies' identities, countries' locations) have none
and are served to every TAXII reader.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from intel_share.tables import IntelShareTable


class TaxiiObject(IntelShareTable, table=True):
    __tablename__ = "taxii_object"
    __table_args__ = (
        sa.UniqueConstraint("object_id", "modified"),
        sa.Index("ix_taxii_object_date_added_id", "date_added", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    object_id: str = Field(max_length=100, index=True)  # STIX id: <type>--<uuid>
    object_type: str = Field(max_length=64, index=True)
    spec_version: str = Field(default="2.1", max_length=8)
    # STIX `modified` (`created` for objects that have none): the TAXII version.
    modified: datetime = Field(sa_type=sa.DateTime(timezone=True))
    date_added: datetime = Field(sa_type=sa.DateTime(timezone=True))
    record_id: str | None = Field(default=None, max_length=36, index=True)
    # The object as JSON text: pages are served by splicing it, never decoded on the way.
    body: str = Field(sa_type=sa.Text)


class TaxiiStatus(IntelShareTable, table=True):
    """The status resource of an `add objects` request (all complete when it answers)."""

    __tablename__ = "taxii_status"

    id: str = Field(primary_key=True, max_length=36)
    client_id: str = Field(max_length=255)
    country: str = Field(max_length=2)
    request_timestamp: datetime = Field(sa_type=sa.DateTime(timezone=True))
    total_count: int
    successes: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    failures: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
