"""Helpers of the cross-service tests."""

from __future__ import annotations

import random
import socket

import sqlalchemy as sa

from pangolin_core.db import create_engine


def five_free_ports() -> int:
    """A base port whose next four are free too, below the kernel's ephemeral range
    (32768 and up on Linux): a port picked there can be taken by any outgoing connection
    between this check and the app binding it."""
    for _ in range(200):
        base = random.randrange(20000, 32000)
        try:
            for port in range(base, base + 5):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no five consecutive free ports")


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))
    finally:
        await engine.dispose()
