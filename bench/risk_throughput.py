"""risk-score's throughput: assessments/s in-process with 200 active profiles, and
`risk.rpc.assess` latency over a real nats-server.

1. In-process scoring: `assessments.service.evaluate` (facts from the in-memory species and
   watchlist read models, 200 active generated profiles, findings, random draw, lane) over
   realistic declarations: 1-3 lines of real checklist species (CITES checklist snapshot),
   real countries, a few transit hubs, descriptions, some permit findings. No DB, no HTTP.
   Three ways: profiles alone (empty trade history, no model); with the trade-history
   features over `--history` past declarations with outcomes; and with a LightGBM model
   trained on them (`models.service.train_candidate`, what `POST /v1/risk/models/train` runs).
2. The same plus the one insert of the assessment with its outbox event and its trade-history
   lines (group-commit writer), sequential.
3. `risk.rpc.assess` p50 / p99 over a nats-server started here on a free port (the app runs
   its lifespan in this process: SQLite in a temp dir, profiles posted through its API, the
   same past declarations and outcomes stored and a model trained through its API),
   sequential calls after a warm-up, then 16 callers in flight. 2 and 3 run on SQLite, then on
   PostgreSQL when one answers (`--postgres URL`, '' to skip; a fresh database, dropped).

Targets (issue 6): >= 2,000 assessments/s on one core (1), RPC p99 < 10 ms (3).

    uv run --frozen python bench/risk_throughput.py [--seconds 5] [--calls 2000] [--history 5000]"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import uuid4

import nats
from sqlalchemy.engine import make_url

from pangolin_core import migrations
from pangolin_core.contracts.intel import WatchlistEntry
from pangolin_core.contracts.permits import Finding
from pangolin_core.contracts.risk import ASSESS_SUBJECT, AssessmentRequest, RiskAssessment
from pangolin_core.natsserver import NatsServer
from pangolin_core.testing import identity_headers, running_app
from risk_score.app import DEFINITION, create_app
from risk_score.assessments import service
from risk_score.dependencies import RISK_STATE, RiskState, writer_of
from risk_score.features.service import TradeHistoryFeatures
from risk_score.history import service as history_service
from risk_score.history.aggregate import TradeHistory
from risk_score.history.schemas import OutcomeResult, TradeRecord
from risk_score.models.service import PromotedModel, train_candidate
from risk_score.profiles.active import ActiveProfiles, compile_version
from risk_score.profiles.models import TargetingProfileVersion
from risk_score.settings import RiskScoreSettings
from risk_score.species.service import SpeciesIndex
from risk_score.watchlists.service import HeldEntry, WatchlistIndex
from species_ref.checklist import read_checklist
from species_ref.seed import CHECKLIST

BENCH = Path(__file__).resolve().parent


def _sibling(name: str) -> ModuleType:
    """A sibling script of bench/ as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"bench_{name}"] = module
    spec.loader.exec_module(module)
    return module


risk_criteria = _sibling("risk_criteria")
PROFILES = 200
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
OFFICES = ["KEMBA", "KENBO", "KEJKI", "NGLOS", "VNSGN"]
ANALYST = identity_headers("risk:profiles", "risk:read", client_id="bench")
RISK_UNIT = identity_headers("risk:models", client_id="bench")


def checklist_species() -> dict[str, frozenset[str]]:
    return {
        t.full_name: frozenset(t.appendices)
        for t in read_checklist(CHECKLIST)
        if t.rank == "SPECIES" and t.appendices
    }


def profile_bodies(rng: random.Random) -> list[dict[str, Any]]:
    bodies = []
    for n, (tree, _) in enumerate(risk_criteria.generate_profiles(rng, PROFILES)):
        bodies.append(
            {
                "name": f"bench profile {n}",
                "criteria": tree,
                "points": rng.choice([5, 10, 15, 20]),
                "forced_lane": rng.choice([None] * 49 + ["red"]),
                "controls": rng.choice([[], ["document_review"], ["non_intrusive_scan"]]),
                "selection_percentage": rng.choice([100, 100, 100, 50]),
                "offices": rng.choice([[], [], [rng.choice(OFFICES)]]),
                "owner": "bench",
                "status": "active",
            }
        )
    return bodies


