"""The scheduled Species+ sync, owned by the app's lifespan: a first run shortly after
start-up, then one every `speciesplus_sync_interval_seconds` (or at once when asked). Every
replica runs the schedule; the lease lets one of them sync at a time. A failed run is
logged and tried again at the next tick."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog

from pangolin_core.service import ServiceRuntime, background_task
from species_ref.reference.refresh import reference_changed
from species_ref.settings import SpeciesRefSettings
from species_ref.speciesplus.client import SpeciesPlusClient
from species_ref.speciesplus.runner import SyncRun, run_sync

log = structlog.get_logger(__name__)

SCHEDULE_KEY = "speciesplus_schedule"


class SyncSchedule:
    """Runs the sync at its ticks; `wake()` brings the next run forward."""

    def __init__(
        self, *, runtime: ServiceRuntime, settings: SpeciesRefSettings, client: SpeciesPlusClient
    ) -> None:
        self._runtime = runtime
        self._settings = settings
        self._client = client
        self._wake = asyncio.Event()
        self.runs = 0
        self.last: SyncRun | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> SyncRun:
        settings = self._settings
        result = await run_sync(
            db=self._runtime.db,
            client=self._client,
            lease_seconds=settings.speciesplus_sync_lease_seconds,
            max_pages=settings.speciesplus_sync_max_pages,
            language=settings.speciesplus_language,
            on_change=lambda: reference_changed(self._runtime),
        )
        self.runs += 1
        self.last = result
        return result

    async def _wait(self, seconds: float) -> None:
        # Not `wait_for`: on 3.11 a cancel that lands as the event is set is swallowed by it
        # (see `reference.refresh`), and shutdown would wait for the next run.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        self._wake.clear()

    async def run(self) -> None:
        await self._wait(self._settings.speciesplus_sync_start_delay_seconds)
        while True:
            try:
                await self.run_once()
            except Exception:  # run_sync reports its own failures; this is the state row
                log.exception("speciesplus sync run failed; next try at the next tick")
            await self._wait(self._settings.speciesplus_sync_interval_seconds)


@contextlib.asynccontextmanager
async def speciesplus_schedule(
    runtime: ServiceRuntime, settings: SpeciesRefSettings
) -> AsyncIterator[None]:
    """The lifespan part: nothing unless `speciesplus_sync_enabled`; else the client and the
    task, both closed on shutdown (a run in progress is cancelled and releases its lease)."""
    if not settings.speciesplus_sync_enabled:
        yield
        return
    async with SpeciesPlusClient.from_settings(settings) as client:
        schedule = SyncSchedule(runtime=runtime, settings=settings, client=client)
        runtime.extras[SCHEDULE_KEY] = schedule
        try:
            async with background_task(schedule.run(), name="speciesplus-sync"):
                yield
        finally:
            runtime.extras.pop(SCHEDULE_KEY, None)
