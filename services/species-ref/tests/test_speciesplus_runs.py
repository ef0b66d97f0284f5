"""Runs of the Species+ sync against the loopback replay of the recorded API: the lease (one
run at a time, a crashed run's lease taken over), one transaction per page and the resume
after an interruption, the increment from the stored `updated_since`, the schedule in the
app's lifespan, `GET`/`POST /v1/species/sync`, and `pangolin species sync` end to end."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from httpx import AsyncClient
from sqlmodel import func, select

from pangolin_core import migrations
from pangolin_core.db import Database
from pangolin_core.testing import eventually, identity_headers, running_app
from species_ref.app import DEFINITION, create_app
from species_ref.reference.revision import current_revision
from species_ref.settings import SpeciesRefSettings
from species_ref.speciesplus import repository
from species_ref.speciesplus.client import SpeciesPlusClient, SpeciesPlusResponseError
from species_ref.speciesplus.models import SpeciesPlusSyncState
from species_ref.speciesplus.runner import SyncRun, page_number, run_sync
from species_ref.speciesplus.schedule import SCHEDULE_KEY, SyncSchedule
from species_ref.taxa.models import ListingChange, TaxonConcept
from species_ref.taxa.repository import table_of
from speciesplus_replay import TOKEN, ReplayServer, Reply, key, recorded, replay_server

LOXODONTA_AFRICANA = 4521
SINCE_2018 = datetime(2018, 1, 1, tzinfo=UTC)
INCREMENT_2018 = "taxon_concepts.json?updated_since=2018-01-01T00%3A00%3A00&page={}&per_page=500"
ADMIN = identity_headers("admin")
READ = identity_headers("species:read")


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with replay_server() as server:
        yield server


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def client(replay: ReplayServer) -> AsyncIterator[SpeciesPlusClient]:
    async with SpeciesPlusClient(
        token=TOKEN, base_url=f"{replay.base}/api/v1/", max_attempts=1
    ) as speciesplus:
        yield speciesplus


async def set_state(db: Database, **values: Any) -> None:
    table = table_of(SpeciesPlusSyncState)
    async with db.session() as session:
        await session.exec(sa.update(table).values(**values))


async def state(db: Database) -> SpeciesPlusSyncState:
    async with db.session(write=False) as session:
        return await repository.sync_state(session)


async def revision(db: Database) -> int:
    async with db.session(write=False) as session:
        return await current_revision(session)


async def taxa_count(db: Database) -> int:
    async with db.session(write=False) as session:
        return int((await session.exec(select(func.count()).select_from(TaxonConcept))).one())


def recorded_body(replay: ReplayServer, uri: str) -> Any:
    return json.loads(replay.replies[key("GET", recorded(uri))].body)


def elephant_entry(replay: ReplayServer) -> dict[str, Any]:
    page = recorded_body(
        replay, "taxon_concepts.json?name=Loxodonta%20africana&page=1&per_page=500"
    )
    entry: dict[str, Any] = page["taxon_concepts"][0]
    return entry


def one_page(*taxa: dict[str, Any], page: int = 1) -> dict[str, Any]:
    return {
        "pagination": {"current_page": page, "per_page": 500, "total_entries": len(taxa)},
        "taxon_concepts": list(taxa),
    }


def requested(replay: ReplayServer) -> list[dict[str, str]]:
    return [s.query for s in replay.seen if s.path == "/api/v1/taxon_concepts.json"]


# --- runs ------------------------------------------------------------------------------------


def test_the_page_a_next_link_asks_for() -> None:
    assert page_number("http://x/api/v1/taxon_concepts.json?page=44&per_page=10") == 44
    assert page_number(None) is None
    with pytest.raises(SpeciesPlusResponseError, match="names no page number"):
        page_number("http://x/api/v1/taxon_concepts.json?per_page=10")


async def test_a_run_syncs_a_name_records_it_and_lets_go_of_the_lease(
    db: Database, client: SpeciesPlusClient, replay: ReplayServer
) -> None:
    changes: list[int] = []
    before = await revision(db)

    run = await run_sync(
        db=db,
        client=client,
        name="Loxodonta africana",
        language="fr",
        on_change=lambda: changes.append(1),
    )

    assert run.outcome == "complete" and run.changed
    assert (run.summary["mode"], run.summary["taxa"], run.summary["created"]) == ("name", 1, 1)
    assert run.summary["quotas_published"] == 38 and run.summary["problems_total"] == 0
    assert changes == [1] and await revision(db) == before + 1
    stored = await state(db)
    assert (stored.lease_owner, stored.lease_until) == (None, None)
    assert stored.last_summary == run.summary
    assert stored.last_started_at is not None and stored.last_finished_at is not None
    # A name leaves the increment alone.
    assert (stored.updated_since, stored.resume_page) == (None, None)
    assert replay.unmatched() == []


async def test_of_two_concurrent_runs_exactly_one_syncs(
    db: Database, client: SpeciesPlusClient, replay: ReplayServer
) -> None:
    runs = await asyncio.gather(
        *(
            run_sync(db=db, client=client, name="Loxodonta africana", language="fr")
            for _ in range(2)
        )
    )

    assert sorted(r.outcome for r in runs) == ["busy", "complete"]
    busy = next(r for r in runs if r.outcome == "busy")
    done = next(r for r in runs if r.outcome == "complete")
    assert busy.lease_owner == done.summary["owner"] and busy.summary == {}
    assert len(requested(replay)) == 1  # the busy run asked Species+ nothing
    assert (await state(db)).lease_owner is None


async def test_a_live_lease_is_respected_and_a_lapsed_one_taken_over(
    db: Database, client: SpeciesPlusClient, replay: ReplayServer
) -> None:
    now = datetime.now(UTC)
    await set_state(db, lease_owner="other-replica:7:abc", lease_until=now + timedelta(minutes=5))

    held = await run_sync(db=db, client=client, name="Loxodonta africana", language="fr")

    assert held.outcome == "busy" and held.lease_owner == "other-replica:7:abc"
    assert held.lease_until is not None and held.lease_until > now
    assert replay.seen == []

    # The other replica crashed: its lease lapsed a second ago.
    await set_state(db, lease_until=now - timedelta(seconds=1))
    taken = await run_sync(db=db, client=client, name="Loxodonta africana", language="fr")

    assert taken.outcome == "complete" and taken.summary["owner"] != "other-replica:7:abc"
    assert (await state(db)).lease_owner is None


async def test_an_increment_interrupted_after_a_page_resumes_from_the_next(
    db: Database, client: SpeciesPlusClient, replay: ReplayServer
) -> None:
    """Only page 1 of the increment since 2018 is recorded: page 2 answers 404, as a Species+
    failure would. Page 1 stays, and the next run reads page 2 with the same updated_since."""
    await set_state(db, updated_since=SINCE_2018)
    page_1 = recorded_body(replay, INCREMENT_2018.format(1))
    latest_on_page_1 = max(
        datetime.fromisoformat(t["updated_at"]) for t in page_1["taxon_concepts"]
    )
    before = await revision(db)

    interrupted = await run_sync(db=db, client=client, details=False)

    assert interrupted.outcome == "failed"
    assert "404" in interrupted.summary["error"] and "page=2" in interrupted.summary["error"]
    assert (interrupted.summary["pages"], interrupted.summary["created"]) == (1, 500)
    stored = await state(db)
    assert (stored.resume_page, stored.updated_since) == (2, SINCE_2018)
    assert stored.lease_owner is None and stored.last_summary["outcome"] == "failed"
    assert await taxa_count(db) == 500 and await revision(db) == before + 1

    # Species+ answers again; its page 2 holds a taxon updated before page 1's latest.
    antelope = next(t for t in page_1["taxon_concepts"] if t["id"] == 4985) | {
        "id": 990_001,
        "full_name": "Antilope cervicapra rajputanae",
        "rank": "SUBSPECIES",
        "updated_at": "2018-06-01T00:00:00.000Z",
    }
    replay.add(recorded(INCREMENT_2018.format(2)), one_page(antelope, page=2))
    replay.seen.clear()

    resumed = await run_sync(db=db, client=client, details=False)

    assert resumed.outcome == "complete"
    assert requested(replay) == [
        {"updated_since": "2018-01-01T00:00:00", "page": "2", "per_page": "500"}
    ]
    assert (resumed.summary["first_page"], resumed.summary["created"]) == (2, 1)
    stored = await state(db)
    # Every page read: the increment moves on to the latest update of the pages of both runs.
    assert stored.resume_page is None
    assert stored.updated_since == latest_on_page_1
    assert await taxa_count(db) == 501

    # The next increment asks for what changed since then (nothing, say): nothing written.
    since = latest_on_page_1.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    replay.add(
        recorded(f"taxon_concepts.json?updated_since={since}&page=1&per_page=500"), one_page()
    )
    replay.seen.clear()
    unchanged = await revision(db)

    quiet = await run_sync(db=db, client=client, details=False)

    assert quiet.outcome == "complete" and not quiet.changed
    assert requested(replay) == [{"updated_since": since, "page": "1", "per_page": "500"}]
    assert await revision(db) == unchanged
    assert (await state(db)).updated_since == latest_on_page_1


async def test_a_page_whose_details_species_plus_would_not_give_is_fetched_again(
    db: Database, client: SpeciesPlusClient, replay: ReplayServer
) -> None:
    """Rate-limited for a day on the elephant's distributions: the page is not written (its
    history would be missing while `updated_since` moved past it); the next run gets it."""
    replay.fail_first(
        recorded("taxon_concepts/4521/distributions.json?language=fr"),
        Reply(429, [("Retry-After", "86400")], b""),
    )

    limited = await run_sync(db=db, client=client, name="Loxodonta africana", language="fr")

    assert limited.outcome == "failed"
    assert "PageIncomplete" in limited.summary["error"]
    assert "Retry-After 86400" in limited.summary["error"]
    assert await taxa_count(db) == 0

    again = await run_sync(db=db, client=client, name="Loxodonta africana", language="fr")

    assert again.outcome == "complete" and again.summary["created"] == 1


async def test_a_capped_run_stops_and_the_next_goes_on(
    db: Database, client: SpeciesPlusClient, replay: ReplayServer
) -> None:
    await set_state(db, updated_since=SINCE_2018)

    capped = await run_sync(db=db, client=client, details=False, max_pages=1)

    assert capped.outcome == "partial" and capped.summary["next_page"] == 2
    stored = await state(db)
    assert (stored.resume_page, stored.updated_since) == (2, SINCE_2018)


async def test_a_full_run_forgets_the_increment(
    db: Database, client: SpeciesPlusClient, replay: ReplayServer
) -> None:
    await set_state(db, updated_since=SINCE_2018, resume_page=7)
    replay.add(
        recorded("taxon_concepts.json?page=1&per_page=500"), one_page(elephant_entry(replay))
    )

    full = await run_sync(db=db, client=client, full=True, language="fr")

    assert full.outcome == "complete" and full.summary["mode"] == "full"
    assert requested(replay) == [{"page": "1", "per_page": "500"}]
    stored = await state(db)
    assert stored.resume_page is None
    assert stored.updated_since == datetime.fromisoformat(elephant_entry(replay)["updated_at"])


class Intercepted:
    """A Species+ client whose first request for a page of taxa first runs `before` (then
    goes to the replay), so a test acts while a run is inside a page."""

    def __init__(self, replay: ReplayServer, before: Callable[[], Awaitable[None]]) -> None:
        self.before = before
        self.entered = asyncio.Event()

        async def handle(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/taxon_concepts.json") and not self.entered.is_set():
                self.entered.set()
                await self.before()
            async with httpx.AsyncClient() as real:
                return await real.send(request)

        self.http = httpx.AsyncClient(transport=httpx.MockTransport(handle))
        self.client = SpeciesPlusClient(
            token=TOKEN, base_url=f"{replay.base}/api/v1/", http=self.http, max_attempts=1
        )


async def test_a_run_whose_lease_was_taken_over_writes_nothing_of_its_page(
    db: Database, replay: ReplayServer
) -> None:
    """The run stalled past its lease and another run took it over: the stalled run's page
    is rolled back, and the other run's lease is left alone."""

    async def taken_over() -> None:
        await set_state(
            db, lease_owner="pod-9:1:new", lease_until=datetime.now(UTC) + timedelta(minutes=5)
        )

    stalled = Intercepted(replay, taken_over)
    before = await revision(db)

    run = await run_sync(db=db, client=stalled.client, name="Loxodonta africana", language="fr")
    await stalled.http.aclose()

    assert run.outcome == "failed" and "LeaseLost" in run.summary["error"]
    assert await taxa_count(db) == 0 and await revision(db) == before
    stored = await state(db)
    assert (stored.lease_owner, stored.last_summary) == ("pod-9:1:new", {})


