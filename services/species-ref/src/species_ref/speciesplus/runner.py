"""Runs of the Species+ sync: one at a time across replicas, one transaction per page,
resumable after an interruption.

* A run first takes the lease on the `speciesplus_sync_state` row (owner, `lease_until`);
  while another run holds it, a run does nothing and says who holds it. A live run renews
  the lease every third of its length; a crashed one's lease lapses and the next run takes
  it over.
* An increment asks for the taxa changed since the stored `updated_since`, from the stored
  `resume_page` (or page 1). Each page is one transaction: its taxa, restrictions and events,
  the reference revision when anything changed, and the next page to resume from; a page is
  committed only while the run still holds the lease. So an interrupted run leaves whole
  pages and the next run goes on from the first page it did not commit, with the same
  `updated_since`. A page for which Species+ was unavailable (rate-limited or unreachable
  after the client's retries, for the page or any of its taxa) is not written either; a
  taxon Species+ answers an error for (an unknown id) is a problem of the summary.
* Only after the last page is the new `updated_since` stored: the latest `updated_at` read
  over the whole increment (pages read by interrupted runs included, carried in the stored
  progress). A run stopped at `max_pages` is resumed by the next one.
* `full` forgets `updated_since` and the resume page (a full run interrupted is resumed as
  a full run); `name` syncs the taxa of one name and leaves the increment alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import structlog

from pangolin_core.db import Database
from species_ref.reference.revision import bump_revision
from species_ref.speciesplus import repository
from species_ref.speciesplus.client import SpeciesPlusClient, SpeciesPlusResponseError
from species_ref.speciesplus.models import SpeciesPlusSyncState
from species_ref.speciesplus.service import SyncSummary, sync

log = structlog.get_logger(__name__)

Outcome = Literal["complete", "partial", "failed", "cancelled", "busy"]
Mode = Literal["increment", "full", "name"]
# What a run counts; a page or run changed reference data when any of CHANGES is not 0.
CHANGES = ("created", "updated", "listings_changed", "quotas_published",
           "suspensions_published", "events")  # fmt: skip
COUNTS = ("pages", "taxa", *CHANGES)
MAX_PROBLEMS = 100  # kept in the stored summary; `problems_total` counts them all


class LeaseLost(Exception):
    """The run's lease lapsed and another run took it over: this run stops unwritten."""


class PageIncomplete(Exception):
    """Species+ was unavailable for some taxa of a page (rate-limited or unreachable after
    the retries): the page is not written, so the next run fetches it again, instead of
    moving `updated_since` past taxa whose history was not read."""


