"""The restrictions held in memory for the status (pure, no I/O): every quota, suspension
and reservation, each as the value the rules decide on and as its contract, found by the
taxon it names (id, or rank and name) or, for a country-wide one, by none.

The same selection as `repository.restrictions_for` followed by the rules of
`restrictions.rules`; a status then costs dictionary lookups instead of SQL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

from pangolin_core.contracts import species as contract
from species_ref.restrictions import rules
from species_ref.sapi import Direction, Restriction

Out = TypeVar("Out", contract.ExportQuota, contract.TradeSuspension, contract.Reservation)


@dataclass(frozen=True, slots=True)
class Held(Generic[Out]):
    id: int
    rule: Restriction
    out: Out


@dataclass
class Shelf(Generic[Out]):
    """One kind of restriction, indexed by what it is placed on."""

    by_taxon_id: dict[int, list[Held[Out]]] = field(default_factory=dict)
    by_name: dict[tuple[str, str], list[Held[Out]]] = field(default_factory=dict)
    every_taxon: list[Held[Out]] = field(default_factory=list)

    @classmethod
    def of(cls, held: Iterable[Held[Out]]) -> Shelf[Out]:
        shelf: Shelf[Out] = cls()
        for item in held:
            rule = item.rule
            if rule.taxon_name is None:
                shelf.every_taxon.append(item)
                continue
            if rule.taxon_concept_id is not None:
                shelf.by_taxon_id.setdefault(rule.taxon_concept_id, []).append(item)
            shelf.by_name.setdefault((rule.rank or "", rule.taxon_name), []).append(item)
        return shelf

    def on(self, lineage: rules.Lineage) -> list[Held[Out]]:
        """Those placed on the taxon, a higher taxon or every taxon, by start date."""
        found = {x.id: x for x in self.every_taxon}
        found.update((x.id, x) for x in self.by_taxon_id.get(lineage.taxon_id, ()))
        for name in lineage.names():
            found.update((x.id, x) for x in self.by_name.get(name, ()))
        return sorted(found.values(), key=lambda x: (x.rule.start_date, x.id))


@dataclass(frozen=True)
class Binding:
    quotas: list[contract.ExportQuota]
    suspensions: list[contract.TradeSuspension]
    reservations: list[contract.Reservation]


@dataclass(frozen=True)
class RestrictionShelves:
    quotas: Shelf[contract.ExportQuota]
    suspensions: Shelf[contract.TradeSuspension]
    reservations: Shelf[contract.Reservation]

    def binding(
        self, *, lineage: rules.Lineage, query: contract.StatusQuery, as_of: date
    ) -> Binding:
        """What binds the specimen of a status query: quotas and suspensions of the query's
        country and direction covering its term, source and purpose; reservations of any
        party (a quota binds only an export)."""
        direction = Direction(query.direction)

        def binds(rule: Restriction, direction: Direction) -> bool:
            return bool(
                rules.applicable(
                    [rule],
                    taxon=lineage,
                    as_of=as_of,
                    country=query.country,
                    direction=direction,
                    term=query.term,
                    source=query.source,
                    purpose=query.purpose,
                )
            )

        quotas = (
            [x.out for x in self.quotas.on(lineage) if binds(x.rule, Direction.EXPORT)]
            if direction is Direction.EXPORT
            else []
        )
        return Binding(
            quotas=quotas,
            suspensions=[x.out for x in self.suspensions.on(lineage) if binds(x.rule, direction)],
            reservations=[
                x.out for x in self.reservations.on(lineage) if rules.in_force(x.rule, as_of)
            ],
        )
