"""Tables of intelligence records.

`intel_record` holds the envelope every record shares (originator, grading, TLP,
distribution, dates, version, revoked) in columns, so the access rule and the searches run in
SQL; the type's own fields (a seizure report, an alert, an entity) are `details` (JSON, as
validated by `records.schemas`). `intel_record_facet` indexes what a search filters on
(countries, species, entity ids) one row per value; `intel_relationship` links a record to
another record; `intel_record_version` keeps every version as it was published (the TAXII
`versions` resource and the audit of changes read it).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from intel_share.tables import IntelShareTable


class IntelRecord(IntelShareTable, table=True):
    __tablename__ = "intel_record"
    __table_args__ = (
        sa.Index("ix_intel_record_created_at_id", "created_at", "id"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.CheckConstraint("confidence >= 0 AND confidence <= 100", name="confidence_range"),
        sa.CheckConstraint(
            "(distribution = 'sharing_group') = (sharing_group_id IS NOT NULL)",
            name="sharing_group_iff_distribution",
        ),
    )

    id: str = Field(primary_key=True, max_length=36)  # a uuid, the same on every instance
    type: str = Field(max_length=16, index=True)  # RecordType: seizure, alert, entity
    title: str = Field(max_length=255)
    description: str | None = Field(default=None, sa_type=sa.Text)
    # Kept unchanged across instances: who first reported the record.
    originator_agency: str = Field(max_length=255)
    originator_country: str = Field(max_length=2, index=True)
    grading_scheme: str = Field(max_length=16)  # admiralty, 5x5x5, 3x5x2
    grading_source: str = Field(max_length=1)  # source reliability / evaluation: A..F
    grading_information: str = Field(max_length=1)  # information credibility: 1..6
    confidence: int  # the grading mapped to 0-100 (records.grading)
    handling_code: str | None = Field(default=None, max_length=64)
    tlp: str = Field(max_length=12)  # clear, green, amber, amber+strict, red
    distribution: str = Field(max_length=16)  # organisation, country, community, sharing_group
    # The country a `country` record is shared within: the originator's country, or the
    # receiving country for a record that arrived from a partner with its distribution
    # downgraded to `country`.
    distribution_country: str | None = Field(default=None, max_length=2)
    sharing_group_id: str | None = Field(
        default=None, foreign_key="sharing_group.id", max_length=36, index=True
    )
    review_on: date | None = None
    expires_on: date | None = None
    # The date of what happened (a seizure's date, an alert's first valid day): searches
    # by `event` time read it.
    event_on: date | None = Field(default=None, index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    # Lower-cased title, description, names, aliases and species: the `text` search.
    search_text: str = Field(default="", sa_type=sa.Text)
    version: int = 1
    revoked: bool = False
    revoked_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    revoked_reason: str | None = Field(default=None, sa_type=sa.Text)
    # The version whose expiry has been announced (`intel.watchlist.changed` with no entries,
    # `records.expiry`): a version is announced once; a new version may be announced again.
    watchlist_expired_version: int | None = None
    created_by: str = Field(max_length=255)  # the client id that created it here
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)


class IntelRecordFacet(IntelShareTable, table=True):
    """One searchable value of a record: `country` (any role), `species`, `entity` (an entity
    record the record names: itself, an offender, a relationship's target)."""

    __tablename__ = "intel_record_facet"
    __table_args__ = (sa.Index("ix_intel_record_facet_facet_value", "facet", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    record_id: str = Field(foreign_key="intel_record.id", max_length=36, index=True)
    facet: str = Field(max_length=16)  # country, species, entity
    value: str = Field(max_length=255)  # countries upper case, species lower case


class IntelRelationship(IntelShareTable, table=True):
    """`source` -[kind]-> `target`: an offender `part_of_network` a network, a seizure
    `shipped_by` a company... The target may be a record this instance does not hold (yet)."""

    __tablename__ = "intel_relationship"
    __table_args__ = (sa.UniqueConstraint("source_id", "kind", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(foreign_key="intel_record.id", max_length=36, index=True)
    kind: str = Field(max_length=32)  # RelationshipKind
    target_id: str = Field(max_length=36, index=True)
    description: str | None = Field(default=None, sa_type=sa.Text)


class IntelRecordVersion(IntelShareTable, table=True):
    """A record as it was at one version (`snapshot` = the `RecordOut` JSON)."""

    __tablename__ = "intel_record_version"
    __table_args__ = (sa.UniqueConstraint("record_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    record_id: str = Field(foreign_key="intel_record.id", max_length=36, index=True)
    version: int
    snapshot: dict[str, Any] = Field(sa_type=sa.JSON)
    changed_by: str = Field(max_length=255)  # client id
    changed_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
