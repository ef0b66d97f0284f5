"""The reference revision: one row whose number every writer of reference data (checklist
load, SAPI load, publication, Species+ sync) raises in its own transaction. Each replica
serves names and statuses from an in-memory snapshot and rebuilds it when the stored
revision moves past the snapshot's (see `reference.snapshot`)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from species_ref.tables import SpeciesRefTable

REVISION_ROW = 1


class ReferenceRevision(SpeciesRefTable, table=True):
    __tablename__ = "reference_revision"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    revision: int
    changed_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
