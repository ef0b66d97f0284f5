"""The audit writer against real databases: batches, order, shutdown, retry, bounded queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from structlog.testing import capture_logs

from gateway.app import DEFINITION
from gateway.audit.writer import BatchAuditWriter
from gateway.state import AuditRecord
from pangolin_core import migrations
from pangolin_core.db import Database
from pangolin_core.testing import eventually

START = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def entry(n: int, **overrides: Any) -> AuditRecord:
    values: dict[str, Any] = {
        "at": START + timedelta(milliseconds=n),
        "request_id": f"req-{n:05d}",
        "method": "GET",
        "path": f"/v1/species/taxa/{n}",
        "route": "/v1/species/**",
        "status": 200,
        "latency_ms": 1.25,
        "client_id": "client-1",
        "country": "KE",
        "upstream": "species-ref",
    }
    values.update(overrides)
    return AuditRecord(**values)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    database = Database(database_url)
    yield database
    await database.dispose()


async def stored(db: Database) -> list[tuple[Any, ...]]:
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT request_id, client_id, status FROM gateway_audit ORDER BY id")
        )
        return [tuple(r) for r in rows]


def count_commits(db: Database) -> list[int]:
    commits: list[int] = []
    event.listen(db.engine.sync_engine, "commit", lambda _conn: commits.append(1))
    return commits


async def test_a_flush_writes_2000_entries_in_four_transactions_in_order(db: Database) -> None:
    writer = BatchAuditWriter(db, batch_size=500)
    commits = count_commits(db)
    for n in range(2000):
        writer.record(entry(n, client_id=None if n % 7 == 0 else "client-1"))

    assert await writer.flush() == 2000

    assert len(commits) == 4
    rows = await stored(db)
    assert [r[0] for r in rows] == [f"req-{n:05d}" for n in range(2000)]
    assert rows[0][1] is None and rows[1][1] == "client-1"
    assert writer.pending == 0 and writer.written == 2000


async def test_the_background_task_writes_a_full_batch_at_once(db: Database) -> None:
    # A minute between ticks: only a full batch can trigger this write.
    writer = BatchAuditWriter(db, flush_seconds=60, batch_size=100)
    async with writer.running():
        for n in range(100):
            writer.record(entry(n))

        async def all_written() -> bool:
            return len(await stored(db)) == 100

        await eventually(all_written)


async def test_the_background_task_writes_what_waits_at_each_tick(db: Database) -> None:
    writer = BatchAuditWriter(db, flush_seconds=0.05, batch_size=500)
    async with writer.running():
        for n in range(3):
            writer.record(entry(n))

        async def all_written() -> bool:
            return len(await stored(db)) == 3

        await eventually(all_written)


async def test_what_is_left_is_written_on_shutdown(db: Database) -> None:
    writer = BatchAuditWriter(db, flush_seconds=60, batch_size=500)
    async with writer.running():
        for n in range(10):
            writer.record(entry(n))
        assert await stored(db) == []

    assert [r[0] for r in await stored(db)] == [f"req-{n:05d}" for n in range(10)]


async def test_a_failed_flush_keeps_the_batch_and_the_next_one_writes_it(
    database_url: str,
) -> None:
    # The database is there but the table is not yet: every write fails for real.
    await migrations.upgrade(DEFINITION.migrations, database_url, "0002")
    db = Database(database_url)
    try:
        writer = BatchAuditWriter(db, flush_seconds=0.02, batch_size=4)
        with capture_logs() as logs:
            async with writer.running():
                for n in range(10):
                    writer.record(entry(n))

                async def failed_twice() -> bool:
                    return writer.failures >= 2

                await eventually(failed_twice)
                assert writer.pending == 10 and writer.written == 0

                await migrations.upgrade(DEFINITION.migrations, database_url)
                writer.record(entry(10))

                async def all_written() -> bool:
                    return writer.written == 11

                await eventually(all_written)

        assert [r[0] for r in await stored(db)] == [f"req-{n:05d}" for n in range(11)]
        failures = [log for log in logs if log["event"] == "audit_flush_failed"]
        assert len(failures) >= 2 and all(log["log_level"] == "error" for log in failures)
        # The traceback once, then one line per failed tick; and a word when it is over.
        assert failures[0].get("exc_info") and "exc_info" not in failures[1]
        assert failures[1]["failed_flushes"] == 2
        recovered = [log for log in logs if log["event"] == "audit_flush_recovered"]
        assert recovered == [
            {"event": "audit_flush_recovered", "log_level": "info",
             "failed_flushes": writer.failures}
        ]  # fmt: skip
    finally:
        await db.dispose()


async def test_flush_raises_and_keeps_the_entries_when_the_database_refuses(
    database_url: str,
) -> None:
    await migrations.upgrade(DEFINITION.migrations, database_url, "0002")
    db = Database(database_url)
    try:
        writer = BatchAuditWriter(db, batch_size=3)
        for n in range(5):
            writer.record(entry(n))
        with pytest.raises(sa.exc.DBAPIError):
            await writer.flush()
        assert writer.pending == 5

        await migrations.upgrade(DEFINITION.migrations, database_url)
        assert await writer.flush() == 5
        assert [r[0] for r in await stored(db)] == [f"req-{n:05d}" for n in range(5)]
    finally:
        await db.dispose()


async def test_a_full_queue_drops_and_counts_instead_of_growing(db: Database) -> None:
    writer = BatchAuditWriter(db, batch_size=5, max_pending=10)
    with capture_logs() as logs:
        for n in range(25):
            writer.record(entry(n))  # never blocks, never raises

    assert writer.pending == 10 and writer.dropped == 15
    full = [log for log in logs if log["event"] == "audit_queue_full"]
    assert len(full) == 1 and full[0]["log_level"] == "error"

    with capture_logs() as logs:
        async with writer.running():
            pass
    reported = [log for log in logs if log["event"] == "audit_entries_dropped"]
    assert reported == [
        {
            "event": "audit_entries_dropped",
            "log_level": "error",
            "count": 15,
            "total": 15,
            "pending": 0,
        }
    ]
    assert [r[0] for r in await stored(db)] == [f"req-{n:05d}" for n in range(10)]
