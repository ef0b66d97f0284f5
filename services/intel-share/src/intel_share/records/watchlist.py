"""What targeting should watch for, distilled from a record: `watchlist_entries(record)`.

- an entity: a person or company is a `trader` (its name first, then aliases and translated
  names; country, birth date, identifiers), a vessel or aircraft a `vessel`; an address
  yields nothing by itself;
- a seizure: the route it took (first export or origin country -> first destination, through
  the transit countries), a `hub` per transit country, a `species` entry per species seized,
  its concealment;
- an alert: each route, a `hub` per country a route goes through, its species, its
  concealment method;
- a revoked record, or one past its expiry, yields nothing (the event that carries an empty
  list removes what the record yielded before).

Pure: no I/O, `today` passed in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from intel_share.records.schemas import RecordOut
from pangolin_core.contracts.intel import WatchlistEntry, WatchlistKind


class _Entries:
    def __init__(self, record_id: str) -> None:
        self.record_id = record_id
        self.items: list[WatchlistEntry] = []
        self._counts: dict[str, int] = {}
        self._seen: set[str] = set()

    def add(self, kind: WatchlistKind, **fields: object) -> None:
        entry = WatchlistEntry.model_validate({"entry_id": "", "kind": kind, **fields})
        key = entry.model_dump_json(exclude={"entry_id"})
        if key in self._seen:  # the same hub twice in one route is one entry
            return
        self._seen.add(key)
        self._counts[kind] = self._counts.get(kind, 0) + 1
        entry.entry_id = f"{self.record_id}:{kind}:{self._counts[kind]}"
        self.items.append(entry)


def valid_until(record: RecordOut) -> date | None:
    """The last day the record's entries apply: its expiry, or an alert's end if earlier."""
    ends = [record.expires_on]
    if record.alert is not None:
        ends.append(record.alert.valid_until)
    known = [end for end in ends if end is not None]
    return min(known) if known else None


def watchlist_entries(record: RecordOut, *, today: date | None = None) -> list[WatchlistEntry]:
    today = today or datetime.now(UTC).date()
    end = valid_until(record)
    if record.revoked or (end is not None and end < today):
        return []
    entries = _Entries(record.id)
    if record.entity is not None:
        entity = record.entity
        names = [entity.name, *(alias.name for alias in entity.aliases)]
        names = list(dict.fromkeys(names))
        if entity.kind in ("person", "company"):
            entries.add(
                "trader",
                names=names,
                country=entity.country,
                birth_date=entity.birth_date,
                identifiers=entity.identifiers,
            )
        elif entity.kind in ("vessel", "aircraft"):
            entries.add(
                "vessel", names=names, country=entity.country, identifiers=entity.identifiers
            )
    if record.seizure is not None:
        seizure = record.seizure
        starts = seizure.export_countries or seizure.origin_countries
        start = starts[0] if starts else None
        finish = seizure.destination_countries[0] if seizure.destination_countries else None
        if start is not None or finish is not None:
            entries.add("route", route_from=start, route_to=finish, hubs=seizure.transit_countries)
        for hub in seizure.transit_countries:
            entries.add("hub", hubs=[hub])
        for species in dict.fromkeys(line.species for line in seizure.specimens):
            entries.add("species", names=[species])
        if seizure.concealment:
            entries.add("concealment", names=[seizure.concealment])
    if record.alert is not None:
        alert = record.alert
        for route in alert.routes:
            entries.add(
                "route", route_from=route.from_country, route_to=route.to_country, hubs=route.via
            )
        for route in alert.routes:
            for hub in route.via:
                entries.add("hub", hubs=[hub])
        for species in dict.fromkeys(alert.species):
            entries.add("species", names=[species])
        if alert.concealment_method:
            entries.add("concealment", names=[alert.concealment_method])
    return entries.items
