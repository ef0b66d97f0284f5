"""What a rate-limit decision costs: the in-memory limiter, and the NATS KV limiter that several
gateway replicas share (one connection, 32 concurrent callers, two replicas at once).

Every figure is acquisitions per second (each acquisition is one request's decision) over a
fixed duration, with p50/p99 latency per acquisition where callers wait on NATS. A reference
row measures one raw `kv.get` + `kv.update` round trip pair, the least a shared decision can
cost without batching. The script starts its own nats-server on a free port (JetStream on disk),
never the machine's NATS. A benchmark, not a test:

    python3 -m uv run --frozen python bench/rate_limits.py [--seconds 3]
"""

# ruff: noqa: E402 (imports after the path fix below)

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

# bench/gateway.py (the gateway's benchmark) shadows the `gateway` package for a script run
# from this folder, so the folder leaves the path before the package is imported.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from nats.aio.client import Client as NATS

from gateway.limits.bucket import BucketState
from gateway.limits.kv import NatsKvRateLimiter, encode_state
from gateway.limits.memory import InMemoryRateLimiter
from gateway.settings import RatePolicy
from pangolin_core.messaging.connection import connect_nats
from pangolin_core.natsserver import NatsServer
from pangolin_core.telemetry import configure_logging

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
    uvloop = None  # type: ignore[assignment]

# Large enough that nothing is refused: the figures are the cost of deciding, and a refusal
# costs the same round trips as an admission.
OPEN = RatePolicy(rate=1e9, burst=1_000_000_000)
CLIENT = "0b9d2c4e-5f1a-4e8b-9c3d-7a6b5e4f3d2c"
KEYS = [f"client-{n:05d}" for n in range(10_000)]


@dataclass(frozen=True)
class Row:
    what: str
    per_second: float
    p50_ms: float | None = None
    p99_ms: float | None = None


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run_callers(
    callers: int, seconds: float, call: Callable[[int, int], Awaitable[object]]
) -> tuple[int, float, list[float]]:
    """`callers` tasks calling `call(caller, n)` back to back for `seconds`: calls made,
    elapsed time, latency of each call."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    latencies: list[float] = []

    async def caller(index: int) -> None:
        n = 0
        while loop.time() < deadline:
            started = time.perf_counter()
            await call(index, n)
            latencies.append(time.perf_counter() - started)
            n += 1

    started = time.perf_counter()
    await asyncio.gather(*(caller(i) for i in range(callers)))
    return len(latencies), time.perf_counter() - started, latencies


def timed_row(what: str, result: tuple[int, float, list[float]]) -> Row:
    count, elapsed, latencies = result
    row = Row(what, count / elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99))
    progress(f"  {what}: {row.per_second:,.0f}/s, p50 {row.p50_ms:.3f} ms, p99 {row.p99_ms:.3f} ms")
    return row


def in_memory(seconds: float) -> list[Row]:
    rows = []
    for label, keys in (("one key", [CLIENT]), ("10,000 keys round robin", KEYS)):
        limiter = InMemoryRateLimiter()
        sequence = keys * (len(KEYS) // len(keys))
        count, started = 0, time.perf_counter()
        while time.perf_counter() < started + seconds:
            for key in sequence:
                limiter.take(key, OPEN)
            count += len(sequence)
        row = Row(f"in memory, {label} (take)", count / (time.perf_counter() - started))
        progress(f"  {row.what}: {row.per_second:,.0f}/s")
        rows.append(row)

    async def through_acquire() -> Row:
        limiter = InMemoryRateLimiter()
        result = await run_callers(1, seconds, lambda _i, _n: limiter.acquire(CLIENT, OPEN))
        return timed_row("in memory, one key (await acquire)", result)

    rows.append(asyncio.run(through_acquire()))
    return rows


async def shared(url: str, seconds: float, bucket: str) -> list[Row]:
    connections: list[NATS] = [await connect_nats(url, name=f"bench-{n}") for n in range(2)]
    rows: list[Row] = []
    try:
        first, second = (NatsKvRateLimiter(nc, bucket=bucket) for nc in connections)
        await first.open()
        await second.open()
        await first.acquire("warm-up", OPEN)

        # Reference: the two round trips of one uncontended decision, without the limiter.
        kv = await connections[0].jetstream().key_value(bucket)
        value = encode_state(BucketState(1.0, time.time()))
        revision = await kv.put("raw-reference", value)

        async def raw(_i: int, _n: int) -> None:
            nonlocal revision
            entry = await kv.get("raw-reference")
            revision = await kv.update("raw-reference", value, last=entry.revision)

        rows.append(
            timed_row("ref: raw kv.get + kv.update, sequential", await run_callers(1, seconds, raw))
        )

        cases: list[tuple[str, int, Callable[[int, int], Awaitable[object]]]] = [
            ("KV, one connection, sequential", 1, lambda _i, _n: first.acquire(CLIENT, OPEN)),
            (
                "KV, one connection, 32 concurrent, one client",
                32,
                lambda _i, _n: first.acquire(CLIENT, OPEN),
            ),
            (
                "KV, one connection, 32 concurrent, 32 clients",
                32,
                lambda i, _n: first.acquire(KEYS[i], OPEN),
            ),
            (
                "KV, two replicas, 32 concurrent each, one client",
                64,
                lambda i, _n: (first if i % 2 else second).acquire(CLIENT, OPEN),
            ),
        ]
        for what, callers, call in cases:
            rows.append(timed_row(what, await run_callers(callers, seconds, call)))
        if first.degraded or second.degraded:
            raise RuntimeError("the KV limiter failed open during the run: figures are void")
    finally:
        for nc in connections:
            await nc.close()
    return rows


def table(rows: list[Row]) -> str:
    reference = next((r.per_second for r in rows if r.what.startswith("ref:")), None)
    lines = [
        "| what | acquisitions/s | p50 ms | p99 ms | vs raw get+update |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        p50 = f"{row.p50_ms:.3f}" if row.p50_ms is not None else ""
        p99 = f"{row.p99_ms:.3f}" if row.p99_ms is not None else ""
        ratio = (
            f"{row.per_second / reference:.2f}x"
            if reference and (row.what.startswith("KV") or row.what.startswith("ref:"))
            else ""
        )
        lines.append(f"| {row.what} | {row.per_second:,.0f} | {p50} | {p99} | {ratio} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each figure")
    args = parser.parse_args()
    configure_logging(level="WARNING", json=False)  # logs to stderr; a fail-open shows there

    progress("in memory")
    rows = in_memory(args.seconds)
    with tempfile.TemporaryDirectory(prefix="pangolin-bench-") as store:
        server = NatsServer(Path(store)).start()
        try:
            progress(f"NATS KV on {server.url}")
            runner = uvloop.run if uvloop is not None else asyncio.run
            rows += runner(shared(server.url, args.seconds, "bench_rate_limits"))
        finally:
            server.stop()

    print()
    print("Pangolin gateway rate limits")
    print(
        f"command: python3 -m uv run --frozen python bench/rate_limits.py --seconds {args.seconds}"
    )
    print(
        f"python {platform.python_version()}, nats-py {version('nats-py')}, "
        f"event loop {'uvloop' if uvloop is not None else 'asyncio'} for NATS figures, "
        f"JetStream on disk"
    )
    print()
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
