"""What the gateway costs: requests/s and p50/p99 latency direct to species-ref and through it.

Two requests, each sent directly to species-ref and through the gateway, with the load from
another process (concurrency 32, keep-alive connections, a warm-up, then a fixed window;
percentiles over every latency of the window):

- GET /v1/species/codes/purposes: a small code list served from memory;
- POST /v1/species/match with a JSON body of about 1 KB: 33 real species names, matched
  against the CITES checklist seeded into species-ref (6 s); with `--empty` every answer is a
  NONE match instead.

Direct calls carry the internal identity header, signed in the generator with the development
key; calls through the gateway carry an OAuth bearer token (client credentials, got once)
or the client's API key, one row each. Every app is `python -m pangolin_core.cli serve`
(uvicorn, one process, uvloop and httptools) beside its own nats-server and SQLite databases
in a temp dir, started with the environment `pangolin up` gives them, `PANGOLIN_LOG_LEVEL`
WARNING and a rate limit the load cannot reach.
Target (the gateway issue): the gateway keeps at least 40 % of the direct throughput and adds
at most 3 ms at p50.

`--clients` measures instead the choice of the proxy's HTTP client: three minimal reverse
proxies of bench/proxy_clients.py (httpx, httpx over the aiohttp transport, aiohttp), each
served by uvicorn with one process in front of the same species-ref, against direct.
`--all` does both in one run. A benchmark, not a test:

    uv run --frozen python bench/gateway.py --help
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiohttp
import httpx

# The sibling benchmark (run as a script, bench/ is on sys.path); mypy does not see bench/.
from species import (  # type: ignore[import-not-found, unused-ignore]
    Connection,
    cpu_seconds,
    log_tail,
    percentile,
    progress,
    seeded_database,
    stop_server,
)

from pangolin_core import migrations
from pangolin_core.identity import Caller, IdentitySigner
from pangolin_core.natsserver import NatsServer, free_port, wait_for_port
from pangolin_core.settings import DEV_IDENTITY_PRIVATE_KEY
from pangolin_core.suite import APPS, SERVICES, app_named

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
    uvloop = None  # type: ignore[assignment]

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# Run as a script, bench/ comes first on sys.path, and this file would shadow the gateway
# package (`app_named("gateway")`): bench/ stays, for the sibling modules, but last.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH]
sys.path.append(str(BENCH))
PROXY_CLIENTS = ("httpx", "httpx-aiohttp", "aiohttp")  # bench/proxy_clients.py CLIENTS
RESERVED_PORTS = frozenset({4222, *range(8000, 8005)})  # the machine's NATS, a running suite
READY_TIMEOUT = 90.0  # s per server
REQUEST_TIMEOUT = 30.0  # s per request of the generator
GENERATOR_SLACK = 120.0  # s past warm-up + window before a generator is given up
SCOPE = "species:read"
CLIENT_ROLE = "single_window"  # has species:read
GET_PATH = "/v1/species/codes/purposes"
MATCH_PATH = "/v1/species/match"
MATCH_BODY_BYTES = 1_000  # at least; names are added until the body reaches it
SPECIES_NAMES = (
    "Python regius", "Loxodonta africana", "Panthera tigris", "Psittacus erithacus",
    "Crocodylus niloticus", "Smutsia temminckii", "Ceratotherium simum", "Diceros bicornis",
    "Testudo graeca", "Chamaeleo calyptratus", "Varanus salvator", "Python bivittatus",
    "Boa constrictor", "Ara macao", "Cacatua alba", "Gorilla gorilla", "Pan troglodytes",
    "Pongo pygmaeus", "Ursus arctos", "Panthera pardus", "Acinonyx jubatus",
    "Hippopotamus amphibius", "Tridacna gigas", "Carcharodon carcharias", "Sphyrna lewini",
    "Anguilla anguilla", "Acipenser baerii", "Huso huso", "Dalbergia nigra",
    "Pterocarpus santalinus", "Aquilaria malaccensis", "Swietenia macrophylla",
    "Prunus africana", "Aloe ferox", "Euphorbia obesa", "Cycas revoluta", "Nepenthes rajah",
    "Galanthus nivalis", "Pandinus imperator", "Hippocampus kuda", "Cheilinus undulatus",
)  # fmt: skip
TARGET_RATIO = 0.40  # gateway / direct throughput, at least
TARGET_ADDED_P50_MS = 3.0  # at most


def match_body() -> bytes:
    """`{"names": [{"name": ...}, ...]}` of about 1 KB, names cycled from SPECIES_NAMES."""
    names: list[dict[str, str]] = []
    for name in itertools.cycle(SPECIES_NAMES):
        body = json.dumps({"names": names}).encode()
        if len(body) >= MATCH_BODY_BYTES:
            return body
        names.append({"name": name})
    raise AssertionError("unreachable")  # pragma: no cover


REQUESTS: dict[str, tuple[str, str, bytes | None]] = {
    "GET": ("GET", GET_PATH, None),
    "POST": ("POST", MATCH_PATH, match_body()),
    # `--clients` only, 32 in flight only: a route with no work behind it (no auth, no span),
    # so the proxy's own cost shows as in MEASURED.md (a bare FastAPI app behind the proxies).
    "HEALTH": ("GET", "/health", None),
}
ROUTED = ("GET", "POST")  # what the gateway forwards


def request_label(kind: str) -> str:
    method, path, body = REQUESTS[kind]
    return f"{method} {path}" + (f" ({len(body):,} B)" if body else "")


# --------------------------------------------------------------------------------------------
# The load generator (runs in its own process)


@dataclass(frozen=True)
class Load:
    case: str  # e.g. "gateway, bearer token"
    kind: str  # GET, POST or HEALTH (a key of REQUESTS)
    port: int
    headers: dict[str, str]
    concurrency: int
    warmup: float
    duration: float
    max_requests: int
    generator: str  # aiohttp or raw
    server_pids: dict[str, int]  # name -> pid, for the CPU they use in the window


@dataclass
class LoadResult:
    case: str
    kind: str
    concurrency: int
    completed: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # s, of the 200 answers
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    first_error: str = ""
    generator_cpu: float = 0.0  # s of CPU of the generator in the window
    server_cpu: dict[str, float] = field(default_factory=dict)  # s, per server


def run_load(load: Load) -> LoadResult:
    """Entry point of the generator process."""
    if uvloop is not None:
        return uvloop.run(_drive(load))
    return asyncio.run(_drive(load))  # pragma: no cover


class AiohttpCaller:
    """One `aiohttp.ClientSession` shared by the callers, one keep-alive connection each."""

    def __init__(self, load: Load) -> None:
        method, path, body = REQUESTS[load.kind]
        self.method, self.body = method, body
        self.url = f"http://127.0.0.1:{load.port}{path}"
        self.headers = dict(load.headers)
        if body is not None:
            self.headers["Content-Type"] = "application/json"
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=load.concurrency, keepalive_timeout=60),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    def connection(self) -> AiohttpCaller:
        return self  # the session's pool holds the connections

    async def send(self) -> tuple[int, bytes]:
        async with self.session.request(
            self.method, self.url, data=self.body, headers=self.headers
        ) as response:
            return response.status, await response.read()

    async def close(self) -> None:
        await self.session.close()


class RawCaller:
    """bench/species.py's minimal HTTP/1.1 client: one connection per caller."""

    def __init__(self, load: Load) -> None:
        method, path, body = REQUESTS[load.kind]
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{load.port}"]
        lines += [f"{name}: {value}" for name, value in load.headers.items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        self.port = load.port
        self.connections: list[Connection] = []

    def connection(self) -> _RawConnection:
        connection = Connection("127.0.0.1", self.port)
        self.connections.append(connection)
        return _RawConnection(connection, self.request)

    async def close(self) -> None:
        for connection in self.connections:
            connection.close()


@dataclass
class _RawConnection:
    connection: Connection
    request: bytes

    async def send(self) -> tuple[int, bytes]:
        status, body = await self.connection.send(self.request)
        return status, body


async def _drive(load: Load) -> LoadResult:
    client = AiohttpCaller(load) if load.generator == "aiohttp" else RawCaller(load)
    try:
        connections = [client.connection() for _ in range(load.concurrency)]
        warm = LoadResult(load.case, load.kind, load.concurrency)
        await _window(connections, load, load.warmup, warm)
        result = LoadResult(load.case, load.kind, load.concurrency)
        servers_before = {name: cpu_seconds(pid) for name, pid in load.server_pids.items()}
        cpu_before = time.process_time()
        started = time.perf_counter()
        await _window(connections, load, load.duration, result)
        result.seconds = time.perf_counter() - started
        result.generator_cpu = time.process_time() - cpu_before
        result.server_cpu = {
            name: cpu_seconds(pid) - servers_before[name] for name, pid in load.server_pids.items()
        }
        result.first_error = result.first_error or warm.first_error
        return result
    finally:
        await client.close()


async def _window(
    connections: Sequence[Any], load: Load, seconds: float, result: LoadResult
) -> None:
    """One caller per connection, each sending until the window ends or the count is used."""
    deadline = time.perf_counter() + seconds
    sent = itertools.count()
    statuses: Counter[int] = Counter()
    failures: Counter[str] = Counter()

    async def caller(connection: Any) -> None:
        while next(sent) < load.max_requests and time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    status, body = await connection.send()
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError,
                    aiohttp.ClientError) as exc:  # fmt: skip
                failures[type(exc).__name__] += 1
                result.first_error = result.first_error or repr(exc)
                continue
            latency = time.perf_counter() - started
            statuses[status] += 1
            if status == 200:
                result.latencies.append(latency)
            elif not result.first_error:
                result.first_error = f"{status} {body[:300].decode(errors='replace')}"

    await asyncio.gather(*(caller(connection) for connection in connections))
    result.completed = sum(statuses.values())
    result.statuses = dict(statuses)
    result.failures = dict(failures)


