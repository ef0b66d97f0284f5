"""The SQL clause and the pure predicate agree on every record shape, federation's
`distribution_country` and agency-level group members included (rows written directly)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlmodel import col, select

from intel_share.access.repository import visible_to
from intel_share.access.rules import GroupMember, RecordAccess, Viewer, is_visible
from intel_share.records.models import IntelRecord
from intel_share.sharing_groups.models import SharingGroup, SharingGroupMember
from intel_support import IntelShare

VIEWERS = [
    Viewer(country, agency)
    for country, agency in itertools.product(
        ("KE", "VN", "TH"), ("customs", "management_authority", "script-7")
    )
]
ORIGINATORS = [("KE", "customs"), ("VN", "customs"), ("TH", "script-7")]
GROUP_MEMBERS = [("VN", None), ("TH", "management_authority"), ("KE", "script-7")]


async def test_sql_and_predicate_agree_everywhere(intel: IntelShare) -> None:
    now = datetime.now(UTC)
    members = frozenset(GroupMember(c, a) for c, a in GROUP_MEMBERS)
    accesses: dict[str, RecordAccess] = {}
    ids: dict[tuple[str, str, str, str, str | None], str] = {}
    async with intel.db.session() as session:
        session.add(
            SharingGroup(
                id="g1",
                name="g1",
                owner_country="KE",
                owner_agency="customs",
                created_by="t",
                created_at=now,
            )
        )
        await session.flush()  # no ORM relationship tells the flush which table goes first
        session.add_all(
            SharingGroupMember(group_id="g1", country=c, agency=a) for c, a in GROUP_MEMBERS
        )
        shapes = itertools.product(
            ORIGINATORS,
            ("organisation", "country", "community", "sharing_group"),
            ("green", "amber+strict", "red"),
            (None, "TH"),  # a partner's `country` record received in Thailand
        )
        for n, ((country, agency), distribution, tlp, received_in) in enumerate(shapes):
            record_id = f"r{n:03d}"
            ids[country, agency, distribution, tlp, received_in] = record_id
            group = "g1" if distribution == "sharing_group" else None
            session.add(
                IntelRecord(
                    id=record_id,
                    type="alert",
                    title=record_id,
                    originator_agency=agency,
                    originator_country=country,
                    grading_scheme="admiralty",
                    grading_source="F",
                    grading_information="6",
                    confidence=50,
                    tlp=tlp,
                    distribution=distribution,
                    distribution_country=received_in,
                    sharing_group_id=group,
                    created_by="t",
                    created_at=now,
                    updated_at=now,
                )
            )
            accesses[record_id] = RecordAccess(
                originator_country=country,
                originator_agency=agency,
                tlp=tlp,
                distribution=distribution,
                distribution_country=received_in,
                sharing_group_members=members if group else frozenset(),
            )
    async with intel.db.session(write=False) as session:
        for viewer in VIEWERS:
            query = select(IntelRecord.id).where(visible_to(viewer)).order_by(col(IntelRecord.id))
            in_sql = set((await session.exec(query)).all())
            by_rule = {rid for rid, access in accesses.items() if is_visible(viewer, access)}
            assert in_sql == by_rule, viewer
    # a few facts, so that agreement is not agreement on nothing
    received = accesses[ids["KE", "customs", "country", "green", "TH"]]
    assert is_visible(Viewer("TH", "management_authority"), received)
    assert not is_visible(Viewer("KE", "management_authority"), received)
    grouped = accesses[ids["VN", "customs", "sharing_group", "amber+strict", None]]
    assert is_visible(Viewer("KE", "script-7"), grouped)  # a member agency
    assert not is_visible(Viewer("KE", "customs"), grouped)
    own = accesses[ids["TH", "script-7", "organisation", "green", None]]
    assert [v for v in VIEWERS if is_visible(v, own)] == [Viewer("TH", "script-7")]
