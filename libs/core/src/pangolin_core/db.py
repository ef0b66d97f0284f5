"""Async database access: one engine per app, a session per unit of work.

SQLite (aiosqlite, WAL, foreign keys on) by default; PostgreSQL (asyncpg) by URL. A unit of
work commits on success and rolls back on error; listeners run after a commit (the outbox
relay uses that to publish at once instead of at its next poll).

Hot paths have a second way in, `Database.run`: a plain function of Core statements over a
synchronous connection, run as one unit of work. On SQLite every aiosqlite statement is a
hop to a thread and back (~0.3-1 ms each here, `../shared/MEASURED.md`); `run` makes the
whole unit of work one hop, to a thread with its own pysqlite connection (writes: one thread,
SQLite has one writer anyway). On PostgreSQL it runs on an asyncpg connection in the loop.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, MetaData, event, text
from sqlalchemy import create_engine as create_sync_engine
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

# Threads of `Database.run` on SQLite for reads (writes have one).
SQLITE_READ_THREADS = 4

T = TypeVar("T")


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
        _configure_sqlite(engine.sync_engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


def _sqlite_sync_engine(url: str) -> Engine:
    """The pysqlite engine of `Database.run` on the same file, configured like the async one;
    its connections are used by the threads of `run` only."""
    parsed = make_url(url).set(drivername="sqlite+pysqlite")
    engine = create_sync_engine(
        parsed,
        connect_args={"timeout": 30, "check_same_thread": False},
        pool_size=SQLITE_READ_THREADS + 1,
    )
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN and cannot take the write lock early;
    # SQLAlchemy's documented recipe: turn it off and emit BEGIN ourselves. Writers use
    # BEGIN IMMEDIATE so concurrent read-then-write transactions queue on busy_timeout
    # instead of failing with SQLITE_BUSY when they upgrade their lock.
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
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
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._commit_listeners: list[CommitListener] = []
        # `run` on SQLite: a pysqlite engine (no connection until used) and threads made at
        # first use (most apps never call it).
        self._sync_engine = _sqlite_sync_engine(self.url) if self.is_sqlite else None
        self._sync_writer = (
            None
            if self._sync_engine is None
            else self._sync_engine.execution_options(**{_WRITE: True})
        )
        self._write_thread: ThreadPoolExecutor | None = None
        self._read_threads: ThreadPoolExecutor | None = None

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

    async def run(
        self,
        work: Callable[[Connection], T],
        *,
        write: bool = True,
        info: dict[str, Any] | None = None,
    ) -> T:
        """Run `work(connection)` as one unit of work and return what it returns: committed
        when it returns, rolled back when it raises (a unique or foreign-key violation
        becomes a 409 `Conflict`, as in `session`). After a write unit commits the listeners
        are called with `info`, as with a session's `info`. A read unit (`write=False`) on
        PostgreSQL runs in autocommit: each statement reads committed data, as it would in a
        READ COMMITTED transaction.

        `work` is synchronous code of Core statements: on SQLite it runs in a thread of this
        database's (one for writes, a few for reads), the whole unit of work in one hop; on
        PostgreSQL on an async connection, in the loop. It must not touch the event loop.
        A caller cancelled while `work` runs in a thread does not stop it: the unit of work
        still commits or rolls back as a whole."""
        try:
            if self._sync_engine is not None:
                result = await self._run_in_thread(work, write=write)
            elif write:
                async with self._writer.begin() as conn:
                    result = await conn.run_sync(work)
            else:
                # PostgreSQL reads without BEGIN and COMMIT (two round trips fewer): under
                # READ COMMITTED each statement reads its own snapshot in a transaction too.
                async with self._autocommit.connect() as conn:
                    result = await conn.run_sync(work)
        except IntegrityError as exc:
            raise Conflict("The change conflicts with data already stored.") from exc
        if write:
            for listener in self._commit_listeners:
                listener(dict(info or {}))
        return result

    async def _run_in_thread(self, work: Callable[[Connection], T], *, write: bool) -> T:
        assert self._sync_engine is not None
        assert self._sync_writer is not None
        bind: Engine
        if write:
            if self._write_thread is None:
                self._write_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-write")
            bind, threads = self._sync_writer, self._write_thread
        else:
            if self._read_threads is None:
                self._read_threads = ThreadPoolExecutor(
                    SQLITE_READ_THREADS, thread_name_prefix="sqlite-read"
                )
            bind, threads = self._sync_engine, self._read_threads

        def unit_of_work() -> T:
            with bind.begin() as conn:
                return work(conn)

        # In the caller's context, so the statements' spans are children of the caller's.
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(threads, context.run, unit_of_work)

    @property
    def engines(self) -> list[Engine]:
        """Every engine this database uses (the async one's sync face and, on SQLite, the
        pysqlite engine of `run`): for tracing."""
        return [self.engine.sync_engine] + ([self._sync_engine] if self._sync_engine else [])

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
        for threads in (self._write_thread, self._read_threads):
            if threads is not None:
                threads.shutdown(wait=True)
        if self._sync_engine is not None:
            self._sync_engine.dispose()


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
