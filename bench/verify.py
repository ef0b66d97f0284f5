"""Verifications of declarations and endorsements through the gateway, with a full registry.

Set-up: its own nats-server on a free port; SQLite databases in a temp dir for the gateway and
species-ref (seeded with the CITES checklist: bench/species.py's `seeded_database`) and, by
default, for permit-verify (`--postgres URL`: a fresh PostgreSQL database for permit-verify,
dropped at the end). The registry gets `--permits` (100,000) export permits written straight
into permit-verify's tables with its own models, each signed by `PermitSigner.sign` as the
service signs at issue: real Appendix II species of the checklist, exported by a country of
their native distribution, 1-3 items each. Then gateway, species-ref, permit-verify and
risk-score run as `python -m pangolin_core.cli serve <app>` (uvicorn, one process each);
risk-score has no RPC endpoint yet, so every verification answers RISK_UNAVAILABLE ("no
responders" from NATS at once, not a timeout: the script checks it). A `single_window` client
is made with `pangolin clients create --json` and calls with a bearer token.

Load (bench/species.py's raw HTTP/1.1 generator, in another process; server CPU from /proc):
- `POST /v1/verifications`, declarations of 3 lines each naming a registry permit (3 permits
  of one exporter), every declaration id distinct (a replay would be a cache hit): through the
  gateway with `--concurrency` (32) in flight (saturation), then open loop at `--rates` (25, 100/s,
  latency from the due time), then direct to permit-verify with 32 in flight;
- `POST /v1/permits/{id}/endorsements` through the gateway, 32 in flight, each on its own
  permit (quantity within the balance).
Then fresh declarations are sent one by one and their answers tallied (verdicts, finding
codes, the RISK_UNAVAILABLE reason).

Target (issue 5): p99 under 50 ms at 100 verifications/s; report the saturation throughput on
SQLite and on PostgreSQL. A benchmark, not a test:

    uv run --frozen python bench/verify.py --help
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import itertools
import json
import multiprocessing
import os
import platform
import random
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import nats
import sqlalchemy as sa

# Sibling benchmarks (run as a script, bench/ is on sys.path); mypy does not see bench/.
from backbone import plain_postgres_url  # type: ignore[import-not-found, unused-ignore]
from species import (  # type: ignore[import-not-found, unused-ignore]
    Connection,
    Load,
    LoadResult,
    _paced_window,
    _window,
    encode_request,
    load_row,
    percentile,
    progress,
    tree_cpu_seconds,
    verdict,
)
from sqlalchemy.engine import make_url

from pangolin_core import migrations
from pangolin_core.contracts.cites_codes import CodeListName, read_code_lists
from pangolin_core.db import Database
from pangolin_core.identity import Caller, IdentitySigner
from pangolin_core.natsserver import NatsServer
from pangolin_core.settings import DEV_IDENTITY_PRIVATE_KEY
from permit_verify.app import DEFINITION as PERMIT_VERIFY
from permit_verify.permits.models import Permit, PermitItem
from permit_verify.permits.schemas import PermitIn
from permit_verify.permits.signing import PermitSigner
from permit_verify.settings import PermitVerifySettings
from species_ref.checklist import read_checklist
from species_ref.seed import CHECKLIST

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
    uvloop = None  # type: ignore[assignment]

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def _bench_gateway() -> ModuleType:
    """bench/gateway.py under another name: as `gateway` it would shadow the gateway package
    (its import moves bench/ to the end of sys.path, so the package wins afterwards)."""
    spec = importlib.util.spec_from_file_location("bench_gateway", BENCH / "gateway.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_gateway"] = module
    spec.loader.exec_module(module)
    return module


gw = _bench_gateway()

HOME = "KE"  # the single window's country (`clients create --country KE`)
LINES = 3  # per declaration
VERIFY_PATH = "/v1/verifications"
TARGET_P99_MS = 50.0  # at 100 verifications/s
TARGET_RATE = 100.0
RISK_SUBJECT = "risk.rpc.assess"
ROLE_SCOPES = frozenset({"permits:verify", "permits:endorse"})
INSERT_CHUNK = 5_000


# --------------------------------------------------------------------------------------------
# The registry: permits written straight into permit-verify's tables, signed as at issue


@dataclass(frozen=True)
class Shipment:
    """Three permits of one exporter to one importer: what one declaration presents."""

    exporter: tuple[str, str]  # name, country
    importer: tuple[str, str]
    permits: tuple[dict[str, Any], ...]  # the PermitIn documents (JSON shape) with their `id`


def appendix_ii_by_country() -> dict[str, list[str]]:
    """Country -> accepted species listed in Appendix II only, native there (from the
    checklist), for the countries of the CITES list."""
    codes = read_code_lists()
    by_country: dict[str, list[str]] = defaultdict(list)
    for taxon in read_checklist(CHECKLIST):
        if taxon.rank != "SPECIES" or taxon.appendices != ("II",) or not taxon.cites_accepted:
            continue
        for place in taxon.distributions:
            if place.tag == "native" and codes.is_valid(CodeListName.COUNTRIES, place.country):
                by_country[place.country].append(taxon.full_name)
    return {country: sorted(set(names)) for country, names in by_country.items() if names}


def shipments(count: int, rng: random.Random, today: date) -> list[Shipment]:
    """`count` shipments of 3 export permits, each permit with 1-3 items of real Appendix II
    species native to the exporting country (wild, live, purpose T, specimens)."""
    species = appendix_ii_by_country()
    countries = sorted(species)
    out: list[Shipment] = []
    n = 0
    for s in range(count):
        country = rng.choice(countries)
        importer_country = rng.choice(
            [c for c in ("VN", "CN", "US", "AE", "DE", "JP") if c != country]
        )
        exporter = (f"{country} Wildlife Exports {s} Ltd", country)
        importer = (f"Importer {s} Trading Co", importer_country)
        permits = []
        for _ in range(LINES):
            n += 1
            issued = today - timedelta(days=rng.randrange(0, 60))
            names = rng.sample(species[country], min(len(species[country]), rng.randint(1, 3)))
            permits.append(
                {
                    "id": str(uuid4()),
                    "number": f"{country}/{issued.year}/E/{n:07d}",
                    "type": "export",
                    "issuing_country": country,
                    "issuing_authority": f"CITES Management Authority of {country}",
                    "security_stamp": f"{country}{n:08d}",
                    "issued_on": issued,
                    "valid_until": issued + timedelta(days=150),
                    "exporter": {"name": exporter[0], "address": "1 Main Road", "country": country},
                    "importer": {
                        "name": importer[0],
                        "address": "2 Harbour Street",
                        "country": importer_country,
                    },
                    "purpose": "T",
                    "special_conditions": None,
                    "items": [
                        {
                            "item_id": chr(ord("A") + k),
                            "species": name,
                            "description": "live specimens",
                            "term": "LIV",
                            "appendix": "II",
                            "source": "W",
                            "quantity": str(rng.randrange(50, 500)),
                            "unit": None,
                            "origin_country": country,
                            "origin_permit": None,
                            "reexport_certificate": None,
                        }
                        for k, name in enumerate(names)
                    ],
                }
            )
        out.append(Shipment(exporter, importer, tuple(permits)))
    return out


async def fill_registry(url: str, registry: Sequence[Shipment]) -> dict[str, float]:
    """Migrate permit-verify's database, sign every permit with `PermitSigner.sign` (the dev
    key, as the server holds it), insert permits and items in chunks, then ANALYZE."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    await migrations.upgrade(PERMIT_VERIFY.migrations, url)
    timings["migrate_s"] = time.perf_counter() - started
    signer = PermitSigner(PermitVerifySettings())
    now = datetime.now(UTC)
    permit_rows: list[dict[str, Any]] = []
    item_rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for shipment in registry:
        for doc in shipment.permits:
            request = PermitIn.model_validate({k: v for k, v in doc.items() if k != "id"})
            signature, key_id = signer.sign(request.issuing_country, request.model_dump())
            permit_rows.append(
                {
                    "id": doc["id"],
                    "number": request.number,
                    "type": request.type.value,
                    "issuing_country": request.issuing_country,
                    "issuing_authority": request.issuing_authority,
                    "security_stamp": request.security_stamp,
                    "issued_on": request.issued_on,
                    "valid_until": request.valid_until,
                    "exporter_name": request.exporter.name,
                    "exporter_address": request.exporter.address,
                    "exporter_country": request.exporter.country,
                    "importer_name": request.importer.name,
                    "importer_address": request.importer.address,
                    "importer_country": request.importer.country,
                    "purpose": request.purpose,
                    "special_conditions": None,
                    "status": "valid",
                    "exchange_details": None,
                    "signature": signature,
                    "signing_key_id": key_id,
                    "version": 1,
                    "created_by": "bench",
                    "created_at": now,
                }
            )
            item_rows += [
                {
                    "permit_id": doc["id"],
                    "item_id": i.item_id,
                    "species": i.species,
                    "taxon_id": None,
                    "description": i.description,
                    "term": i.term,
                    "appendix": i.appendix,
                    "source": i.source,
                    "quantity": i.quantity,
                    "unit": i.unit,
                    "origin_country": i.origin_country,
                    "origin_permit": None,
                    "reexport_certificate": None,
                    "balance": i.quantity,
                }
                for i in request.items
            ]
    timings["sign_s"] = time.perf_counter() - started
    started = time.perf_counter()
    db = Database(url)
    permits: sa.Table = Permit.__table__  # type: ignore[attr-defined]
    items: sa.Table = PermitItem.__table__  # type: ignore[attr-defined]
    try:
        for table, rows in ((permits, permit_rows), (items, item_rows)):
            for at in range(0, len(rows), INSERT_CHUNK):
                async with db.session() as session:
                    await session.exec(sa.insert(table), params=rows[at : at + INSERT_CHUNK])
        # What an operator does after a bulk load (and autovacuum would do later, where it is
        # on: it is off on this machine's server): planner statistics for the new rows.
        async with db.connect() as conn:
            await conn.execute(sa.text("ANALYZE"))
            await conn.commit()
    finally:
        await db.dispose()
    timings["insert_s"] = time.perf_counter() - started
    timings["permits"] = len(permit_rows)
    timings["items"] = len(item_rows)
    return timings