# --------------------------------------------------------------------------------------------
# The servers


def bench_port() -> int:
    """A free port, never the machine's NATS (4222) nor a running suite's (8000-8004)."""
    while (port := free_port()) in RESERVED_PORTS:
        pass
    return port


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid


class Servers:
    """The processes this run started; all stopped on exit (terminate, then kill)."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp, self.env = tmp, env
        self.started: list[Server] = []

    def start(self, name: str, command: Sequence[str], port: int) -> Server:
        log = self.tmp / "logs" / f"{name}.log"
        log.parent.mkdir(exist_ok=True)
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                command, env=self.env, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        server = Server(name, port, process, log)
        self.started.append(server)
        return server

    def serve_app(self, app: str, port: int | None = None) -> Server:
        port = port or bench_port()
        command = [sys.executable, "-m", "pangolin_core.cli", "serve", app, "--port", str(port)]
        return self.start(app, command, port)

    def serve_proxy(self, client: str, upstream: Server) -> Server:
        port = bench_port()
        command = [
            sys.executable, str(BENCH / "proxy_clients.py"), "--client", client,
            "--upstream", upstream.base_url, "--port", str(port),
        ]  # fmt: skip
        return self.start(f"proxy-{client}", command, port)

    def stop_all(self) -> None:
        for server in reversed(self.started):
            stop_server(server.process)


def wait_ready(
    server: Server, path: str = "/ready", headers: dict[str, str] | None = None
) -> float:
    """Wait until the server listens (uvicorn binds only once its lifespan has started the
    app), then `path` must answer 200; a clear error if the server exits or never gets there."""
    started = time.perf_counter()
    try:
        wait_for_port("127.0.0.1", server.port, timeout=READY_TIMEOUT, process=server.process)
    except (RuntimeError, TimeoutError) as exc:
        raise RuntimeError(f"{server.name}: {exc} ({server.log}):\n{log_tail(server.log)}") from exc
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=5.0) as client:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(
            f"{server.name} listens but GET {path} answered {response.status_code}"
            f" {response.text[:300]} ({server.log}):\n{log_tail(server.log)}"
        )
    return time.perf_counter() - started


def suite_environment(
    tmp: Path, nats_url: str, species_ref_url: str, extra: Sequence[str]
) -> dict[str, str]:
    """As `pangolin up` sets it (`_suite_environment` in pangolin_core.cli), quieter, with a
    rate limit the load cannot reach. The services not started here point to closed ports."""
    env = {
        **os.environ,
        "PANGOLIN_NATS_URL": nats_url,
        "PANGOLIN_DATA_DIR": str(tmp),
        "PANGOLIN_LOG_JSON": "true",
        "PANGOLIN_LOG_LEVEL": "WARNING",
        "PANGOLIN_GATEWAY_ROLE_RATE_LIMITS": json.dumps(
            {CLIENT_ROLE: {"rate": 1_000_000, "burst": 1_000_000}}
        ),
        "PANGOLIN_GATEWAY_TOKEN_TTL_SECONDS": "3600",
    }
    for app in APPS:
        env[f"{app.env_prefix}DATABASE_URL"] = database_url(tmp, app.name)
    for service in SERVICES:
        url = (
            species_ref_url if service.name == "species-ref" else f"http://127.0.0.1:{bench_port()}"
        )
        env[f"PANGOLIN_GATEWAY_{service.env_name}_URL"] = url
    for item in extra:
        key, _, value = item.partition("=")
        env[key] = value
    return env


def database_url(tmp: Path, app: str) -> str:
    """Where `pangolin up --data-dir tmp` keeps an app's SQLite database (so the clients CLI
    finds the gateway's with `--data-dir` as well as from the environment)."""
    return f"sqlite:///{tmp / app}.db"


