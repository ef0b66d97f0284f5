"""What `pangolin up` loads into a fresh species-ref database: the shipped checklist, then
the SAPI export quotas, trade suspensions and reservations. Each part loads only into empty
tables, so running it again changes nothing. Rows the SAPI parser cannot read are counted
in the message (and never guessed)."""

from __future__ import annotations

import time

from pangolin_core.db import Database
from pangolin_core.settings import ServiceSettings
from species_ref.checklist import read_checklist
from species_ref.codes.service import DATA_DIR, read_code_lists
from species_ref.reference.revision import bump_revision
from species_ref.restrictions.service import load_restrictions
from species_ref.sapi import RestrictionKind, read_quotas, read_reservations, read_suspensions
from species_ref.taxa.service import load_checklist

CHECKLIST = DATA_DIR / "cites_checklist_2017-04-21.csv.gz"
CHECKLIST_SOURCE = "CITES checklist 2017-04-21"
RESTRICTION_FILES = {
    RestrictionKind.QUOTA: DATA_DIR / "quotas.csv",
    RestrictionKind.SUSPENSION: DATA_DIR / "suspensions.csv",
    RestrictionKind.RESERVATION: DATA_DIR / "reservations.csv",
}
RESTRICTION_SOURCES = {kind: f"SAPI {path.name}" for kind, path in RESTRICTION_FILES.items()}


async def seed(settings: ServiceSettings) -> str:
    started = time.perf_counter()
    codes = read_code_lists()
    quotas = read_quotas(RESTRICTION_FILES[RestrictionKind.QUOTA], codes)
    suspensions = read_suspensions(RESTRICTION_FILES[RestrictionKind.SUSPENSION], codes)
    reservations = read_reservations(RESTRICTION_FILES[RestrictionKind.RESERVATION], codes)
    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            summary = await load_checklist(
                session=session, taxa=read_checklist(CHECKLIST), source=CHECKLIST_SOURCE
            )
            if not summary.skipped:
                await bump_revision(session)
        async with db.session() as session:
            loaded = await load_restrictions(
                session=session,
                quotas=quotas.records,
                suspensions=suspensions.records,
                reservations=reservations.records,
                sources=RESTRICTION_SOURCES,
            )
            if not loaded.skipped:
                await bump_revision(session)
    finally:
        await db.dispose()
    if summary.skipped:
        message = "taxa already loaded; checklist not reloaded"
    else:
        message = (
            f"loaded {summary.taxa:,} taxa, {summary.names:,} names, {summary.listings:,} "
            f"listings from the {CHECKLIST_SOURCE} in {time.perf_counter() - started:.1f} s"
        )
    if loaded.skipped:
        return f"{message}; restrictions already loaded"
    unread = len(quotas.errors) + len(suspensions.errors) + len(reservations.errors)
    return (
        f"{message}; {loaded.quotas} export quotas, {loaded.suspensions} trade suspensions, "
        f"{loaded.reservations} reservations from SAPI ({unread} unreadable rows skipped)"
    )