async def test_a_cancelled_run_keeps_its_lease_alive_until_then_and_releases_it(
    db: Database, replay: ReplayServer
) -> None:
    """A run renews its lease while it lives (here every 0.1 s); cancelled (the app shutting
    down), it stores that and lets go of the lease at once, its page unwritten."""
    never = asyncio.Event()
    blocked = Intercepted(replay, never.wait)
    task = asyncio.create_task(
        run_sync(db=db, client=blocked.client, name="Loxodonta africana", lease_seconds=0.3)
    )
    await blocked.entered.wait()
    first = (await state(db)).lease_until
    assert first is not None

    async def renewed() -> bool:
        until = (await state(db)).lease_until
        return until is not None and until > first

    await eventually(renewed)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await blocked.http.aclose()

    stored = await state(db)
    assert (stored.lease_owner, stored.lease_until) == (None, None)
    assert stored.last_summary["outcome"] == "cancelled"
    assert await taxa_count(db) == 0


# --- the app: schedule and endpoint ------------------------------------------------------------


def app_settings(
    url: str, nats: str, replay: ReplayServer, *, enabled: bool, **values: Any
) -> SpeciesRefSettings:
    return SpeciesRefSettings(
        nats_url=nats,
        database_url=url,
        reference_refresh_seconds=3600,
        speciesplus_sync_enabled=enabled,
        speciesplus_url=f"{replay.base}/api/v1/",
        speciesplus_token=TOKEN,
        speciesplus_language="fr",
        speciesplus_sync_start_delay_seconds=0,
        **values,
    )


