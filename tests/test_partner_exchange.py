"""Issue 5's cross-border promise, with two whole suites: country A (KE) and country B (TZ),
each `pangolin up` with its own nats-server, ports and data dir, each in the other's
partner directory. A's single window verifies and endorses a permit B issued; B's registry shows the
quantities A confirmed; a copy altered behind B's signature fails; B down is
PARTNER_UNAVAILABLE, never a 500.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from pangolin_core import migrations
from pangolin_core.db import Database
from pangolin_core.messaging.tables import outbox
from pangolin_core.testing import eventually
from species_ref.app import DEFINITION as SPECIES_REF
from species_ref.seed import seed
from species_ref.settings import SpeciesRefSettings
from suite_support import five_free_ports

# Both suites start at once on a shared machine (2 cores here, other work running).
STARTUP_LIMIT = 90.0
A, B = "KE", "TZ"
TODAY = datetime.now(UTC).date()


def pangolin(data_dir: Path, *args: str) -> str:
    """A `pangolin` command on a suite's data dir (its SQLite files); what it printed."""
    env = _environment({"PANGOLIN_GATEWAY_DATABASE_URL": f"sqlite:///{data_dir}/gateway.db"})
    done = subprocess.run(
        [sys.executable, "-m", "pangolin_core.cli", *args],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


async def seed_species_ref(*data_dirs: Path) -> None:
    """species-ref's database with the shipped checklist, loaded once (~20 s) for both
    suites (`pangolin up` then finds it loaded), its 38k taxon events marked published: no
    test here wants them on the wire."""
    first = data_dirs[0] / "species-ref.db"
    url = f"sqlite:///{first}"
    await migrations.upgrade(SPECIES_REF.migrations, url)
    await seed(SpeciesRefSettings(database_url=url))
    db = Database(url)
    async with db.session() as session:
        await session.exec(sa.update(outbox).values(published_at=datetime.now(UTC)))
    await db.dispose()
    with sqlite3.connect(first) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for other in data_dirs[1:]:
        shutil.copyfile(first, other / "species-ref.db")


def create_client(data_dir: Path, name: str, country: str, role: str) -> dict[str, Any]:
    """A gateway client of a suite that is not running yet (its gateway database migrated)."""
    out = pangolin(data_dir, "clients", "create", "--name", name, "--country", country,
                   "--role", role, "--json", "--data-dir", str(data_dir))  # fmt: skip
    credentials: dict[str, Any] = json.loads(out)
    return credentials


@dataclass
class Suite:
    data_dir: Path
    port: int
    process: asyncio.subprocess.Process
    output: list[str]

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)  # `pangolin up` stops its apps and NATS
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                os.killpg(self.process.pid, signal.SIGKILL)
                await self.process.wait()


