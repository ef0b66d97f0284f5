"""Keeping what lives as long as the process out of the cyclic garbage collector.

A full (generation 2) collection walks every tracked object with the event loop stopped.
A served app holds hundreds of thousands of them from the moment it is up: the modules of
FastAPI, SQLAlchemy, pydantic and the rest, settings, read models, snapshots. Under
bench/verify.py's load every server paused 80-160 ms in such collections (gateway,
permit-verify, species-ref, risk-score alike, measured with `gc.callbacks`): the p99 of a
verification at 100/s was those pauses. `gc.freeze()` moves what exists to the permanent
generation, which collections skip; objects made later are collected as before.
"""

from __future__ import annotations

import gc

_frozen_at_start = False


def freeze_at_start() -> None:
    """Once per process, when its first app has started: collect, then freeze everything
    allocated so far. (Tests start many apps in one process: only the first pays the full
    collection; freezing an app that later stops keeps its cycles until the process ends.)"""
    global _frozen_at_start
    if _frozen_at_start:
        return
    _frozen_at_start = True
    gc.collect()
    gc.freeze()


def refreeze() -> None:
    """After a large long-lived structure was replaced (species-ref's snapshot): give the
    frozen objects back to the collector so the replaced ones' cycles are freed, collect,
    and freeze what is left."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
