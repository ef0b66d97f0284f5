"""`Database.run`: a synchronous unit of work of Core statements, in one hop on SQLite.

Each test runs on SQLite and on PostgreSQL (`database_url`)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import Connection

from backbone_support import bump, count_of, tally
from pangolin_core.db import Database
from pangolin_core.errors import Conflict
from pangolin_core.telemetry import Telemetry, instrument_engine


def insert(key: str, count: int = 1) -> Any:
    def work(conn: Connection) -> str:
        conn.execute(sa.insert(tally).values(key=key, count=count))
        return key

    return work


def add_one(key: str) -> Any:
    def work(conn: Connection) -> None:
        conn.execute(sa.update(tally).where(tally.c.key == key).values(count=tally.c.count + 1))

    return work


async def test_a_unit_of_work_commits_returns_and_tells_the_listeners(db: Database) -> None:
    told: list[dict[str, Any]] = []
    db.on_commit(told.append)

    assert await db.run(insert("a", 3), info={"written": "a"}) == "a"

    assert told == [{"written": "a"}]
    assert await count_of(db, "a") == 3


async def test_a_unit_of_work_that_raises_writes_nothing(db: Database) -> None:
    told: list[dict[str, Any]] = []
    db.on_commit(told.append)

    def half_then_fail(conn: Connection) -> None:
        conn.execute(sa.insert(tally).values(key="b", count=1))
        raise ValueError("refused after the first statement")

    with pytest.raises(ValueError, match="refused"):
        await db.run(half_then_fail)

    assert told == []
    assert await count_of(db, "b") == 0


async def test_a_violated_constraint_is_a_conflict_and_nothing_is_written(db: Database) -> None:
    await db.run(insert("c"))

    def two_rows(conn: Connection) -> None:
        conn.execute(sa.insert(tally).values(key="d", count=1))
        conn.execute(sa.insert(tally).values(key="c", count=1))  # already there

    with pytest.raises(Conflict):
        await db.run(two_rows)

    assert await count_of(db, "d") == 0
    assert await count_of(db, "c") == 1


async def test_a_read_sees_what_was_committed(db: Database) -> None:
    await db.run(insert("e", 7))

    def read(conn: Connection) -> int:
        return int(conn.scalar(sa.select(tally.c.count).where(tally.c.key == "e")) or 0)

    assert await db.run(read, write=False) == 7


async def test_units_of_work_and_sessions_write_the_same_rows_side_by_side(db: Database) -> None:
    """On SQLite `run` writes through its own connection; 40 of its units of work and 40
    sessions in flight together lose no update and fail none."""
    await db.run(insert("f", 0))

    async def by_session() -> None:
        async with db.session() as session:
            await bump(session, "f")  # type: ignore[arg-type]

    await asyncio.gather(
        *(db.run(add_one("f")) for _ in range(40)), *(by_session() for _ in range(40))
    )

    assert await count_of(db, "f") == 80


async def test_on_sqlite_the_work_runs_off_the_event_loop(sqlite_url: str) -> None:
    database = Database(sqlite_url)
    try:
        await database.run(lambda conn: conn.execute(sa.text("CREATE TABLE t (x INTEGER)")))
        loop_thread = threading.get_ident()

        def where(conn: Connection) -> int:
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
            return threading.get_ident()

        assert await database.run(where) != loop_thread
        assert (
            await database.run(lambda c: c.scalar(sa.text("SELECT count(*) FROM t")), write=False)
            == 1
        )
    finally:
        await database.dispose()


async def test_the_statements_are_traced_as_children_of_the_callers_span(
    db: Database, telemetry: Telemetry, spans: InMemorySpanExporter
) -> None:
    for engine in db.engines:
        instrument_engine(engine, telemetry)

    with telemetry.tracer.start_as_current_span("caller") as caller:
        await db.run(insert("g"))

    parent = caller.get_span_context().span_id
    statements = [s for s in spans.get_finished_spans() if s.name != "caller"]
    assert statements
    assert all(s.parent is not None and s.parent.span_id == parent for s in statements)
