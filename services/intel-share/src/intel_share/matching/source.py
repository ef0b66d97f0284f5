"""Where the match index gets its entities: the seam to the records (intel-a's tables).

An `EntitySource` reads the people and companies of current records (not revoked, not
expired), each with its record's `RecordAccess`. PLACEHOLDER: the records are not on this
branch, so `NoRecordsYet` yields nothing; the lead implements `RecordEntities` over the entity
tables and passes it to `create_app(entity_source=...)` (or makes it the default)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from pangolin_core.matching import IndexedEntity


class EntitySource(Protocol):
    async def load(self, session: AsyncSession) -> list[IndexedEntity]:
        """Every person and company of every current record."""
        ...

    async def load_record(self, session: AsyncSession, record_id: str) -> list[IndexedEntity]:
        """The people and companies of one record now: [] when it is revoked, expired or
        gone (the index then drops what it held for the record)."""
        ...


class NoRecordsYet:
    """The placeholder source: no entity tables on this branch yet."""

    async def load(self, session: AsyncSession) -> list[IndexedEntity]:
        return []

    async def load_record(self, session: AsyncSession, record_id: str) -> list[IndexedEntity]:
        return []
