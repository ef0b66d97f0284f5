"""Telling this replica that reference data changed (the snapshot itself: `reference.snapshot`).

A writer raises the revision in its transaction (`reference.revision.bump_revision`) and,
after the commit, calls `reference_changed(runtime)`: this replica rebuilds at once; the
others see the new revision at their next poll."""

from __future__ import annotations

from typing import Protocol

from pangolin_core.service import ServiceRuntime

REFRESHER_KEY = "reference_refresher"


class Refresher(Protocol):
    def changed(self) -> None: ...


def reference_changed(runtime: ServiceRuntime) -> None:
    refresher: Refresher | None = runtime.extras.get(REFRESHER_KEY)
    if refresher is not None:
        refresher.changed()