def declarations(
    rng: random.Random, species: list[str], count: int, *, prefix: str = "BENCH"
) -> list[AssessmentRequest]:
    countries = risk_criteria.COUNTRIES
    words = ["live animals", "skins", "Cashew nuts", "spare parts", "carvings", "dried parts"]
    out = []
    for n in range(count):
        lines = [
            {
                "line_no": i + 1,
                "species": rng.choice(species),
                "description": rng.choice(words),
                "term": rng.choice(risk_criteria.TERMS),
                "quantity": str(rng.choice([1, 5, 20, 100, 500])),
                "unit": rng.choice([None, "kg"]),
                "source": rng.choice(["W", "C", "D"]),
                "purpose": rng.choice(["T", "P", "S"]),
                "hs_code": rng.choice([None, "010620", "0508.00", "9601"]),
                "value": {"amount": str(rng.randint(100, 50000)), "currency": "USD"},
            }
            for i in range(rng.choice([1, 2, 3]))
        ]
        export, import_ = rng.sample(countries, 2)
        findings = [
            Finding(code=c, severity="error", message=c)
            for c in rng.sample(risk_criteria.FINDINGS, rng.choice([0, 0, 0, 1]))
        ]
        body = {
            "declaration_id": f"{prefix}-{n}",
            "direction": rng.choice(["export", "import", "re_export"]),
            "declared_on": date.today().isoformat(),
            "office": rng.choice(OFFICES),
            "exporter": {"name": f"Exporter {rng.randint(1, 5000)} Ltd", "country": export},
            "importer": {"name": f"Importer {rng.randint(1, 5000)} Co", "country": import_},
            "countries": {
                "export": export,
                "import": import_,
                "origin": export,
                "transit": rng.sample(risk_criteria.HUBS, rng.choice([0, 0, 1, 2])),
            },
            "transport": {"mode": "air", "document": f"176-{rng.randint(10**7, 10**8)}"},
            "lines": lines,
        }
        out.append(AssessmentRequest.model_validate({"declaration": body, "findings": findings}))
    return out


def watchlist(rng: random.Random) -> WatchlistIndex:
    """200 records: a trader each; some name a hub, a route, a species or concealment words."""
    index = WatchlistIndex()
    words = ["spare parts", "cashew nuts", "fish maw", "handicrafts", "dried seafood"]
    for n in range(200):
        entries = [
            WatchlistEntry(
                entry_id=f"rec-{n}:trader:1",
                kind="trader",
                names=[f"Exporter {rng.randint(1, 5000)} Limited"],
                country=rng.choice(risk_criteria.COUNTRIES),
            )
        ]
        if n % 20 == 0:
            entries.append(
                WatchlistEntry(
                    entry_id=f"rec-{n}:hub:1", kind="hub", hubs=[rng.choice(risk_criteria.HUBS)]
                )
            )
        if n % 20 == 1:
            entries.append(
                WatchlistEntry(
                    entry_id=f"rec-{n}:concealment:1", kind="concealment", names=[rng.choice(words)]
                )
            )
        if n % 20 == 2:
            entries.append(
                WatchlistEntry(
                    entry_id=f"rec-{n}:route:1",
                    kind="route",
                    route_from=rng.choice(risk_criteria.COUNTRIES),
                    route_to=rng.choice(risk_criteria.COUNTRIES),
                )
            )
        held = [
            HeldEntry(entry=e, record_id=f"rec-{n}", title="bench", confidence=70, valid_until=None)
            for e in entries
        ]
        index.put(f"rec-{n}", 1, held)
    return index


def outcome_of(rng: random.Random, request: AssessmentRequest) -> OutcomeResult:
    """A made-up ground truth the model can partly learn: personal-purpose wild specimens
    through a hub are often seized, a few exporters are bad, the rest is mostly compliant."""
    declaration = request.declaration
    line = declaration.lines[0]
    risk = 0.03
    if line.purpose == "P" and line.source == "W":
        risk += 0.3
    if declaration.countries.transit:
        risk += 0.15
    exporter = declaration.exporter.name if declaration.exporter is not None else None
    if exporter is not None and exporter.endswith(("7 Ltd", "3 Ltd")):
        risk += 0.2
    return "seizure" if rng.random() < risk else "compliant"


