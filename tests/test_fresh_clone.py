"""The README's promise: on a fresh clone, `make run` brings up all five apps with /ready 200
and the four streams present within 60 seconds, and Ctrl-C stops everything.

The clone is of the last commit (CI runs on a clean clone, so that is what it tests).
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import nats
import pytest

from pangolin_core.messaging.connection import STREAMS
from suite_support import five_free_ports

REPO = Path(__file__).resolve().parents[1]
STARTUP_LIMIT = 60.0


def read_lines(stream: object, lines: queue.Queue[str]) -> None:
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
        lines.put(raw.decode(errors="replace").rstrip())


async def stream_names(nats_url: str) -> set[str | None]:
    nc = await nats.connect(nats_url)
    try:
        return {info.config.name for info in await nc.jetstream().streams_info()}
    finally:
        await nc.close()


@pytest.mark.timeout(300)
def test_make_run_on_a_fresh_clone_brings_up_the_suite(tmp_path: Path) -> None:
    if not (REPO / ".git").exists() or shutil.which("make") is None:
        pytest.skip("needs a git checkout and make")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    env = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")
    }
    # As on a fresh machine: not this checkout's virtualenv first on PATH (`uv run` puts it).
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    port = five_free_ports()
    started = time.monotonic()
    process = subprocess.Popen(
        ["make", "run", f"PORT={port}", f"DATA_DIR={tmp_path / 'data'}"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=read_lines, args=(process.stdout, lines), daemon=True).start()
    output: list[str] = []
    try:
        while not any(line.startswith("Pangolin is up") for line in output):
            remaining = STARTUP_LIMIT - (time.monotonic() - started)
            assert remaining > 0, "not up within 60 s:\n" + "\n".join(output)
            assert process.poll() is None, "make run exited:\n" + "\n".join(output)
            try:
                output.append(lines.get(timeout=min(remaining, 1.0)))
            except queue.Empty:
                continue
        elapsed = time.monotonic() - started
        listing: list[str] = []
        while not listing or not listing[-1].startswith("Data and logs"):
            listing.append(lines.get(timeout=10))
        output.extend(listing)
        urls = dict(re.findall(r"^  (\S+)\s+(\S+://\S+)", "\n".join(listing), re.MULTILINE))
        assert set(urls) == {
            "gateway",
            "species-ref",
            "permit-verify",
            "risk-score",
            "intel-share",
            "nats",
        }
        with httpx.Client(timeout=5) as client:
            for name, url in urls.items():
                if name != "nats":
                    response = client.get(f"{url}/ready")
                    assert response.status_code == 200, (name, response.text)
        assert {s.name for s in STREAMS} <= asyncio.run(stream_names(urls["nats"]))
        print(f"make run on a fresh clone: up in {elapsed:.1f} s")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    while True:
        try:
            output.append(lines.get(timeout=2))
        except queue.Empty:
            break
    assert "stopped." in output, "\n".join(output)
    for offset in range(5):  # every app let go of its port
        with httpx.Client(timeout=1) as client, pytest.raises(httpx.ConnectError):
            client.get(f"http://127.0.0.1:{port + offset}/health")