async def migrate(tmp: Path, apps: Sequence[str], seeded: bool) -> str:
    notes = []
    for name in apps:
        url = database_url(tmp, name)
        if name == "species-ref" and seeded:
            summary, seconds = await seeded_database(url)
            notes.append(f"species-ref seeded in {seconds:.0f} s ({summary})")
        else:
            await migrations.upgrade(app_named(name).definition().migrations, url)
    return "; ".join(notes) or "species-ref empty"


def match_types(server: Server, headers: dict[str, str]) -> str:
    """What species-ref answers to the POST body, e.g. `EXACT 33`: the work behind each POST."""
    _, path, body = REQUESTS["POST"]
    response = httpx.post(
        server.base_url + path,
        content=body,
        headers={**headers, "Content-Type": "application/json"},
        timeout=30.0,
    )
    response.raise_for_status()
    types = Counter(answer["match_type"] for answer in response.json()["results"])
    return ", ".join(f"{kind} {count}" for kind, count in types.most_common())


def create_client(tmp: Path, env: dict[str, str]) -> dict[str, Any]:
    """`pangolin clients create` (the gateway's CLI), as an operator would run it."""
    command = [
        sys.executable, "-m", "pangolin_core.cli", "clients", "create", "--name", "bench",
        "--country", "KE", "--role", CLIENT_ROLE, "--json", "--data-dir", str(tmp),
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(
            f"`pangolin clients create` failed ({done.returncode}); has the gateway's clients"
            f" CLI landed?\n{done.stdout[-1500:]}{done.stderr[-1500:]}"
        )
    try:
        credentials: dict[str, Any] = json.loads(done.stdout)
    except ValueError as exc:
        raise RuntimeError(f"`pangolin clients create --json` printed:\n{done.stdout}") from exc
    missing = {"client_id", "client_secret", "api_key"} - set(credentials)
    if missing:
        raise RuntimeError(f"`pangolin clients create --json` gave no {', '.join(sorted(missing))}")
    return credentials


def access_token(gateway: Server, credentials: dict[str, Any]) -> str:
    response = httpx.post(
        gateway.base_url + "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": credentials["client_id"],
            "client_secret": credentials["client_secret"],
        },
        timeout=30.0,
    )
    if response.status_code != 200:
        raise RuntimeError(f"POST /oauth/token: {response.status_code} {response.text[:500]}")
    token: str = response.json()["access_token"]
    return token


