"""Publications too large to apply inside their request: applied by a job, an asyncio task
owned by the app's lifespan, in ONE transaction (all or nothing), with progress.

* Progress: every applied chunk of taxa sets `records_done`. This replica keeps it in
  memory (the GET of this replica reads it from there). On PostgreSQL it is also written
  to the publication row in a short transaction of its own, so every replica sees it. On
  SQLite it is not: the apply transaction holds the database's only write lock until it
  commits, so a second writer would wait for it for ever; other processes see
  `records_done` 0 until the job ends.
* A restart: the lifespan takes up every publication still `queued` or `applying` (the
  content is stored; an interrupted apply left nothing behind). On PostgreSQL an advisory
  lock for the apply's transaction keeps two replicas from applying the same job.
* A failure: the publication becomes `failed` with the reason; nothing of it is applied.
  A job that could not even be marked `applying` (the database busy, another replica
  applying it) is left as it is, for the replica applying it or the next start.
* One job at a time per replica, in the order they came.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import structlog

from pangolin_core.service import ServiceRuntime
from species_ref.codes.service import CodeLists
from species_ref.publications import repository, service
from species_ref.publications.schemas import PublicationFormat, PublicationStatus
from species_ref.reference.refresh import reference_changed
from species_ref.settings import SpeciesRefSettings

log = structlog.get_logger(__name__)

JOBS_KEY = "publication_jobs"
_UNFINISHED = (PublicationStatus.QUEUED.value, PublicationStatus.APPLYING.value)


class PublicationJobs:
    def __init__(self, runtime: ServiceRuntime, settings: SpeciesRefSettings) -> None:
        self._runtime = runtime
        self._settings = settings
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._progress: dict[str, int] = {}
        # One job at a time per replica: each holds a long write transaction (on SQLite the
        # only write lock, which a second job would wait on past its busy timeout).
        self._one_at_a_time = asyncio.Lock()

    def start(self, publication_id: str) -> None:
        """Apply a queued publication in the background (once per replica)."""
        running = self._tasks.get(publication_id)
        if running is not None and not running.done():
            return
        task = asyncio.create_task(self._run(publication_id), name=f"publication-{publication_id}")
        self._tasks[publication_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(publication_id, None))

    def records_done(self, publication_id: str) -> int | None:
        """The progress of a job running on this replica (None: none runs here)."""
        return self._progress.get(publication_id)

    async def resume(self) -> None:
        async with self._runtime.db.session(write=False) as session:
            unfinished = await repository.unfinished_ids(session, _UNFINISHED)
        for publication_id in unfinished:
            log.info("publication job taken up again", publication=publication_id)
            self.start(publication_id)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _report(self, publication_id: str, done: int) -> None:
        self._progress[publication_id] = done
        if not self._runtime.db.is_sqlite:
            async with self._runtime.db.session() as session:
                await repository.update(session, publication_id, records_done=done)

    async def _run(self, publication_id: str) -> None:
        async with self._one_at_a_time:
            await self._apply(publication_id)

    async def _apply(self, publication_id: str) -> None:
        db = self._runtime.db
        codes: CodeLists = self._runtime.extras["code_lists"]
        taken = False  # this replica marked it `applying`
        try:
            async with db.session() as session:
                found = await repository.get(session, publication_id)
                if found is None or found.status not in _UNFINISHED:
                    return
                await repository.update(
                    session, publication_id, status=PublicationStatus.APPLYING.value
                )
            taken = True
            self._progress[publication_id] = 0
            read = await service.read_document(
                publication_id=publication_id,
                content=found.content or b"",
                publication_format=PublicationFormat(found.format),
                codes=codes,
                max_records=self._settings.publication_max_records,
            )
            async with db.session() as session:
                if not await repository.try_lock(session, publication_id):
                    return  # another replica applies it
                publication = await repository.get(session, publication_id)
                if publication is None or publication.status not in _UNFINISHED:
                    return
                prepared = await service.prepare(session=session, read=read)
                if prepared.parsed is None:  # the reference moved since it was received
                    service.reject(publication, prepared.errors)
                    session.add(publication)
                    return
                summary = await service.apply(
                    session=session,
                    publication=publication,
                    prepared=prepared,
                    progress=lambda done: self._report(publication_id, done),
                    chunk=self._settings.publication_chunk,
                )
                await repository.update(
                    session,
                    publication_id,
                    status=PublicationStatus.APPLIED.value,
                    summary=summary,
                    records_total=prepared.records,
                    records_done=prepared.records,
                    finished_at=datetime.now(UTC),
                )
            reference_changed(self._runtime)
            log.info("publication applied", publication=publication_id, **summary)
        except asyncio.CancelledError:
            raise  # shutting down: taken up again at the next start
        except Exception as exc:
            if not taken:  # e.g. the database busy with another replica's apply of it
                log.exception(
                    "publication job not started; left for the next start",
                    publication=publication_id,
                )
                return
            log.exception("publication job failed", publication=publication_id)
            failure = {"row": None, "field": None, "message": f"the apply failed: {exc}"}
            async with db.session() as session:
                # Only while unfinished: another replica may have applied it meanwhile.
                await repository.update(
                    session,
                    publication_id,
                    only_if=_UNFINISHED,
                    status=PublicationStatus.FAILED.value,
                    errors=[failure],
                    finished_at=datetime.now(UTC),
                )
        finally:
            self._progress.pop(publication_id, None)


def publication_jobs_of(runtime: ServiceRuntime) -> PublicationJobs:
    jobs: PublicationJobs = runtime.extras[JOBS_KEY]
    return jobs


@contextlib.asynccontextmanager
async def publication_jobs(
    runtime: ServiceRuntime, settings: SpeciesRefSettings
) -> AsyncIterator[PublicationJobs]:
    """The lifespan part: take up unfinished jobs, cancel running ones at shutdown."""
    jobs = PublicationJobs(runtime, settings)
    runtime.extras[JOBS_KEY] = jobs
    await jobs.resume()
    try:
        yield jobs
    finally:
        await jobs.close()
