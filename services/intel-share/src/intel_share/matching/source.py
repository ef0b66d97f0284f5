"""Where the match index gets its entities: the people and companies of the entity records.

An `EntitySource` reads the people and companies of current records (not revoked, not
expired), each with its record's `RecordAccess` (`access.rules`), so the index filters a
caller's matches with the same rule the records API applies in SQL. `RecordEntities` reads
intel-share's own tables; a test may pass another source to `create_app(entity_source=...)`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.records import repository
from intel_share.records.models import IntelRecord
from intel_share.records.service import record_access
from pangolin_core.matching import IndexedEntity

# The kinds of entity the matcher scores (vessels, aircraft and addresses are not matched).
MATCHED_KINDS = ("person", "company")


class EntitySource(Protocol):
    async def load(self, session: AsyncSession) -> list[IndexedEntity]:
        """Every person and company of every current record."""
        ...

    async def load_record(self, session: AsyncSession, record_id: str) -> list[IndexedEntity]:
        """The people and companies of one record now: [] when it is revoked, expired or
        gone (the index then drops what it held for the record)."""
        ...


class RecordEntities:
    """The entity records (`intel_record` of type `entity`, kind person or company): one
    `IndexedEntity` per record, named by its name then its aliases (transliterations and
    translations), with its record's access."""

    async def load(self, session: AsyncSession) -> list[IndexedEntity]:
        return await _entities(session, record_id=None)

    async def load_record(self, session: AsyncSession, record_id: str) -> list[IndexedEntity]:
        return await _entities(session, record_id=record_id)


async def _entities(session: AsyncSession, *, record_id: str | None) -> list[IndexedEntity]:
    today = datetime.now(UTC).date()
    rows = await repository.current_entities(session, today=today, record_id=record_id)
    return [indexed_entity(row) for row in rows if row.details.get("kind") in MATCHED_KINDS]


def indexed_entity(record: IntelRecord) -> IndexedEntity:
    """An entity record as the index holds it. Its access names the record's sharing group
    but not its members: a match reads those afresh (`matching.access`)."""
    details = record.details
    names = [str(details["name"]), *(str(alias["name"]) for alias in details.get("aliases", []))]
    birth_date = details.get("birth_date")
    return IndexedEntity(
        entity_id=record.id,
        record_id=record.id,
        kind=details["kind"],
        names=list(dict.fromkeys(names)),
        country=details.get("country"),
        birth_date=date.fromisoformat(str(birth_date)) if birth_date else None,
        identifiers={str(k): str(v) for k, v in details.get("identifiers", {}).items()},
        access=record_access(record),
    )
