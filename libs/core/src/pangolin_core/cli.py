"""The `pangolin` command: run the whole suite on one machine, serve one app, migrate."""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from sqlalchemy.engine import make_url

from pangolin_core import migrations
from pangolin_core.natsserver import NatsServer
from pangolin_core.suite import APPS, SERVICES, SuiteApp, app_named

cli = typer.Typer(
    help="Pangolin: CITES permit verification, risk targeting and intelligence exchange.",
    no_args_is_help=True,
    add_completion=False,
)

DataDir = Annotated[
    Path, typer.Option("--data-dir", help="Where SQLite files and NATS storage live.")
]
AppName = Annotated[str, typer.Argument(help="gateway, species-ref, permit-verify, ...")]


def _add_commands(module: str, name: str) -> None:
    """An app's commands (`pangolin <name> ...`), when the app is installed (such modules
    import only typer at import time)."""
    try:
        commands = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module.split(".")[0]:
            raise
        return
    cli.add_typer(commands.app, name=name)


_add_commands("gateway.clients.commands", "clients")  # pangolin clients create|list|...
_add_commands("species_ref.speciesplus.commands", "species")  # pangolin species sync


def _say(message: str) -> None:
    typer.echo(message, err=True)


def database_urls(data_dir: Path, postgres_base: str | None) -> dict[str, str]:
    """Each app's database: its own variable, else a database under the PostgreSQL base URL,
    else a SQLite file in the data dir."""
    urls = {}
    for app in APPS:
        own = os.environ.get(f"{app.env_prefix}DATABASE_URL")
        if own:
            urls[app.name] = own
        elif postgres_base:
            name = "pangolin_" + app.name.replace("-", "_")
            urls[app.name] = make_url(postgres_base).set(database=name).render_as_string(False)
        else:
            urls[app.name] = f"sqlite:///{data_dir / app.name}.db"
    return urls


async def _ensure_postgres_databases(urls: list[str]) -> None:
    import asyncpg

    for url in urls:
        parsed = make_url(url)
        if parsed.get_backend_name() != "postgresql" or not parsed.database:
            continue
        admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(False)
        conn = await asyncpg.connect(admin)
        try:
            exists = await conn.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", parsed.database
            )
            if not exists:
                await conn.execute(f'CREATE DATABASE "{parsed.database}"')
        finally:
            await conn.close()


async def _migrate_all(apps: list[SuiteApp], urls: dict[str, str], revision: str) -> None:
    for app in apps:
        await migrations.upgrade(app.definition().migrations, urls[app.name], revision)
        _say(f"migrated {app.name} to {revision}")


@cli.command()
def migrate(
    apps: Annotated[
        list[str] | None, typer.Argument(help="Apps to migrate (default: all).")
    ] = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    downgrade: Annotated[
        str | None, typer.Option(help="Downgrade to this revision instead.")
    ] = None,
) -> None:
    """Run migrations (for production: the database URLs come from the environment)."""
    chosen = [app_named(name) for name in apps] if apps else list(APPS)
    urls = {app.name: app.settings().database_url for app in chosen}
    if downgrade is not None:
        for app in chosen:
            asyncio.run(
                migrations.downgrade(app.definition().migrations, urls[app.name], downgrade)
            )
            _say(f"downgraded {app.name} to {downgrade}")
        return
    asyncio.run(_migrate_all(chosen, urls, revision))


@cli.command()
def makemigration(
    app: AppName,
    message: Annotated[str, typer.Option("--message", "-m", help="What the revision does.")],
) -> None:
    """Write a new Alembic revision of APP from its models (autogenerate; review it)."""
    chosen = app_named(app)
    asyncio.run(migrations.autogenerate(chosen.definition().migrations, message))


@cli.command()
def serve(
    app: AppName,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (each holds its own in-memory state).")
    ] = 1,
) -> None:
    """Serve one app with uvicorn (settings from the environment)."""
    import uvicorn

    chosen = app_named(app)
    uvicorn.run(
        chosen.factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )


class _Suite:
    """The processes `pangolin up` started, stopped in reverse order."""

    def __init__(self) -> None:
        self.nats: NatsServer | None = None
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def stop(self) -> None:
        for process in reversed(self.processes.values()):
            if process.poll() is None:
                process.terminate()
        for name, process in reversed(self.processes.items()):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _say(f"{name} did not stop in 15 s: killing it")
                process.kill()
                process.wait()
        if self.nats is not None:
            self.nats.stop()


class _StopRequested(Exception):
    """Ctrl-C or SIGTERM arrived while the suite was starting."""


def _wait_ready(suite: _Suite, urls: dict[str, str], timeout: float, stop: threading.Event) -> None:
    deadline = time.monotonic() + timeout
    waiting = dict(urls)
    with httpx.Client(timeout=2.0) as client:
        while waiting:
            if stop.is_set():
                raise _StopRequested
            for name, base in list(waiting.items()):
                process = suite.processes[name]
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {process.returncode}")
                try:
                    if client.get(f"{base}/ready").status_code == 200:
                        del waiting[name]
                except httpx.HTTPError:
                    pass
            if waiting and time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f} s: {', '.join(waiting)}")
            if waiting:
                stop.wait(0.1)  # polling /ready until each app answers (or Ctrl-C)