def past_trade(
    rng: random.Random, species: list[str], count: int
) -> list[tuple[AssessmentRequest, OutcomeResult]]:
    return [(r, outcome_of(rng, r)) for r in declarations(rng, species, count, prefix="PAST")]


def in_process(requests: list[AssessmentRequest], state: RiskState, seconds: float) -> float:
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for request in requests:
            service.evaluate(state=state, request=request)
        done += len(requests)
    return done / (time.perf_counter() - started)


async def with_store(app: Any, requests: list[AssessmentRequest], seconds: float) -> float:
    runtime = app.state.runtime
    state, writer = runtime.extras[RISK_STATE], writer_of(runtime)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        request = requests[done % len(requests)]
        await service.assess(writer=writer, state=state, request=request, client_id="bench")
        done += 1
    return done / (time.perf_counter() - started)


async def rpc(url: str, requests: list[AssessmentRequest], calls: int) -> dict[str, float]:
    nc = await nats.connect(url)
    payloads = [r.model_dump_json(by_alias=True).encode() for r in requests]
    try:
        for payload in payloads[:200]:
            await nc.request(ASSESS_SUBJECT, payload, timeout=5)
        latencies = []
        for n in range(calls):
            started = time.perf_counter()
            reply = await nc.request(ASSESS_SUBJECT, payloads[n % len(payloads)], timeout=5)
            latencies.append((time.perf_counter() - started) * 1000)
        RiskAssessment.model_validate_json(reply.data)
        latencies.sort()
        figures = {
            "p50_ms": statistics.median(latencies),
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
            "sequential_per_s": calls / (sum(latencies) / 1000),
        }

        async def caller(k: int) -> None:
            for n in range(k, calls, 16):
                await nc.request(ASSESS_SUBJECT, payloads[n % len(payloads)], timeout=10)

        started = time.perf_counter()
        await asyncio.gather(*(caller(k) for k in range(16)))
        figures["16_in_flight_per_s"] = calls / (time.perf_counter() - started)
        return figures
    finally:
        await nc.close()


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(6)
    species_map = checklist_species()
    names = sorted(species_map)
    requests = declarations(rng, names, 1000)
    bodies = profile_bodies(rng)

    past = past_trade(rng, names, args.history)

    # 1. In-process scoring.
    history = TradeHistory()
    settings = RiskScoreSettings()
    state = RiskState(
        settings=settings,
        profiles=ActiveProfiles(),
        watchlists=watchlist(rng),
        species=SpeciesIndex(),
        history=history,
        features=TradeHistoryFeatures(history),
        model=PromotedModel(explain_from=settings.model_explain_from),
    )
    state.species.replace_all(species_map)

    state.profiles.replace_all(
        compile_version(
            TargetingProfileVersion(
                profile_id=str(uuid4()),
                version=1,
                rationale="",
                instructions="",
                valid_from=None,
                valid_until=None,
                review_date=None,
                directions=[],
                created_at=datetime.now(UTC),
                created_by="bench",
                **body,
            )
        )
        for body in bodies
    )
    lanes: dict[str, int] = {}
    for request in requests:
        _, scored = service.evaluate(state=state, request=request)
        lanes[scored.lane] = lanes.get(scored.lane, 0) + 1
    print(
        f"{len(state.profiles.profiles)} active profiles, {len(species_map):,} checklist species, "
        f"200 watchlist records; lanes over 1,000 declarations: {lanes}"
    )
    rate = in_process(requests, state, args.seconds)
    print(f"in-process, profiles only (no history, no model): {rate:>8,.0f} assessments/s")
    started = time.perf_counter()
    records = [(TradeRecord.from_declaration(r.declaration), o) for r, o in past]
    history.replay((record, outcome != "compliant") for record, outcome in records)
    print(
        f"trade history: {len(history):,} past declarations, {history.non_compliant:,} seized"
        f" ({time.perf_counter() - started:.1f} s to replay)"
    )
    rate = in_process(requests, state, args.seconds)
    print(f"in-process, + trade-history features:            {rate:>8,.0f} assessments/s")
    started = time.perf_counter()
    candidate = train_candidate(records, None, version="bench")
    state.model.model = candidate.model
    print(
        f"model trained in {time.perf_counter() - started:.1f} s, held-out AUC"
        f" {candidate.report['held_out']['auc']:.3f}"
    )
    views = [
        state.model.view(state.features.features_for(r.declaration, r.findings)) for r in requests
    ]
    explained = sum(1 for v in views if v is not None and v.contributions)
    print(
        f"  {explained} of {len(views)} declarations are explained (probability >="
        f" max(base rate {candidate.model.explain_from:.2f}, {settings.model_explain_from:.2f}))"
    )
    rate = in_process(requests, state, args.seconds)
    print(
        f"in-process, + features + model (200 profiles):  {rate:>8,.0f} assessments/s"
        "   target >= 2,000"
    )

    with tempfile.TemporaryDirectory() as folder:
        server = NatsServer(Path(folder) / "nats").start()
        try:
            await against(
                f"sqlite:///{folder}/risk.db",
                "SQLite",
                server,
                bodies,
                species_map,
                requests,
                past,
                args,
            )
            if args.postgres:
                async with postgres_database(args.postgres) as url:
                    await against(
                        url, "PostgreSQL", server, bodies, species_map, requests, past, args
                    )
        finally:
            server.stop()


