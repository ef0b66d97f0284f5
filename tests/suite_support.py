"""Helpers of the cross-service tests."""

from __future__ import annotations

import socket

from pangolin_core.natsserver import free_port


def five_free_ports() -> int:
    for _ in range(50):
        base = free_port()
        if base > 65000:
            continue
        try:
            for port in range(base, base + 5):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no five consecutive free ports")