def _environment(extra: dict[str, str]) -> dict[str, str]:
    """This environment without any Pangolin setting of the developer's shell: each suite is
    only what its data dir and `extra` say."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANGOLIN_")}
    return {**env, "PANGOLIN_LOG_JSON": "true", **extra}


async def _read_until_up(suite: Suite) -> None:
    assert suite.process.stdout is not None
    while True:
        raw = await suite.process.stdout.readline()
        if not raw:
            pytest.fail("pangolin up exited:\n" + "\n".join(suite.output))
        suite.output.append(raw.decode(errors="replace").rstrip())
        if suite.output[-1].startswith("Pangolin is up"):
            return


async def start_suite(data_dir: Path, port: int, extra_env: dict[str, str]) -> Suite:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pangolin_core.cli", "up",
        "--data-dir", str(data_dir), "--port", str(port),
        env=_environment(extra_env), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    return Suite(data_dir, port, process, [])


@asynccontextmanager
async def two_suites(
    a: tuple[Path, dict[str, str]], b: tuple[Path, dict[str, str]], ports: tuple[int, int]
) -> AsyncIterator[tuple[Suite, Suite]]:
    """Both suites started at once (each `pangolin up` in its own process group)."""
    suites = [await start_suite(a[0], ports[0], a[1]), await start_suite(b[0], ports[1], b[1])]
    try:
        try:
            await asyncio.wait_for(
                asyncio.gather(*(_read_until_up(s) for s in suites)), STARTUP_LIMIT
            )
        except TimeoutError:
            pytest.fail("not up within 60 s:\n" + "\n".join(suites[0].output + suites[1].output))
        yield suites[0], suites[1]
    finally:
        await asyncio.gather(*(s.stop() for s in suites))


async def token(http: httpx.AsyncClient, suite: Suite, credentials: dict[str, Any]) -> str:
    async def issued() -> str | None:
        response = await http.post(
            f"{suite.gateway}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(credentials["client_id"], credentials["client_secret"]),
        )
        return str(response.json()["access_token"]) if response.status_code == 200 else None

    return await eventually(issued, timeout=10)


def permit(number: str, stamp: str) -> dict[str, Any]:
    return {
        "number": number, "type": "export", "issuing_country": B, "security_stamp": stamp,
        "issued_on": (TODAY - timedelta(days=5)).isoformat(),
        "valid_until": (TODAY + timedelta(days=90)).isoformat(),
        "exporter": {"name": "Kilimanjaro Reptiles Ltd", "address": "Arusha", "country": B},
        "importer": {"name": "Nairobi Pet Traders Ltd", "address": "Nairobi", "country": A},
        "purpose": "T", "special_conditions": None,
        "items": [{"item_id": "A", "species": "Python regius", "description": "live animals",
                   "term": "LIV", "appendix": "II", "source": "C", "quantity": "100",
                   "unit": None, "origin_country": B, "origin_permit": None,
                   "reexport_certificate": None}],
    }  # fmt: skip


def declaration(declaration_id: str, number: str, stamp: str) -> dict[str, Any]:
    return {
        "declaration_id": declaration_id, "direction": "import",
        "declared_on": TODAY.isoformat(), "office": "KEJKIA",
        "declarant": {"name": "Nairobi Pet Traders Ltd", "country": A},
        "exporter": {"name": "Kilimanjaro Reptiles Ltd", "country": B},
        "importer": {"name": "Nairobi Pet Traders Ltd", "country": A},
        "countries": {"export": B, "import": A, "origin": B, "transit": []},
        "transport": {"mode": "air", "document": "706-12345675"},
        "lines": [{"line_no": 1,
                   "permit": {"number": number, "issuing_country": B, "security_stamp": stamp},
                   "import_permit": None, "species": "Python regius",
                   "description": "live animals", "term": "LIV", "quantity": "60", "unit": None,
                   "source": "C", "purpose": "T", "hs_code": "010620",
                   "value": {"amount": "3000", "currency": "USD"}}],
    }  # fmt: skip


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.mark.timeout(240)
async def test_a_verifies_and_endorses_a_permit_of_b_and_b_sees_the_confirmed_quantities(
    tmp_path: Path,
) -> None:
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    for data_dir in (dir_a, dir_b):
        data_dir.mkdir()
        pangolin(data_dir, "migrate", "gateway")
    await seed_species_ref(dir_b, dir_a)
    # Each registry is the other's partner: a `partner` client on each gateway for the other
    # country. B's gateway also knows B's MA, A's its single window.
    b_ma = create_client(dir_b, "tz-ma", B, "management_authority")
    a_at_b = create_client(dir_b, "ke-partner", A, "partner")
    b_at_a = create_client(dir_a, "tz-partner", B, "partner")
    a_sw = create_client(dir_a, "ke-single-window", A, "single_window")
    port_a = five_free_ports()
    port_b = next(p for p in iter(five_free_ports, None) if abs(p - port_a) >= 5)

    def directory(country: str, port: int, credentials: dict[str, Any]) -> dict[str, str]:
        partners = {
            country: {
                "gateway_url": f"http://127.0.0.1:{port}",
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
            }
        }
        return {
            "PANGOLIN_PERMIT_VERIFY_PARTNERS": json.dumps(partners),
            "PANGOLIN_PERMIT_VERIFY_PARTNER_TIMEOUT": "2",
        }

    env_a = directory(B, port_b, a_at_b)
    env_b = directory(A, port_a, b_at_a)
    async with (
        httpx.AsyncClient(timeout=30) as http,
        two_suites((dir_a, env_a), (dir_b, env_b), (port_a, port_b)) as (suite_a, suite_b),
    ):
        ma = bearer(await token(http, suite_b, b_ma))
        sw = bearer(await token(http, suite_a, a_sw))

        issued = {}
        for number, stamp in (("TZ/2026/E/0001", "TZ0001"), ("TZ/2026/E/0002", "TZ0002"),
                              ("TZ/2026/E/0003", "TZ0003")):  # fmt: skip
            response = await http.post(
                f"{suite_b.gateway}/v1/permits", json=permit(number, stamp), headers=ma
            )
            assert response.status_code == 201, response.text
            issued[number] = response.json()

        # A's single window verifies B's permit: fetched from B, B's signature checked.
        good = issued["TZ/2026/E/0001"]
        verified = await http.post(
            f"{suite_a.gateway}/v1/verifications",
            json=declaration("SW-KE-2026-000001", good["number"], "TZ0001"),
            headers=sw,
        )
        assert verified.status_code == 200, verified.text
        line = verified.json()["lines"][0]
        assert (line["verdict"], line["permit_id"]) == ("valid", good["id"]), line
        assert line["findings"] == []

        # A endorses it in A's records; A's consumer confirms the quantities back to B.
        endorsed = await http.post(
            f"{suite_a.gateway}/v1/permits/{good['id']}/endorsements",
            json={"declaration_id": "SW-KE-2026-000001", "office": "KEJKIA",
                  "endorsed_on": TODAY.isoformat(),
                  "items": [{"item_id": "A", "quantity": "60"}]},
            headers=sw,
        )  # fmt: skip
        assert endorsed.status_code == 201, endorsed.text
        assert endorsed.json()["balances"] == [{"item_id": "A", "balance": "40"}]

        async def confirmed_at_b() -> dict[str, Any] | None:
            response = await http.get(f"{suite_b.gateway}/v1/permits/{good['id']}", headers=ma)
            body: dict[str, Any] = response.json()
            return body if body["items"][0]["balance"] == "40" else None

        at_b = await eventually(confirmed_at_b, timeout=20)
        assert at_b["status"] == "used"  # an export permit: single shipment
        history = await http.get(f"{suite_b.gateway}/v1/permits/{good['id']}/history", headers=ma)
        entries = {e["action"]: e for e in history.json()["entries"]}
        assert entries["looked_up"]["client_id"] == a_at_b["client_id"]
        assert entries["looked_up"]["country"] == A
        confirmation = entries["confirmed"]
        assert (confirmation["client_id"], confirmation["country"]) == (
            a_at_b["client_id"],
            A,
        )
        assert confirmation["details"]["declaration_id"] == "SW-KE-2026-000001"
        assert confirmation["details"]["items"] == [
            {"item_id": "A", "quantity": "60", "balance": "40"}
        ]

        # The same declaration again at A is its stored answer; presented again under
        # another id, the permit is used: B's answer and A's endorsement both say so.
        again = await http.post(
            f"{suite_a.gateway}/v1/verifications",
            json=declaration("SW-KE-2026-000002", good["number"], "TZ0001"),
            headers=sw,
        )
        codes = {f["code"] for f in again.json()["lines"][0]["findings"]}
        assert {"PERMIT_ALREADY_USED", "PERMIT_IN_USE_ELSEWHERE"} <= codes

        # A copy altered behind B's signature (the row rewritten in B's database) fails
        # at A, naming the box that differs.
        forged = issued["TZ/2026/E/0002"]
        with sqlite3.connect(suite_b.data_dir / "permit-verify.db") as db:
            db.execute(
                "UPDATE permit SET exporter_name = ? WHERE id = ?",
                ("Forged Exports Ltd", forged["id"]),
            )
        tampered = await http.post(
            f"{suite_a.gateway}/v1/verifications",
            json=declaration("SW-KE-2026-000003", forged["number"], "TZ0002"),
            headers=sw,
        )
        assert tampered.status_code == 200, tampered.text
        line = tampered.json()["lines"][0]
        assert line["verdict"] == "invalid"
        signature = [f for f in line["findings"] if f["code"] == "SIGNATURE_INVALID"]
        assert len(signature) == 1, line
        assert "exporter.name" in signature[0]["message"]
        assert (signature[0]["expected"], signature[0]["actual"]) == (
            "Kilimanjaro Reptiles Ltd",
            "Forged Exports Ltd",
        )

        # B down: A answers, the line unverifiable with PARTNER_UNAVAILABLE.
        await suite_b.stop()
        unanswered = await http.post(
            f"{suite_a.gateway}/v1/verifications",
            json=declaration("SW-KE-2026-000004", "TZ/2026/E/0003", "TZ0003"),
            headers=sw,
        )
        assert unanswered.status_code == 200, unanswered.text
        line = unanswered.json()["lines"][0]
        assert line["verdict"] == "unverifiable"
        assert [f["code"] for f in line["findings"]] == ["PARTNER_UNAVAILABLE"]
        assert unanswered.json()["verdict"] == "unverifiable"
