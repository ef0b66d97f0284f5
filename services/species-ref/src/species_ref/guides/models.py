"""Identification guides: a title and language, a link or a stored document, on a taxon.
A guide on a genus, family or order also serves every taxon below it (see `guides.service`).
Publishing the same (taxon, language, title) again replaces the guide."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field

from species_ref.tables import SpeciesRefTable


def _now() -> datetime:
    return datetime.now(UTC)


class IdGuide(SpeciesRefTable, table=True):
    __tablename__ = "id_guide"
    __table_args__ = (sa.UniqueConstraint("taxon_id", "language", "title"),)

    id: int | None = Field(default=None, primary_key=True)
    taxon_id: int = Field(foreign_key="taxon_concept.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=500)
    language: str = Field(max_length=2)  # ISO 639-1
    url: str | None = Field(default=None, max_length=2000)
    document: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    media_type: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, sa_type=sa.Text)
    source: str = Field(max_length=100)  # e.g. "publication 3f2a..."
    published_by: str | None = Field(default=None, max_length=200)
    published_at: datetime = Field(default_factory=_now, sa_type=sa.DateTime(timezone=True))
