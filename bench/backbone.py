"""Figures for the messaging backbone of pangolin_core, measured on this machine.

1. outbox -> JetStream: `enqueue` N events (1 KB of `data` each) in a few large transactions,
   then `OutboxRelay.publish_pending()` until it returns 0 (batch 256, then 1024); the stream
   must hold exactly N messages afterwards.
2. consumer: an `EventConsumer` on a fresh durable applies the N events of the stream, with a
   handler doing one insert (and with a no-op handler: inbox row only).
3. RPC: `RpcClient.call` against an `RpcServer` echoing ~1 KB, sequential and 32 in flight.

Outbox and consumer run on SQLite (a file in a temp dir) and, when one answers, on PostgreSQL
(a fresh `pangolin_bench_<random>` database, dropped at the end). The script starts its own
nats-server on a free port, never the machine's NATS. A benchmark, not a test:

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
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from nats.js import JetStreamContext
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

STREAM = "SPECIES"
SUBJECT = "species.bench.recorded"
RPC_SUBJECT = "bench.rpc.echo"
BLOB = "x" * 1024  # the 1 KB payload of every event and RPC request
ENQUEUE_TX_SIZE = 5_000  # events per outbox transaction: a few large transactions
RPC_WARMUP = 200
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
    """A phase did not finish within its bounds, or its result is not what it must be."""


@dataclass(frozen=True)
class Baseline:
    """A figure from /work/shared/MEASURED.md (a range when it gives one)."""

    label: str
    low: float
    high: float


# The MEASURED.md figures each of ours is compared with (ratio = ours / theirs).
BASELINES: dict[str, Baseline] = {
    "relay": Baseline("JetStream publish+ack 1 KB, 256 in flight ~22,000/s", 22_000, 22_000),
    "consumer": Baseline("pull consumer fetch(100)+ack() ~22,500/s", 22_500, 22_500),
    "enqueue.sqlite": Baseline("raw aiosqlite PK lookups 3,600/s", 3_600, 3_600),
    "rpc.seq": Baseline("nats-py req-reply 1 KB sequential 2,150-2,850/s", 2_150, 2_850),
    "rpc.conc": Baseline("nats-py req-reply 1 KB 32 in flight 19-22k/s", 19_000, 22_000),
    "rpc.p99": Baseline("nats-py req-reply p99 2-4 ms", 2.0, 4.0),
}


@dataclass
class Figure:
    key: str
    what: str
    backend: str
    value: float
    unit: str
    baseline: str = ""
    ratio: str = ""
    note: str = ""


def compare(value: float, baseline: Baseline | None) -> tuple[str, str]:
    if baseline is None:
        return "", ""
    low, high = value / baseline.high, value / baseline.low
    ratio = f"{low:.2f}x" if math.isclose(low, high) else f"{low:.2f}-{high:.2f}x"
    return baseline.label, ratio


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
        baseline: str | None = None,
        note: str = "",
    ) -> None:
        label, ratio = compare(value, BASELINES.get(baseline) if baseline else None)
        figure = Figure(key, what, backend, value, unit, label, ratio, note)
        self.figures.append(figure)
        progress(f"  {what} [{backend}]: {fmt(value, unit)} {unit} {note}".rstrip())

    def table(self) -> str:
        header = ("what", "backend", "figure", "unit", "MEASURED.md baseline", "ratio")
        rows = [
            (f.what, f.backend, fmt(f.value, f.unit), f.unit, f.baseline, f.ratio)
            for f in self.figures
        ]
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        right = {2, 5}

        def line(cells: Sequence[str]) -> str:
            return (
                "| "
                + " | ".join(
                    c.rjust(w) if i in right else c.ljust(w)
                    for i, (c, w) in enumerate(zip(cells, widths, strict=True))
                )
                + " |"
            )

        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        return "\n".join([line(header), rule, *(line(r) for r in rows)])


def fmt(value: float, unit: str) -> str:
    return f"{value:,.2f}" if unit == "ms" else f"{value:,.0f}"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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


@dataclass
class RelayRun:
    seconds: float
    passes: int
    first_pass_ms: float
    last_full_pass_ms: float


async def drain_outbox(relay: OutboxRelay, expected: int, deadline: float) -> RelayRun:
    """Call `publish_pending` until it returns 0, bounded in passes and in time."""
    max_passes = math.ceil(expected / relay.batch_size) + 20
    durations: list[tuple[int, float]] = []
    published = 0
    start = time.perf_counter()
    for _ in range(max_passes):
        t0 = time.perf_counter()
        sent = await relay.publish_pending()
        durations.append((sent, time.perf_counter() - t0))
        published += sent
        if sent == 0:
            break
        if time.perf_counter() - start > deadline:
            raise BenchError(f"relay: {published}/{expected} published after {deadline:.0f} s")
    else:
        raise BenchError(f"relay: still publishing after {max_passes} passes")
    seconds = time.perf_counter() - start
    if published != expected:
        raise BenchError(f"relay published {published} events, expected {expected}")
    full = [d for n, d in durations if n == relay.batch_size] or [durations[0][1]]
    return RelayRun(seconds, len(durations), full[0] * 1000, full[-1] * 1000)


async def count(db: Database, query: sa.Select[Any]) -> int:
    async with db.session(write=False) as session:
        return int(await session.scalar(query) or 0)


async def bench_outbox(
    db: Database,
    js: JetStreamContext,
    telemetry: Telemetry,
    report: Report,
    backend: str,
    n: int,
    nc: Any,
) -> None:
    for batch_size in (256, 1024):
        await reset_stream_and_outbox(db, js)
        events = make_events(n, f"{backend}-b{batch_size}")
        progress(f"[{backend}] enqueue {n:,} events, relay with batch_size={batch_size}")
        seconds = await fill_outbox(db, telemetry.tracer, events)
        if batch_size == 256:
            report.add(
                "enqueue",
                f"outbox enqueue ({ENQUEUE_TX_SIZE:,} per tx)",
                backend,
                n / seconds,
                "events/s",
                baseline="enqueue.sqlite" if backend == "sqlite" else None,
            )
        relay = OutboxRelay(db, nc, js, telemetry, batch_size=batch_size)
        run = await drain_outbox(relay, n, deadline=max(60.0, n / 200))
        stored = (await js.stream_info(STREAM)).state.messages
        assert stored == n, f"stream {STREAM} holds {stored} messages, expected {n}"
        unpublished = await count(
            db,
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)),
        )
        assert unpublished == 0, f"{unpublished} outbox rows left unpublished"
        report.add(
            f"relay.b{batch_size}",
            f"outbox relay -> JetStream, batch {batch_size}",
            backend,
            n / run.seconds,
            "events/s",
            baseline="relay",
            note=(
                f"{run.passes} passes, full pass {run.first_pass_ms:.0f} ms first"
                f" / {run.last_full_pass_ms:.0f} ms last"
            ),
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
    deadline: float,
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
            if time.perf_counter() - start > deadline:
                raise BenchError(f"consumer {durable}: {done}/{target} applied in {deadline:.0f} s")
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
        progress(f"[{backend}] consumer ({label} handler), {target:,} events from a fresh durable")
        done, seconds = await consume(
            db,
            js,
            telemetry,
            durable=f"bench-{backend}-{label}",
            handler=handler,
            target=target,
            deadline=max(60.0, target / 100),
        )
        durable = inbox.c.consumer == f"bench-{backend}-{label}"
        inbox_rows = await count(db, sa.select(sa.func.count()).select_from(inbox).where(durable))
        if handler is tally_handler:
            rows = await count(db, sa.select(sa.func.count()).select_from(tally))
            assert rows == inbox_rows, f"tally holds {rows} rows, the inbox {inbox_rows}"
        what = "consumer, handler inserts 1 row" if label == "insert" else "consumer, no-op handler"
        report.add(
            f"consumer.{label}", what, backend, done / seconds, "events/s", baseline="consumer"
        )


# --------------------------------------------------------------------------------------------
# RPC


class Echo(BaseModel):
    seq: int
    text: str


async def echo(request: Echo) -> Echo:
    return request


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


async def bench_rpc(
    nats_url: str, telemetry: Telemetry, report: Report, calls: int, concurrency: int
) -> None:
    server_nc = await connect_nats(nats_url, name="bench-rpc-server")
    client_nc = await connect_nats(nats_url, name="bench-rpc-client")
    server = RpcServer(server_nc, telemetry, name="bench", version="0.1.0")
    try:
        await server.start([RpcEndpoint(RPC_SUBJECT, Echo, echo)])
        client = RpcClient(client_nc, telemetry)
        request = Echo(seq=0, text=BLOB)

        async def one(seq: int) -> float:
            t0 = time.perf_counter()
            reply = await client.call(RPC_SUBJECT, request.model_copy(update={"seq": seq}), Echo)
            elapsed = time.perf_counter() - t0
            if reply.seq != seq or len(reply.text) != len(BLOB):
                raise BenchError(f"RPC echo answered {reply.seq} to {seq}")
            return elapsed

        progress(f"[nats] RPC: {RPC_WARMUP} warm-up, {calls:,} sequential calls")
        for seq in range(RPC_WARMUP):
            await one(seq)
        start = time.perf_counter()
        latencies = sorted([await one(seq) for seq in range(calls)])
        seconds = time.perf_counter() - start
        p50, p99 = percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.99) * 1e3
        what = "RPC 1 KB echo, sequential"
        report.add("rpc.seq.rate", what, "nats", calls / seconds, "calls/s", baseline="rpc.seq")
        report.add("rpc.seq.p50", f"{what}, p50", "nats", p50, "ms")
        report.add("rpc.seq.p99", f"{what}, p99", "nats", p99, "ms", baseline="rpc.p99")

        total = calls * 4
        progress(f"[nats] RPC: {total:,} calls, {concurrency} in flight")
        queue = iter(range(total))
        results: list[float] = []

        async def caller() -> None:
            for seq in queue:
                results.append(await one(seq))

        start = time.perf_counter()
        async with asyncio.timeout(max(60.0, total / 100)):
            await asyncio.gather(*(caller() for _ in range(concurrency)))
        seconds = time.perf_counter() - start
        results.sort()
        assert len(results) == total
        p50, p99 = percentile(results, 0.5) * 1e3, percentile(results, 0.99) * 1e3
        what = f"RPC 1 KB echo, {concurrency} in flight"
        report.add("rpc.conc.rate", what, "nats", total / seconds, "calls/s", baseline="rpc.conc")
        report.add("rpc.conc.p50", f"{what}, p50", "nats", p50, "ms")
        report.add("rpc.conc.p99", f"{what}, p99", "nats", p99, "ms")
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
        js = nc.jetstream()
        await ensure_streams(js)
        await bench_outbox(db, js, telemetry, report, backend, args.events, nc)
        await bench_consumer(db, js, telemetry, report, backend, args.consumer_events)
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
    parser.add_argument("--events", type=int, default=20_000, help="events (default 20000)")
    parser.add_argument(
        "--rpc-calls",
        type=int,
        default=5_000,
        help="sequential RPC calls (default 5000); 4x as many run with --rpc-concurrency in flight",
    )
    parser.add_argument(
        "--consumer-events",
        type=int,
        default=5_000,
        metavar="N",
        help="events each consumer run applies before it is timed and stopped"
        " (default 5000; 0 = all --events). The consumer runs near 300-500/s here, so all"
        " 20,000 in 4 runs would take 3-4 minutes",
    )
    parser.add_argument("--rpc-concurrency", type=int, default=32, help="default 32")
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


def nats_server_version() -> str:
    out = subprocess.run(
        [str(nats_server_binary()), "--version"], capture_output=True, text=True, timeout=10
    )
    return out.stdout.strip() or out.stderr.strip()


async def main(args: argparse.Namespace, loop_name: str) -> int:
    configure_logging(level="WARNING", json=False)
    # Closing our connections at the end is not news.
    logging.getLogger("pangolin_core.messaging.connection").setLevel(logging.ERROR)
    load_before = os.getloadavg()
    telemetry = setup_telemetry("bench")
    report = Report()
    notes: list[str] = []
    admin_url, required = postgres_admin_url(args)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pangolin-bench-") as tmp:
        server = NatsServer(Path(tmp) / "nats").start()
        try:
            notes.append(f"{nats_server_version()} on {server.url} (own, JetStream file store)")
            sqlite_url = f"sqlite:///{tmp}/bench.db"
            notes.append(f"sqlite: SQLite {sqlite3.sqlite_version}, file in a temp dir, WAL")
            await bench_backend("sqlite", sqlite_url, server.url, telemetry, report, args)
            if admin_url is not None:
                try:
                    async with postgres_database(admin_url) as (pg_url, pg_version):
                        shown = make_url(pg_url).render_as_string(hide_password=True)
                        notes.append(f"postgresql: PostgreSQL {pg_version}, {shown} (dropped)")
                        await bench_backend(
                            "postgresql", pg_url, server.url, telemetry, report, args
                        )
                except (OSError, asyncpg.PostgresError) as exc:
                    if required:
                        raise
                    notes.append(f"postgresql: skipped, {DEFAULT_POSTGRES}: {exc!r}")
            else:
                notes.append("postgresql: skipped (--no-postgres, or nothing on 127.0.0.1:5432)")
            await bench_rpc(server.url, telemetry, report, args.rpc_calls, args.rpc_concurrency)
        finally:
            server.stop()
            telemetry.shutdown()
    elapsed = time.perf_counter() - started
    load_after = os.getloadavg()

    command = shlex.join(["python", *sys.argv])
    print()
    print("Pangolin messaging backbone")
    print(f"command:    {command}")
    print(
        f"machine:    {os.cpu_count()} CPUs, {platform.system()} {platform.machine()},"
        f" Python {platform.python_version()}, event loop {loop_name}"
    )
    print(f"nats:       nats-py {version('nats-py')}, {notes[0]}")
    for note in notes[1:]:
        print(f"database:   {note}")
    print(
        f"workload:   {args.events:,} events of 1 KB data through the outbox, consumers stopped"
        f" after {args.consumer_events:,}; RPC {args.rpc_calls:,} sequential"
        f" + {args.rpc_calls * 4:,} with {args.rpc_concurrency} in flight"
    )
    print(
        f"run:        {elapsed:.0f} s; load average {load_before[0]:.2f} before,"
        f" {load_after[0]:.2f} after (other work on this machine skews the figures)"
    )
    print()
    print(report.table())
    if args.json:
        print()
        print(
            json.dumps(
                {
                    "command": command,
                    "event_loop": loop_name,
                    "cpus": os.cpu_count(),
                    "events": args.events,
                    "consumer_events": args.consumer_events,
                    "load_average": [round(load_before[0], 2), round(load_after[0], 2)],
                    "rpc_calls": args.rpc_calls,
                    "rpc_concurrency": args.rpc_concurrency,
                    "seconds": round(elapsed, 1),
                    "notes": notes,
                    "figures": [{**asdict(f), "value": round(f.value, 3)} for f in report.figures],
                },
                indent=2,
            )
        )
    return 0


def run() -> int:
    args = parse_args()
    if uvloop is not None:
        return uvloop.run(main(args, f"uvloop {version('uvloop')}"))
    return asyncio.run(main(args, "asyncio (uvloop not installed)"))


if __name__ == "__main__":
    sys.exit(run())
