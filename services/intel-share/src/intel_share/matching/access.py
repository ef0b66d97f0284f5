"""Who may see an entity found by a match: the records' access rule (`access.rules`), applied
to the `RecordAccess` each indexed entity carries, so a match shows exactly the entities whose
records the caller may read through the records API (the same rule as its SQL clause)."""

from __future__ import annotations

from intel_share.access.rules import RecordAccess, Viewer, is_visible
from pangolin_core.identity import Caller
from pangolin_core.matching import Visible


def visible_to(caller: Caller) -> Visible:
    """The HTTP route: what this caller's organisation may read."""
    viewer = Viewer.of(caller)

    def visible(access: object) -> bool:
        return isinstance(access, RecordAccess) and is_visible(viewer, access)

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