def check_route(
    server: Server, headers: dict[str, str], what: str, kinds: Sequence[str] = ROUTED
) -> None:
    """The requests answer 200 before any load: a clear error instead of a table of 4xx."""
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30.0) as client:
        for kind in kinds:
            method, path, body = REQUESTS[kind]
            extra = {"Content-Type": "application/json"} if body else {}
            response = client.request(method, path, content=body, headers=extra)
            if response.status_code != 200:
                hint = ""
                if server.name == "gateway" and response.status_code == 404:
                    hint = " (does gateway/app.py add GatewayMiddleware yet?)"
                raise RuntimeError(
                    f"{what}: {kind} {path} answered {response.status_code}{hint}:"
                    f" {response.text[:500]}"
                )


# --------------------------------------------------------------------------------------------
# Measuring


@dataclass(frozen=True)
class Case:
    name: str  # "direct", "gateway, bearer token", "proxy on aiohttp", ...
    server: Server  # where the load goes
    headers: dict[str, str]
    cpu_of: tuple[Server, ...]  # servers whose CPU is read over the window
    kinds: tuple[str, ...] = ROUTED  # the requests sent to it


def row_of(results: Sequence[LoadResult]) -> dict[str, Any]:
    """One row from the rounds of one case: req/s is the median over rounds, percentiles come
    from every latency of every round."""
    latencies = [latency for result in results for latency in result.latencies]
    rates = [len(r.latencies) / r.seconds for r in results if r.seconds]
    seconds = sum(r.seconds for r in results)
    completed = sum(r.completed for r in results)
    failures: Counter[str] = Counter()
    servers: Counter[str] = Counter()
    for result in results:
        failures.update(result.failures)
        servers.update(result.server_cpu)
    first = results[0]
    return {
        "case": first.case,
        "kind": first.kind,
        "request": request_label(first.kind),
        "in_flight": first.concurrency,
        "rounds": len(results),
        "requests": completed,
        "non_200": completed - len(latencies),
        "failures": dict(failures),
        "requests_per_s": statistics.median(rates) if rates else 0.0,
        "requests_per_s_rounds": [round(rate) for rate in rates],
        "p50_ms": percentile(latencies, 0.50) * 1e3,
        "p90_ms": percentile(latencies, 0.90) * 1e3,
        "p99_ms": percentile(latencies, 0.99) * 1e3,
        "max_ms": max(latencies, default=0.0) * 1e3,
        # CPU per request in ms and as a share of a core, per server
        "server_cpu_ms_per_request": {
            name: cpu / max(1, completed) * 1e3 for name, cpu in servers.items()
        },
        "server_cpu": {name: cpu / seconds if seconds else 0.0 for name, cpu in servers.items()},
        "generator_cpu": sum(r.generator_cpu for r in results) / seconds if seconds else 0.0,
        "first_error": next((r.first_error for r in results if r.first_error), ""),
    }


