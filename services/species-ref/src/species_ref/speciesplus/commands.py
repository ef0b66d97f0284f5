"""`pangolin species sync`: run the Species+ sync from a shell (a cron job, a first load, a
catch-up), beside or instead of the scheduled one; the lease keeps them from overlapping.

Settings come from the environment as for the app (`PANGOLIN_SPECIES_REF_SPECIESPLUS_URL`,
`..._TOKEN`, `..._LANGUAGE`); the database is found as `pangolin up` finds it
(`PANGOLIN_SPECIES_REF_DATABASE_URL`, else the `--postgres` server, else
`<data-dir>/species-ref.db`) and migrated to head first when behind. The events are written
to the outbox: a running species-ref publishes them, and its replicas see the new revision
at their next poll. Only typer is imported at import time.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from species_ref.settings import SpeciesRefSettings
    from species_ref.speciesplus.runner import SyncRun

app = typer.Typer(
    help="Species reference data: the Species+ sync.",
    no_args_is_help=True,
    add_completion=False,
)

EXIT_FAILED = 1
EXIT_BUSY = 3  # another run holds the lease: nothing was done


async def _run(
    settings: SpeciesRefSettings,
    *,
    full: bool,
    name: str | None,
    max_pages: int | None,
    details: bool,
) -> SyncRun:
    from pangolin_core import migrations
    from pangolin_core.db import Database
    from species_ref.app import DEFINITION
    from species_ref.speciesplus.client import SpeciesPlusClient
    from species_ref.speciesplus.runner import run_sync

    url = settings.database_url
    if await migrations.current_revision(url) != migrations.head_revision(DEFINITION.migrations):
        await migrations.upgrade(DEFINITION.migrations, url)
    db = Database(url)
    try:
        async with SpeciesPlusClient.from_settings(settings) as client:
            return await run_sync(
                db=db,
                client=client,
                lease_seconds=settings.speciesplus_sync_lease_seconds,
                full=full,
                name=name,
                max_pages=max_pages,
                details=details,
                language=settings.speciesplus_language,
            )
    finally:
        await db.dispose()


def _report(run: SyncRun) -> list[str]:
    if run.outcome == "busy":
        until = run.lease_until.isoformat() if run.lease_until else "?"
        return [f"not run: the sync lease is held by {run.lease_owner} until {until}"]
    s = run.summary
    lines = [
        f"{run.outcome}: {s['mode']} sync"
        + (f" of {s['name']!r}" if s["name"] else "")
        + (f" since {s['updated_since']}" if s["updated_since"] else "")
        + f", {s['pages']} page(s) from page {s['first_page']}",
        f"  taxa {s['taxa']}, created {s['created']}, updated {s['updated']}, "
        f"listings changed {s['listings_changed']}, quotas {s['quotas_published']}, "
        f"suspensions {s['suspensions_published']}, events {s['events']}",
    ]
    if s["latest_update"]:
        lines.append(f"  latest update read: {s['latest_update']}")
    if run.outcome in ("partial", "failed", "cancelled") and s["mode"] != "name":
        lines.append(f"  the next run resumes at page {s['next_page'] or s['first_page']}")
    if s["problems_total"]:
        lines.append(f"  problems ({s['problems_total']}):")
        lines.extend(f"    {problem}" for problem in s["problems"])
    if s["error"]:
        lines.append(f"  error: {s['error']}")
    return lines


@app.command()
def sync(
    full: Annotated[
        bool, typer.Option("--full", help="Every taxon, not only those changed since the last.")
    ] = False,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Only the taxa of this name (leaves the increment alone)."),
    ] = None,
    max_pages: Annotated[
        int | None,
        typer.Option("--max-pages", min=1, help="Stop after N pages; the next run resumes."),
    ] = None,
    details: Annotated[
        bool,
        typer.Option(
            "--details/--no-details",
            help="Fetch each taxon's legislation and distributions (else the pages only).",
        ),
    ] = True,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Where SQLite files live (as for `pangolin up`).")
    ] = Path(".data"),
    postgres: Annotated[
        str | None,
        typer.Option(
            "--postgres",
            envvar="PANGOLIN_POSTGRES_URL",
            help="PostgreSQL server URL (as for `pangolin up`).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Sync taxa, listings, distributions, quotas and suspensions from Species+: the
    increment since the last complete run, resumed where an interrupted one stopped."""
    from pangolin_core.cli import database_urls
    from pangolin_core.telemetry import configure_logging
    from species_ref.settings import SpeciesRefSettings

    if full and name is not None:
        raise typer.BadParameter("give --full or --name, not both", param_hint="--full")
    settings = SpeciesRefSettings(database_url=database_urls(data_dir, postgres)["species-ref"])
    configure_logging(level=settings.log_level, json=settings.log_json)  # on stderr
    if not settings.speciesplus_token.get_secret_value():
        typer.echo("error: PANGOLIN_SPECIES_REF_SPECIESPLUS_TOKEN is not set", err=True)
        raise typer.Exit(2)
    run = asyncio.run(_run(settings, full=full, name=name, max_pages=max_pages, details=details))
    if as_json:
        typer.echo(json.dumps(run.summary or {"outcome": run.outcome, "holder": run.lease_owner}))
    else:
        for line in _report(run):
            typer.echo(line)
    if run.outcome == "busy":
        raise typer.Exit(EXIT_BUSY)
    if run.outcome in ("failed", "cancelled"):
        raise typer.Exit(EXIT_FAILED)
