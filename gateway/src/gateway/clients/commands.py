"""`pangolin clients ...`: manage the gateway's clients from a shell, beside a running suite.

The database is found as `pangolin up` finds it (`PANGOLIN_GATEWAY_DATABASE_URL`, else the
`--postgres` server, else `<data-dir>/gateway.db`) and migrated to head first when behind.
Only typer is imported here at import time: the rest loads when a command runs.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from gateway.clients.directory import ClientRecord
    from gateway.clients.service import IssuedCredentials

T = TypeVar("T")

app = typer.Typer(
    help="Gateway clients: create, list, rotate secrets, disable.",
    no_args_is_help=True,
    add_completion=False,
)

DataDir = Annotated[
    Path, typer.Option("--data-dir", help="Where SQLite files live (as for `pangolin up`).")
]
Postgres = Annotated[
    str | None,
    typer.Option(
        "--postgres",
        envvar="PANGOLIN_POSTGRES_URL",
        help="PostgreSQL server URL (as for `pangolin up`).",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ClientId = Annotated[str, typer.Argument(help="The client's id.")]

DEMO_COUNTRY = {"partner": "TZ"}  # a partner is another country's instance; the rest: KE


def database_url(data_dir: Path, postgres: str | None) -> str:
    from pangolin_core.cli import database_urls

    return database_urls(data_dir, postgres)["gateway"]


async def _in_session(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one unit of work on the gateway database, migrated to head if behind."""
    from gateway.app import DEFINITION
    from pangolin_core import migrations
    from pangolin_core.db import Database

    if await migrations.current_revision(url) != migrations.head_revision(DEFINITION.migrations):
        await migrations.upgrade(DEFINITION.migrations, url)
    db = Database(url)
    try:
        async with db.session() as session:
            return await work(session)
    finally:
        await db.dispose()


def _run(data_dir: Path, postgres: str | None, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from pangolin_core.errors import PangolinError

    try:
        return asyncio.run(_in_session(database_url(data_dir, postgres), work))
    except PangolinError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc


def credentials_json(issued: IssuedCredentials) -> dict[str, Any]:
    client = issued.client
    return {
        "client_id": client.id,
        "client_secret": issued.client_secret,
        "api_key": issued.api_key,
        "country": client.country,
        "roles": sorted(client.roles),
        "scopes": sorted(client.scopes),
    }


def _client_json(record: ClientRecord) -> dict[str, Any]:
    from gateway.clients.router import client_out

    return client_out(record).model_dump(mode="json")


def _print_credentials(issued: IssuedCredentials, as_json: bool) -> None:
    values = credentials_json(issued)
    if as_json:
        typer.echo(json.dumps(values, indent=2))
        return
    for key in ("client_id", "client_secret", "api_key"):
        typer.echo(f"{key}: {values[key]}")
    typer.echo(f"scopes: {' '.join(values['scopes'])}")
    typer.echo("The secret and the API key are shown only now: keep them safe.", err=True)


@app.command()
def create(
    name: Annotated[str, typer.Option(help="Unique name, e.g. ke-single-window.")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 code, e.g. KE.")],
    role: Annotated[list[str], typer.Option(help="A role; repeat for several.")],
    scope: Annotated[
        list[str] | None, typer.Option(help="Narrow to these scopes; repeat for several.")
    ] = None,
    rate: Annotated[float | None, typer.Option(help="Own rate limit (requests/s).")] = None,
    burst: Annotated[int | None, typer.Option(help="Own burst (with --rate).")] = None,
    as_json: AsJson = False,
    data_dir: DataDir = Path(".data"),
    postgres: Postgres = None,
) -> None:
    """Create a client; print its id, secret and API key (shown once)."""
    from pydantic import ValidationError

    from gateway.clients import service
    from gateway.clients.schemas import NewClient

    try:
        spec = NewClient.model_validate(
            {"name": name, "country": country, "roles": role, "scopes": scope or None,
             "rate": rate, "burst": burst}
        )  # fmt: skip
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            typer.echo(f"error: {field}: {error['msg']}", err=True)
        raise typer.Exit(2) from exc
    issued = _run(data_dir, postgres, lambda s: service.create_client(session=s, spec=spec))
    _print_credentials(issued, as_json)


@app.command("list")
def list_clients(
    as_json: AsJson = False, data_dir: DataDir = Path(".data"), postgres: Postgres = None
) -> None:
    """List the clients (never their secrets)."""
    from gateway.clients import service

    async def everyone(session: AsyncSession) -> list[ClientRecord]:
        found: list[ClientRecord] = []
        while page := await service.list_clients(
            session=session, after_name=found[-1].name if found else None, limit=500
        ):
            found += page
        return found

    records = _run(data_dir, postgres, everyone)
    if as_json:
        typer.echo(json.dumps([_client_json(r) for r in records], indent=2))
        return
    for r in records:
        typer.echo(f"{r.id}  {r.name:<30} {r.country}  {r.status:<8}  {','.join(sorted(r.roles))}")


@app.command("rotate-secret")
def rotate_secret(
    client_id: ClientId,
    as_json: AsJson = False,
    data_dir: DataDir = Path(".data"),
    postgres: Postgres = None,
) -> None:
    """New secret and API key; the old ones and tokens issued before stop working."""
    from gateway.clients import service

    issued = _run(
        data_dir, postgres, lambda s: service.rotate_secret(session=s, client_id=client_id)
    )
    _print_credentials(issued, as_json)


def _set_status(client_id: str, status: str, data_dir: Path, postgres: str | None) -> None:
    from gateway.clients import service
    from gateway.clients.models import ClientStatus

    record = _run(
        data_dir,
        postgres,
        lambda s: service.set_status(session=s, client_id=client_id, status=ClientStatus(status)),
    )
    typer.echo(f"{record.id} ({record.name}) is {record.status}")


@app.command()
def disable(
    client_id: ClientId, data_dir: DataDir = Path(".data"), postgres: Postgres = None
) -> None:
    """Refuse every credential and token of a client (within seconds on running gateways)."""
    _set_status(client_id, "disabled", data_dir, postgres)


@app.command()
def enable(
    client_id: ClientId, data_dir: DataDir = Path(".data"), postgres: Postgres = None
) -> None:
    """Accept a disabled client again."""
    _set_status(client_id, "active", data_dir, postgres)


async def _demo_clients(url: str) -> list[IssuedCredentials]:
    from gateway.clients import service
    from gateway.clients.schemas import NewClient
    from pangolin_core.contracts.roles import Role

    async def ensure_all(session: AsyncSession) -> list[IssuedCredentials]:
        issued = []
        for role in Role:
            spec = NewClient(
                name=f"demo-{role.value}", country=DEMO_COUNTRY.get(role.value, "KE"), roles=[role]
            )
            issued.append(await service.ensure_client(session=session, spec=spec))
        return issued

    return await _in_session(url, ensure_all)


def demo_clients(url: str) -> list[str]:
    """One client per role (`demo-<role>`), created or rotated; the lines to print.
    Development only: refused when `PANGOLIN_ENV` is production."""
    if os.environ.get("PANGOLIN_ENV", "").lower() == "production":
        raise RuntimeError("demo clients are never created in production")
    lines = ["Demo clients (development only; new secrets at each `pangolin up`):"]
    for issued in asyncio.run(_demo_clients(url)):
        values = credentials_json(issued)
        lines.append(
            f"  {issued.client.name:<27} client_id={values['client_id']}"
            f"  client_secret={values['client_secret']}  api_key={values['api_key']}"
        )
    return lines
