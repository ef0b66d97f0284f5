"""The `pangolin` CLI against real databases and a real nats-server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from pangolin_core import migrations
from pangolin_core.cli import cli
from pangolin_core.natsserver import NatsServer, wait_for_port
from pangolin_core.suite import APPS, app_named
from pangolin_core.testing import postgres_database
from suite_support import five_free_ports, table_names


async def test_migrate_takes_each_database_url_from_the_environment(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PANGOLIN_RISK_SCORE_DATABASE_URL", database_url)
    runner = CliRunner()

    result = await _run_in_thread(runner, ["migrate", "risk-score"])
    assert result.exit_code == 0, result.output
    assert {"outbox", "inbox"} <= await table_names(database_url)
    head = migrations.head_revision(app_named("risk-score").definition().migrations)
    assert await migrations.current_revision(database_url) == head

    result = await _run_in_thread(runner, ["migrate", "risk-score", "--downgrade", "base"])
    assert result.exit_code == 0, result.output
    assert await migrations.current_revision(database_url) is None


async def _run_in_thread(runner: CliRunner, args: list[str]):  # type: ignore[no-untyped-def]
    """The CLI runs its own event loop; keep it off the test's."""
    import asyncio

    return await asyncio.to_thread(runner.invoke, cli, args)


def test_migrate_names_the_apps_when_given_an_unknown_one() -> None:
    result = CliRunner().invoke(cli, ["migrate", "permit-verifier"])
    assert result.exit_code != 0
    assert "permit-verify" in str(result.exception)


@pytest.mark.postgres
@pytest.mark.timeout(180)
async def test_up_runs_the_suite_on_postgresql_and_an_external_nats(
    tmp_path: Path, nats_url: str, nats_server: NatsServer
) -> None:
    """`PANGOLIN_NATS_URL` and per-app PostgreSQL URLs replace the embedded defaults."""
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        urls = {app.name: await stack.enter_async_context(postgres_database()) for app in APPS}
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        env["PANGOLIN_NATS_URL"] = nats_url
        for app in APPS:
            env[f"{app.env_prefix}DATABASE_URL"] = urls[app.name]
        port = five_free_ports()
        process = subprocess.Popen(
            [sys.executable, "-m", "pangolin_core.cli", "up", "--data-dir", str(tmp_path),
             "--port", str(port)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            wait_for_port("127.0.0.1", port, timeout=60, process=process)
            async with httpx.AsyncClient(timeout=5) as client:
                for app in APPS:
                    base = f"http://127.0.0.1:{port + app.port_offset}"
                    wait_for_port("127.0.0.1", port + app.port_offset, timeout=60, process=process)
                    response = await client.get(f"{base}/ready")
                    assert response.status_code == 200, (app.name, response.text)
            for app in APPS:
                head = migrations.head_revision(app.definition().migrations)
                assert await migrations.current_revision(urls[app.name]) == head
            assert not (tmp_path / "nats").exists(), "no embedded NATS when a URL is given"
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            output = process.communicate(timeout=60)[0].decode()
        assert process.returncode == 0, output
        assert "stopped." in output


def test_the_suite_gives_intel_share_the_gateway_url_for_its_taxii_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TAXII discovery names the API roots partners call: the gateway's, not the app's port."""
    from pangolin_core.cli import _suite_environment

    monkeypatch.delenv("PANGOLIN_INTEL_SHARE_TAXII_PUBLIC_URL", raising=False)
    base_urls = {app.name: f"http://127.0.0.1:{8000 + app.port_offset}" for app in APPS}
    db_urls = {app.name: f"sqlite:///{tmp_path / app.name}.db" for app in APPS}
    env = _suite_environment("nats://127.0.0.1:4999", tmp_path, db_urls, base_urls)
    assert env["PANGOLIN_INTEL_SHARE_TAXII_PUBLIC_URL"] == base_urls["gateway"]
    assert base_urls["gateway"] != base_urls["intel-share"]
