"""Figures for the gateway's audit writer, measured on this machine.

1. record(): the cost the border pays per request (append to the in-memory queue), µs/call.
2. burst: N entries recorded at once while the writer runs with the gateway's defaults
   (flush every 0.5 s or as soon as 500 wait): entries committed per second from the first
   record to the last commit. paced: 2,000, 5,000 and 10,000 requests/s offered for a few
   seconds: the largest backlog, how long after the last request everything is stored. Both
   with the event loop's lag meanwhile (how long a request could have waited on the writer).
3. flush(): N entries queued, then `flush()`: batches of 500 and 2,000, one INSERT and one
   transaction each; pure database write rate.
4. reference, same run: one transaction per entry (what a writer without batching would do).
5. read: `GET /v1/admin/audit`'s query (repository.page, 100 rows) over the table just
   written: first page, a client's page, a page at a cursor deep in the table.

Each runs on SQLite (a file in a temp dir) and, when one answers, on PostgreSQL (a fresh
`pangolin_bench_<random>` database, dropped at the end). A benchmark, not a test:

    python3 -m uv run --frozen python bench/audit.py --help
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import secrets
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

# bench/gateway.py (the gateway's benchmark) shadows the `gateway` package for a script run
# from this folder, so the folder leaves the path before the package is imported.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import asyncpg  # noqa: E402
import sqlalchemy as sa  # noqa: E402
import structlog  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from gateway.app import DEFINITION  # noqa: E402
from gateway.audit import repository  # noqa: E402
from gateway.audit.writer import BatchAuditWriter  # noqa: E402
from gateway.state import AuditRecord  # noqa: E402
from pangolin_core import migrations  # noqa: E402
from pangolin_core.db import Database  # noqa: E402

POSTGRES_ENV = "PANGOLIN_BENCH_POSTGRES_URL"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
START = datetime(2026, 11, 25, tzinfo=UTC)
CLIENTS = [f"client-{n:02d}" for n in range(20)]
NO_FILTER: dict[str, object] = {
    "client_id": None,
    "since": None,
    "until": None,
    "status": None,
    "before": None,
    "limit": 101,
}


def entries(count: int, offset: int = 0) -> list[AuditRecord]:
    return [
        AuditRecord(
            at=START + timedelta(milliseconds=offset + n),
            request_id=secrets.token_hex(16),
            method="GET" if n % 4 else "POST",
            path=f"/v1/species/taxa/{n % 38_000}",
            route="/v1/species/**",
            status=200 if n % 50 else 404,
            latency_ms=4.2,
            client_id=CLIENTS[n % len(CLIENTS)],
            country="KE",
            upstream="species-ref",
        )
        for n in range(count)
    ]


def _moment(value: object) -> datetime:
    """SQLite hands a text timestamp to raw SQL; PostgreSQL a datetime."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def row(label: str, figure: float, unit: str, note: str = "") -> None:
    print(f"  {label:<58} {figure:>12,.1f} {unit:<10} {note}")


async def count_rows(db: Database) -> int:
    async with db.connect() as conn:
        return int((await conn.execute(sa.text("SELECT count(*) FROM gateway_audit"))).scalar_one())


async def bench_record(count: int) -> None:
    writer = BatchAuditWriter(Database("sqlite://"), max_pending=count)
    batch = entries(count)
    started = time.perf_counter()
    for entry in batch:
        writer.record(entry)
    elapsed = time.perf_counter() - started
    row("record(): append to the queue", elapsed / count * 1e6, "µs/call")


