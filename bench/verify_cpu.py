"""permit-verify's CPU per verification, in-process: the figure bench/verify.py reads from
/proc, without the gateway and the load generator, quick enough to compare two commits.

It starts bench/verify.py's suite (nats-server, species-ref with the checklist, risk-score,
a registry of --permits signed permits), then runs permit-verify's app in this process
(`httpx.ASGITransport`, the bench's signed identity, the servers' environment) and sends
fresh 3-line declarations at --concurrency in flight. CPU is this process's (main thread,
aiosqlite threads and `Database.run`'s SQLite threads, NATS) over the measured requests:
`time.process_time()`, so it does not move with the machine's load the way latency does.
The in-process HTTP client's own work is counted too (a few hundred microseconds).
`--profile FILE` writes a cProfile of the measured window (`python -m pstats FILE`, or
snakeviz).

    uv run --frozen python bench/verify_cpu.py --permits 20000 --count 400
    uv run --frozen python bench/verify_cpu.py --permits 20000 --count 400 --profile /tmp/pv.prof
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import httpx
import sqlalchemy as sa

from pangolin_core.testing import running_app

BENCH = Path(__file__).resolve().parent


def _bench_verify() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_verify", BENCH / "verify.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_verify"] = module
    spec.loader.exec_module(module)
    return module


bv = _bench_verify()


async def drive(
    client: httpx.AsyncClient, requests: list[bytes], headers: dict[str, str], concurrency: int
) -> list[int]:
    queue = list(reversed(requests))
    headers = {**headers, "content-type": "application/json"}
    statuses: list[int] = []

    async def worker() -> None:
        while queue:
            body = queue.pop()
            answer = await client.post(bv.VERIFY_PATH, content=body, headers=headers)
            statuses.append(answer.status_code)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


async def measure(args: argparse.Namespace, suite: dict[str, object], budget: object) -> None:
    from permit_verify.app import create_app
    from permit_verify.settings import PermitVerifySettings

    today = datetime.now(UTC).date()
    identity = suite["identity"]
    assert isinstance(identity, dict)

    def bodies(count: int, prefix: str) -> list[bytes]:
        return [body for _, _, body in bv.verification_requests(budget, count, prefix, today)]

    app = create_app(PermitVerifySettings())
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    async with running_app(app) as client:
        # Every engine: the async one's and, on SQLite, the pysqlite one of `Database.run`.
        for engine in app.state.runtime.db.engines:
            sa.event.listen(engine, "before_cursor_execute", count)
        warm = await drive(client, bodies(args.warmup, "CPU-WARM"), identity, args.concurrency)
        requests = bodies(args.count, "CPU")
        profile = cProfile.Profile() if args.profile else None
        statements, threads = 0, thread_cpu()
        wall, cpu = time.perf_counter(), time.process_time()
        if profile is not None:
            profile.enable()
        statuses = await drive(client, requests, identity, args.concurrency)
        if profile is not None:
            profile.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        main_thread = thread_cpu()[os.getpid()] - threads[os.getpid()]
    if profile is not None:
        profile.dump_stats(args.profile)
    counts = {s: statuses.count(s) for s in sorted(set(warm + statuses))}
    print(
        f"{args.count} verifications at {args.concurrency} in flight: CPU"
        f" {1000 * cpu / args.count:.2f} ms per verification"
        f" ({wall:.1f} s wall, {args.count / wall:.1f}/s); statuses {counts}"
        + (" (profiled: cProfile inflates CPU)" if profile is not None else "")
    )
    print(
        f"  event-loop thread {1000 * main_thread / args.count:.2f} ms, other threads (SQLite,"
        f" ...) {1000 * (cpu - main_thread) / args.count:.2f} ms; SQL statements per"
        f" verification (relay included): {statements / args.count:.1f}"
    )


def thread_cpu() -> dict[int, float]:
    """Thread id -> CPU seconds (user + system), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for task in Path("/proc/self/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        out[int(task.name)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/verify_cpu.py", description=__doc__)
    parser.add_argument("--permits", type=int, default=20_000)
    parser.add_argument("--count", type=int, default=400, help="measured verifications")
    parser.add_argument("--warmup", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--profile", metavar="FILE", default=None)
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args()
    suite_args = argparse.Namespace(postgres=None, server_env=[], postgres_version=None)
    today = datetime.now(UTC).date()
    registry = bv.shipments(-(-args.permits // bv.LINES), random.Random(args.seed), today)
    budget = bv.Budget(registry)
    with bv.running_suite(suite_args, registry) as suite:
        tmp = Path(suite["notes"]["tmp"])
        env = bv.gw.suite_environment(tmp, suite["nats_url"], "http://127.0.0.1:9", [])
        os.environ.update({k: v for k, v in env.items() if k.startswith("PANGOLIN_")})
        os.environ["PANGOLIN_PERMIT_VERIFY_DATABASE_URL"] = bv.gw.database_url(tmp, "permit-verify")
        asyncio.run(measure(args, suite, budget))
    return 0


if __name__ == "__main__":
    sys.exit(main())
