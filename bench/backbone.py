"""Figures for the messaging backbone of pangolin_core, measured on this machine.

1. outbox -> JetStream: `enqueue` N events (1 KB of `data` each) in a few large transactions,
   then `OutboxRelay.publish_pending()` until it returns 0 (batch 256, then 1024); the stream
   must hold exactly N messages afterwards.
2. consumer: an `EventConsumer` on a fresh durable applies events of that stream, with a
   handler doing one insert, and with a no-op handler (inbox row only).
3. RPC: `RpcClient.call` against an `RpcServer` echoing ~1 KB, sequential and 32 in flight.

Each figure is set beside a reference measured in the same run (raw nats-py, or one database
unit of work) and beside /work/shared/MEASURED.md. Outbox and consumer run on SQLite (a file in
a temp dir) and, when one answers, on PostgreSQL (a fresh `pangolin_bench_<random>` database,
dropped at the end). The script starts its own nats-server on a free port, never the machine's
NATS. A benchmark, not a test:

    uv run --frozen python bench/backbone.py --help
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import platform
import secrets
import shlex
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from opentelemetry.trace import Tracer
from pydantic import BaseModel
from sqlalchemy.engine import make_url
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core import migrations
from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.db import Database, service_metadata
from pangolin_core.messaging.connection import connect_nats, ensure_streams
from pangolin_core.messaging.consumer import ConsumerSpec, EventConsumer, EventHandler
from pangolin_core.messaging.outbox import OutboxRelay, enqueue
from pangolin_core.messaging.rpc import RpcClient, RpcEndpoint, RpcServer
from pangolin_core.messaging.tables import inbox, outbox
from pangolin_core.natsserver import NatsServer, nats_server_binary
from pangolin_core.telemetry import Telemetry, configure_logging, setup_telemetry
from species_ref.app import DEFINITION

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
    uvloop = None  # type: ignore[assignment]

POSTGRES_ENV = "PANGOLIN_BENCH_POSTGRES_URL"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"

STREAM = "SPECIES"  # ensure_streams declares it; our events are on one of its entities
SUBJECT = "species.taxon.benchmarked"
RPC_SUBJECT = "bench.rpc.echo"
RAW_STREAM, RAW_SUBJECT, RAW_ECHO = "BENCHRAW", "benchraw.published", "benchraw.echo"
BLOB = "x" * 1024  # the 1 KB payload of every event and RPC request
ENQUEUE_TX_SIZE = 5_000  # events per outbox transaction: a few large transactions
RAW_PUBLISH_IN_FLIGHT = 256
RPC_WARMUP = 200
DB_LOOKUPS = 2_000  # units of work in the database reference
POLL_INTERVAL = 0.05  # seconds between two counts while a consumer works

# A table the consumer's handler writes to, created beside the migrated outbox and inbox.
bench_metadata = service_metadata()
tally = sa.Table(
    "tally",
    bench_metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)


class BenchError(RuntimeError):
    """A phase did not finish within its bounds."""


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Figures and the table


@dataclass(frozen=True)
class Baseline:
    """A figure of /work/shared/MEASURED.md (a range when it gives one)."""

    label: str
    low: float
    high: float


MEASURED: dict[str, Baseline] = {
    "aiosqlite": Baseline("raw aiosqlite calls 3,600/s", 3_600, 3_600),
    "session.sqlite": Baseline("session per PK lookup 1,070/s", 1_070, 1_070),
    "js.publish": Baseline("JS publish 256 in flight 22,000/s", 22_000, 22_000),
    "pull": Baseline("fetch(100)+ack() 22,500/s", 22_500, 22_500),
    "req.seq": Baseline("req-reply sequential 2,150-2,850/s", 2_150, 2_850),
    "req.conc": Baseline("req-reply 32 in flight 19-22k/s", 19_000, 22_000),
    "req.p99": Baseline("req-reply p99 2-4 ms", 2.0, 4.0),
}


@dataclass
class Figure:
    key: str
    what: str
    backend: str
    value: float
    unit: str
    reference: str | None = None  # key of a figure of this run, same backend or "nats"
    measured: str | None = None  # key in MEASURED
    note: str = ""


def fmt(value: float, unit: str) -> str:
    return f"{value:,.2f}" if unit == "ms" else f"{value:,.0f}"


class Report:
    def __init__(self) -> None:
        self.figures: list[Figure] = []

    def add(
        self,
        key: str,
        what: str,
        backend: str,
        value: float,
        unit: str,
        *,
        reference: str | None = None,
        measured: str | None = None,
        note: str = "",
    ) -> None:
        figure = Figure(key, what, backend, value, unit, reference, measured, note)
        self.figures.append(figure)
        suffix = f" ({note})" if note else ""
        progress(f"  {what} [{backend}]: {fmt(value, unit)} {unit}{suffix}")

    def find(self, key: str, backend: str) -> Figure | None:
        for figure in self.figures:
            if figure.key == key and figure.backend in (backend, "nats"):
                return figure
        return None

    def vs_reference(self, figure: Figure) -> str:
        ref = self.find(figure.reference, figure.backend) if figure.reference else None
        if ref is None or not ref.value:
            return ""
        return f"{figure.value / ref.value:.2f}x {ref.what.removeprefix('ref: ')}"

    @staticmethod
    def vs_measured(figure: Figure) -> str:
        base = MEASURED.get(figure.measured) if figure.measured else None
        if base is None:
            return ""
        low, high = figure.value / base.high, figure.value / base.low
        ratio = f"{low:.2f}x" if math.isclose(low, high) else f"{low:.2f}-{high:.2f}x"
        return f"{ratio} {base.label}"

    def ratios(self, figure: Figure) -> tuple[str, str]:
        return self.vs_reference(figure), self.vs_measured(figure)

    def rows(self) -> list[tuple[str, str, str, str, str, str]]:
        return [
            (f.what, f.backend, fmt(f.value, f.unit), f.unit, *self.ratios(f)) for f in self.figures
        ]

    def table(self) -> str:
        header = ("what", "backend", "figure", "unit", "vs this run's reference", "vs MEASURED.md")
        rows = self.rows()
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

        def line(cells: Sequence[str]) -> str:
            padded = (
                c.rjust(w) if i == 2 else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
            return "| " + " | ".join(padded) + " |"

        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        return "\n".join([line(header), rule, *(line(r) for r in rows)])

    def as_json(self) -> list[dict[str, Any]]:
        return [
            {
                **asdict(f),
                "value": round(f.value, 3),
                "vs_reference": self.vs_reference(f),
                "vs_measured": self.vs_measured(f),
            }
            for f in self.figures
        ]


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


async def timed_calls(
    call: Callable[[int], Awaitable[None]], total: int, concurrency: int, limit: float
) -> tuple[float, list[float]]:
    """Run `call(0..total-1)` with `concurrency` callers; (seconds, sorted latencies)."""
    numbers = iter(range(total))
    latencies: list[float] = []

    async def caller() -> None:
        for number in numbers:
            t0 = time.perf_counter()
            await call(number)
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    async with asyncio.timeout(limit):
        await asyncio.gather(*(caller() for _ in range(concurrency)))
    seconds = time.perf_counter() - start
    assert len(latencies) == total
    return seconds, sorted(latencies)


# --------------------------------------------------------------------------------------------
# References: raw nats-py and one database unit of work, measured in this run


async def reference_nats(nats_url: str, report: Report, args: argparse.Namespace) -> None:
    """Raw nats-py figures, as MEASURED.md took them: what the backbone is built on."""
    nc = await connect_nats(nats_url, name="bench-raw-client")
    responder = await connect_nats(nats_url, name="bench-raw-responder")
    js = nc.jetstream()
    payload = make_events(1, "raw")[0].to_json()  # the size of one of our events
    try:

        async def respond(msg: Msg) -> None:
            await msg.respond(msg.data)

        await responder.subscribe(RAW_ECHO, cb=respond)
        await responder.flush()

        async def request(_: int) -> None:
            await nc.request(RAW_ECHO, BLOB.encode(), timeout=2.0)

        for number in range(RPC_WARMUP):
            await request(number)
        calls = args.rpc_calls
        progress(f"[nats] reference: raw request-reply, {calls:,} sequential")
        seconds, latencies = await timed_calls(request, calls, 1, max(60.0, calls / 100))
        report.add(
            "ref.req.seq",
            "ref: raw nats-py request-reply 1 KB, sequential",
            "nats",
            calls / seconds,
            "calls/s",
            measured="req.seq",
        )
        report.add(
            "ref.req.seq.p99",
            "ref: raw request-reply sequential p99",
            "nats",
            percentile(latencies, 0.99) * 1e3,
            "ms",
        )
        total, concurrency = calls * 4, args.rpc_concurrency
        progress(f"[nats] reference: raw request-reply, {total:,} with {concurrency} in flight")
        seconds, latencies = await timed_calls(request, total, concurrency, max(60.0, total / 100))
        report.add(
            "ref.req.conc",
            f"ref: raw request-reply, {concurrency} in flight",
            "nats",
            total / seconds,
            "calls/s",
            measured="req.conc",
        )
        report.add(
            "ref.req.conc.p99",
            f"ref: raw request-reply {concurrency} in flight p99",
            "nats",
            percentile(latencies, 0.99) * 1e3,
            "ms",
            measured="req.p99",
        )

        await js.add_stream(StreamConfig(name=RAW_STREAM, subjects=[RAW_SUBJECT]))
        n = args.events

        async def publish(number: int) -> None:
            await js.publish(RAW_SUBJECT, payload, headers={"Nats-Msg-Id": f"raw-{number}"})

        progress(f"[nats] reference: raw JetStream publish, {n:,} with 256 in flight")
        seconds, _ = await timed_calls(publish, n, RAW_PUBLISH_IN_FLIGHT, max(60.0, n / 100))
        stored = (await js.stream_info(RAW_STREAM)).state.messages
        assert stored == n, f"{RAW_STREAM} holds {stored} messages, expected {n}"
        report.add(
            "ref.js.publish",
            "ref: raw JetStream publish+ack, 256 in flight",
            "nats",
            n / seconds,
            "msgs/s",
            measured="js.publish",
        )

        progress(f"[nats] reference: raw pull consumer, fetch(100) + ack() over {n:,}")
        sub = await js.pull_subscribe(RAW_SUBJECT, durable="bench-raw", stream=RAW_STREAM)
        acked = 0
        start = time.perf_counter()
        for _ in range(n // 100 + 100):  # bounded: each fetch returns up to 100
            for msg in await sub.fetch(100, timeout=5.0):
                await msg.ack()
                acked += 1
            if acked >= n:
                break
        await nc.flush()
        seconds = time.perf_counter() - start
        if acked < n:
            raise BenchError(f"raw pull consumer: {acked}/{n} messages")
        report.add(
            "ref.pull",
            "ref: raw pull consumer fetch(100)+ack()",
            "nats",
            acked / seconds,
            "msgs/s",
            measured="pull",
        )
    finally:
        with contextlib.suppress(Exception):
            await js.delete_stream(RAW_STREAM)
        await responder.close()
        await nc.close()


async def reference_database(db: Database, report: Report, backend: str) -> None:
    """One unit of work (`db.session()`) per primary-key lookup: the floor of anything that
    opens a transaction per item, as the consumer does per event."""
    async with db.session(write=False) as session:
        ids = list(await session.scalars(sa.select(outbox.c.id).limit(DB_LOOKUPS)))
    query = sa.select(outbox.c.subject).where(outbox.c.id == sa.bindparam("id"))
    progress(f"[{backend}] reference: {len(ids):,} db.session() units of work, 1 lookup each")
    start = time.perf_counter()
    for event_id in ids:
        async with db.session(write=False) as session:
            await session.scalar(query, {"id": event_id})
    seconds = time.perf_counter() - start
    report.add(
        "ref.session",
        "ref: db.session() per PK lookup",
        backend,
        len(ids) / seconds,
        "ops/s",
        measured="session.sqlite" if backend == "sqlite" else None,
    )


# --------------------------------------------------------------------------------------------
# Outbox -> JetStream


def make_events(n: int, run: str) -> list[CloudEvent]:
    return [
        CloudEvent(
            source="/bench",
            type=SUBJECT,
            subject=f"{run}-{i}",
            data={"run": run, "seq": i, "blob": BLOB},
        )
        for i in range(n)
    ]


async def reset_stream_and_outbox(db: Database, js: JetStreamContext) -> None:
    """An empty stream (no dedupe window left from an earlier run) and an empty outbox."""
    await js.delete_stream(STREAM)
    await ensure_streams(js)
    async with db.session() as session:
        await session.exec(sa.delete(outbox))


async def fill_outbox(db: Database, tracer: Tracer, events: Sequence[CloudEvent]) -> float:
    """Enqueue the events in transactions of ENQUEUE_TX_SIZE; return the seconds it took.

    Each transaction runs in a span, as a request's would, so the rows carry a traceparent.
    """
    start = time.perf_counter()
    for first in range(0, len(events), ENQUEUE_TX_SIZE):
        with tracer.start_as_current_span("bench enqueue"):
            async with db.session() as session:
                for event in events[first : first + ENQUEUE_TX_SIZE]:
                    await enqueue(session, event)
    return time.perf_counter() - start


async def drain_outbox(relay: OutboxRelay, expected: int, limit: float) -> tuple[float, str]:
    """Call `publish_pending` until it returns 0, bounded in passes and in time.

    Returns the seconds and a note on the passes (first and last full pass).
    """
    max_passes = math.ceil(expected / relay.batch_size) + 20
    full_passes: list[float] = []
    published = passes = 0
    start = time.perf_counter()
    while passes < max_passes:
        passes += 1
        t0 = time.perf_counter()
        sent = await relay.publish_pending()
        if sent == relay.batch_size:
            full_passes.append(time.perf_counter() - t0)
        published += sent
        if sent == 0:
            break
        if time.perf_counter() - start > limit:
            raise BenchError(f"relay: {published}/{expected} published after {limit:.0f} s")
    else:
        raise BenchError(f"relay: still publishing after {max_passes} passes")
    seconds = time.perf_counter() - start
    assert published == expected, f"relay published {published} events, expected {expected}"
    note = f"{passes} passes"
    if full_passes:
        note += f"; full pass {full_passes[0] * 1e3:.0f} ms first, {full_passes[-1] * 1e3:.0f} last"
    return seconds, note


async def count(db: Database, query: sa.Select[Any]) -> int:
    async with db.session(write=False) as session:
        return int(await session.scalar(query) or 0)


async def bench_outbox(
    db: Database, nc: NATS, telemetry: Telemetry, report: Report, backend: str, n: int
) -> None:
    js = nc.jetstream()
    for batch_size in (256, 1024):
        await reset_stream_and_outbox(db, js)
        events = make_events(n, f"{backend}-b{batch_size}")
        progress(f"[{backend}] enqueue {n:,} events, then relay with batch_size={batch_size}")
        seconds = await fill_outbox(db, telemetry.tracer, events)
        if batch_size == 256:
            report.add(
                "enqueue",
                f"outbox enqueue ({ENQUEUE_TX_SIZE:,} per tx)",
                backend,
                n / seconds,
                "events/s",
                measured="aiosqlite" if backend == "sqlite" else None,
            )
        relay = OutboxRelay(db, nc, js, telemetry, batch_size=batch_size)
        seconds, note = await drain_outbox(relay, n, limit=max(60.0, n / 200))
        stored = (await js.stream_info(STREAM)).state.messages
        assert stored == n, f"stream {STREAM} holds {stored} messages, expected {n}"
        unpublished = outbox.c.published_at.is_(None)
        left = await count(db, sa.select(sa.func.count()).select_from(outbox).where(unpublished))
        assert left == 0, f"{left} outbox rows left unpublished"
        report.add(
            f"relay.b{batch_size}",
            f"outbox relay -> JetStream, batch {batch_size}",
            backend,
            n / seconds,
            "events/s",
            reference="ref.js.publish",
            measured="js.publish",
            note=note,
        )


# --------------------------------------------------------------------------------------------
# Consumer


async def tally_handler(session: AsyncSession, event: CloudEvent) -> None:
    await session.exec(sa.insert(tally).values(key=event.id, count=1))


async def noop_handler(session: AsyncSession, event: CloudEvent) -> None:
    return None


async def consume(
    db: Database,
    js: JetStreamContext,
    telemetry: Telemetry,
    *,
    durable: str,
    handler: EventHandler,
    target: int,
    limit: float,
) -> tuple[int, float]:
    """Bind a fresh durable and run it until its inbox holds at least `target` events.

    Returns (events applied, seconds since the durable was created). The stream may hold
    more than `target`: the consumer is stopped once the target is reached.
    """
    spec = ConsumerSpec(durable, STREAM, (SUBJECT,), handler)
    consumer = EventConsumer(spec, db, js, telemetry)
    applied = sa.select(sa.func.count()).select_from(inbox).where(inbox.c.consumer == durable)
    start = time.perf_counter()
    await consumer.start()
    task = asyncio.create_task(consumer.run(), name=durable)
    try:
        while (done := await count(db, applied)) < target:
            if task.done():
                raise BenchError(f"consumer {durable} stopped: {task.exception()!r}")
            if time.perf_counter() - start > limit:
                raise BenchError(f"consumer {durable}: {done}/{target} applied in {limit:.0f} s")
            await asyncio.sleep(POLL_INTERVAL)
        seconds = time.perf_counter() - start
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return done, seconds


async def bench_consumer(
    db: Database,
    js: JetStreamContext,
    telemetry: Telemetry,
    report: Report,
    backend: str,
    target: int,
) -> None:
    for label, handler in (("insert", tally_handler), ("noop", noop_handler)):
        durable = f"bench-{backend}-{label}"
        progress(f"[{backend}] consumer ({label} handler), {target:,} events, fresh durable")
        done, seconds = await consume(
            db,
            js,
            telemetry,
            durable=durable,
            handler=handler,
            target=target,
            limit=max(60.0, target / 50),
        )
        if handler is tally_handler:
            rows = await count(db, sa.select(sa.func.count()).select_from(tally))
            in_inbox = await count(
                db, sa.select(sa.func.count()).select_from(inbox).where(inbox.c.consumer == durable)
            )
            assert rows == in_inbox, f"tally holds {rows} rows, the inbox {in_inbox}"
        what = "consumer, handler inserts 1 row" if label == "insert" else "consumer, no-op handler"
        report.add(
            f"consumer.{label}",
            what,
            backend,
            done / seconds,
            "events/s",
            reference="ref.session",
            measured="pull",
        )


# --------------------------------------------------------------------------------------------
# RPC


class Echo(BaseModel):
    seq: int
    text: str


async def echo(request: Echo) -> Echo:
    return request


async def bench_rpc(
    nats_url: str, telemetry: Telemetry, report: Report, args: argparse.Namespace
) -> None:
    server_nc = await connect_nats(nats_url, name="bench-rpc-server")
    client_nc = await connect_nats(nats_url, name="bench-rpc-client")
    server = RpcServer(server_nc, telemetry, name="bench", version="0.1.0")
    try:
        await server.start([RpcEndpoint(RPC_SUBJECT, Echo, echo)])
        # start() returns before nats-server has the endpoint's subscription (add_endpoint
        # does not flush): without this, the first call can fail with RpcNoResponder.
        await server_nc.flush()
        client = RpcClient(client_nc, telemetry)
        request = Echo(seq=0, text=BLOB)
        await client.call(RPC_SUBJECT, request, Echo)  # start() returns once it answers

        async def call(seq: int) -> None:
            reply = await client.call(RPC_SUBJECT, request.model_copy(update={"seq": seq}), Echo)
            if reply.seq != seq or reply.text != BLOB:
                raise BenchError(f"RPC echo answered {reply.seq} to {seq}")

        for seq in range(RPC_WARMUP):
            await call(seq)
        calls = args.rpc_calls
        progress(f"[nats] RPC: {calls:,} sequential calls after {RPC_WARMUP} warm-up")
        seconds, latencies = await timed_calls(call, calls, 1, max(60.0, calls / 100))
        what = "RPC 1 KB echo, sequential"
        report.add(
            "rpc.seq",
            what,
            "nats",
            calls / seconds,
            "calls/s",
            reference="ref.req.seq",
            measured="req.seq",
        )
        report.add("rpc.seq.p50", f"{what}, p50", "nats", percentile(latencies, 0.5) * 1e3, "ms")
        report.add(
            "rpc.seq.p99",
            f"{what}, p99",
            "nats",
            percentile(latencies, 0.99) * 1e3,
            "ms",
            reference="ref.req.seq.p99",
        )

        total, concurrency = calls * 4, args.rpc_concurrency
        progress(f"[nats] RPC: {total:,} calls, {concurrency} in flight")
        seconds, latencies = await timed_calls(call, total, concurrency, max(60.0, total / 100))
        what = f"RPC 1 KB echo, {concurrency} in flight"
        report.add(
            "rpc.conc",
            what,
            "nats",
            total / seconds,
            "calls/s",
            reference="ref.req.conc",
            measured="req.conc",
        )
        report.add("rpc.conc.p50", f"{what}, p50", "nats", percentile(latencies, 0.5) * 1e3, "ms")
        report.add(
            "rpc.conc.p99",
            f"{what}, p99",
            "nats",
            percentile(latencies, 0.99) * 1e3,
            "ms",
            reference="ref.req.conc.p99",
            measured="req.p99",
        )
    finally:
        await server.stop()
        await client_nc.close()
        await server_nc.close()


# --------------------------------------------------------------------------------------------
# Databases


def plain_postgres_url(url: str) -> str:
    """asyncpg wants `postgresql://`; accept `postgresql+asyncpg://` too."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def postgres_admin_url(args: argparse.Namespace) -> tuple[str | None, bool]:
    """The admin URL to use, and whether the user asked for it (then failures are fatal)."""
    if args.no_postgres:
        return None, False
    if args.postgres:
        return str(args.postgres), True
    if os.environ.get(POSTGRES_ENV):
        return os.environ[POSTGRES_ENV], True
    if port_answers("127.0.0.1", 5432):
        return DEFAULT_POSTGRES, False
    return None, False


