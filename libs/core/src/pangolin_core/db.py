"""Async database access: one engine per app, a session per unit of work.

SQLite (aiosqlite, WAL, foreign keys on) by default; PostgreSQL (asyncpg) by URL. A unit of
work commits on success and rolls back on error; listeners run after a commit (the outbox
relay uses that to publish at once instead of at its next poll).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.errors import Conflict

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The execution option that makes a SQLite transaction take the write lock at BEGIN.
_WRITE = "pangolin_write"


def service_metadata() -> MetaData:
    """A fresh metadata with the house naming convention: one per service."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def async_url(url: str) -> str:
    """Accept plain `sqlite:///` and `postgresql://` URLs and pick the async driver."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    else:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = async_url(url)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


def _configure_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling defers BEGIN and cannot take the write lock early;
    # SQLAlchemy's documented recipe: turn it off and emit BEGIN ourselves. Writers use
    # BEGIN IMMEDIATE so concurrent read-then-write transactions queue on busy_timeout
    # instead of failing with SQLITE_BUSY when they upgrade their lock.
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


CommitListener = Callable[[dict[str, Any]], None]


class Database:
    """The app's engine and its units of work."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = async_url(url)
        self.engine = create_engine(url, **engine_kwargs)
        self._writer = self.engine.execution_options(**{_WRITE: True})
        self._commit_listeners: list[CommitListener] = []

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    def on_commit(self, listener: CommitListener) -> None:
        """Call `listener(session.info)` after each successful commit."""
        self._commit_listeners.append(listener)

    @asynccontextmanager
    async def session(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A unit of work: commit when the block ends, roll back when it raises.

        `write=False` is for read-only work: on SQLite it does not take the write lock.
        A unique or foreign-key violation at commit becomes a 409 `Conflict`.
        """
        bind = self._writer if write else self.engine
        async with AsyncSession(bind, expire_on_commit=False) as session:
            try:
                yield session
                await session.commit()
            except IntegrityError as exc:
                await session.rollback()
                raise Conflict("The change conflicts with data already stored.") from exc
            except BaseException:
                await session.rollback()
                raise
            info = dict(session.info)
        for listener in self._commit_listeners:
            listener(info)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def database_of(request: Request) -> Database:
    db: Database = request.app.state.runtime.db
    return db


_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work; committed before the response is sent."""
    db = database_of(request)
    async with db.session(write=request.method not in _READ_METHODS) as session:
        yield session


async def request_write_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The unit of work of a read that writes (an audited read: a GET that records who
    read what). On SQLite a GET's session begins without the write lock, and taking it
    later fails at once ("database is locked") while another writer holds it, busy timeout
    or not; this one takes it at BEGIN and waits its turn."""
    async with database_of(request).session(write=True) as session:
        yield session


# scope="function": the commit runs when the endpoint returns, before the response goes out,
# so a client never sees a 2xx for a change that then failed to commit.
SessionDep = Annotated[AsyncSession, Depends(request_session, scope="function")]
AuditedReadSessionDep = Annotated[AsyncSession, Depends(request_write_session, scope="function")]
