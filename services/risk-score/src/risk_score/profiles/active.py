"""The active profiles of this process, compiled, in memory: the hot path never reads the
database for them (readmodels says how they stay current)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import get_args

from pangolin_core.contracts.risk import Lane
from pangolin_core.db import Database
from risk_score.assessments.scoring import CompiledProfile
from risk_score.profiles import repository
from risk_score.profiles.criteria import compile_criteria
from risk_score.profiles.models import TargetingProfileVersion

LANES: tuple[Lane, ...] = get_args(Lane)


def compile_version(row: TargetingProfileVersion) -> CompiledProfile:
    forced: Lane | None = None
    for lane in LANES:
        if row.forced_lane == lane:
            forced = lane
    return CompiledProfile(
        profile_id=row.profile_id,
        version=row.version,
        name=row.name,
        points=row.points,
        forced_lane=forced,
        controls=tuple(row.controls),
        selection_percentage=row.selection_percentage,
        offices=frozenset(row.offices),
        directions=frozenset(row.directions),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        predicate=compile_criteria(row.criteria),
    )


class ActiveProfiles:
    def __init__(self) -> None:
        self._by_id: dict[str, CompiledProfile] = {}
        self.profiles: tuple[CompiledProfile, ...] = ()

    def replace_all(self, profiles: Iterable[CompiledProfile]) -> None:
        self._by_id = {p.profile_id: p for p in profiles}
        self.profiles = tuple(self._by_id.values())

    def put(self, profile_id: str, profile: CompiledProfile | None) -> None:
        """Hold `profile` as `profile_id`'s active version, or drop it (None: not active)."""
        held = self._by_id.get(profile_id)
        if profile is None and held is None:
            return
        if profile is not None and held is not None and held.version > profile.version:
            return  # a newer version arrived first
        if profile is None:
            del self._by_id[profile_id]
        else:
            self._by_id[profile_id] = profile
        self.profiles = tuple(self._by_id.values())

    async def load(self, db: Database) -> None:
        async with db.session(write=False) as session:
            rows = await repository.all_current(session)
        self.replace_all(compile_version(r) for r in rows if r.status == "active")
