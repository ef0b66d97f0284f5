"""Who may see an entity found by a match: the records' access rule (`access.rules`), applied
to the `RecordAccess` each indexed entity carries, so a match shows exactly the entities whose
records the caller may read through the records API (the rule its SQL clause states).

The index keeps a record's access for up to its reload interval, but a sharing group's members
change without a new version of the records distributed to it: so the index keeps the group's
id, not its members, and each match reads which groups admit the caller now
(`sharing_groups.repository.groups_admitting`). A member removed from a group stops matching
the group's records at once."""

from __future__ import annotations

from dataclasses import replace

from intel_share.access.rules import GroupMember, RecordAccess, Viewer, is_visible
from pangolin_core.matching import Visible


def visible_to(viewer: Viewer, *, groups: frozenset[str]) -> Visible:
    """The HTTP route: what `viewer` may read; `groups`: the ids of the sharing groups that
    admit it now."""
    admitted = frozenset({GroupMember(country=viewer.country, agency=viewer.agency)})

    def visible(access: object) -> bool:
        if not isinstance(access, RecordAccess):
            return False
        if access.distribution == "sharing_group":
            members = admitted if access.sharing_group_id in groups else frozenset()
            access = replace(access, sharing_group_members=members)
        return is_visible(viewer, access)

    return visible


def visible_to_services(access: object) -> bool:
    """`intel.rpc.match`, called by this instance's own services (risk-score's watchlist
    hits, whose reasons reach single-window and customs clients): every record held here,
    except what never leaves its originator organisation (TLP:RED, organisation-only)."""
    return (
        isinstance(access, RecordAccess)
        and access.tlp != "red"
        and access.distribution != "organisation"
    )
