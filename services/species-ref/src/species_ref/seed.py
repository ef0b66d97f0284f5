"""What `pangolin up` loads into a fresh species-ref database: the shipped checklist."""

from __future__ import annotations

import time

from pangolin_core.db import Database
from pangolin_core.settings import ServiceSettings
from species_ref.checklist import read_checklist
from species_ref.codes.service import DATA_DIR
from species_ref.taxa.service import load_checklist

CHECKLIST = DATA_DIR / "cites_checklist_2017-04-21.csv.gz"
CHECKLIST_SOURCE = "CITES checklist 2017-04-21"


async def seed(settings: ServiceSettings) -> str:
    started = time.perf_counter()
    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            summary = await load_checklist(
                session=session, taxa=read_checklist(CHECKLIST), source=CHECKLIST_SOURCE
            )
    finally:
        await db.dispose()
    if summary.skipped:
        return "taxa already loaded; checklist not reloaded"
    return (
        f"loaded {summary.taxa:,} taxa, {summary.names:,} names, {summary.listings:,} listings "
        f"from the {CHECKLIST_SOURCE} in {time.perf_counter() - started:.1f} s"
    )
