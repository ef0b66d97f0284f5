"""The audit table is append-only in the database itself: UPDATE and DELETE abort."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from gateway.app import DEFINITION
from pangolin_core import migrations
from pangolin_core.db import create_engine
from pangolin_core.testing import postgres_database

ROW = {
    "at": datetime(2026, 11, 25, 11, 0, tzinfo=UTC),
    "request_id": "req-1",
    "client_id": "client-1",
    "country": "KE",
    "method": "GET",
    "path": "/v1/species/taxa/1",
    "route": "/v1/species/**",
    "upstream": "species-ref",
    "status": 200,
    "latency_ms": 3.5,
}

INSERT = sa.text(
    "INSERT INTO gateway_audit (at, request_id, client_id, country, method, path, route,"
    " upstream, status, latency_ms) VALUES (:at, :request_id, :client_id, :country, :method,"
    " :path, :route, :upstream, :status, :latency_ms)"
)

CHANGES = [
    "UPDATE gateway_audit SET status = 500",
    "UPDATE gateway_audit SET client_id = NULL WHERE request_id = 'req-1'",
    "DELETE FROM gateway_audit",
    "DELETE FROM gateway_audit WHERE request_id = 'req-1'",
]


@pytest.mark.parametrize("change", CHANGES)
async def test_rows_cannot_be_changed_or_deleted(database_url: str, change: str) -> None:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(INSERT, ROW)

        with pytest.raises(sa.exc.DBAPIError, match="gateway_audit is append-only"):
            async with engine.begin() as conn:
                await conn.execute(sa.text(change))

        async with engine.connect() as conn:
            rows = (
                await conn.execute(sa.text("SELECT request_id, status FROM gateway_audit"))
            ).all()
        assert [tuple(r) for r in rows] == [("req-1", 200)]
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_truncate_is_refused_on_postgresql() -> None:
    async with postgres_database() as database_url:
        await migrations.upgrade(DEFINITION.migrations, database_url)
        engine = create_engine(database_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(INSERT, ROW)
            with pytest.raises(sa.exc.DBAPIError, match="gateway_audit is append-only"):
                async with engine.begin() as conn:
                    await conn.execute(sa.text("TRUNCATE gateway_audit"))
            async with engine.connect() as conn:
                count = (await conn.execute(sa.text("SELECT count(*) FROM gateway_audit"))).scalar()
            assert count == 1
        finally:
            await engine.dispose()


async def test_downgrade_removes_the_guards(database_url: str) -> None:
    """Below 0003 nothing of the audit trail is left: no table, trigger or function."""
    await migrations.upgrade(DEFINITION.migrations, database_url)
    await migrations.downgrade(DEFINITION.migrations, database_url, "0002")
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                leftovers = await conn.execute(
                    sa.text("SELECT name FROM sqlite_master WHERE name LIKE 'gateway_audit%'")
                )
            else:
                leftovers = await conn.execute(
                    sa.text(
                        "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'gateway_audit%'"
                        " UNION ALL SELECT proname FROM pg_proc"
                        " WHERE proname = 'gateway_audit_refuse_change'"
                        " UNION ALL SELECT tablename FROM pg_tables"
                        " WHERE tablename = 'gateway_audit'"
                    )
                )
            assert leftovers.all() == []
    finally:
        await engine.dispose()