@contextlib.asynccontextmanager
async def postgres_database(admin_url: str) -> AsyncIterator[tuple[str, str]]:
    """A fresh database (its URL, the server version), dropped when the block ends."""
    name = f"pangolin_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(plain_postgres_url(admin_url), timeout=10)
    try:
        server_version = str(await admin.fetchval("SHOW server_version"))
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(admin_url).set(database=name).render_as_string(False), server_version
    finally:
        admin = await asyncpg.connect(plain_postgres_url(admin_url), timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def migrated(url: str) -> Database:
    """The species-ref migrations (outbox, inbox) plus the bench's tally table."""
    await migrations.upgrade(DEFINITION.migrations, url)
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(bench_metadata.create_all)
    await db.ping()  # a pooled connection, so the first timed pass does not pay for it
    return db


async def bench_backend(
    backend: str,
    url: str,
    nats_url: str,
    telemetry: Telemetry,
    report: Report,
    args: argparse.Namespace,
) -> None:
    db = await migrated(url)
    nc = await connect_nats(nats_url, name=f"bench-{backend}")
    try:
        await ensure_streams(nc.jetstream())
        await bench_outbox(db, nc, telemetry, report, backend, args.events)
        await reference_database(db, report, backend)
        await bench_consumer(db, nc.jetstream(), telemetry, report, backend, args.consumer_events)
    finally:
        await nc.close()
        await db.dispose()


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/backbone.py",
        description=(
            "Throughput and latency of the pangolin_core messaging backbone (outbox relay,"
            " consumer, RPC) on this machine, against its own nats-server."
        ),
    )
    parser.add_argument(
        "--events", type=int, default=20_000, metavar="N", help="outbox events (default 20000)"
    )
    parser.add_argument(
        "--consumer-events",
        type=int,
        default=5_000,
        metavar="N",
        help="events each consumer run applies before it is stopped (default 5000; 0 = all"
        " --events). Consumers run near 220-390 events/s here: all 20,000 in the 4 runs would"
        " take 4-5 minutes",
    )
    parser.add_argument(
        "--rpc-calls",
        type=int,
        default=5_000,
        metavar="N",
        help="sequential RPC calls (default 5000); 4x as many run with --rpc-concurrency",
    )
    parser.add_argument(
        "--rpc-concurrency", type=int, default=32, metavar="N", help="callers (default 32)"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help=f"PostgreSQL admin URL (else ${POSTGRES_ENV}, else {DEFAULT_POSTGRES} if it answers)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    if min(args.events, args.rpc_calls, args.rpc_concurrency) < 1 or args.consumer_events < 0:
        parser.error("--events, --rpc-calls and --rpc-concurrency must be at least 1")
    if args.consumer_events == 0 or args.consumer_events > args.events:
        args.consumer_events = args.events
    return args


def code_revision() -> str:
    """The commit measured, and whether pangolin_core had uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "libs/core"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return f"{head}" + (" + uncommitted changes in libs/core" if dirty else "")


def nats_server_version() -> str:
    out = subprocess.run(
        [str(nats_server_binary()), "--version"], capture_output=True, text=True, timeout=10
    )
    return (out.stdout or out.stderr).strip()


async def main(args: argparse.Namespace, loop_name: str) -> int:
    configure_logging(level="WARNING", json=False)
    # Our own connections closing at the end is not news.
    logging.getLogger("pangolin_core.messaging.connection").setLevel(logging.ERROR)
    telemetry = setup_telemetry("bench")  # no exporter: spans are made, then dropped
    report = Report()
    databases: list[str] = []
    admin_url, required = postgres_admin_url(args)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pangolin-bench-") as tmp:
        server = NatsServer(Path(tmp) / "nats").start()
        try:
            await reference_nats(server.url, report, args)
            databases.append(f"sqlite: SQLite {sqlite3.sqlite_version}, a file in a temp dir")
            sqlite_url = f"sqlite:///{tmp}/bench.db"
            await bench_backend("sqlite", sqlite_url, server.url, telemetry, report, args)
            if admin_url is not None:
                try:
                    async with postgres_database(admin_url) as (pg_url, pg_version):
                        shown = make_url(pg_url).render_as_string(hide_password=True)
                        databases.append(f"postgresql: PostgreSQL {pg_version}, {shown}, dropped")
                        await bench_backend(
                            "postgresql", pg_url, server.url, telemetry, report, args
                        )
                except (OSError, asyncpg.PostgresError) as exc:
                    if required:
                        raise
                    databases.append(f"postgresql: skipped, {DEFAULT_POSTGRES}: {exc!r}")
            else:
                databases.append("postgresql: skipped (--no-postgres, or none on 127.0.0.1:5432)")
            await bench_rpc(server.url, telemetry, report, args)
            nats_note = f"{nats_server_version()}, own server on {server.url}, JetStream on disk"
        finally:
            server.stop()
            telemetry.shutdown()
    elapsed = time.perf_counter() - started
    load_after = os.getloadavg()[0]

    command = shlex.join(["python", *sys.argv])
    print()
    print("Pangolin messaging backbone")
    print(f"command:   {command}")
    print(
        f"machine:   {os.cpu_count()} CPUs, {platform.system()} {platform.machine()},"
        f" Python {platform.python_version()}, event loop {loop_name}"
    )
    print(f"code:      {code_revision()}")
    print(f"nats:      nats-py {version('nats-py')}, {nats_note}")
    for note in databases:
        print(f"database:  {note}")
    print(
        f"workload:  {args.events:,} events of 1 KB data through the outbox; consumers stopped"
        f" after {args.consumer_events:,}; RPC {args.rpc_calls:,} sequential + "
        f"{args.rpc_calls * 4:,} with {args.rpc_concurrency} in flight; client and server"
        " in this one process"
    )
    print(
        f"run:       {elapsed:.0f} s; load average {load_before:.2f} before, {load_after:.2f}"
        " after (other work on this machine skews the figures)"
    )
    print()
    print(report.table())
    for figure in report.figures:
        if figure.note:
            print(f"note: {figure.what} [{figure.backend}]: {figure.note}")
    if args.json:
        summary = {
            "command": command,
            "code": code_revision(),
            "event_loop": loop_name,
            "cpus": os.cpu_count(),
            "events": args.events,
            "consumer_events": args.consumer_events,
            "rpc_calls": args.rpc_calls,
            "rpc_concurrency": args.rpc_concurrency,
            "seconds": round(elapsed, 1),
            "load_average": [round(load_before, 2), round(load_after, 2)],
            "databases": databases,
            "figures": report.as_json(),
        }
        print()
        print(json.dumps(summary, indent=2))
    return 0


def run() -> int:
    args = parse_args()
    if uvloop is not None:
        return uvloop.run(main(args, f"uvloop {version('uvloop')}"))
    return asyncio.run(main(args, "asyncio (uvloop not installed)"))


if __name__ == "__main__":
    sys.exit(run())
