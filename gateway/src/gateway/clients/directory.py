"""Every client, in memory: per-request authentication never touches the database.

Loaded at start, then refreshed every `client_refresh_seconds` by re-reading the rows changed
since the last look (so a change made on another replica counts within one interval), and at
once after a change committed on this replica (the clients service leaves the changed records
in the session's `info`; `on_commit` applies them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from gateway.clients.models import Client, ClientStatus
from gateway.clients.repository import changed_since
from pangolin_core.db import Database

log = structlog.get_logger(__name__)

# Where a unit of work that changed clients lists their new records (see `on_commit`).
CHANGED_CLIENTS = "gateway.changed_clients"

# Rows are re-read from this long before the newest change seen: a transaction that commits
# late, or a replica whose clock lags, still gets its change noticed.
_OVERLAP = timedelta(seconds=60)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite drops the zone


@dataclass(frozen=True)
class ClientRecord:
    """A client as authentication sees it (a snapshot of its row)."""

    id: str
    name: str
    country: str
    roles: frozenset[str]
    scopes: frozenset[str]
    status: str
    secret_hash: str
    api_key_id: str
    api_key_hash: str
    rate: float | None
    burst: int | None
    created_at: datetime
    rotated_at: datetime
    updated_at: datetime

    @property
    def active(self) -> bool:
        return self.status == ClientStatus.ACTIVE

    @classmethod
    def of(cls, row: Client) -> ClientRecord:
        return cls(
            id=row.id,
            name=row.name,
            country=row.country,
            roles=frozenset(row.roles),
            scopes=frozenset(row.scopes),
            status=row.status,
            secret_hash=row.secret_hash,
            api_key_id=row.api_key_id,
            api_key_hash=row.api_key_hash,
            rate=row.rate,
            burst=row.burst,
            created_at=_utc(row.created_at),
            rotated_at=_utc(row.rotated_at),
            updated_at=_utc(row.updated_at),
        )


def note_change(info: dict[str, Any], record: ClientRecord) -> None:
    """Called by the clients service inside a unit of work: applied once it commits."""
    info.setdefault(CHANGED_CLIENTS, []).append(record)


class ClientDirectory:
    def __init__(self, db: Database, *, refresh_seconds: float) -> None:
        self._db = db
        self.refresh_seconds = refresh_seconds
        self._by_id: dict[str, ClientRecord] = {}
        self._by_api_key_id: dict[str, str] = {}
        self._newest: datetime | None = None

    def get(self, client_id: str) -> ClientRecord | None:
        return self._by_id.get(client_id)

    def by_api_key_id(self, api_key_id: str) -> ClientRecord | None:
        client_id = self._by_api_key_id.get(api_key_id)
        return self._by_id.get(client_id) if client_id is not None else None

    def __len__(self) -> int:
        return len(self._by_id)

    def apply(self, records: Iterable[ClientRecord]) -> None:
        """Take newer records in; an older snapshot (a slow read) never replaces a newer one."""
        for record in records:
            current = self._by_id.get(record.id)
            if current is not None:
                if current.updated_at > record.updated_at:
                    continue
                self._by_api_key_id.pop(current.api_key_id, None)
            self._by_id[record.id] = record
            self._by_api_key_id[record.api_key_id] = record.id
            if self._newest is None or record.updated_at > self._newest:
                self._newest = record.updated_at

    async def refresh(self) -> None:
        """Re-read the clients changed since the newest change seen (all at first)."""
        since = self._newest - _OVERLAP if self._newest is not None else None
        async with self._db.session(write=False) as session:
            rows = await changed_since(session, since)
            records = [ClientRecord.of(row) for row in rows]
        self.apply(records)

    def on_commit(self, info: dict[str, Any]) -> None:
        """A `Database.on_commit` listener: this replica's own changes count at once."""
        self.apply(info.get(CHANGED_CLIENTS, ()))

    async def run(self) -> None:
        """Refresh every `refresh_seconds` until cancelled; a failed refresh is retried."""
        while True:
            await asyncio.sleep(self.refresh_seconds)  # the refresh interval, by design
            try:
                await self.refresh()
            except Exception:
                log.exception("client_refresh_failed")
