"""Pytest fixtures that trust nothing they did not start (loaded by the root conftest).

- `nats_server`: a real nats-server on a free port for the test session, restartable inside a
  test; `nats_url` gives each test a server with no streams left by earlier tests.
- `database_url`: a fresh database per test, on SQLite and (parametrized) on PostgreSQL when
  `PANGOLIN_TEST_POSTGRES_URL` is set or 127.0.0.1:5432 answers; skipped with the reason
  otherwise, and a failure when `CI` is set (CI must run the PostgreSQL tests).
- `running_app`: an app with its lifespan running, and an httpx client over ASGITransport.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar
from uuid import uuid4

import httpx
import nats
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from pangolin_core.identity import Caller, IdentitySigner
from pangolin_core.natsserver import NatsServer
from pangolin_core.settings import DEV_IDENTITY_PRIVATE_KEY

T = TypeVar("T")

POSTGRES_ENV = "PANGOLIN_TEST_POSTGRES_URL"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path_factory.mktemp("nats")).start()
    yield server
    server.stop()


@pytest.fixture
async def nats_url(nats_server: NatsServer) -> str:
    """The server's URL, running and with every stream of earlier tests deleted."""
    nats_server.start()
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            if info.config.name:
                await js.delete_stream(info.config.name)
    finally:
        await nc.close()
    return nats_server.url


def _postgres_admin_url() -> str | None:
    configured = os.environ.get(POSTGRES_ENV)
    if configured:
        return configured
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return DEFAULT_POSTGRES
    except OSError:
        return None


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """Create a database for one test and drop it afterwards."""
    import asyncpg

    admin = _postgres_admin_url()
    if admin is None:
        reason = f"no PostgreSQL: set {POSTGRES_ENV} or run one on 127.0.0.1:5432"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests, but there is {reason}")
        pytest.skip(reason)
    name = f"pangolin_test_{uuid4().hex[:12]}"
    admin_dsn = make_url(admin).set(drivername="postgresql").render_as_string(False)
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield make_url(admin_dsn).set(database=name).render_as_string(False)
    finally:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    async with postgres_database() as url:
        yield url


@asynccontextmanager
async def running_app(
    app: FastAPI, *, raise_app_exceptions: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and give a client that calls it in-process.

    Starlette re-raises an unhandled error after sending its 500 (for the server to log);
    `raise_app_exceptions=False` lets a test read that 500 as a client would.
    """
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def identity_headers(
    *scopes: str, client_id: str = "test-client", country: str = "KE", roles: tuple[str, ...] = ()
) -> dict[str, str]:
    """The header the gateway would forward, signed with the development key. It lives an
    hour, not the gateway's 60 s: modules build it once, at import, for a whole test run."""
    token = IdentitySigner(DEV_IDENTITY_PRIVATE_KEY, ttl_seconds=3600).sign(
        Caller(client_id, country, frozenset(roles), frozenset(scopes))
    )
    return {"X-Pangolin-Identity": token}


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, timeout: float = 10.0, interval: float = 0.02
) -> T:
    """Wait until `check()` returns something truthy (and return it), or fail the test."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            pytest.fail(f"condition not met within {timeout} s: {check.__name__}")
        await asyncio.sleep(interval)  # polling a condition, with a deadline