async def sync_state(client: AsyncClient) -> dict[str, Any]:
    response = await client.get("/v1/species/sync", headers=ADMIN)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def elephant_status(client: AsyncClient, country: str, as_of: str) -> dict[str, Any]:
    response = await client.get(
        "/v1/species/status",
        params={"name": "Loxodonta africana", "country": country, "as_of": as_of},
        headers=READ,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def listed(answer: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return [(x["appendix"], x["party"], x["effective_at"]) for x in answer["listings"]]


async def test_the_schedule_syncs_when_enabled_and_status_follows_the_history(
    db: Database, nats_url: str, replay: ReplayServer
) -> None:
    """The first full run (Species+'s first page here: the elephant) starts with the app; the
    status then answers from its Species+ history (French annotations: the split listing
    since 1997 is left undetermined, as the rules do not read French country names)."""
    elephant = elephant_entry(replay)
    replay.add(recorded("taxon_concepts.json?page=1&per_page=500"), one_page(elephant))
    app = create_app(app_settings(db.url, nats_url, replay, enabled=True))

    async with running_app(app) as client:
        runtime = app.state.runtime
        schedule = runtime.extras[SCHEDULE_KEY]
        assert isinstance(schedule, SyncSchedule)

        async def first_run() -> SyncRun | None:
            return schedule.last

        run = await eventually(first_run)
        assert run.outcome == "complete" and run.summary["mode"] == "full"
        shown = await sync_state(client)
        assert shown["enabled"] is True and shown["lease"] is None
        assert shown["updated_since"] is not None and shown["resume_page"] is None
        assert shown["last_summary"]["created"] == 1
        assert shown["last_summary"]["listings_changed"] == 1

        async def synced_status() -> dict[str, Any] | None:  # the snapshot rebuilds at once
            answer = await elephant_status(client, "KE", "1976-06-01")
            return answer if answer["taxon_id"] == LOXODONTA_AFRICANA else None

        ghana = await eventually(synced_status)
        assert (ghana["appendix"], listed(ghana)) == ("III", [("III", "GH", "1976-02-26")])
        before = await elephant_status(client, "KE", "1976-02-25")
        assert (before["listed"], before["listings"]) == (False, [])
        two = await elephant_status(client, "BW", "1980-01-01")
        assert (two["appendix"], listed(two)) == ("II", [("II", None, "1977-02-04")])
        one = await elephant_status(client, "ZA", "1995-01-01")
        assert (one["appendix"], listed(one)) == ("I", [("I", None, "1990-01-18")])
        now = await elephant_status(client, "KE", "2022-11-01")
        assert listed(now) == [("I", None, "2017-01-02"), ("II", None, "2019-11-26")]
        assert now["appendix"] is None and now["determined_by"] == "undetermined"

        # POST runs the next increment now: since the elephant's update, nothing new.
        since = datetime.fromisoformat(elephant["updated_at"]).strftime("%Y-%m-%dT%H:%M:%S")
        replay.add(
            recorded(f"taxon_concepts.json?updated_since={since}&page=1&per_page=500"), one_page()
        )
        asked = await client.post("/v1/species/sync", headers=ADMIN)
        assert asked.status_code == 202, asked.text

        async def second_run() -> bool:
            return schedule.runs >= 2

        await eventually(second_run)
        assert schedule.last is not None and schedule.last.outcome == "complete"
        assert schedule.last.summary["mode"] == "increment" and not schedule.last.changed
        assert requested(replay)[-1] == {"updated_since": since, "page": "1", "per_page": "500"}
    # Shut down: the schedule's task is gone with the app.
    assert SCHEDULE_KEY not in runtime.extras
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "speciesplus-sync"]


async def test_a_scheduled_run_in_progress_shows_its_lease_and_stops_with_the_app(
    db: Database, nats_url: str, replay: ReplayServer
) -> None:
    """Species+ does not answer the first page yet: the run holds the lease (shown by GET)
    when the app shuts down; the run is cancelled, says so and lets go of the lease."""
    page = recorded("taxon_concepts.json?page=1&per_page=500")
    replay.add(page, one_page(elephant_entry(replay)))
    replay.hold(page)
    app = create_app(app_settings(db.url, nats_url, replay, enabled=True))

    async with running_app(app) as client:

        async def asked() -> bool:
            return bool(replay.waiting)

        await eventually(asked)
        shown = await sync_state(client)
        assert shown["lease"] is not None and shown["lease"]["active"] is True
        assert shown["last_started_at"] is not None and shown["last_finished_at"] is None

    stored = await state(db)
    assert (stored.lease_owner, stored.lease_until) == (None, None)
    assert stored.last_summary["outcome"] == "cancelled"
    assert stored.last_summary["owner"] == shown["lease"]["owner"]
    assert await taxa_count(db) == 0


async def test_the_schedule_caps_a_run_at_its_pages_and_keeps_the_first_problems(
    db: Database, nats_url: str, replay: ReplayServer
) -> None:
    """The recorded increment since 2018, one page a run. None of its 500 taxa's details are
    recorded (404): each is a problem, the page is written from what it embeds."""
    await set_state(db, updated_since=SINCE_2018)
    settings = app_settings(db.url, nats_url, replay, enabled=True, speciesplus_sync_max_pages=1)
    app = create_app(settings)

    async with running_app(app) as client:
        schedule = app.state.runtime.extras[SCHEDULE_KEY]
        assert isinstance(schedule, SyncSchedule)

        async def first_run() -> SyncRun | None:
            return schedule.last

        run = await eventually(first_run, timeout=60)
        shown = await sync_state(client)

    assert run.outcome == "partial" and run.summary["created"] == 500
    assert run.summary["problems_total"] == 500 and len(run.summary["problems"]) == 100
    assert "404" in run.summary["problems"][0]
    assert (shown["resume_page"], shown["updated_since"]) == (2, "2018-01-01T00:00:00Z")
    assert shown["last_summary"] == run.summary
    assert [q.get("page") for q in requested(replay)] == ["1"]


async def test_the_schedule_does_not_run_when_disabled(
    db: Database, nats_url: str, replay: ReplayServer
) -> None:
    app = create_app(app_settings(db.url, nats_url, replay, enabled=False))

    async with running_app(app) as client:
        assert SCHEDULE_KEY not in app.state.runtime.extras
        assert not [t for t in asyncio.all_tasks() if t.get_name() == "speciesplus-sync"]
        shown = await sync_state(client)
        asked = await client.post("/v1/species/sync", headers=ADMIN)
        refused = await client.get("/v1/species/sync", headers=READ)

    assert shown["enabled"] is False and shown["last_summary"] == {}
    assert shown["last_started_at"] is None and shown["lease"] is None
    assert asked.status_code == 409
    assert asked.headers["content-type"] == "application/problem+json"
    assert "not enabled" in asked.json()["detail"]
    assert refused.status_code == 403 and refused.json()["missing_scopes"] == ["admin"]
    assert replay.seen == []


async def test_the_endpoint_shows_a_run_in_progress_lease(
    db: Database, nats_url: str, replay: ReplayServer
) -> None:
    until = datetime.now(UTC) + timedelta(minutes=5)
    await set_state(db, lease_owner="pod-2:1:ab", lease_until=until, resume_page=3)
    app = create_app(app_settings(db.url, nats_url, replay, enabled=False))

    async with running_app(app) as client:
        shown = await sync_state(client)

    assert shown["lease"] == {
        "owner": "pod-2:1:ab",
        "until": shown["lease"]["until"],
        "active": True,
    }
    assert datetime.fromisoformat(shown["lease"]["until"]) == until
    assert shown["resume_page"] == 3


# --- the CLI ---------------------------------------------------------------------------------


async def pangolin(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pangolin_core.cli", *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
def cli_env(tmp_path: Path, replay: ReplayServer) -> dict[str, str]:
    return {
        "PANGOLIN_SPECIES_REF_DATABASE_URL": f"sqlite:///{tmp_path / 'species-ref.db'}",
        "PANGOLIN_SPECIES_REF_SPECIESPLUS_URL": f"{replay.base}/api/v1/",
        "PANGOLIN_SPECIES_REF_SPECIESPLUS_TOKEN": TOKEN,
        "PANGOLIN_LOG_LEVEL": "WARNING",
    }


async def test_the_cli_syncs_into_a_fresh_file_and_says_what_it_did(
    cli_env: dict[str, str], replay: ReplayServer
) -> None:
    env = cli_env | {"PANGOLIN_SPECIES_REF_SPECIESPLUS_LANGUAGE": "fr"}

    code, out, err = await pangolin("species", "sync", "--name", "Loxodonta africana", env=env)

    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "complete: name sync of 'Loxodonta africana', 1 page(s) from page 1"
    assert lines[1].startswith("  taxa 1, created 1, updated 0, listings changed 1, quotas 38")
    db = Database(env["PANGOLIN_SPECIES_REF_DATABASE_URL"])
    try:
        async with db.session(write=False) as session:
            listings = await session.exec(
                select(func.count()).where(ListingChange.taxon_id == LOXODONTA_AFRICANA)
            )
            assert listings.one() == 42
        stored = await state(db)
        assert stored.last_summary["created"] == 1 and stored.lease_owner is None

        # Another run holds the lease: nothing done, exit 3, and who holds it.
        await set_state(
            db, lease_owner="pod-1:9:ff", lease_until=datetime.now(UTC) + timedelta(minutes=5)
        )
        code, out, _ = await pangolin("species", "sync", env=env)
        assert code == 3 and "held by pod-1:9:ff" in out

        # The lease lapsed: the increment since 2018 (the state says so), its first page.
        await set_state(db, lease_until=datetime.now(UTC) - timedelta(seconds=1))
        await set_state(db, updated_since=SINCE_2018)
        code, out, err = await pangolin(
            "species", "sync", "--max-pages", "1", "--no-details", "--json", env=env
        )
        assert code == 0, err
        summary = json.loads(out)
        assert (summary["outcome"], summary["mode"], summary["pages"]) == (
            "partial",
            "increment",
            1,
        )
        assert summary["updated_since"] == "2018-01-01T00:00:00+00:00"
        assert (await state(db)).resume_page == 2
    finally:
        await db.dispose()


async def test_the_cli_refuses_what_it_cannot_do(cli_env: dict[str, str]) -> None:
    both = await pangolin("species", "sync", "--full", "--name", "X", env=cli_env)
    no_token = await pangolin(
        "species", "sync", env=cli_env | {"PANGOLIN_SPECIES_REF_SPECIESPLUS_TOKEN": ""}
    )
    zero = await pangolin("species", "sync", "--max-pages", "0", env=cli_env)

    assert both[0] == 2 and "--full or --name" in both[2]
    assert no_token[0] == 2 and "SPECIESPLUS_TOKEN is not set" in no_token[2]
    assert zero[0] == 2 and "--max-pages" in zero[2]


async def test_an_appendix_iii_taxon_synced_by_the_cli_carries_its_parties(
    cli_env: dict[str, str], nats_url: str, replay: ReplayServer
) -> None:
    """Gazella dorcas, on the recorded increment's first page: listed in Appendix III by
    Tunisia (1976) and by Algeria (2008), each its own listing."""
    url = cli_env["PANGOLIN_SPECIES_REF_DATABASE_URL"]
    await migrations.upgrade(DEFINITION.migrations, url)
    db = Database(url)
    try:
        await set_state(db, updated_since=SINCE_2018)
    finally:
        await db.dispose()
    code, _, err = await pangolin(
        "species", "sync", "--max-pages", "1", "--no-details", env=cli_env
    )
    assert code == 0, err

    app = create_app(app_settings(url, nats_url, replay, enabled=False))
    async with running_app(app) as client:
        answers = {}
        for as_of in ("1976-04-21", "2000-01-01", "2010-01-01"):
            response = await client.get(
                "/v1/species/status",
                params={"name": "Gazella dorcas", "country": "TN", "as_of": as_of},
                headers=READ,
            )
            assert response.status_code == 200, response.text
            answers[as_of] = response.json()

    assert answers["1976-04-21"]["listed"] is False
    assert listed(answers["2000-01-01"]) == [("III", "TN", "1976-04-22")]
    assert answers["2000-01-01"]["appendix"] == "III"
    assert sorted(listed(answers["2010-01-01"])) == [
        ("III", "DZ", "2008-02-12"),
        ("III", "TN", "1976-04-22"),
    ]
    assert answers["2010-01-01"]["appendix"] == "III"
