"""The access rule of intelligence records, as a pure predicate.

A caller's organisation is (country, agency). The identity token carries a client id, a
country, roles and scopes but no organisation, so the agency is the caller's role that deals
in intelligence (`customs`, `management_authority`, `partner`, `admin`, first in that order):
every client of Kenya's customs risk unit is the organisation ("KE", "customs"), whichever
client it calls with. A token without any of these roles (a test client, a script) is its
own organisation: the agency is its client id.

A caller (holding `intel:read`) sees a record when it is the originator organisation, or when
all of these hold:
- the TLP is not RED and the distribution is not `organisation` (those never leave their
  originator organisation);
- the distribution admits it: `country` and the caller's country is the record's
  `distribution_country` (the originator's country unless a partner's record arrived
  downgraded); `community` (every partner with `intel:read`); `sharing_group` and the caller's
  country, or its agency within its country, is a member of the group.

Revoked records stay visible under the same rule, marked `revoked` (a partner must learn of
the revocation); searches leave them out unless asked. The rule is the same in SQL
(`access.repository.visible_to`); `tests/test_access_table.py` checks both agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pangolin_core.contracts.roles import Role
from pangolin_core.identity import Caller

# Roles in the order that names a caller's agency.
AGENCY_ROLES = (Role.CUSTOMS, Role.MANAGEMENT_AUTHORITY, Role.PARTNER, Role.ADMIN)


def agency_of(caller: Caller) -> str:
    for role in AGENCY_ROLES:
        if caller.has_role(role):
            return role.value
    return caller.client_id


@dataclass(frozen=True)
class Viewer:
    """An organisation reading intelligence."""

    country: str
    agency: str

    @classmethod
    def of(cls, caller: Caller) -> Viewer:
        return cls(country=caller.country, agency=agency_of(caller))


@dataclass(frozen=True)
class GroupMember:
    """A whole country (`agency` None) or one agency of a country."""

    country: str
    agency: str | None = None

    def admits(self, viewer: Viewer) -> bool:
        return self.country == viewer.country and self.agency in (None, viewer.agency)


@dataclass(frozen=True)
class RecordAccess:
    """What the rule reads of a record (the matcher's index and the TAXII server keep this)."""

    originator_country: str
    originator_agency: str
    tlp: str
    distribution: str
    distribution_country: str | None = None
    sharing_group_members: frozenset[GroupMember] = field(default_factory=frozenset)
    # Which group `sharing_group_members` are of: a holder that keeps the access for long (the
    # match index) reads the group's members afresh rather than keep them.
    sharing_group_id: str | None = None


def is_originator(viewer: Viewer, record: RecordAccess) -> bool:
    return (viewer.country, viewer.agency) == (record.originator_country, record.originator_agency)


def is_visible(viewer: Viewer, record: RecordAccess) -> bool:
    if is_originator(viewer, record):
        return True
    if record.tlp == "red":
        return False
    match record.distribution:
        case "country":
            shared_within = record.distribution_country or record.originator_country
            return viewer.country == shared_within
        case "community":
            return True
        case "sharing_group":
            return any(member.admits(viewer) for member in record.sharing_group_members)
        case _:  # organisation, or a level this code does not know: never shared
            return False
