"""Startup objects are frozen out of the cyclic collector once the first app is up."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pangolin_core import service
from pangolin_core.service import ServiceDefinition, ServiceSettings, create_service_app
from pangolin_core.testing import running_app


def test_what_exists_at_start_is_frozen_once_per_process() -> None:
    script = textwrap.dedent(
        """
        import gc
        from pangolin_core.heap import freeze_at_start
        held = [[i] for i in range(50_000)]  # long-lived, tracked objects
        assert gc.get_freeze_count() == 0
        freeze_at_start()
        frozen = gc.get_freeze_count()
        assert frozen >= 50_000, frozen
        later = [[i] for i in range(10_000)]
        freeze_at_start()  # a second app in the same process: nothing more is frozen
        assert gc.get_freeze_count() == frozen
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


async def test_an_app_freezes_the_heap_when_it_has_started(
    nats_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(service, "freeze_at_start", lambda: calls.append("frozen"))
    definition = ServiceDefinition(
        name="species-ref", title="heap", description="", migrations=Path("."), routers=[]
    )
    settings = ServiceSettings(nats_url=nats_url, database_url=f"sqlite:///{tmp_path}/h.db")
    async with running_app(create_service_app(definition, settings)):
        assert calls == ["frozen"]