def phases(args: argparse.Namespace) -> list[tuple[int, float]]:
    """(requests in flight, seconds): the load, then one at a time for the latency alone."""
    load = [(args.concurrency, args.duration)]
    return load + ([(1, args.latency_duration)] if args.latency_duration > 0 else [])


def plan(
    cases: Sequence[Case], args: argparse.Namespace
) -> list[tuple[int, str, int, float, Case]]:
    """(round, request, in flight, seconds, case): per round and request, every case under
    load, then every case one at a time; direct first, so each proxied case has its base
    measured just before. /health is measured under load only."""
    return [
        (round_number, kind, in_flight, duration, case)
        for round_number, kind, (in_flight, duration), case in itertools.product(
            range(1, args.rounds + 1), REQUESTS, phases(args), cases
        )
        if kind in case.kinds and (kind != "HEALTH" or in_flight != 1)
    ]


def measure(cases: Sequence[Case], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every window of the plan, in one generator process."""
    results: dict[tuple[str, str, int], list[LoadResult]] = {}
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:  # terminated on exit, even when a window hangs
        for round_number, kind, in_flight, duration, case in plan(cases, args):
            limit = args.warmup + duration + GENERATOR_SLACK
            load = Load(
                case=case.name,
                kind=kind,
                port=case.server.port,
                headers=case.headers,
                concurrency=in_flight,
                warmup=args.warmup,
                duration=duration,
                max_requests=args.max_requests,
                generator=args.generator,
                server_pids={server.name: server.pid for server in case.cpu_of},
            )
            rounds = f" (round {round_number}/{args.rounds})" if args.rounds > 1 else ""
            progress(f"  {case.name}, {request_label(kind)}, {in_flight} in flight{rounds}")
            try:
                result: LoadResult = pool.apply_async(run_load, (load,)).get(timeout=limit)
            except multiprocessing.TimeoutError:
                raise TimeoutError(
                    f"the load generator did not finish {case.name}, {kind} in {limit:.0f} s"
                ) from None
            for server in case.cpu_of:
                if server.process.poll() is not None:
                    raise RuntimeError(
                        f"{server.name} exited with {server.process.returncode} during the"
                        f" load ({server.log}):\n{log_tail(server.log)}"
                    )
            results.setdefault((case.name, kind, in_flight), []).append(result)
            rate = len(result.latencies) / result.seconds if result.seconds else 0.0
            progress(
                f"    {rate:,.0f} req/s, p50 {percentile(result.latencies, 0.5) * 1e3:.2f} ms,"
                f" p99 {percentile(result.latencies, 0.99) * 1e3:.2f} ms"
                + (f", {result.completed - len(result.latencies)} not 200" if
                   result.completed != len(result.latencies) else "")
            )  # fmt: skip
    return [row_of(rounds) for rounds in results.values()]


@contextmanager
def running_suite(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """nats-server, species-ref and (for the gateway rows) the gateway with a client; yields
    the cases to measure and notes for the report. Everything is stopped on exit."""
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pangolin-bench-gw-")))
        nats = NatsServer(tmp / "nats").start()
        stack.callback(nats.stop)
        apps = ["species-ref", *(["gateway"] if args.gateway else [])]
        progress(f"migrating {' and '.join(apps)} (SQLite in {tmp})")
        data = asyncio.run(migrate(tmp, apps, not args.empty))
        species_port = bench_port()
        env = suite_environment(tmp, nats.url, f"http://127.0.0.1:{species_port}", args.server_env)
        servers = Servers(tmp, env)
        stack.callback(servers.stop_all)
        species = servers.serve_app("species-ref", species_port)
        ready = {"species-ref": wait_ready(species)}
        progress(f"  species-ref ready in {ready['species-ref']:.1f} s on {species.base_url}")

        signer = IdentitySigner(DEV_IDENTITY_PRIVATE_KEY, ttl_seconds=3600)
        identity = {
            "X-Pangolin-Identity": signer.sign(
                Caller("bench", "KE", frozenset({CLIENT_ROLE}), frozenset({SCOPE}))
            )
        }
        direct_kinds = (*ROUTED, "HEALTH") if args.clients else ROUTED
        check_route(species, identity, "species-ref, direct", direct_kinds)
        cases = [Case("direct", species, identity, (species,), direct_kinds)]
        data += f"; match answers to the POST: {match_types(species, identity)}"
        if args.gateway:
            progress("  pangolin clients create --name bench --role single_window")
            credentials = create_client(tmp, env)
            gateway = servers.serve_app("gateway")
            ready["gateway"] = wait_ready(gateway)
            progress(f"  gateway ready in {ready['gateway']:.1f} s on {gateway.base_url}")
            bearer = {"Authorization": f"Bearer {access_token(gateway, credentials)}"}
            api_key = {"X-API-Key": credentials["api_key"]}
            # The client was created before the gateway started: it loaded it at start.
            check_route(gateway, bearer, "gateway, bearer token")
            check_route(gateway, api_key, "gateway, API key")
            both = (gateway, species)
            cases += [
                Case("gateway, bearer token", gateway, bearer, both),
                Case("gateway, API key", gateway, api_key, both),
            ]
        if args.clients:
            for client in PROXY_CLIENTS:
                proxy = servers.serve_proxy(client, species)
                ready[proxy.name] = wait_ready(proxy, "/health")
                check_route(proxy, identity, proxy.name, direct_kinds)
                cases.append(
                    Case(f"proxy on {client}", proxy, identity, (proxy, species), direct_kinds)
                )
            progress(f"  proxies ready on {', '.join(c.server.base_url for c in cases[-3:])}")
        yield {"cases": cases, "data": data, "ready": ready}


# --------------------------------------------------------------------------------------------
# Report


def met(ok: bool) -> str:
    return "(met)" if ok else "(**not met**)"


def comparisons(rows: Sequence[dict[str, Any]], load: int) -> list[dict[str, Any]]:
    """Each proxied case against direct, per request: the throughput ratio and the added
    latency with `load` requests in flight, and the added latency one at a time (when measured).

    With a closed loop of N in flight on a saturated server, p50 is about N / throughput, so
    the added p50 under load follows the throughput ratio; one in flight shows the time the
    proxy itself adds to a request. CPU per request is steadier than req/s on a shared
    machine: `cpu_ratio` is the throughput ratio the CPU figures allow when the proxy and
    species-ref each have a core of their own (direct species-ref ms / the larger of the two),
    `cpu_ratio_shared` when they share one (direct ms / their sum). On 2 cores with the
    generator beside them, the measured ratio falls between the two.
    """
    by_key = {(row["case"], row["kind"], row["in_flight"]): row for row in rows}
    out = []
    for (case, kind, in_flight), row in by_key.items():
        base = by_key.get(("direct", kind, in_flight))
        if case == "direct" or in_flight != load or base is None or not base["requests_per_s"]:
            continue
        entry: dict[str, Any] = {
            "case": case,
            "kind": kind,
            "in_flight": load,
            "ratio": row["requests_per_s"] / base["requests_per_s"],
            "added_p50_ms": row["p50_ms"] - base["p50_ms"],
            "added_p99_ms": row["p99_ms"] - base["p99_ms"],
            "added_p50_ms_one": None,
        }
        cpu = row["server_cpu_ms_per_request"]
        proxy_ms = sum(ms for name, ms in cpu.items() if name != "species-ref")
        direct_ms = base["server_cpu_ms_per_request"].get("species-ref", 0.0)
        entry["proxy_cpu_ms"] = proxy_ms
        entry["upstream_cpu_ms"] = cpu.get("species-ref", 0.0)
        entry["direct_cpu_ms"] = direct_ms
        slowest = max(proxy_ms, entry["upstream_cpu_ms"])
        entry["cpu_ratio"] = direct_ms / slowest if slowest else 0.0
        both = proxy_ms + entry["upstream_cpu_ms"]
        entry["cpu_ratio_shared"] = direct_ms / both if both else 0.0
        one, base_one = by_key.get((case, kind, 1)), by_key.get(("direct", kind, 1))
        if load != 1 and one is not None and base_one is not None:
            entry["added_p50_ms_one"] = one["p50_ms"] - base_one["p50_ms"]
        out.append(entry)
    return out


def cpu_cell(row: dict[str, Any]) -> str:
    return "; ".join(
        f"{name} {row['server_cpu'][name]:.0%} ({ms:.2f} ms/req)"
        for name, ms in row["server_cpu_ms_per_request"].items()
    )


def print_report(report: dict[str, Any]) -> None:
    rows, compared = report["rows"], report["compared"]
    print()
    print("Pangolin gateway: direct to species-ref and through the gateway")
    for key in ("command", "machine", "code", "servers", "data", "load", "run"):
        print(f"{key + ':':<10}{report[key]}")
    print()
    print(
        "| case | request | in flight | req/s | p50 ms | p90 ms | p99 ms | max ms |"
        " server CPU (per request) | generator CPU | non-200 |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for row in rows:
        rounds = (
            f" ({', '.join(f'{r:,}' for r in row['requests_per_s_rounds'])})"
            if row["rounds"] > 1
            else ""
        )
        print(
            f"| {row['case']} | {row['request']} | {row['in_flight']} |"
            f" {row['requests_per_s']:,.0f}{rounds} |"
            f" {row['p50_ms']:.2f} | {row['p90_ms']:.2f} | {row['p99_ms']:.2f} |"
            f" {row['max_ms']:.1f} | {cpu_cell(row)} | {row['generator_cpu']:.0%} |"
            f" {row['non_200'] + sum(row['failures'].values())} |"
        )
    gateway_rows = [c for c in compared if c["case"].startswith("gateway")]
    if gateway_rows:
        load = gateway_rows[0]["in_flight"]
        print()
        print(
            f"| through the gateway | request | throughput / direct, {load} in flight (target >="
            f" {TARGET_RATIO:.0%}) | added p50, {load} in flight (target <="
            f" {TARGET_ADDED_P50_MS:g} ms) | added p50, 1 in flight | added p99, {load} in flight |"
            " CPU per request: gateway, species-ref (direct) | throughput / direct from CPU:"
            " a core each, one core |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for c in sorted(gateway_rows, key=lambda c: c["kind"]):
            one = c["added_p50_ms_one"]
            cells = [
                c["case"].removeprefix("gateway, "),
                request_label(c["kind"]),
                f"{c['ratio']:.1%} {met(c['ratio'] >= TARGET_RATIO)}",
                f"{c['added_p50_ms']:+.2f} ms {met(c['added_p50_ms'] <= TARGET_ADDED_P50_MS)}",
                "not measured"
                if one is None
                else f"{one:+.2f} ms {met(one <= TARGET_ADDED_P50_MS)}",
                f"{c['added_p99_ms']:+.2f} ms",
                f"{c['proxy_cpu_ms']:.2f}, {c['upstream_cpu_ms']:.2f}"
                f" ({c['direct_cpu_ms']:.2f}) ms",
                f"{c['cpu_ratio']:.0%}, {c['cpu_ratio_shared']:.0%}",
            ]
            print("| " + " | ".join(cells) + " |")
    proxy_rows = [c for c in compared if c["case"].startswith("proxy")]
    if proxy_rows:
        load = proxy_rows[0]["in_flight"]
        print()
        print(
            f"| minimal proxy (bench/proxy_clients.py) | throughput / direct, {load} in flight:"
            " GET, POST, GET /health | added p50, 1 in flight: GET, POST | proxy CPU per request:"
            " GET, POST, /health | throughput / direct from CPU (a core each / one core): GET,"
            " POST |"
        )
        print("|---|---:|---:|---:|---:|")
        for client in PROXY_CLIENTS:
            by_kind = {c["kind"]: c for c in proxy_rows if c["case"] == f"proxy on {client}"}
            if not {"GET", "POST"} <= set(by_kind):
                continue
            routed = [by_kind[kind] for kind in ROUTED]
            loaded = [by_kind[kind] for kind in REQUESTS if kind in by_kind]
            one = [c["added_p50_ms_one"] for c in routed]
            cells = [
                client,
                ", ".join(f"{c['ratio']:.0%}" for c in loaded),
                "not measured" if None in one else ", ".join(f"{ms:+.2f}" for ms in one) + " ms",
                ", ".join(f"{c['proxy_cpu_ms']:.2f}" for c in loaded) + " ms",
                ", ".join(f"{c['cpu_ratio']:.0%} / {c['cpu_ratio_shared']:.0%}" for c in routed),
            ]
            print("| " + " | ".join(cells) + " |")
    for row in rows:
        if row["first_error"]:
            print(
                f"note: {row['case']}, {row['request']}, {row['in_flight']} in flight: first"
                f" error: {row['first_error']}"
            )


def code_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "libs/core", "gateway",
             "services/species-ref"],
            cwd=ROOT, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return head + (" + uncommitted changes in libs/core, gateway or species-ref" if dirty else "")


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/gateway.py",
        description=(
            "Requests/s and p50/p99 of a small GET and a 1 KB POST, direct to species-ref and"
            " through the gateway (--clients: through minimal proxies on httpx, httpx over"
            " aiohttp and aiohttp instead)."
        ),
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--clients", action="store_true",
        help="the proxy's HTTP client choice (three minimal proxies) instead of the gateway",
    )  # fmt: skip
    mode.add_argument("--all", action="store_true", help="the gateway and the three proxies")
    parser.add_argument(
        "--duration", type=float, default=10.0, metavar="S",
        help="seconds per measured window (default 10)",
    )  # fmt: skip
    parser.add_argument(
        "--warmup", type=float, default=2.0, metavar="S", help="seconds of warm-up (default 2)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, metavar="N", help="requests in flight (default 32)"
    )
    parser.add_argument(
        "--latency-duration", type=float, default=5.0, metavar="S",
        help="seconds per window with 1 request in flight, the latency alone (0: none; default 5)",
    )  # fmt: skip
    parser.add_argument(
        "--rounds", type=int, default=1, metavar="N",
        help="rounds over all cases (req/s: median; percentiles: all latencies) (default 1)",
    )  # fmt: skip
    parser.add_argument(
        "--max-requests", type=int, default=500_000, metavar="N",
        help="requests per window at most (default 500000)",
    )  # fmt: skip
    parser.add_argument(
        "--generator", choices=("aiohttp", "raw"), default="aiohttp",
        help="load generator client: aiohttp (default) or bench/species.py's raw HTTP/1.1 loop",
    )  # fmt: skip
    parser.add_argument(
        "--empty", action="store_true",
        help="leave species-ref's database empty (no seed: every match answer is NONE)",
    )  # fmt: skip
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="KEY=VALUE",
        help="extra environment of every server (repeatable)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    if min(args.concurrency, args.rounds, args.max_requests) < 1:
        parser.error("counts must be at least 1")
    if args.duration <= 0 or args.warmup < 0 or args.latency_duration < 0:
        parser.error("--duration must be positive and --warmup not negative")
    if any("=" not in item for item in args.server_env):
        parser.error("--server-env takes KEY=VALUE")
    args.gateway = not args.clients
    args.clients = args.clients or args.all
    return args


def main(args: argparse.Namespace) -> int:
    command = shlex.join(["uv", "run", "--frozen", "python", *sys.argv])
    load_before = os.getloadavg()
    started = time.perf_counter()
    with running_suite(args) as suite:
        rows = measure(suite["cases"], args)
    load_after = os.getloadavg()
    ready = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in suite["ready"].items())
    report: dict[str, Any] = {
        "command": command,
        "machine": (
            f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, Python"
            f" {platform.python_version()}, uvicorn {version('uvicorn')}, aiohttp"
            f" {version('aiohttp')}, httpx {version('httpx')}, httpx-aiohttp"
            f" {version('httpx-aiohttp')}"
        ),
        "code": code_revision(),
        "servers": (
            "python -m pangolin_core.cli serve <app> (uvicorn, one process, uvloop, httptools),"
            " PANGOLIN_LOG_LEVEL=WARNING, own nats-server, SQLite in a temp dir; ready: "
            + ready
            + (f"; extra env: {' '.join(args.server_env)}" if args.server_env else "")
        ),
        "data": suite["data"],
        "load": (
            f"generator in its own process ({args.generator},"
            f" {'uvloop' if uvloop else 'asyncio'}), {args.concurrency} in flight on keep-alive"
            f" connections, then 1 in flight; {args.warmup:g} s warm-up + {args.duration:g} s"
            f" ({args.latency_duration:g} s with 1 in flight) per case,"
            f" {args.rounds} round(s); POST body {len(REQUESTS['POST'][2] or b''):,} bytes"
        ),
        "run": (
            f"{time.perf_counter() - started:.0f} s; load average {load_before[0]:.2f} before,"
            f" {load_after[0]:.2f} after (other work on this machine skews the figures)"
        ),
        "rows": rows,
        "compared": comparisons(rows, args.concurrency),
    }
    print_report(report)
    if args.json:
        print()
        print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(parse_args()))