# --------------------------------------------------------------------------------------------
# Requests


class Budget:
    """Hands out shipments in order, so no permit is presented twice (PERMIT_IN_USE_ELSEWHERE
    would change the verdicts); wraps around, and counts it, when the registry runs out."""

    def __init__(self, registry: Sequence[Shipment]) -> None:
        self.registry = registry
        self.taken = 0

    def next(self) -> Shipment:
        shipment = self.registry[self.taken % len(self.registry)]
        self.taken += 1
        return shipment

    @property
    def wrapped(self) -> bool:
        return self.taken > len(self.registry)


def declaration(shipment: Shipment, declaration_id: str, today: date) -> dict[str, Any]:
    exporter, importer = shipment.exporter, shipment.importer
    lines = []
    for n, permit in enumerate(shipment.permits, start=1):
        item = permit["items"][0]
        lines.append(
            {
                "line_no": n,
                "permit": {
                    "number": permit["number"],
                    "issuing_country": permit["issuing_country"],
                    "security_stamp": permit["security_stamp"],
                },
                "species": item["species"],
                "description": "live specimens",
                "term": item["term"],
                "quantity": str(max(1, int(item["quantity"]) // 2)),
                "unit": None,
                "source": item["source"],
                "purpose": permit["purpose"],
                "hs_code": "010690",
                "value": {"amount": "1200", "currency": "USD"},
            }
        )
    return {
        "declaration_id": declaration_id,
        "direction": "export",
        "declared_on": today.isoformat(),
        "office": f"{exporter[1]}OFF1",
        "declarant": {"name": "Bench Customs Brokers", "country": exporter[1]},
        "exporter": {"name": exporter[0], "country": exporter[1]},
        "importer": {"name": importer[0], "country": importer[1]},
        "countries": {"export": exporter[1], "import": importer[1], "origin": exporter[1]},
        "transport": {"mode": "air", "document": "176-12345675"},
        "lines": lines,
    }


def verification_requests(
    budget: Budget, count: int, prefix: str, today: date
) -> list[tuple[str, str, bytes]]:
    return [
        (
            "POST",
            VERIFY_PATH,
            json.dumps(declaration(budget.next(), f"{prefix}-{n:06d}", today)).encode(),
        )
        for n in range(count)
    ]


def endorsement_requests(
    budget: Budget, count: int, prefix: str, today: date
) -> list[tuple[str, str, bytes]]:
    """One endorsement per permit (item A, half of it): each answer is a 201."""
    out: list[tuple[str, str, bytes]] = []
    while len(out) < count:
        shipment = budget.next()
        for permit in shipment.permits:
            item = permit["items"][0]
            body = {
                "declaration_id": f"{prefix}-{len(out):06d}",
                "office": f"{permit['issuing_country']}OFF1",
                "endorsed_on": today.isoformat(),
                "items": [{"item_id": "A", "quantity": str(max(1, int(item["quantity"]) // 2))}],
            }
            path = f"/v1/permits/{permit['id']}/endorsements"
            out.append(("POST", path, json.dumps(body).encode()))
    return out[:count]


# --------------------------------------------------------------------------------------------
# The load generator (its own process): bench/species.py's windows, CPU of several servers


@dataclass(frozen=True)
class Phase:
    key: str  # gateway, gateway-paced, direct, endorse
    load: Load  # species.Load; its server_pid is not used here
    pids: dict[str, int]  # server name -> pid, CPU read over the measured window


def run_phase(phase: Phase) -> tuple[LoadResult, dict[str, float]]:
    """Entry point of the generator process."""
    if uvloop is not None:
        return uvloop.run(_drive(phase))
    return asyncio.run(_drive(phase))  # pragma: no cover


async def _drive(phase: Phase) -> tuple[LoadResult, dict[str, float]]:
    load = phase.load
    requests = [encode_request(load, *request) for request in load.requests]
    connections = [Connection(load.host, load.port) for _ in range(load.concurrency)]
    try:
        offset = itertools.count()
        window = _window if load.rate is None else _paced_window
        warm = LoadResult(load.name, load.concurrency, 1)
        await window(connections, requests, load, offset, load.warmup, warm)
        result = LoadResult(load.name, load.concurrency, 1, rate=load.rate)
        before = {name: tree_cpu_seconds(pid) for name, pid in phase.pids.items()}
        cpu_before = time.process_time()
        started = time.perf_counter()
        await window(connections, requests, load, offset, load.duration, result)
        result.seconds = time.perf_counter() - started
        result.generator_cpu = time.process_time() - cpu_before
        cpu = {name: tree_cpu_seconds(pid) - before[name] for name, pid in phase.pids.items()}
        result.server_cpu = sum(cpu.values())
        result.first_error = result.first_error or warm.first_error
        if next(offset) > len(requests):
            result.first_error += " (requests were reused: raise the phase's request count)"
        return result, cpu
    finally:
        for connection in connections:
            connection.close()


# --------------------------------------------------------------------------------------------
# Checks


def first_answer(server: Any, headers: dict[str, str], request: tuple[str, str, bytes]) -> Any:
    """One request before any load: must be 2xx, else the run stops with the answer."""
    method, path, body = request
    response = httpx.request(
        method,
        server.base_url + path,
        content=body,
        headers={**headers, "Content-Type": "application/json"},
        timeout=30.0,
    )
    if response.status_code // 100 != 2:
        raise RuntimeError(
            f"{server.name}: {method} {path} answered {response.status_code}: {response.text[:800]}"
        )
    return response.json()


def check_answers(
    server: Any, headers: dict[str, str], requests: Sequence[tuple[str, str, bytes]]
) -> dict[str, Any]:
    """Fresh declarations one at a time: verdicts, finding codes, why risk is missing."""
    verdicts: Counter[str] = Counter()
    line_verdicts: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    risk: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    first_error = ""
    with httpx.Client(
        base_url=server.base_url,
        headers={**headers, "Content-Type": "application/json"},
        timeout=30.0,
    ) as client:
        for method, path, body in requests:
            started = time.perf_counter()
            response = client.request(method, path, content=body)
            latencies.append(time.perf_counter() - started)
            statuses[response.status_code] += 1
            if response.status_code != 200:
                first_error = first_error or f"{response.status_code} {response.text[:300]}"
                continue
            answer = response.json()
            verdicts[answer["verdict"]] += 1
            for line in answer["lines"]:
                line_verdicts[line["verdict"]] += 1
                codes.update(f["code"] for f in line["findings"])
            for finding in answer["findings"]:
                codes[finding["code"]] += 1
                if finding["code"] == "RISK_UNAVAILABLE":
                    reason = finding["message"].split("(", 1)[-1].split(")", 1)[0]
                    risk[reason] += 1
            if answer["risk"] is not None:
                risk["assessed"] += 1
    return {
        "declarations": len(requests),
        "statuses": dict(statuses),
        "verdicts": dict(verdicts),
        "line_verdicts": dict(line_verdicts),
        "finding_codes": dict(codes.most_common()),
        "risk": dict(risk),
        "p50_ms": percentile(latencies, 0.5) * 1e3,
        "p99_ms": percentile(latencies, 0.99) * 1e3,
        "first_error": first_error,
    }


async def no_responders(nats_url: str, calls: int = 200) -> dict[str, Any]:
    """How long a request to `risk.rpc.assess` takes with nobody subscribed: NATS answers
    "no responders" at once, so RISK_UNAVAILABLE costs no timeout (0.5 s)."""
    nc = await nats.connect(nats_url)
    latencies: list[float] = []
    kinds: Counter[str] = Counter()
    try:
        for _ in range(calls):
            started = time.perf_counter()
            try:
                await nc.request(RISK_SUBJECT, b"{}", timeout=0.5)
                kinds["answered"] += 1
            except nats.errors.NoRespondersError:
                kinds["no responders"] += 1
            except nats.errors.TimeoutError:
                kinds["timeout"] += 1
            latencies.append(time.perf_counter() - started)
    finally:
        await nc.close()
    return {
        "calls": calls,
        "outcomes": dict(kinds),
        "p50_ms": percentile(latencies, 0.5) * 1e3,
        "max_ms": max(latencies) * 1e3,
    }


# --------------------------------------------------------------------------------------------
# The suite


async def _postgres_admin(admin_url: str, statement: str) -> str:
    admin = await asyncpg.connect(plain_postgres_url(admin_url), timeout=10)
    try:
        await admin.execute(statement)
        return str(await admin.fetchval("SHOW server_version"))
    finally:
        await admin.close()


@contextmanager
def postgres_url(args: argparse.Namespace) -> Iterator[str | None]:
    """A fresh database for permit-verify on `--postgres`, dropped at the end. (Not
    backbone.py's `postgres_database` across two `asyncio.run`: the first loop's shutdown
    would close the suspended generator and drop the database at once.)"""
    if not args.postgres:
        yield None
        return
    name = f"pangolin_bench_verify_{secrets.token_hex(4)}"
    args.postgres_version = asyncio.run(_postgres_admin(args.postgres, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(args.postgres).set(database=name).render_as_string(False)
    finally:
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        asyncio.run(_postgres_admin(args.postgres, drop))


@contextmanager
def running_suite(
    args: argparse.Namespace, registry: Sequence[Shipment]
) -> Iterator[dict[str, Any]]:
    """nats-server, the four apps, the client; everything stopped on exit (also on error or
    Ctrl-C)."""
    with ExitStack() as stack:
        tmp = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="pangolin-bench-verify-"))
        )
        nats_server = NatsServer(tmp / "nats").start()
        stack.callback(nats_server.stop)
        pg_url = stack.enter_context(postgres_url(args))
        registry_url = pg_url or gw.database_url(tmp, "permit-verify")
        notes: dict[str, Any] = {"tmp": str(tmp)}
        progress(f"migrating and seeding species-ref, migrating the gateway (SQLite in {tmp})")
        notes["species"] = asyncio.run(
            gw.migrate(tmp, ["species-ref", "gateway", "risk-score"], True)
        )
        engine = "PostgreSQL" if pg_url else "SQLite"
        progress(
            f"filling the registry ({engine}): {sum(len(s.permits) for s in registry):,} permits"
        )
        notes["registry"] = asyncio.run(fill_registry(registry_url, registry))
        progress(
            "  signed in {sign_s:.1f} s, inserted in {insert_s:.1f} s ({permits:,} permits,"
            " {items:,} items)".format(**notes["registry"])
        )
        ports = {name: gw.bench_port() for name in ("species-ref", "permit-verify", "risk-score")}
        env = gw.suite_environment(
            tmp, nats_server.url, f"http://127.0.0.1:{ports['species-ref']}", args.server_env
        )
        env["PANGOLIN_GATEWAY_PERMIT_VERIFY_URL"] = f"http://127.0.0.1:{ports['permit-verify']}"
        env["PANGOLIN_PERMIT_VERIFY_DATABASE_URL"] = registry_url
        servers = gw.Servers(tmp, env)
        stack.callback(servers.stop_all)
        started: dict[str, Any] = {}
        ready: dict[str, float] = {}
        for name, port in ports.items():
            started[name] = servers.serve_app(name, port)
        for name in ports:
            ready[name] = gw.wait_ready(started[name])
        progress("  pangolin clients create --name bench --role single_window")
        credentials = gw.create_client(tmp, env)
        started["gateway"] = servers.serve_app("gateway")
        ready["gateway"] = gw.wait_ready(started["gateway"])
        bearer = {"Authorization": f"Bearer {gw.access_token(started['gateway'], credentials)}"}
        signer = IdentitySigner(DEV_IDENTITY_PRIVATE_KEY, ttl_seconds=3600)
        identity = {
            "X-Pangolin-Identity": signer.sign(
                Caller("bench-direct", HOME, frozenset({"single_window"}), ROLE_SCOPES)
            )
        }
        progress("  ready: " + ", ".join(f"{n} {s:.1f} s" for n, s in ready.items()))
        yield {
            "servers": started,
            "bearer": bearer,
            "identity": identity,
            "nats_url": nats_server.url,
            "ready": ready,
            "engine": engine,
            "notes": notes,
        }


# --------------------------------------------------------------------------------------------
# Measuring


def measure(
    suite: dict[str, Any], budget: Budget, args: argparse.Namespace, today: date
) -> list[dict[str, Any]]:
    servers = suite["servers"]
    gateway, permit_verify = servers["gateway"], servers["permit-verify"]
    behind = {name: servers[name].pid for name in ("permit-verify", "species-ref", "risk-score")}
    through = {"gateway": gateway.pid, **behind}
    closed = args.max_requests

    def phase(
        key: str,
        name: str,
        server: Any,
        headers: dict[str, str],
        requests: list[tuple[str, str, bytes]],
        pids: dict[str, int],
        rate: float | None = None,
        ok: frozenset[int] = frozenset({200}),
    ) -> Phase:
        load = Load(
            name=name,
            host="127.0.0.1",
            port=server.port,
            headers=headers,
            requests=tuple(requests),
            concurrency=args.concurrency,
            warmup=args.warmup,
            duration=args.duration,
            max_requests=closed if rate is None else len(requests),
            server_pid=permit_verify.pid,
            rate=rate,
            ok_statuses=ok,
        )
        return Phase(key, load, pids)

    def paced_count(rate: float) -> int:
        return int(rate * (args.warmup + args.duration)) + 2

    plan: list[Phase] = [
        phase(
            "gateway",
            f"verify, gateway, {args.concurrency} in flight",
            gateway,
            suite["bearer"],
            verification_requests(budget, 2 * closed, "BENCH-GW", today),
            through,
        ),
        *(
            phase(
                f"gateway-paced-{rate:g}",
                f"verify, gateway, open loop {rate:g}/s on {args.concurrency} connections",
                gateway,
                suite["bearer"],
                verification_requests(budget, paced_count(rate), f"BENCH-PACED{rate:g}", today),
                through,
                rate=rate,
            )
            for rate in args.rates
        ),
        phase(
            "direct",
            f"verify, direct to permit-verify, {args.concurrency} in flight",
            permit_verify,
            suite["identity"],
            verification_requests(budget, 2 * closed, "BENCH-DIRECT", today),
            behind,
        ),
        phase(
            "endorse",
            f"endorse, gateway, {args.concurrency} in flight",
            gateway,
            suite["bearer"],
            endorsement_requests(budget, 2 * closed, "BENCH-END", today),
            through,
            ok=frozenset({201}),
        ),
    ]
    rows = []
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:  # terminated on exit, even when a window hangs
        for spec in plan:
            progress(
                f"  {spec.load.name}: {spec.load.warmup:g} s warm-up, {spec.load.duration:g} s"
            )
            limit = spec.load.warmup + spec.load.duration + gw.GENERATOR_SLACK
            try:
                result, cpu = pool.apply_async(run_phase, (spec,)).get(timeout=limit)
            except multiprocessing.TimeoutError:
                raise TimeoutError(f"the load generator did not finish {spec.load.name}") from None
            for name, server in servers.items():
                if server.process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {server.process.returncode} during the load"
                        f" ({server.log}):\n{gw.log_tail(server.log)}"
                    )
            row = load_row(result)
            row["key"] = spec.key
            row["statuses"] = result.statuses
            row["server_cpu_by_name"] = {n: c / result.seconds for n, c in cpu.items()}
            row["cpu_ms_per_request"] = {
                n: c / max(1, result.completed) * 1e3 for n, c in cpu.items()
            }
            rows.append(row)
            progress(
                f"    {row['requests_per_s']:,.1f}/s, p50 {row['p50_ms']:.1f} ms, p99"
                f" {row['p99_ms']:.1f} ms, non-2xx {row['non_200']}"
                + (f"; first error: {row['first_error']}" if row["first_error"] else "")
            )
    return rows


# --------------------------------------------------------------------------------------------
# Report


def code_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "libs/core", "gateway", "services"],
            cwd=ROOT, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return head + (" + uncommitted changes in libs/core, gateway or services" if dirty else "")


SHOWN = ("gateway", "permit-verify", "species-ref", "risk-score")


def print_report(report: dict[str, Any]) -> None:
    rows = {row["key"]: row for row in report["rows"]}
    print()
    print(f"Pangolin verifications and endorsements ({report['engine']} registry)")
    for key in ("command", "machine", "code", "servers", "data", "load", "run"):
        print(f"{key + ':':<10}{report[key]}")
    print()
    print("| target (issue 5) | this run | target | met |")
    print("|---|---:|---|---|")
    for key in report["paced"]:
        row = rows[key]
        clean = not row["non_200"] and not row["failures"]
        met = row["p99_ms"] < TARGET_P99_MS and clean
        at_target = row["offered_per_s"] >= TARGET_RATE
        print(
            f"| verification p99, open loop {row['offered_per_s']:g}/s through the gateway"
            f" ({row['requests_per_s']:.1f}/s answered) | {row['p99_ms']:.1f} ms |"
            f" < {TARGET_P99_MS:g} ms at {TARGET_RATE:g}/s |"
            + (f" {verdict(met)} |" if at_target else f" below the rate: {verdict(met)} at it |")
        )
    gateway = rows["gateway"]
    print(
        f"| saturation, gateway, {gateway['in_flight']} in flight ({report['engine']}) |"
        f" {gateway['requests_per_s']:.1f} verifications/s | report | - |"
    )
    print(
        f"| saturation at least the target rate | {gateway['requests_per_s']:.1f}/s |"
        f" >= {TARGET_RATE:g}/s | {verdict(gateway['requests_per_s'] >= TARGET_RATE)} |"
    )
    print()
    print(
        "| phase | requests | /s | p50 ms | p90 ms | p99 ms | max ms | non-2xx |"
        " server CPU, % of a core (ms per request): " + ", ".join(SHOWN) + " | generator CPU |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for row in report["rows"]:
        cells = "; ".join(
            f"{row['server_cpu_by_name'][n]:.0%} ({row['cpu_ms_per_request'][n]:.2f})"
            if n in row["server_cpu_by_name"]
            else "-"
            for n in SHOWN
        )
        print(
            f"| {row['phase']} | {row['requests']:,} | {row['requests_per_s']:,.1f} |"
            f" {row['p50_ms']:.1f} | {row['p90_ms']:.1f} | {row['p99_ms']:.1f} |"
            f" {row['max_ms']:.1f} | {row['non_200'] + sum(row['failures'].values())} |"
            f" {cells} | {row['generator_cpu']:.0%} |"
        )
    answers, nr = report["answers"], report["no_responders"]
    print()
    print(
        f"answers: {answers['declarations']} fresh declarations one at a time through the"
        f" gateway: statuses {answers['statuses']}, verdicts {answers['verdicts']}, line"
        f" verdicts {answers['line_verdicts']}, p50 {answers['p50_ms']:.1f} ms, p99"
        f" {answers['p99_ms']:.1f} ms"
    )
    print(f"finding codes: {answers['finding_codes']}")
    print(f"risk: {answers['risk']}")
    print(
        f"{RISK_SUBJECT} with no responder (raw nats-py, {nr['calls']} calls):"
        f" {nr['outcomes']}, p50 {nr['p50_ms']:.2f} ms, max {nr['max_ms']:.2f} ms"
    )
    if report["wrapped"]:
        print("note: the registry ran out of unused shipments; permits were presented twice")
    for row in report["rows"]:
        if row["first_error"]:
            print(f"note: {row['phase']}: first error: {row['first_error']}")
    if answers["first_error"]:
        print(f"note: answers: first error: {answers['first_error']}")


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/verify.py",
        description=(
            "Verifications/s and p50/p99 of 3-line declarations through the gateway (and"
            " direct), endorsements/s, with a registry of --permits signed permits."
        ),
    )
    parser.add_argument(
        "--permits", type=int, default=100_000, metavar="N",
        help="permits in the registry, in shipments of 3 (default 100000)",
    )  # fmt: skip
    parser.add_argument(
        "--duration", type=float, default=15.0, metavar="S",
        help="seconds per measured window (default 15)",
    )  # fmt: skip
    parser.add_argument(
        "--warmup", type=float, default=3.0, metavar="S", help="seconds of warm-up (default 3)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, metavar="N", help="requests in flight (default 32)"
    )
    parser.add_argument(
        "--rates", default="25,100", metavar="R,R,...",
        help="open-loop phases through the gateway, verifications/s (default 25,100)",
    )  # fmt: skip
    parser.add_argument(
        "--max-requests", type=int, default=4_000, metavar="N",
        help="requests per closed-loop window at most (each distinct; default 4000)",
    )  # fmt: skip
    parser.add_argument(
        "--check", type=int, default=100, metavar="N",
        help="fresh declarations sent one at a time after the load, answers tallied (default 100)",
    )  # fmt: skip
    parser.add_argument(
        "--postgres", metavar="URL", default=None,
        help="permit-verify on a fresh database of this PostgreSQL server (dropped after), e.g."
        " postgresql://postgres@127.0.0.1:5432/postgres; default SQLite",
    )  # fmt: skip
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="KEY=VALUE",
        help="extra environment of every server (repeatable)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    try:
        args.rates = [float(rate) for rate in args.rates.split(",") if rate.strip()]
    except ValueError:
        parser.error("--rates takes numbers separated by commas")
    if any(rate <= 0 for rate in args.rates):
        parser.error("--rates must be positive")
    if min(args.concurrency, args.max_requests, args.check) < 1 or args.permits < LINES:
        parser.error("counts must be at least 1 (--permits at least 3)")
    if args.duration <= 0 or args.warmup < 0:
        parser.error("--duration must be positive and --warmup not negative")
    if any("=" not in item for item in args.server_env):
        parser.error("--server-env takes KEY=VALUE")
    args.postgres_version = None
    return args


def main(args: argparse.Namespace) -> int:
    command = shlex.join(["uv", "run", "--frozen", "python", *sys.argv])
    load_before = os.getloadavg()
    started = time.perf_counter()
    rng = random.Random(args.seed)
    today = datetime.now(UTC).date()
    progress("building the registry from the checklist (Appendix II species, native countries)")
    registry = shipments(-(-args.permits // LINES), rng, today)
    if extra := len(registry) * LINES - args.permits:  # exactly --permits: a shorter last one
        last = registry[-1]
        registry[-1] = Shipment(last.exporter, last.importer, last.permits[: LINES - extra])
    budget = Budget(registry)
    with running_suite(args, registry) as suite:
        servers = suite["servers"]
        # One of each before any load: a missing route or scope stops the run with the answer.
        first_answer(
            servers["gateway"],
            suite["bearer"],
            verification_requests(budget, 1, "BENCH-FIRST", today)[0],
        )
        first_answer(
            servers["gateway"],
            suite["bearer"],
            endorsement_requests(budget, 1, "BENCH-FIRST-END", today)[0],
        )
        no_resp = asyncio.run(no_responders(suite["nats_url"]))
        progress(
            f"  {RISK_SUBJECT} with no responder: {no_resp['outcomes']},"
            f" p50 {no_resp['p50_ms']:.2f} ms"
        )
        rows = measure(suite, budget, args, today)
        progress("checking answers")
        answers = check_answers(
            servers["gateway"],
            suite["bearer"],
            verification_requests(budget, args.check, "BENCH-CHECK", today),
        )
    load_after = os.getloadavg()
    reg = suite["notes"]["registry"]
    engine = suite["engine"] + (f" {args.postgres_version}" if args.postgres_version else "")
    report: dict[str, Any] = {
        "command": command,
        "engine": engine,
        "machine": (
            f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, Python"
            f" {platform.python_version()}, uvicorn {version('uvicorn')}, nats-py"
            f" {version('nats-py')}"
        ),
        "code": code_revision(),
        "servers": (
            "python -m pangolin_core.cli serve <app> (uvicorn, one process each): gateway,"
            " species-ref, permit-verify, risk-score; PANGOLIN_LOG_LEVEL=WARNING; own"
            f" nats-server; permit-verify on {engine}, gateway and species-ref on SQLite;"
            " ready: "
            + ", ".join(f"{n} {s:.1f} s" for n, s in suite["ready"].items())
            + (f"; extra env: {' '.join(args.server_env)}" if args.server_env else "")
        ),
        "data": (
            f"{reg['permits']:,} export permits ({reg['items']:,} items, Appendix II species"
            " native to the exporting country, source W, term LIV, purpose T), each signed with"
            f" PermitSigner.sign ({reg['sign_s']:.1f} s) and inserted directly, then ANALYZE"
            f" ({reg['insert_s']:.1f} s); species-ref: {suite['notes']['species']}"
        ),
        "load": (
            f"generator in its own process (bench/species.py's raw HTTP/1.1 client,"
            f" {'uvloop' if uvloop else 'asyncio'}), {args.concurrency} keep-alive connections;"
            f" {args.warmup:g} s warm-up + {args.duration:g} s per phase; declarations of"
            f" {LINES} lines, each id and each permit used once; bearer token through the"
            " gateway, signed identity direct"
        ),
        "run": (
            f"{time.perf_counter() - started:.0f} s; load average {load_before[0]:.2f} before,"
            f" {load_after[0]:.2f} after (other work on this machine skews the figures)"
        ),
        "paced": [f"gateway-paced-{rate:g}" for rate in args.rates],
        "rows": rows,
        "answers": answers,
        "no_responders": no_resp,
        "wrapped": budget.wrapped,
        "shipments_used": budget.taken,
    }
    print_report(report)
    if args.json:
        print()
        print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(parse_args()))