def new_owner() -> str:
    """Who holds a lease: host, process and run, so two runs in one process differ too."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid4().hex[:8]}"


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _parse(moment: object) -> datetime | None:
    return datetime.fromisoformat(moment) if isinstance(moment, str) else None


def page_number(next_url: str | None) -> int | None:
    """The page a `rel="next"` link asks for (None: there is no next page)."""
    if next_url is None:
        return None
    pages = parse_qs(urlsplit(next_url).query).get("page", [])
    if len(pages) != 1 or not pages[0].isdigit():
        raise SpeciesPlusResponseError(f"next page link {next_url} names no page number")
    return int(pages[0])


@dataclass
class RunProgress:
    """What a run did, as stored in `last_summary` (after each page and at the end)."""

    mode: Mode
    name: str | None
    updated_since: datetime | None
    first_page: int
    started_at: datetime
    owner: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    latest_update: datetime | None = None
    next_page: int | None = None
    problems: list[str] = field(default_factory=list)
    problems_total: int = 0
    outcome: Outcome | Literal["running"] = "running"
    error: str | None = None
    finished_at: datetime | None = None

    def add(self, page: SyncSummary, next_page: int | None) -> None:
        for name in COUNTS:
            self.counts[name] += getattr(page, name)
        if page.latest_update is not None and (
            self.latest_update is None or page.latest_update > self.latest_update
        ):
            self.latest_update = page.latest_update
        self.next_page = next_page
        self.problems_total += len(page.problems)
        self.problems.extend(page.problems[: MAX_PROBLEMS - len(self.problems)])

    def finish(self, outcome: Outcome, error: str | None = None) -> None:
        self.outcome, self.error, self.finished_at = outcome, error, _now()

    def as_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "mode": self.mode,
            "name": self.name,
            "owner": self.owner,
            "updated_since": _iso(self.updated_since),
            "first_page": self.first_page,
            "next_page": self.next_page,
            **self.counts,
            "latest_update": _iso(self.latest_update),
            "problems": list(self.problems),
            "problems_total": self.problems_total,
            "error": self.error,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
        }


@dataclass(frozen=True)
class SyncRun:
    """The result of `run_sync`: `summary` is what was stored as `last_summary` (empty when
    `busy`: then `lease_owner`, `lease_until` say who holds the lease)."""

    outcome: Outcome
    summary: dict[str, Any]
    lease_owner: str | None = None
    lease_until: datetime | None = None

    @property
    def changed(self) -> bool:
        return any(self.summary.get(name) for name in CHANGES)


def _carried_latest(state: SpeciesPlusSyncState) -> datetime | None:
    """The latest update the interrupted run being resumed had read, if the stored summary
    is that run's (same `updated_since`): the increment's `updated_since` must cover it."""
    prior = state.last_summary or {}
    if state.resume_page is None or prior.get("mode") == "name":
        return None
    if _parse(prior.get("updated_since")) != state.updated_since:
        return None
    return _parse(prior.get("latest_update"))


async def run_sync(
    *,
    db: Database,
    client: SpeciesPlusClient,
    owner: str | None = None,
    lease_seconds: float = 300.0,
    full: bool = False,
    name: str | None = None,
    max_pages: int | None = None,
    details: bool = True,
    language: str | None = None,
    per_page: int = 500,
    on_change: Callable[[], None] | None = None,
) -> SyncRun:
    """One run of the sync (see the module). `on_change` is called after each committed page
    that changed reference data (the app passes `reference_changed`)."""
    owner = owner or new_owner()
    lease = timedelta(seconds=lease_seconds)
    started = _now()
    reset: dict[str, Any] = {"updated_since": None, "resume_page": None} if full else {}
    async with db.session() as session:
        taken = await repository.take_lease(
            session, owner=owner, now=started, until=started + lease, values=reset
        )
        state = await repository.sync_state(session)
    if not taken:
        log.info("speciesplus sync skipped: lease held", holder=state.lease_owner)
        return SyncRun("busy", {}, state.lease_owner, state.lease_until)

    if name is not None:
        progress = RunProgress("name", name, None, 1, started, owner)
    else:
        mode: Mode = "full" if full or state.updated_since is None else "increment"
        first = state.resume_page or 1
        progress = RunProgress(mode, None, state.updated_since, first, started, owner)
        progress.latest_update = _carried_latest(state)
    log.info("speciesplus sync started", **progress.as_json())
    lost = asyncio.Event()
    keeper = asyncio.create_task(_keep_lease(db, owner, lease, lost), name="speciesplus-lease")
    try:
        outcome = await _pages(
            db=db,
            client=client,
            owner=owner,
            lease=lease,
            lost=lost,
            progress=progress,
            max_pages=max_pages,
            details=details,
            language=language,
            per_page=per_page,
            on_change=on_change,
        )
        progress.finish(outcome)
    except asyncio.CancelledError:
        progress.finish("cancelled", "the run was cancelled (shutdown)")
        await _release(db, owner, progress)
        raise
    except Exception as exc:
        log.exception("speciesplus sync failed", owner=owner)
        progress.finish("failed", f"{type(exc).__name__}: {exc}")
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
    await _release(db, owner, progress)
    summary = progress.as_json()
    log.info("speciesplus sync finished", **summary)
    return SyncRun(progress.outcome if progress.outcome != "running" else "failed", summary)


async def _pages(
    *,
    db: Database,
    client: SpeciesPlusClient,
    owner: str,
    lease: timedelta,
    lost: asyncio.Event,
    progress: RunProgress,
    max_pages: int | None,
    details: bool,
    language: str | None,
    per_page: int,
    on_change: Callable[[], None] | None,
) -> Outcome:
    page = progress.first_page
    read = 0
    while True:
        if lost.is_set():
            raise LeaseLost(f"lease of {owner} lost before page {page}")
        gave_up = client.unavailable
        async with db.session() as session:
            found = await sync(
                session=session,
                client=client,
                updated_since=progress.updated_since,
                name=progress.name,
                details=details,
                language=language,
                page=page,
                per_page=per_page,
                max_pages=1,
            )
            if client.unavailable > gave_up:
                raise PageIncomplete(
                    f"Species+ unavailable for {client.unavailable - gave_up} request(s) of "
                    f"page {page}; page not written: {'; '.join(found.problems[:3])}"
                )
            next_page = page_number(found.next_page)
            progress.add(found, next_page)
            changed = any(getattr(found, name) for name in CHANGES)
            if changed:
                await bump_revision(session)
            values: dict[str, Any] = {"lease_until": _now() + lease}
            if progress.mode != "name":
                values |= {"resume_page": next_page, "last_summary": progress.as_json()}
            if not await repository.update_held(session, owner=owner, values=values):
                raise LeaseLost(f"lease of {owner} lost during page {page}; page not written")
        read += 1
        if changed and on_change is not None:
            on_change()
        if next_page is None:
            return "complete"
        if max_pages is not None and read >= max_pages:
            return "partial"
        page = next_page


async def _release(db: Database, owner: str, progress: RunProgress) -> None:
    """Store the outcome and let go of the lease (if still held); a complete increment or
    full run moves `updated_since` on and clears the resume page."""
    values: dict[str, Any] = {
        "lease_owner": None,
        "lease_until": None,
        "last_finished_at": progress.finished_at or _now(),
        "last_summary": progress.as_json(),
    }
    if progress.mode != "name" and progress.outcome == "complete":
        values |= {
            "updated_since": progress.latest_update or progress.updated_since,
            "resume_page": None,
        }
    try:
        async with db.session() as session:
            if not await repository.update_held(session, owner=owner, values=values):
                log.warning("speciesplus sync lease was lost; outcome not stored", owner=owner)
    except Exception:
        log.exception("speciesplus sync could not release its lease; it will lapse", owner=owner)


async def _keep_lease(db: Database, owner: str, lease: timedelta, lost: asyncio.Event) -> None:
    """Renew the lease every third of its length while the run lives."""
    while True:
        await asyncio.sleep(lease.total_seconds() / 3)
        try:
            async with db.session() as session:
                held = await repository.update_held(
                    session, owner=owner, values={"lease_until": _now() + lease}
                )
        except Exception:
            log.exception("speciesplus sync lease renewal failed; retrying", owner=owner)
            continue
        if not held:
            lost.set()
            return
