"""Figures for species-ref with the full CITES checklist loaded, measured on this machine.

1. In-process matcher, before any server runs: the `NameIndex` of the checklist (38,079 taxa,
   85,699 names): build time, memory held (tracemalloc, in a second build) and RSS growth;
   exact names/s over every stored name (shuffled); fuzzy names/s over 1-2 edit misspellings
   of species names (`misspell` and `timed_matches` of bench/species_matcher.py) and the share
   resolved to the right taxon.
2. Through the API: the bench starts its own nats-server, migrates and seeds a SQLite
   species-ref database in a temp dir (the seed's outbox rows are marked published, so the
   relay stays idle), and runs `python -m pangolin_core.cli serve species-ref` as a real
   server (uvicorn, one process). A load generator in another process (a minimal HTTP/1.1
   keep-alive client on uvloop, one connection per caller: httpx is too slow to drive it)
   keeps a fixed number of requests in flight, each phase a warm-up then `--duration`
   seconds (at most `--max-requests`):
   - GET /health: the reference, the server and the generator with nothing behind the route;
   - GET /v1/species/status, 1 in flight, then `--concurrency` (50) in flight: real names of
     the checklist (accepted names of species and subspecies, synonyms, common names, 1-2 edit
     misspellings), each with a country of the taxon's distribution and a date;
   - POST /v1/species/match, batches of 1,000 names (80 % names as stored, 20 % misspelt),
     `--match-concurrency` (8) in flight.
   Server CPU (from /proc) and generator CPU are read over each measured window.
3. After the load: the server's RSS (and its peak), then the answers checked: a sample of
   status answers and every distinct match batch, for the right taxon per kind of name.

Targets (the issue): 100,000 exact and 2,000 fuzzy names/s in-process, 98 % of misspellings
right, status p99 under 10 ms at 50 concurrent requests, matcher memory under 200 MB.
A benchmark, not a test:

    uv run --frozen python bench/species.py --help
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import math
import multiprocessing
import os
import platform
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa

# The sibling benchmark (run as a script, bench/ is on sys.path); mypy does not see bench/.
from species_matcher import (  # type: ignore[import-not-found, unused-ignore]
    misspell,
    timed_matches,
)

from pangolin_core import migrations
from pangolin_core.db import Database
from pangolin_core.identity import Caller, IdentitySigner
from pangolin_core.messaging.tables import outbox
from pangolin_core.natsserver import NatsServer, free_port, wait_for_port
from pangolin_core.settings import DEV_IDENTITY_PRIVATE_KEY
from species_ref.app import DEFINITION
from species_ref.checklist import SPECIFIC_RANKS, ChecklistTaxon, read_checklist
from species_ref.codes.service import CodeListName, CodeLists, read_code_lists
from species_ref.matching import (
    MatchResult,
    MatchType,
    NameIndex,
    NameRecord,
    records_from_checklist,
)
from species_ref.seed import CHECKLIST, seed
from species_ref.settings import SpeciesRefSettings

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
    uvloop = None  # type: ignore[assignment]

MATCH_BATCH = 1_000
MATCH_MISSPELT_SHARE = 0.2  # of each match batch; the rest are names as stored
# Kinds of status queries and their weights: what a declaration line names.
STATUS_MIX = {"accepted": 60, "synonym": 15, "common": 10, "misspelt": 15}
STATUS_DATES = (date(2017, 4, 21), date(2026, 11, 25))  # as_of drawn between the two
STATUS_VERIFY = 500  # status answers checked one by one after the load
RIGHT_MISSPELT = frozenset({MatchType.FUZZY, MatchType.EXACT, MatchType.SYNONYM})
READY_TIMEOUT = 180.0  # s: the server builds its name index from the database at start
REQUEST_TIMEOUT = 60.0  # s, per request of the generator
SERVER_LOG = "species-ref.log"
TARGETS = {
    "exact": 100_000.0,  # names/s, at least
    "fuzzy": 2_000.0,  # names/s, at least
    "right": 0.98,  # share of misspellings, at least
    "status.p99": 10.0,  # ms at 50 in flight, below
    "memory": 200.0,  # MB, below
}


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    """VmRSS (or VmHWM, the peak) of a process from /proc, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """User + system CPU time of a process (or of one of its threads) from /proc."""
    path = Path(f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat")
    fields = path.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_count(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn's workers), from /proc."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:  # a thread that ended since the listing
            continue
        for child in children:
            found += process_tree(int(child))
    return found


def tree_cpu_seconds(pid: int) -> float:
    return sum(cpu_seconds(each) for each in process_tree(pid))


def tree_rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    return sum(rss_mb(each, field_name) for each in process_tree(pid))


# --------------------------------------------------------------------------------------------
# Queries built from the checklist


@dataclass(frozen=True)
class Probe:
    """One name to look up, what kind it is and the taxa that would be a right answer."""

    kind: str  # accepted, synonym, common, stored (match batches), misspelt
    name: str
    expected: frozenset[int]
    country: str | None = None
    as_of: date | None = None


class Names:
    """The checklist's names, to draw probes from (seeded)."""

    def __init__(self, taxa: Sequence[ChecklistTaxon], records: Sequence[NameRecord]) -> None:
        self.by_id = {taxon.taxon_id: taxon for taxon in taxa}
        self.specific = [taxon for taxon in taxa if taxon.rank in SPECIFIC_RANKS]
        self.species = [taxon for taxon in taxa if taxon.rank == "SPECIES"]
        self.records = list(records)
        self.by_kind = {
            kind: [record for record in records if record.kind == kind]
            for kind in ("synonym", "common")
        }

    def stored(self, rng: random.Random) -> Probe:
        record = rng.choice(self.records)
        return Probe("stored", record.name, expected_of(record))

    def misspelt(self, rng: random.Random) -> Probe:
        taxon = rng.choice(self.species)
        name: str = misspell(taxon.full_name, rng)
        return Probe("misspelt", name, frozenset({taxon.taxon_id}))

    def status_probe(self, rng: random.Random, codes: CodeLists) -> Probe:
        kind = rng.choices(list(STATUS_MIX), weights=list(STATUS_MIX.values()))[0]
        if kind == "accepted":
            taxon = rng.choice(self.specific)
            probe = Probe(kind, taxon.full_name, frozenset({taxon.taxon_id}))
        elif kind == "misspelt":
            probe = self.misspelt(rng)
        else:
            record = rng.choice(self.by_kind[kind])
            probe = Probe(kind, record.name, expected_of(record))
        countries = sorted(
            {
                d.country
                for taxon_id in sorted(probe.expected)
                for d in self.by_id[taxon_id].distributions
                if codes.is_valid(CodeListName.COUNTRIES, d.country)
            }
        )
        first, last = STATUS_DATES
        as_of = first + timedelta(days=rng.randrange((last - first).days + 1))
        country = rng.choice(countries) if countries else None
        return Probe(probe.kind, probe.name, probe.expected, country, as_of)


def expected_of(record: NameRecord) -> frozenset[int]:
    if record.kind == "synonym":
        return frozenset(record.accepted_ids)
    return frozenset({record.taxon_id})


def status_url(probe: Probe) -> str:
    params = {"name": probe.name}
    if probe.country:
        params["country"] = probe.country
    if probe.as_of:
        params["as_of"] = probe.as_of.isoformat()
    return f"/v1/species/status?{urlencode(params)}"


def match_batches(names: Names, rng: random.Random, count: int) -> list[list[Probe]]:
    misspelt = round(MATCH_BATCH * MATCH_MISSPELT_SHARE)
    batches = []
    for _ in range(count):
        batch = [names.misspelt(rng) for _ in range(misspelt)]
        batch += [names.stored(rng) for _ in range(MATCH_BATCH - misspelt)]
        rng.shuffle(batch)
        batches.append(batch)
    return batches


def match_body(batch: Sequence[Probe]) -> bytes:
    return json.dumps({"names": [{"name": probe.name} for probe in batch]}).encode()


def is_right(probe: Probe, match_type: str, taxon_id: int | None) -> bool:
    """The right taxon; for a misspelling, also a match type that says it was found."""
    if probe.kind == "misspelt" and match_type not in RIGHT_MISSPELT:
        return False
    return taxon_id in probe.expected


# --------------------------------------------------------------------------------------------
# 1. In-process matcher


def median_rate(
    index: NameIndex, queries: Sequence[str], args: argparse.Namespace
) -> tuple[list[MatchResult], list[float]]:
    """`timed_matches` `args.runs` times: the last run's results, and the rates."""
    rates = []
    for _ in range(args.runs):
        results, rate = timed_matches(index, queries, args.duration)
        rates.append(rate)
    return results, rates


def in_process(
    names: Names,
    batches: Sequence[Sequence[Probe]],
    rng: random.Random,
    args: argparse.Namespace,
    figures: dict[str, Any],
) -> None:
    gc.collect()
    before = rss_mb(os.getpid())
    started = time.perf_counter()
    index = NameIndex.build(names.records)
    figures["index_build_s"] = time.perf_counter() - started
    figures["index_rss_growth_mb"] = rss_mb(os.getpid()) - before
    progress(f"  index: {len(index):,} names in {figures['index_build_s']:.2f} s")

    stored = [record.name for record in names.records]
    rng.shuffle(stored)
    stored = (stored * (args.exact // len(stored) + 1))[: args.exact]
    results, rates = median_rate(index, stored, args)
    figures["exact_names_per_s"] = statistics.median(rates)
    figures["exact_runs"] = [round(rate) for rate in rates]
    figures["exact_names"] = len(results)
    figures["exact_found"] = sum(r.match_type is not MatchType.NONE for r in results) / len(results)
    progress(f"  exact: {figures['exact_names_per_s']:,.0f} names/s")

    probes = [names.misspelt(rng) for _ in range(args.fuzzy)]
    queries = [probe.name for probe in probes]
    results, rates = median_rate(index, queries, args)
    figures["fuzzy_names_per_s"] = statistics.median(rates)
    figures["fuzzy_runs"] = [round(rate) for rate in rates]
    figures["fuzzy_names"] = len(results)
    figures["fuzzy_right"] = sum(
        is_right(probe, str(result.match_type), result.taxon_id)
        for probe, result in zip(probes, results, strict=False)
    ) / len(results)
    figures["fuzzy_types"] = dict(Counter(str(result.match_type) for result in results))
    progress(
        f"  fuzzy: {figures['fuzzy_names_per_s']:,.0f} names/s, {figures['fuzzy_right']:.2%} right"
    )

    # The names of the API's match batches, for the ratio API / in-process.
    batch_names = [probe.name for batch in batches for probe in batch]
    results, rates = median_rate(index, batch_names, args)
    figures["batch_names_per_s"] = statistics.median(rates)
    progress(f"  match batches' names: {figures['batch_names_per_s']:,.0f} names/s")

    del index, results
    gc.collect()
    tracemalloc.start()
    index = NameIndex.build(names.records)
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del index
    figures["index_held_mb"], figures["index_peak_mb"] = held / 1e6, peak / 1e6
    progress(f"  memory: {held / 1e6:.1f} MB held (tracemalloc)")


# --------------------------------------------------------------------------------------------
# 2. The load generator (runs in its own process)


@dataclass(frozen=True)
class Load:
    name: str
    host: str
    port: int
    headers: dict[str, str]
    requests: tuple[tuple[str, str, bytes | None], ...]  # method, path, JSON body
    concurrency: int
    warmup: float
    duration: float
    max_requests: int
    server_pid: int
    names_per_request: int = 1
    rate: float | None = None  # open loop: requests/s sent on schedule; None: closed loop
    ok_statuses: frozenset[int] = frozenset({200})  # answers whose latency counts


@dataclass
class LoadResult:
    name: str
    concurrency: int
    names_per_request: int
    completed: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # s, of the 200 answers
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    rate: float | None = None  # offered, open loop
    first_error: str = ""
    generator_cpu: float = 0.0  # s of CPU in the generator's window
    server_cpu: float = 0.0  # s of CPU of the server in the same window
    server_main_cpu: float = 0.0  # of which its main thread (the event loop)
    server_threads: int = 0  # at the end of the window


def run_load(load: Load) -> LoadResult:
    """Entry point of the generator process."""
    if uvloop is not None:
        return uvloop.run(_drive(load))
    return asyncio.run(_drive(load))


class Connection:
    """A minimal HTTP/1.1 keep-alive client, one request at a time, for the generator.

    httpx.AsyncClient cannot drive this server: against a bare FastAPI app here it peaks
    near 1,000 requests/s at 75-100 % of a core, and one pool of 50 connections gave 400/s
    (pool bookkeeping, see MEASURED.md); this loop sends 4,800/s at 25 % of a core.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def send(self, request: bytes) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            fields = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in lines[1:] if line)
            }
            if fields.get("transfer-encoding", "").lower() == "chunked":
                body = await self._chunks(reader)
            else:
                body = await reader.readexactly(int(fields.get("content-length", "0")))
        except BaseException:
            self.close()
            raise
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, body

    @staticmethod
    async def _chunks(reader: asyncio.StreamReader) -> bytes:
        parts = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append((await reader.readexactly(size + 2))[:-2])
        await reader.readuntil(b"\r\n")  # no trailers from uvicorn
        return b"".join(parts)

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


def encode_request(load: Load, method: str, path: str, body: bytes | None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {load.host}:{load.port}"]
    lines += [f"{name}: {value}" for name, value in load.headers.items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


async def _drive(load: Load) -> LoadResult:
    requests = [encode_request(load, *request) for request in load.requests]
    connections = [Connection(load.host, load.port) for _ in range(load.concurrency)]
    try:
        offset = itertools.count()
        window = _window if load.rate is None else _paced_window
        warm = LoadResult(load.name, load.concurrency, load.names_per_request)
        await window(connections, requests, load, offset, load.warmup, warm)
        result = LoadResult(load.name, load.concurrency, load.names_per_request, rate=load.rate)
        pid = load.server_pid
        server_before, main_before = tree_cpu_seconds(pid), cpu_seconds(pid, pid)
        cpu_before = time.process_time()
        started = time.perf_counter()
        await window(connections, requests, load, offset, load.duration, result)
        result.seconds = time.perf_counter() - started
        result.generator_cpu = time.process_time() - cpu_before
        result.server_cpu = tree_cpu_seconds(pid) - server_before
        result.server_main_cpu = cpu_seconds(pid, pid) - main_before
        result.server_threads = thread_count(pid)
        result.first_error = result.first_error or warm.first_error
        return result
    finally:
        for connection in connections:
            connection.close()


async def _window(
    connections: Sequence[Connection],
    requests: Sequence[bytes],
    load: Load,
    offset: itertools.count[int],
    seconds: float,
    result: LoadResult,
) -> None:
    """One caller per connection, each sending until the window ends or the count is used."""
    deadline = time.perf_counter() + seconds
    sent = itertools.count()
    statuses: Counter[int] = Counter()
    failures: Counter[str] = Counter()

    async def caller(connection: Connection) -> None:
        while next(sent) < load.max_requests and time.perf_counter() < deadline:
            request = requests[next(offset) % len(requests)]
            started = time.perf_counter()
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    status, body = await connection.send(request)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                failures[type(exc).__name__] += 1
                result.first_error = result.first_error or repr(exc)
                continue
            latency = time.perf_counter() - started
            statuses[status] += 1
            if status in load.ok_statuses:
                result.latencies.append(latency)
            elif not result.first_error:
                result.first_error = f"{status} {body[:300].decode(errors='replace')}"

    await asyncio.gather(*(caller(connection) for connection in connections))
    result.completed = sum(statuses.values())
    result.statuses = dict(statuses)
    result.failures = dict(failures)


async def _paced_window(
    connections: Sequence[Connection],
    requests: Sequence[bytes],
    load: Load,
    offset: itertools.count[int],
    seconds: float,
    result: LoadResult,
) -> None:
    """Open loop: request n is due at start + n / rate, whatever the answers before it; it
    goes out on a free connection (waiting for one when all are busy), and its latency is
    counted from when it was due, so a server that falls behind is charged for the queue
    (no coordinated omission). The sleeps are the schedule of the load, not a wait for the
    server."""
    assert load.rate is not None
    free: asyncio.Queue[Connection] = asyncio.Queue()
    for connection in connections:
        free.put_nowait(connection)
    statuses: Counter[int] = Counter()
    failures: Counter[str] = Counter()

    async def one(connection: Connection, request: bytes, due: float) -> None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                status, body = await connection.send(request)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            failures[type(exc).__name__] += 1
            result.first_error = result.first_error or repr(exc)
            return
        finally:
            free.put_nowait(connection)
        statuses[status] += 1
        if status in load.ok_statuses:
            result.latencies.append(time.perf_counter() - due)
        elif not result.first_error:
            result.first_error = f"{status} {body[:300].decode(errors='replace')}"

    start = time.perf_counter()
    pending: set[asyncio.Task[None]] = set()
    for n in range(load.max_requests):
        due = start + n / load.rate
        if due - start >= seconds:
            break
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        connection = await free.get()
        task = asyncio.create_task(one(connection, requests[next(offset) % len(requests)], due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    result.completed = sum(statuses.values())
    result.statuses = dict(statuses)
    result.failures = dict(failures)


# --------------------------------------------------------------------------------------------
# 2. The server


async def seeded_database(url: str) -> tuple[str, float]:
    """Migrate and seed; mark the seed's events published. (seed's summary, seconds)."""
    started = time.perf_counter()
    await migrations.upgrade(DEFINITION.migrations, url)
    summary = await seed(SpeciesRefSettings(database_url=url))
    db = Database(url)
    try:
        async with db.session() as session:
            await session.exec(
                sa.update(outbox)
                .where(outbox.c.published_at.is_(None))
                .values(published_at=datetime.now(UTC))
            )
    finally:
        await db.dispose()
    return summary, time.perf_counter() - started


def log_tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> float:
    """Wait until the server listens: uvicorn binds only once its lifespan has built the name
    index. Then /ready must answer 200."""
    started = time.perf_counter()
    try:
        wait_for_port("127.0.0.1", port, timeout=READY_TIMEOUT, process=process)
    except (RuntimeError, TimeoutError) as exc:
        raise RuntimeError(f"species-ref: {exc}:\n{log_tail(log)}") from exc
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as client:
        status = client.get("/ready").status_code
    if status != 200:
        raise RuntimeError(f"species-ref listens but /ready answered {status}:\n{log_tail(log)}")
    return time.perf_counter() - started


def start_server(
    tmp: Path, nats_url: str, db_url: str, extra_env: Sequence[str], workers: int
) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = free_port()
    env = {
        **os.environ,
        "PANGOLIN_NATS_URL": nats_url,
        "PANGOLIN_SPECIES_REF_DATABASE_URL": db_url,
        "PANGOLIN_DATA_DIR": str(tmp),
    }
    for item in extra_env:
        key, _, value = item.partition("=")
        env[key] = value
    log = tmp / SERVER_LOG
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "pangolin_core.cli", "serve", "species-ref",
             "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    return process, port, log


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --------------------------------------------------------------------------------------------
# 3. Answers checked


def check_status(
    base_url: str, headers: dict[str, str], probes: Sequence[Probe]
) -> dict[str, dict[str, Any]]:
    """Per kind: queries, share answered with the right taxon, match types, appendices."""
    tally: dict[str, dict[str, Any]] = {}
    with httpx.Client(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT) as client:
        for probe in probes:
            entry = tally.setdefault(
                probe.kind, {"queries": 0, "right": 0, "types": Counter(), "appendix": Counter()}
            )
            entry["queries"] += 1
            response = client.get(status_url(probe))
            if response.status_code != 200:
                entry["types"][f"HTTP {response.status_code}"] += 1
                continue
            answer = response.json()
            entry["types"][answer["match_type"]] += 1
            entry["appendix"][answer["appendix"] or answer["determined_by"]] += 1
            entry["right"] += is_right(probe, answer["match_type"], answer["taxon_id"])
    return tally


def check_match(
    base_url: str, headers: dict[str, str], batches: Sequence[Sequence[Probe]]
) -> dict[str, dict[str, Any]]:
    tally: dict[str, dict[str, Any]] = {}
    with httpx.Client(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT) as client:
        for batch in batches:
            response = client.post(
                "/v1/species/match",
                content=match_body(batch),
                headers={"content-type": "application/json"},
            )
            response.raise_for_status()
            for probe, answer in zip(batch, response.json()["results"], strict=True):
                entry = tally.setdefault(probe.kind, {"queries": 0, "right": 0, "types": Counter()})
                entry["queries"] += 1
                entry["types"][answer["match_type"]] += 1
                entry["right"] += is_right(probe, answer["match_type"], answer["taxon_id"])
    return tally


# --------------------------------------------------------------------------------------------
# Report


def load_row(result: LoadResult) -> dict[str, Any]:
    ok = len(result.latencies)
    rate = ok / result.seconds if result.seconds else 0.0
    return {
        "phase": result.name,
        "in_flight": result.concurrency,
        "offered_per_s": result.rate,
        "requests": result.completed,
        "non_200": result.completed - ok,
        "failures": result.failures,
        "seconds": round(result.seconds, 2),
        "requests_per_s": rate,
        "names_per_s": rate * result.names_per_request,
        "p50_ms": percentile(result.latencies, 0.50) * 1e3,
        "p90_ms": percentile(result.latencies, 0.90) * 1e3,
        "p99_ms": percentile(result.latencies, 0.99) * 1e3,
        "max_ms": max(result.latencies, default=0.0) * 1e3,
        "server_cpu": result.server_cpu / result.seconds if result.seconds else 0.0,
        "server_cpu_ms_per_request": result.server_cpu / max(1, result.completed) * 1e3,
        "server_main_thread_cpu": (
            result.server_main_cpu / result.seconds if result.seconds else 0.0
        ),
        "server_threads": result.server_threads,
        "generator_cpu": result.generator_cpu / result.seconds if result.seconds else 0.0,
        "first_error": result.first_error,
    }


def _clean(row: dict[str, Any]) -> bool:
    return not row["non_200"] and not row["failures"]


def verdict(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def print_report(report: dict[str, Any]) -> None:
    m, api, mem = report["matcher"], report["api"], report["server"]
    rows = {row["phase"]: row for row in api["phases"]}
    status = rows[report["status_phase"]]
    fuzzy_api = api["match_answers"].get("misspelt", {"queries": 0, "right": 0})
    print()
    print("Pangolin species-ref with the full CITES checklist")
    for key in ("command", "machine", "code", "data", "server_cmd", "load", "run"):
        print(f"{key + ':':<11}{report[key]}")
    print()
    print("| target (issue) | this run | target | met |")
    print("|---|---:|---|---|")
    print(
        f"| exact names/s in-process ({m['exact_names']:,} stored names, median of"
        f" {len(m['exact_runs'])}) | {m['exact_names_per_s']:,.0f} | >= 100,000 |"
        f" {verdict(m['exact_names_per_s'] >= TARGETS['exact'])} |"
    )
    print(
        f"| fuzzy names/s in-process ({m['fuzzy_names']:,} misspellings, median of"
        f" {len(m['fuzzy_runs'])}) | {m['fuzzy_names_per_s']:,.0f} | >= 2,000 |"
        f" {verdict(m['fuzzy_names_per_s'] >= TARGETS['fuzzy'])} |"
    )
    print(
        f"| misspellings resolved to the right taxon, in-process | {m['fuzzy_right']:.2%} |"
        f" >= 98 % | {verdict(m['fuzzy_right'] >= TARGETS['right'])} |"
    )
    if fuzzy_api["queries"]:
        share = fuzzy_api["right"] / fuzzy_api["queries"]
        print(
            f"| misspellings right through POST /match ({fuzzy_api['queries']:,}) |"
            f" {share:.2%} | >= 98 % | {verdict(share >= TARGETS['right'])} |"
        )
    workers = f"{report['workers']} server process{'es' if report['workers'] > 1 else ''}"
    for phase in report["paced_phases"]:
        paced = rows[phase]
        print(
            f"| status p99, {paced['in_flight']} concurrent connections, open loop at"
            f" {paced['offered_per_s']:,.0f} req/s ({workers}) | {paced['p99_ms']:.1f} ms |"
            f" < 10 ms | {verdict(paced['p99_ms'] < TARGETS['status.p99'] and _clean(paced))} |"
        )
    print(
        f"| status p99, {status['in_flight']} always in flight (closed loop: saturation,"
        f" {status['requests_per_s']:,.0f} req/s; {workers}) | {status['p99_ms']:.1f} ms |"
        f" < 10 ms | {verdict(status['p99_ms'] < TARGETS['status.p99'] and _clean(status))} |"
    )
    print(
        f"| matcher memory: index held (tracemalloc) | {m['index_held_mb']:.0f} MB"
        f" (peak {m['index_peak_mb']:.0f}; RSS +{m['index_rss_growth_mb']:.0f} MB) | < 200 MB |"
        f" {verdict(max(m['index_held_mb'], m['index_rss_growth_mb']) < TARGETS['memory'])} |"
    )
    print()
    print(
        "| API phase | in flight | requests | req/s | names/s | p50 ms | p90 ms | p99 ms |"
        " max ms | server CPU (main thread; threads) | server CPU per request | generator CPU |"
        " non-200 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in api["phases"]:
        print(
            f"| {row['phase']} | {row['in_flight']} | {row['requests']:,} |"
            f" {row['requests_per_s']:,.0f} | {row['names_per_s']:,.0f} | {row['p50_ms']:.1f} |"
            f" {row['p90_ms']:.1f} | {row['p99_ms']:.1f} | {row['max_ms']:.1f} |"
            f" {row['server_cpu']:.0%} ({row['server_main_thread_cpu']:.0%};"
            f" {row['server_threads']}) | {row['server_cpu_ms_per_request']:.2f} ms |"
            f" {row['generator_cpu']:.0%} |"
            f" {row['non_200'] + sum(row['failures'].values())} |"
        )
    match = api["phases"][-1]
    print()
    print(
        f"POST /match: {match['names_per_s']:,.0f} names/s through the API, the matcher alone"
        f" {m['batch_names_per_s']:,.0f} names/s on the same names in-process"
        f" ({match['names_per_s'] / m['batch_names_per_s']:.2f}x)"
    )
    print(
        f"server RSS ({workers}: app, index, code lists, SQLAlchemy):"
        f" {mem['rss_ready_mb']:.0f} MB when ready, {mem['rss_after_mb']:.0f} MB after the load,"
        f" peak {mem['rss_peak_mb']:.0f} MB;"
        f" log {mem['log_lines']:,} lines ({mem['log_bytes'] / 1e6:.1f} MB)"
    )
    print()
    print("| answers checked | kind | names | right taxon | match types |")
    print("|---|---|---:|---:|---|")
    for label, tally in (("status", api["status_answers"]), ("match", api["match_answers"])):
        for kind, entry in tally.items():
            types = ", ".join(f"{k} {v}" for k, v in Counter(entry["types"]).most_common())
            print(
                f"| {label} | {kind} | {entry['queries']:,} |"
                f" {entry['right'] / max(1, entry['queries']):.2%} | {types} |"
            )
    for row in api["phases"]:
        if row["first_error"]:
            print(f"note: {row['phase']}: first error: {row['first_error']}")


def code_revision() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "libs/core", "services/species-ref"],
            cwd=root, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return head + (" + uncommitted changes in libs/core or species-ref" if dirty else "")


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/species.py",
        description=(
            "species-ref with the full CITES checklist: the matcher in-process, then"
            " /v1/species/status and /v1/species/match through a real server."
        ),
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, metavar="S",
        help="seconds per measured window (API phase, and in-process run at most; default 10)",
    )  # fmt: skip
    parser.add_argument(
        "--warmup", type=float, default=2.0, metavar="S", help="seconds of warm-up (default 2)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=50, metavar="N",
        help="status (and /health) requests in flight (default 50)",
    )  # fmt: skip
    parser.add_argument(
        "--match-concurrency", type=int, default=8, metavar="N",
        help="match batches of 1,000 names in flight (default 8)",
    )  # fmt: skip
    parser.add_argument(
        "--max-requests", type=int, default=200_000, metavar="N",
        help="requests per API window at most (default 200000)",
    )  # fmt: skip
    parser.add_argument(
        "--status-queries", type=int, default=5_000, metavar="N",
        help="distinct status queries, cycled (default 5000)",
    )  # fmt: skip
    parser.add_argument(
        "--match-batches", type=int, default=10, metavar="N",
        help="distinct match batches of 1,000 names, cycled and all checked (default 10)",
    )  # fmt: skip
    parser.add_argument("--exact", type=int, default=200_000, help="in-process exact names")
    parser.add_argument("--fuzzy", type=int, default=5_000, help="in-process misspellings")
    parser.add_argument("--runs", type=int, default=3, help="in-process runs per figure")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="KEY=VALUE",
        help="extra environment of the server, e.g. PANGOLIN_LOG_LEVEL=WARNING (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--rates", default="200,400,600", metavar="R,R,...",
        help="open-loop status phases: requests/s sent on schedule over --concurrency"
        " connections, latency counted from when each was due (default 200,400,600)",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N",
        help="uvicorn worker processes of the server (default 1)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    try:
        args.rates = [float(rate) for rate in args.rates.split(",") if rate.strip()]
    except ValueError:
        parser.error("--rates takes numbers separated by commas")
    if any(rate <= 0 for rate in args.rates) or args.workers < 1:
        parser.error("--rates must be positive and --workers at least 1")
    counts = (args.concurrency, args.match_concurrency, args.max_requests, args.runs)
    if min(counts) < 1 or min(args.status_queries, args.match_batches, args.fuzzy) < 1:
        parser.error("counts must be at least 1")
    if args.duration <= 0 or args.warmup < 0:
        parser.error("--duration must be positive and --warmup not negative")
    if any("=" not in item for item in args.server_env):
        parser.error("--server-env takes KEY=VALUE")
    return args


def main(args: argparse.Namespace) -> int:
    command = shlex.join(["uv", "run", "--frozen", "python", *sys.argv])
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    rng = random.Random(args.seed)

    progress("parsing the checklist")
    parse_started = time.perf_counter()
    taxa = list(read_checklist(CHECKLIST))
    parse_seconds = time.perf_counter() - parse_started
    names = Names(taxa, records_from_checklist(taxa))
    codes = read_code_lists()

    progress("1. in-process matcher")
    matcher: dict[str, Any] = {}
    status_probes = [names.status_probe(rng, codes) for _ in range(args.status_queries)]
    batches = match_batches(names, rng, args.match_batches)
    in_process(names, batches, rng, args, matcher)
    signer = IdentitySigner(DEV_IDENTITY_PRIVATE_KEY, ttl_seconds=3600)
    headers = {
        "X-Pangolin-Identity": signer.sign(
            Caller("bench", "KE", frozenset(), frozenset({"species:read"}))
        )
    }
    status_phase = f"GET /v1/species/status, {args.concurrency} in flight"

    def paced_phase(rate: float) -> str:
        return f"GET /v1/species/status, {rate:,.0f}/s on {args.concurrency} connections"

    api: dict[str, Any] = {"phases": []}
    server: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="pangolin-bench-species-") as tmp_name:
        tmp = Path(tmp_name)
        nats = NatsServer(tmp / "nats").start()
        process: subprocess.Popen[bytes] | None = None
        try:
            db_url = f"sqlite:///{tmp}/species-ref.db"
            progress("2. migrating and seeding a SQLite database")
            summary, seed_seconds = asyncio.run(seeded_database(db_url))
            progress(f"  {summary}")
            process, port, log = start_server(tmp, nats.url, db_url, args.server_env, args.workers)
            base_url = f"http://127.0.0.1:{port}"
            ready_seconds = wait_ready(port, process, log)
            server["rss_ready_mb"] = tree_rss_mb(process.pid)
            progress(f"  species-ref ready in {ready_seconds:.1f} s on {base_url}")

            def load(
                name: str,
                requests: Sequence[tuple[str, str, bytes | None]],
                concurrency: int,
                names_per_request: int = 1,
                rate: float | None = None,
            ) -> Load:
                assert process is not None
                return Load(
                    name=name,
                    host="127.0.0.1",
                    port=port,
                    headers=headers,
                    requests=tuple(requests),
                    concurrency=concurrency,
                    warmup=args.warmup,
                    duration=args.duration,
                    max_requests=args.max_requests,
                    server_pid=process.pid,
                    names_per_request=names_per_request,
                    rate=rate,
                )

            status_requests = [("GET", status_url(probe), None) for probe in status_probes]
            loads = [
                load(f"GET /health, {args.concurrency} in flight (reference)",
                     [("GET", "/health", None)], args.concurrency),
                load("GET /v1/species/status, 1 in flight", status_requests, 1),
                load(status_phase, status_requests, args.concurrency),
                *(
                    load(paced_phase(rate), status_requests, args.concurrency, rate=rate)
                    for rate in args.rates
                ),
                load(f"POST /v1/species/match 1,000 names, {args.match_concurrency} in flight",
                     [("POST", "/v1/species/match", match_body(b)) for b in batches],
                     args.match_concurrency, MATCH_BATCH),
            ]  # fmt: skip
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                for spec in loads:
                    progress(f"  {spec.name}: {spec.warmup:g} s warm-up, {spec.duration:g} s")
                    limit = spec.warmup + spec.duration + 2 * REQUEST_TIMEOUT + 60
                    row = load_row(pool.submit(run_load, spec).result(timeout=limit))
                    api["phases"].append(row)
                    progress(
                        f"    {row['requests_per_s']:,.0f} req/s, p50 {row['p50_ms']:.1f} ms,"
                        f" p99 {row['p99_ms']:.1f} ms, server CPU {row['server_cpu']:.0%}"
                    )
            server["rss_after_mb"] = tree_rss_mb(process.pid)
            server["rss_peak_mb"] = tree_rss_mb(process.pid, "VmHWM")
            progress("3. checking answers")
            api["status_answers"] = check_status(base_url, headers, status_probes[:STATUS_VERIFY])
            api["match_answers"] = check_match(base_url, headers, batches)
        finally:
            if process is not None:
                stop_server(process)
            nats.stop()
        text = (tmp / SERVER_LOG).read_text(errors="replace")
        server["log_lines"], server["log_bytes"] = text.count("\n"), len(text.encode())

    load_after = os.getloadavg()[0]
    kinds = Counter(probe.kind for probe in status_probes)
    report: dict[str, Any] = {
        "command": command,
        "machine": (
            f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, Python"
            f" {platform.python_version()}, rapidfuzz {version('rapidfuzz')}"
        ),
        "code": code_revision(),
        "data": (
            f"{CHECKLIST.name}: {len(taxa):,} taxa, {len(names.records):,} names, parsed in"
            f" {parse_seconds:.1f} s; SQLite in a temp dir seeded in {seed_seconds:.0f} s"
            f" ({summary}); server ready {ready_seconds:.1f} s after start"
        ),
        "server_cmd": (
            f"python -m pangolin_core.cli serve species-ref --workers {args.workers} (uvicorn"
            f" {version('uvicorn')}), own nats-server; extra env:"
            f" {' '.join(args.server_env) or 'none'}"
        ),
        "load": (
            "generator in its own process: raw HTTP/1.1 keep-alive, one connection per caller,"
            f" {'on uvloop' if uvloop else 'on asyncio'}; {args.warmup:g} s warm-up"
            f" + {args.duration:g} s per phase; status queries {len(status_probes):,} distinct"
            f" ({', '.join(f'{k} {v}' for k, v in kinds.items())}), with a country of the"
            f" taxon's distribution and a date; match {len(batches)} distinct batches of"
            f" {MATCH_BATCH:,} ({MATCH_MISSPELT_SHARE:.0%} misspelt)"
        ),
        "run": (
            f"{time.perf_counter() - started:.0f} s; load average {load_before:.2f} before,"
            f" {load_after:.2f} after (other work on this machine skews the figures)"
        ),
        "status_phase": status_phase,
        "paced_phases": [paced_phase(rate) for rate in args.rates],
        "workers": args.workers,
        "matcher": matcher,
        "api": api,
        "server": server,
    }
    print_report(report)
    if args.json:
        print()
        print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(parse_args()))