@asynccontextmanager
async def postgres_database(admin: str) -> AsyncIterator[str]:
    """A fresh database on the server for this run, dropped afterwards."""
    import asyncpg

    name = f"pangolin_bench_{uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def against(
    url: str,
    engine: str,
    server: NatsServer,
    bodies: list[dict[str, Any]],
    species_map: dict[str, frozenset[str]],
    requests: list[AssessmentRequest],
    past: list[tuple[AssessmentRequest, OutcomeResult]],
    args: argparse.Namespace,
) -> None:
    """The service on `url`: scoring with its insert, then the RPC over NATS."""
    await migrations.upgrade(DEFINITION.migrations, url)
    nc = await nats.connect(server.url)
    try:  # a fresh RISK stream for each engine
        js = nc.jetstream()
        for info in await js.streams_info():
            if info.config.name:
                await js.delete_stream(info.config.name)
    finally:
        await nc.close()
    settings = RiskScoreSettings(database_url=url, nats_url=server.url, log_level="WARNING")
    app = create_app(settings)
    async with running_app(app) as client:
        for body in bodies:
            response = await client.post("/v1/risk/profiles", json=body, headers=ANALYST)
            assert response.status_code == 201, response.text
        app.state.runtime.extras[RISK_STATE].species.replace_all(species_map)
        db = app.state.runtime.db
        async with db.session() as session:  # the past trade as assessments would store it
            await history_service.record_declarations(
                session=session, declarations=[r.declaration for r, _ in past]
            )
        async with db.session() as session:
            for request, outcome in past:
                await history_service.record_outcome(
                    session=session,
                    declaration_id=request.declaration.declaration_id,
                    result=outcome,
                )
        trained = await client.post("/v1/risk/models/train", headers=RISK_UNIT)
        assert trained.status_code == 200, trained.text
        stored = await with_store(app, requests, args.seconds)
        print(f"{engine}: scoring + insert, sequential: {stored:,.0f} assessments/s")
        figures = await rpc(server.url, requests, args.calls)
        print(
            f"{engine}: risk.rpc.assess over NATS, {args.calls} sequential:"
            f" p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms"
            f" (target < 10 ms); {figures['sequential_per_s']:,.0f}/s;"
            f" 16 in flight {figures['16_in_flight_per_s']:,.0f}/s"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--history", type=int, default=5000, help="past declarations")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("PANGOLIN_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        help="admin URL of a PostgreSQL server ('' to skip)",
    )
    asyncio.run(main(parser.parse_args()))
