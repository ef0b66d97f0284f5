"""Who may see an entity found by a match: the record's distribution rules, in memory.

PLACEHOLDER until intel-a's records are merged: `RecordAccess` is the shape an `EntitySource`
attaches to each entity (`IndexedEntity.access`), and the rules below restate the issue's
distribution levels. The database queries of the records API are the reference: when both
branches meet, these predicates must say exactly what those queries say (or be built from
intel-a's own rule function)."""

from __future__ import annotations

from dataclasses import dataclass

from pangolin_core.contracts.intel import DistributionLevel, Originator, Tlp
from pangolin_core.identity import Caller
from pangolin_core.matching import Visible


@dataclass(frozen=True, slots=True)
class RecordAccess:
    """What visibility depends on, for the record an entity belongs to."""

    originator: Originator
    distribution: DistributionLevel
    tlp: Tlp
    # A named sharing group's members: country codes and client (agency) ids.
    sharing_group: frozenset[str] = frozenset()


def _sees(caller: Caller, access: RecordAccess) -> bool:
    own_country = caller.country == access.originator.country
    own_organisation = own_country and caller.client_id == access.originator.agency
    if access.tlp == "red" or access.distribution == "organisation":
        return own_organisation
    if access.distribution == "country":
        return own_country
    if access.distribution == "sharing_group":
        return own_country or bool({caller.country, caller.client_id} & access.sharing_group)
    return True  # community: every client of this instance and its partners


def visible_to(caller: Caller) -> Visible:
    """The HTTP route: what this caller may read."""

    def visible(access: object) -> bool:
        return isinstance(access, RecordAccess) and _sees(caller, access)

    return visible


def visible_to_services(access: object) -> bool:
    """`intel.rpc.match`, called by this instance's own services (risk-score's watchlist
    hits, whose reasons reach single-window and customs clients): every record held here,
    except what never leaves its owner (TLP:RED, organisation-only)."""
    return (
        isinstance(access, RecordAccess)
        and access.tlp != "red"
        and access.distribution != "organisation"
    )
