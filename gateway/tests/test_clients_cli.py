"""`pangolin clients ...` against a data dir, and beside a running gateway on the same database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from clients_support import gateway_settings, open_gateway
from gateway.clients.commands import demo_clients
from pangolin_core import migrations
from pangolin_core.cli import cli
from pangolin_core.errors import Unauthenticated
from pangolin_core.testing import eventually

CREATE = ["clients", "create", "--name", "ke-sw", "--country", "KE", "--role", "single_window"]


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


async def _invoke_beside(*args: str) -> Result:
    """The CLI runs its own event loop: keep it off the test's."""
    return await asyncio.to_thread(_invoke, *args)


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_create_prints_the_credentials_as_json(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]

    created = _json(
        _invoke(*CREATE, "--role", "customs", "--scope", "risk:assess", "--json", *data)
    )

    assert set(created) == {"client_id", "client_secret", "api_key", "country", "roles", "scopes"}
    assert created["country"] == "KE"
    assert created["roles"] == ["customs", "single_window"]
    assert created["scopes"] == ["risk:assess"]
    assert created["api_key"].startswith("pgk_")
    assert (tmp_path / "gateway.db").exists()  # migrated on first use


def test_list_rotate_and_disable(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    created = _json(_invoke(*CREATE, "--json", *data))
    other = _json(
        _invoke("clients", "create", "--name", "tz-partner", "--country", "TZ", "--role",
                "partner", "--json", *data)
    )  # fmt: skip

    listed = _json(_invoke("clients", "list", "--json", *data))
    assert [c["name"] for c in listed] == ["ke-sw", "tz-partner"]
    assert [c["client_id"] for c in listed] == [created["client_id"], other["client_id"]]
    assert created["client_secret"] not in json.dumps(listed)
    text = _invoke("clients", "list", *data)
    assert text.exit_code == 0
    assert created["client_id"] in text.stdout

    rotated = _json(_invoke("clients", "rotate-secret", created["client_id"], "--json", *data))
    assert rotated["client_id"] == created["client_id"]
    assert rotated["client_secret"] != created["client_secret"]
    assert rotated["api_key"] != created["api_key"]

    disabled = _invoke("clients", "disable", created["client_id"], *data)
    assert disabled.exit_code == 0, disabled.output
    assert "disabled" in disabled.stdout
    statuses = {c["name"]: c["status"] for c in _json(_invoke("clients", "list", "--json", *data))}
    assert statuses == {"ke-sw": "disabled", "tz-partner": "active"}


def test_bad_input_and_unknown_clients_are_clear_errors(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]

    bad_role = _invoke(
        "clients", "create", "--name", "x", "--country", "KE", "--role", "boss", *data
    )
    bad_country = _invoke(
        "clients", "create", "--name", "x", "--country", "kenya", "--role", "customs", *data
    )
    bad_scope = _invoke(*CREATE, "--scope", "admin", *data)
    first = _invoke(*CREATE, *data)
    duplicate = _invoke(*CREATE, *data)
    unknown = _invoke("clients", "rotate-secret", "no-such-client", *data)

    assert bad_role.exit_code == 2
    assert "roles.0" in bad_role.stderr
    assert bad_country.exit_code == 2
    assert "country" in bad_country.stderr
    assert bad_scope.exit_code == 2
    assert "not granted by the roles: admin" in bad_scope.stderr
    assert first.exit_code == 0
    assert "client_secret: " in first.stdout
    assert duplicate.exit_code == 1
    assert "exists already" in duplicate.stderr
    assert unknown.exit_code == 1
    assert "No client" in unknown.stderr


async def test_the_cli_works_beside_a_running_gateway(
    database_url: str, nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database from PANGOLIN_GATEWAY_DATABASE_URL, as `pangolin up` passes it; the
    running gateway sees the CLI's changes at its next refresh."""
    monkeypatch.setenv("PANGOLIN_GATEWAY_DATABASE_URL", database_url)
    settings = gateway_settings(database_url, nats_url, client_refresh_seconds=0.05)
    async with open_gateway(settings) as gateway:
        created = _json(await _invoke_beside(*CREATE, "--json"))

        async def known() -> bool:
            return gateway.authenticator.directory.get(created["client_id"]) is not None

        await eventually(known)
        token = await gateway.http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(created["client_id"], created["client_secret"]),
        )
        assert token.status_code == 200, token.text
        principal = await gateway.authenticator.authenticate(None, created["api_key"])
        assert principal.scopes == set(created["scopes"])

        disabled = await _invoke_beside("clients", "disable", created["client_id"])
        assert disabled.exit_code == 0, disabled.output

        async def refused() -> bool:
            try:
                await gateway.authenticator.authenticate(None, created["api_key"])
            except Unauthenticated:
                return True
            return False

        await eventually(refused)


async def test_demo_clients_are_created_once_then_rotated(database_url: str) -> None:
    first = await asyncio.to_thread(demo_clients, database_url)
    second = await asyncio.to_thread(demo_clients, database_url)

    def ids(lines: list[str]) -> dict[str, str]:
        rows = [line.split() for line in lines[1:]]
        return {row[0]: row[1] for row in rows}

    assert set(ids(first)) == {
        "demo-single_window", "demo-customs", "demo-management_authority", "demo-partner",
        "demo-admin",
    }  # fmt: skip
    assert ids(first) == ids(second)  # the same clients, not duplicates
    assert first[1:] != second[1:]  # with new secrets
    assert await migrations.current_revision(database_url) is not None


def test_demo_clients_are_refused_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PANGOLIN_ENV", "production")

    with pytest.raises(RuntimeError, match="never created in production"):
        demo_clients(f"sqlite:///{tmp_path / 'gateway.db'}")
    assert not (tmp_path / "gateway.db").exists()
