"""TAXII object pages per second from intel-share (issue 7), measured on this machine.

intel-share is served by uvicorn (one worker) on loopback over a SQLite file, with a real
nats-server; `--records` seizure reports (two objects of their own each: the report and its
`x-pangolin-seizure`) are stored through the same path as federation (`intake.receive`, which
writes the STIX projection). A partner then walks the community collection in pages of
`--limit` objects with `next`, sequentially, over HTTP (httpx), `--runs` times:
pages/s and objects/s per run, and the median. Every page is a real request: identity check,
the access clause in SQL, the audit row of the export.

    python3 -m uv run --frozen python bench/intel_taxii.py --records 3000 --limit 100
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Keep this folder off the path: bench/gateway.py would shadow the `gateway` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
import structlog  # noqa: E402
import uvicorn  # noqa: E402

from intel_share.app import DEFINITION, create_app  # noqa: E402
from intel_share.federation.intake import Sender, receive  # noqa: E402
from intel_share.records.schemas import RecordOut  # noqa: E402
from intel_share.settings import IntelShareSettings  # noqa: E402
from intel_share.taxii.service import COMMUNITY_ID  # noqa: E402
from pangolin_core import migrations  # noqa: E402
from pangolin_core.contracts.cites_codes import read_code_lists  # noqa: E402
from pangolin_core.db import Database  # noqa: E402
from pangolin_core.identity import Caller, IdentitySigner  # noqa: E402
from pangolin_core.messaging.tables import outbox  # noqa: E402
from pangolin_core.natsserver import NatsServer  # noqa: E402
from pangolin_core.settings import DEV_IDENTITY_PRIVATE_KEY  # noqa: E402

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def seizure_record(n: int) -> RecordOut:
    moment = T0 + timedelta(minutes=n)
    return RecordOut.model_validate(
        {
            "id": str(uuid.uuid4()),
            "type": "seizure",
            "title": f"Seizure {n}",
            "description": None,
            "originator": {"agency": "customs", "country": "KE"},
            "grading": {
                "scheme": "admiralty",
                "source": "B",
                "information": "2",
                "code": "B2",
                "confidence": 70,
            },
            "handling_code": None,
            "tlp": "green",
            "distribution": {"level": "community"},
            "review_on": None,
            "expires_on": None,
            "version": 1,
            "revoked": False,
            "revoked_at": None,
            "revoked_reason": None,
            "created_at": moment,
            "updated_at": moment,
            "seizure": {
                "seized_on": "2026-10-30",
                "place": "Mombasa port",
                "specimens": [
                    {"species": "Loxodonta africana", "term": "TUS", "quantity": str(n + 1)}
                ],
                "concealment": "machine parts",
                "transport_mode": "sea",
                "origin_countries": ["TZ"],
                "export_countries": ["KE"],
                "transit_countries": ["AE"],
                "destination_countries": ["VN"],
            },
        }
    )


async def seed(db: Database, count: int) -> float:
    sender = Sender(client_id="bench", country="KE", agency="customs", is_partner=False)
    codes = read_code_lists()
    started = time.perf_counter()
    for first in range(0, count, 250):
        async with db.session() as session:
            for n in range(first, min(first + 250, count)):
                await receive(
                    session=session,
                    record=seizure_record(n),
                    sender=sender,
                    home_country="KE",
                    codes=codes,
                )
    return time.perf_counter() - started


async def outbox_drained(db: Database) -> None:
    """Wait until the relay has published the seed's events: they would share the CPU."""
    unsent = sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
    while True:
        async with db.connect() as conn:
            if (await conn.execute(unsent)).scalar_one() == 0:
                return
        await asyncio.sleep(0.2)  # polling the outbox until the relay caught up


async def walk(url: str, headers: dict[str, str], limit: int) -> tuple[int, int, float]:
    """(pages, objects, seconds) of one walk of the community collection."""
    pages = objects = 0
    params: dict[str, str | int] = {"limit": limit}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        started = time.perf_counter()
        while True:
            response = await client.get(
                f"/taxii2/api/collections/{COMMUNITY_ID}/objects/", params=params
            )
            response.raise_for_status()
            envelope = response.json()
            pages += 1
            objects += len(envelope.get("objects", []))
            if not envelope.get("more"):
                return pages, objects, time.perf_counter() - started
            params = {"limit": limit, "next": envelope["next"]}


async def main(args: argparse.Namespace) -> None:
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as tmp:
        nats = NatsServer(Path(tmp) / "nats").start()
        try:
            settings = IntelShareSettings(
                database_url=f"sqlite:///{tmp}/intel.db",
                nats_url=nats.url,
                country="KE",
                federation_interval=0,
                log_level="WARNING",
            )
            await migrations.upgrade(DEFINITION.migrations, settings.database_url)
            app = create_app(settings)
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            server = uvicorn.Server(
                uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
            )
            task = asyncio.create_task(server.serve(sockets=[sock]))
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.05)  # waiting for the server to start
            db = app.state.runtime.db
            seconds = await seed(db, args.records)
            print(f"seeded {args.records} seizure reports in {seconds:.1f} s")
            await outbox_drained(db)
            token = IdentitySigner(DEV_IDENTITY_PRIVATE_KEY, ttl_seconds=3600).sign(
                Caller("bench-partner", "VN", frozenset({"partner"}), frozenset({"intel:federate"}))
            )
            url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            rates = []
            for run in range(args.runs):
                pages, objects, elapsed = await walk(
                    url, {"X-Pangolin-Identity": token}, args.limit
                )
                rates.append(pages / elapsed)
                print(
                    f"run {run + 1}: {pages} pages of <= {args.limit} ({objects} objects) in"
                    f" {elapsed:.2f} s: {pages / elapsed:.1f} pages/s,"
                    f" {objects / elapsed:.0f} objects/s"
                )
            print(f"median: {statistics.median(rates):.1f} pages/s of {args.limit} objects")
            server.should_exit = True
            await task
            sock.close()
        finally:
            nats.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
