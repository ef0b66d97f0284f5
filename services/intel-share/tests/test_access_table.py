"""The access rule, as a table: callers of different countries and roles against records of
every distribution and TLP. Exactly the allowed records are visible in lists, in counts and by
id (404 otherwise), and the SQL clause and the pure predicate `is_visible` agree on each."""

from __future__ import annotations

import itertools

from intel_share.access.rules import GroupMember, RecordAccess, Viewer, is_visible
from intel_support import (
    KE_CUSTOMS,
    KE_CUSTOMS_2,
    KE_MA,
    TH_CUSTOMS,
    TH_MA,
    VN_CUSTOMS,
    VN_MA,
    IntelCaller,
    IntelShare,
    alert,
)
from pangolin_core.identity import Caller

DISTRIBUTIONS = ("organisation", "country", "community", "sharing_group")
TLPS = ("clear", "green", "amber", "amber+strict", "red")
CALLERS = (KE_CUSTOMS, KE_CUSTOMS_2, KE_MA, VN_CUSTOMS, VN_MA, TH_CUSTOMS, TH_MA)
# The group: all of Viet Nam, and Thailand's Management Authority (not its customs).
GROUP = [{"country": "VN"}, {"country": "TH", "agency": "management_authority"}]

# The table, written out: which distributions of KE customs' records each caller sees when
# the TLP is not RED. A RED record is seen by its originator organisation only.
SEES_FROM_KE_CUSTOMS = {
    "ke-customs": set(DISTRIBUTIONS),
    "ke-customs-2": set(DISTRIBUTIONS),  # another client of the same organisation
    "ke-ma": {"country", "community"},
    "vn-customs": {"community", "sharing_group"},
    "vn-ma": {"community", "sharing_group"},
    "th-customs": {"community"},
    "th-ma": {"community", "sharing_group"},
}
# VN customs' records (every distribution, TLP green): the `country` level is Viet Nam's.
SEES_FROM_VN_CUSTOMS = {
    "ke-customs": {"community"},
    "ke-customs-2": {"community"},
    "ke-ma": {"community"},
    "vn-customs": set(DISTRIBUTIONS),
    "vn-ma": {"country", "community", "sharing_group"},
    "th-customs": {"community"},
    "th-ma": {"community", "sharing_group"},
}


def expected(caller: IntelCaller, originator: IntelCaller, distribution: str, tlp: str) -> bool:
    same_organisation = (caller.country, caller.role) == (originator.country, originator.role)
    if same_organisation:
        return True
    table = SEES_FROM_KE_CUSTOMS if originator is KE_CUSTOMS else SEES_FROM_VN_CUSTOMS
    return tlp != "red" and distribution in table[caller.name]


def viewer(caller: IntelCaller) -> Viewer:
    return Viewer.of(
        Caller(
            caller.client_id,
            caller.country,
            frozenset({caller.role} if caller.role else set()),
            frozenset(caller.scopes),
        )
    )


async def test_every_caller_sees_exactly_what_the_rule_allows(intel: IntelShare) -> None:
    made = await intel.post(
        KE_CUSTOMS, "/v1/intel/sharing-groups", {"name": "Ivory route", "members": GROUP}
    )
    assert made.status_code == 201, made.text
    group_id = made.json()["id"]
    members = frozenset(GroupMember(m["country"], m.get("agency")) for m in GROUP)

    # record id -> (originator, distribution, tlp)
    records: dict[str, tuple[IntelCaller, str, str]] = {}
    combinations = [(KE_CUSTOMS, d, t) for d, t in itertools.product(DISTRIBUTIONS, TLPS)]
    combinations += [(VN_CUSTOMS, d, "green") for d in DISTRIBUTIONS]
    for originator, distribution, tlp in combinations:
        level = {"level": distribution}
        if distribution == "sharing_group":
            level["sharing_group_id"] = group_id
        body = alert(title=f"{distribution} {tlp}", tlp=tlp, distribution=level)
        created = await intel.create(originator, body)
        records[created["id"]] = (originator, distribution, tlp)

    for caller in CALLERS:
        allowed = {
            record_id
            for record_id, (originator, distribution, tlp) in records.items()
            if expected(caller, originator, distribution, tlp)
        }
        # the pure predicate agrees with the table
        for record_id, (originator, distribution, tlp) in records.items():
            access = RecordAccess(
                originator_country=originator.country,
                originator_agency=originator.role or originator.client_id,
                tlp=tlp,
                distribution=distribution,
                sharing_group_members=members if distribution == "sharing_group" else frozenset(),
            )
            assert is_visible(viewer(caller), access) == (record_id in allowed), (
                caller.name,
                distribution,
                tlp,
            )
        # the list and its count (the SQL clause)
        page = await intel.get(caller, "/v1/intel/records", limit=500)
        assert page.status_code == 200, page.text
        listed = {record["id"] for record in page.json()["records"]}
        assert listed == allowed, caller.name
        assert page.json()["total"] == len(allowed), caller.name
        # one by one: 200 or 404, never 403
        for record_id in records:
            one = await intel.get(caller, f"/v1/intel/records/{record_id}")
            assert one.status_code == (200 if record_id in allowed else 404), (
                caller.name,
                records[record_id][1:],
            )
            if one.status_code == 404:
                assert one.json()["code"] == "record_not_found"

    # a page of a search counts the whole search, not the page
    small = await intel.get(TH_CUSTOMS, "/v1/intel/records", limit=2)
    assert len(small.json()["records"]) == 2
    assert small.json()["total"] == sum(expected(TH_CUSTOMS, *records[r]) for r in records)


async def test_an_unknown_record_and_an_invisible_one_answer_alike(intel: IntelShare) -> None:
    secret = await intel.create(KE_CUSTOMS, alert(tlp="red"))
    unknown = await intel.get(VN_CUSTOMS, "/v1/intel/records/3b8a6f8e-8a62-4b1e-9d0a-2f1c9d5e7a10")
    hidden = await intel.get(VN_CUSTOMS, f"/v1/intel/records/{secret['id']}")
    assert unknown.status_code == hidden.status_code == 404
    assert unknown.json()["title"] == hidden.json()["title"]
    # nor do the record's sightings, proposals or changes reveal it
    for path in ("/sightings", "/proposals"):
        response = await intel.get(VN_CUSTOMS, f"/v1/intel/records/{secret['id']}{path}")
        assert response.status_code == 404
    patched = await intel.patch(VN_CUSTOMS, f"/v1/intel/records/{secret['id']}", {"tlp": "green"})
    assert patched.status_code == 404
