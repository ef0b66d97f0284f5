"""Real services for the gateway's tests: each app a `pangolin serve` process on loopback, on
its own nats-server and SQLite database, killable and restartable on the same port."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from gateway.app import DEFINITION, create_app
from gateway.clients.schemas import NewClient
from gateway.clients.service import IssuedCredentials, create_client
from gateway.settings import GatewaySettings
from pangolin_core import migrations
from pangolin_core.contracts.roles import Role
from pangolin_core.natsserver import NatsServer, wait_for_port
from pangolin_core.suite import SERVICES, app_named
from pangolin_core.testing import running_app
from suite_support import five_free_ports


@dataclass
class AppProcess:
    """One app served by uvicorn in its own process."""

    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> AppProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pangolin_core.cli", "serve", self.name,
                 "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        """uvicorn binds its port only once the app's lifespan has started, so listening means
        started; then /ready must say the database and NATS answer."""
        assert self.process is not None
        try:
            wait_for_port("127.0.0.1", self.port, timeout=timeout, process=self.process)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{self.name}: {exc}: {self.log_path.read_text()[-2000:]}") from exc
        ready = httpx.get(f"{self.url}/ready", timeout=5.0)
        assert ready.status_code == 200, f"{self.name} started but not ready: {ready.text}"

    def kill(self) -> None:
        """Die at once, as a crashed process does (no graceful shutdown)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Services:
    nats: NatsServer
    apps: dict[str, AppProcess]

    def urls(self) -> dict[str, str]:
        """The gateway's settings for these upstreams."""
        return {
            f"{app_named(name).env_name.lower()}_url": app.url for name, app in self.apps.items()
        }


def _base_env(nats_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANGOLIN_")}
    env.pop("VIRTUAL_ENV", None)
    env.update(
        PANGOLIN_NATS_URL=nats_url,
        PANGOLIN_DATA_DIR=str(data_dir),
        PANGOLIN_LOG_LEVEL="WARNING",
    )
    return env


@contextmanager
def running_services(data_dir: Path) -> Iterator[Services]:
    """The four services (empty, migrated databases) on their own nats-server."""
    nats = NatsServer(data_dir / "nats").start()
    base = five_free_ports()
    env = _base_env(nats.url, data_dir)
    apps: dict[str, AppProcess] = {}
    try:
        for offset, suite_app in enumerate(SERVICES, start=1):
            url = f"sqlite:///{data_dir / suite_app.name}.db"
            asyncio.run(migrations.upgrade(suite_app.definition().migrations, url))
            app_env = {**env, f"{suite_app.env_prefix}DATABASE_URL": url}
            apps[suite_app.name] = AppProcess(
                suite_app.name, base + offset, app_env, data_dir / f"{suite_app.name}.log"
            )
        for app in apps.values():
            app.start()
        yield Services(nats, apps)
    finally:
        for app in apps.values():
            app.stop()
        nats.stop()


def gateway_process(data_dir: Path, services: Services, port: int, **settings: str) -> AppProcess:
    """A gateway in its own process (not started), its database under `data_dir`."""
    env = _base_env(services.nats.url, data_dir)
    env["PANGOLIN_GATEWAY_DATABASE_URL"] = f"sqlite:///{data_dir / 'gateway.db'}"
    for name, url in services.urls().items():
        env[f"PANGOLIN_GATEWAY_{name.upper()}"] = url
    for name, value in settings.items():
        env[f"PANGOLIN_GATEWAY_{name.upper()}"] = value
    return AppProcess("gateway", port, env, data_dir / f"gateway-{port}.log")


@asynccontextmanager
async def gateway(
    services: Services, tmp_path: Path, **settings: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """A gateway in this process (its lifespan running) in front of `services`."""
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    await migrations.upgrade(DEFINITION.migrations, url)
    app = create_app(
        GatewaySettings(nats_url=services.nats.url, database_url=url, **services.urls(), **settings)
    )
    async with running_app(app) as client:
        yield client, app


async def new_client(app: FastAPI, role: Role, **spec: Any) -> IssuedCredentials:
    """A client of the gateway with one role, created as the admin API would."""
    runtime = app.state.runtime
    async with runtime.db.session(write=True) as session:
        return await create_client(
            session=session,
            spec=NewClient(name=f"{role.value}-{len(spec)}", country="KE", roles=[role], **spec),
        )