def _port_is_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _suite_environment(
    nats_url: str, data_dir: Path, db_urls: dict[str, str], base_urls: dict[str, str]
) -> dict[str, str]:
    """What every app process of the local suite is started with."""
    env = {
        **os.environ,
        "PANGOLIN_NATS_URL": nats_url,
        "PANGOLIN_DATA_DIR": str(data_dir),
        "PANGOLIN_LOG_JSON": os.environ.get("PANGOLIN_LOG_JSON", "true"),
    }
    for app in APPS:
        env[f"{app.env_prefix}DATABASE_URL"] = db_urls[app.name]
    for service in SERVICES:
        env[f"PANGOLIN_GATEWAY_{service.env_name}_URL"] = base_urls[service.name]
    # TAXII answers name the URLs partners use: the gateway's, not intel-share's own port.
    env.setdefault("PANGOLIN_INTEL_SHARE_TAXII_PUBLIC_URL", base_urls["gateway"])
    return env


def _demo_clients(gateway_database_url: str) -> list[str]:
    """One client per role for a local suite (never in production); the lines to print."""
    if os.environ.get("PANGOLIN_ENV", "").lower() == "production":
        _say("PANGOLIN_ENV=production: no demo clients (create clients with `pangolin clients`)")
        return []
    commands = importlib.import_module("gateway.clients.commands")
    lines: list[str] = commands.demo_clients(gateway_database_url)
    return lines


def _start_apps(
    suite: _Suite, env: dict[str, str], host: str, ports: dict[str, int], logs: Path
) -> None:
    """The services first, the gateway last; each `pangolin serve` with its own log file."""
    logs.mkdir(exist_ok=True)
    for app in [*SERVICES, APPS[0]]:
        with (logs / f"{app.name}.log").open("ab") as log_file:
            suite.processes[app.name] = subprocess.Popen(
                [sys.executable, "-m", "pangolin_core.cli", "serve", app.name,
                 "--host", host, "--port", str(ports[app.name])],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches `up` only; it stops the apps in order
            )  # fmt: skip


@cli.command()
def up(
    data_dir: DataDir = Path(".data"),
    host: Annotated[str, typer.Option(help="Interface the apps listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Gateway port; services take the next four.")] = 8000,
    postgres: Annotated[
        str | None,
        typer.Option(
            "--postgres",
            envvar="PANGOLIN_POSTGRES_URL",
            help="PostgreSQL server URL: one database per app instead of SQLite files.",
        ),
    ] = None,
    ready_timeout: Annotated[float, typer.Option(help="Seconds to wait for /ready.")] = 60.0,
) -> None:
    """Start the whole suite: embedded NATS, migrations, the gateway and four services.
    Ctrl-C (or SIGTERM) stops everything."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    ports = {app.name: port + app.port_offset for app in APPS}
    taken = [f"{name}:{p}" for name, p in ports.items() if not _port_is_free(host, p)]
    if taken:
        _say(f"ports already in use: {', '.join(taken)} (choose another --port)")
        raise typer.Exit(2)

    stop_requested = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    suite = _Suite()
    try:
        nats_url = os.environ.get("PANGOLIN_NATS_URL")
        if not nats_url:
            suite.nats = NatsServer(data_dir / "nats", host="127.0.0.1").start()
            nats_url = suite.nats.url
        db_urls = database_urls(data_dir, postgres)
        if postgres:  # the local suite creates its databases; production provisions them
            asyncio.run(_ensure_postgres_databases(list(db_urls.values())))
        asyncio.run(_migrate_all(list(APPS), db_urls, "head"))
        for app in APPS:
            seed = app.definition().seed
            if seed is not None:
                settings = app.settings(database_url=db_urls[app.name], data_dir=data_dir)
                _say(f"{app.name}: {asyncio.run(seed(settings))}")

        demo_lines = _demo_clients(db_urls["gateway"])
        base_urls = {name: f"http://{host}:{p}" for name, p in ports.items()}
        env = _suite_environment(nats_url, data_dir, db_urls, base_urls)
        logs = data_dir / "logs"
        _start_apps(suite, env, host, ports, logs)
        _wait_ready(suite, base_urls, ready_timeout, stop_requested)
        width = max(len(name) for name in base_urls)
        typer.echo("Pangolin is up.")
        for name, base in base_urls.items():
            typer.echo(f"  {name:<{width}}  {base}  (API docs: {base}/docs)")
        typer.echo(f"  {'nats':<{width}}  {nats_url}")
        for line in demo_lines:
            typer.echo(line)
        typer.echo(f"Data and logs: {data_dir}. Press Ctrl-C to stop.")
        while not stop_requested.wait(0.5):
            dead = [n for n, p in suite.processes.items() if p.poll() is not None]
            if dead:
                _say(f"{', '.join(dead)} stopped unexpectedly; see {logs}. Stopping the suite.")
                raise typer.Exit(1)
    except _StopRequested:
        pass
    except (RuntimeError, TimeoutError, ConnectionError, OSError) as exc:
        _say(f"pangolin up failed: {exc}")
        raise typer.Exit(1) from exc
    finally:
        _say("stopping...")
        suite.stop()
        _say("stopped.")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
