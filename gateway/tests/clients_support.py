"""The gateway app running in-process on a real migrated database and a real nats-server, and
clients made through the service layer (the way the first admin client is bootstrapped)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from gateway.app import DEFINITION, create_app
from gateway.auth import AUTHENTICATOR, ClientAuthenticator
from gateway.clients.schemas import NewClient
from gateway.clients.service import IssuedCredentials, create_client
from gateway.settings import GatewaySettings
from pangolin_core import migrations
from pangolin_core.db import Database
from pangolin_core.testing import running_app


@dataclass
class RunningGateway:
    app: FastAPI
    http: httpx.AsyncClient
    settings: GatewaySettings

    @property
    def db(self) -> Database:
        db: Database = self.app.state.runtime.db
        return db

    @property
    def authenticator(self) -> ClientAuthenticator:
        authenticator: ClientAuthenticator = self.app.state.runtime.extras[AUTHENTICATOR]
        return authenticator

    async def create_client(
        self, name: str, *roles: str, country: str = "KE", **spec: Any
    ) -> IssuedCredentials:
        """A client made through the service layer, in the app's own database."""
        new = NewClient.model_validate({"name": name, "country": country, "roles": roles, **spec})
        async with self.db.session() as session:
            return await create_client(session=session, spec=new)

    async def token(self, issued: IssuedCredentials, scope: str | None = None) -> str:
        form = {"grant_type": "client_credentials", "scope": scope} if scope else None
        response = await self.http.post(
            "/oauth/token",
            data=form or {"grant_type": "client_credentials"},
            auth=(issued.client.id, issued.client_secret),
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    async def bearer(self, issued: IssuedCredentials, scope: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(issued, scope)}"}


def gateway_settings(database_url: str, nats_url: str, **values: Any) -> GatewaySettings:
    return GatewaySettings(nats_url=nats_url, database_url=database_url, **values)


@asynccontextmanager
async def open_gateway(settings: GatewaySettings) -> AsyncIterator[RunningGateway]:
    """The gateway on a database migrated to head, its lifespan running."""
    await migrations.upgrade(DEFINITION.migrations, settings.database_url)
    app = create_app(settings)
    async with running_app(app) as http:
        yield RunningGateway(app, http, settings)