class LoopLag:
    """How late a 1 ms timer fires while something else runs: what a request would wait."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            expected = loop.time() + 0.001
            await asyncio.sleep(0.001)  # the measurement itself: how late a 1 ms timer fires
            self.lags.append(loop.time() - expected)

    def __enter__(self) -> LoopLag:
        self._task = asyncio.create_task(self._tick())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()

    def summary(self) -> str:
        lags = sorted(self.lags) or [0.0]
        p99 = lags[int(len(lags) * 0.99)] * 1e3
        return f"loop lag p99 {p99:.1f} ms, max {lags[-1] * 1e3:.1f} ms"


async def bench_burst(db: Database, count: int) -> float:
    """Everything recorded at once (the queue takes it all), then written by the writer."""
    writer = BatchAuditWriter(db, max_pending=count)  # the gateway's defaults otherwise
    batch = entries(count, offset=10_000_000)
    gc.collect()  # the bench's own garbage must not pause the loop inside the measurement
    before = await count_rows(db)
    with LoopLag() as lag:
        async with writer.running():
            started = time.perf_counter()
            for entry in batch:
                writer.record(entry)
            await writer.flush()  # what the background task has not written yet
            elapsed = time.perf_counter() - started
    assert await count_rows(db) - before == count, "every entry is stored"
    rate = count / elapsed
    row(f"burst: {count:,} recorded at once, until all committed", rate, "entries/s")
    print(f"    ({lag.summary()})")
    return rate


async def bench_paced(db: Database, rate: int, seconds: float) -> None:
    """`rate` requests/s offered for `seconds`, in 1 ms steps, to a writer with the gateway's
    defaults: does it keep up (backlog), how long after the last request is all stored."""
    count = int(rate * seconds)
    writer = BatchAuditWriter(db)
    batch = entries(count, offset=40_000_000 + rate * 10)
    gc.collect()
    loop = asyncio.get_running_loop()
    before = await count_rows(db)
    backlog = 0
    with LoopLag() as lag:
        async with writer.running():
            started = loop.time()
            sent = 0
            while sent < count:
                due = min(count, int((loop.time() - started) * rate))
                for entry in batch[sent:due]:
                    writer.record(entry)
                sent = due
                backlog = max(backlog, writer.pending)
                await asyncio.sleep(0.001)  # pacing the offered load: the next ms of requests
            offered = loop.time() - started
            last = loop.time()
            await writer.flush()
            drain = loop.time() - last
    assert await count_rows(db) - before == count, "every entry is stored"
    row(
        f"paced: {rate:,}/s offered for {offered:.1f} s",
        count / (offered + drain),
        "entries/s",
        f"max backlog {backlog:,}, all stored {drain * 1e3:.0f} ms after the last; {lag.summary()}",
    )


async def bench_flush(db: Database, count: int, batch_size: int) -> float:
    writer = BatchAuditWriter(db, batch_size=batch_size, max_pending=count)
    for entry in entries(count, offset=20_000_000 + batch_size * 1000):
        writer.record(entry)
    started = time.perf_counter()
    written = await writer.flush()
    elapsed = time.perf_counter() - started
    assert written == count
    rate = count / elapsed
    row(f"flush(): {count:,} queued, batches of {batch_size:,}", rate, "entries/s")
    return rate


async def bench_one_per_transaction(db: Database, count: int) -> float:
    started = time.perf_counter()
    for entry in entries(count, offset=30_000_000):
        async with db.session() as session:
            await repository.append(session, [entry])
    rate = count / (time.perf_counter() - started)
    row(f"reference: one transaction per entry ({count:,})", rate, "entries/s")
    return rate


async def bench_reads(db: Database, repeats: int) -> None:
    async def timed(label: str, **kw: object) -> None:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            async with db.session(write=False) as session:
                found = await repository.page(session, **{**NO_FILTER, **kw})  # type: ignore[arg-type]
            times.append(time.perf_counter() - started)
            assert found
        row(f"read: {label}", statistics.median(times) * 1e3, "ms (p50)")

    async with db.connect() as conn:
        middle = (
            await conn.execute(
                sa.text(
                    "SELECT at, id FROM gateway_audit ORDER BY at DESC, id DESC LIMIT 1 OFFSET :n"
                ),
                {"n": await count_rows(db) // 2},
            )
        ).one()
    await timed("newest 100")
    await timed("newest 100 of one client", client_id=CLIENTS[3])
    await timed(
        "100 at a cursor half-way", before=(repository.as_utc(_moment(middle[0])), middle[1])
    )
    await timed("100 with status 404", status=404)


async def bench_backend(name: str, url: str, args: argparse.Namespace) -> None:
    await migrations.upgrade(DEFINITION.migrations, url)
    db = Database(url)
    try:
        await db.ping()
        print(f"\n{name}")
        burst = await bench_burst(db, args.entries)
        for rate in args.rates:
            await bench_paced(db, rate, args.seconds)
        batched = await bench_flush(db, args.entries, 500)
        await bench_flush(db, args.entries, 2000)
        single = await bench_one_per_transaction(db, args.reference_entries)
        row("batched flush(500) / one transaction per entry", batched / single, "x")
        row("burst / one transaction per entry", burst / single, "x")
        await bench_reads(db, args.read_repeats)
        print(f"  ({await count_rows(db):,} rows in gateway_audit at the end)")
    finally:
        await db.dispose()


def postgres_admin_url(args: argparse.Namespace) -> str | None:
    if args.no_postgres:
        return None
    if args.postgres or os.environ.get(POSTGRES_ENV):
        return str(args.postgres or os.environ[POSTGRES_ENV])
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return DEFAULT_POSTGRES
    except OSError:
        return None


@contextlib.asynccontextmanager
async def postgres_database(admin_url: str) -> AsyncIterator[str]:
    name = f"pangolin_bench_{secrets.token_hex(4)}"
    plain = make_url(admin_url).set(drivername="postgresql").render_as_string(False)
    admin = await asyncpg.connect(plain, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(plain).set(database=name).render_as_string(False)
    finally:
        admin = await asyncpg.connect(plain, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def main(args: argparse.Namespace) -> None:
    print(f"audit writer, {args.entries:,} entries per run, {os.cpu_count()} cores")
    await bench_record(args.entries)
    with tempfile.TemporaryDirectory() as folder:
        await bench_backend("SQLite (WAL, synchronous=NORMAL)", f"sqlite:///{folder}/a.db", args)
    admin_url = postgres_admin_url(args)
    if admin_url is None:
        print("\nPostgreSQL: none answers (--postgres URL or $PANGOLIN_BENCH_POSTGRES_URL)")
        return
    async with postgres_database(admin_url) as url:
        await bench_backend("PostgreSQL", url, args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--rates", type=int, nargs="*", default=[2_000, 5_000, 10_000])
    parser.add_argument("--seconds", type=float, default=3.0, help="of each paced run")
    parser.add_argument("--reference-entries", type=int, default=2_000)
    parser.add_argument("--read-repeats", type=int, default=50)
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server")
    parser.add_argument("--no-postgres", action="store_true")
    arguments = parser.parse_args()
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    asyncio.run(main(arguments))
