"""The access rule (`access.rules`) as a SQL clause: every query of records carries it, so
lists, counts and reads by id never see what the caller may not."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from intel_share.access.rules import Viewer
from intel_share.records.models import IntelRecord
from intel_share.sharing_groups.models import SharingGroupMember


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """The WHERE clause: the records `viewer` may see (`rules.is_visible`, in SQL)."""
    record = IntelRecord
    member = SharingGroupMember
    in_group = (
        sa.select(sa.literal(1))
        .where(
            col(member.group_id) == col(record.sharing_group_id),
            col(member.country) == viewer.country,
            sa.or_(col(member.agency).is_(None), col(member.agency) == viewer.agency),
        )
        .exists()
    )
    shared_within = sa.func.coalesce(
        col(record.distribution_country), col(record.originator_country)
    )
    return sa.or_(
        sa.and_(
            col(record.originator_country) == viewer.country,
            col(record.originator_agency) == viewer.agency,
        ),
        sa.and_(
            col(record.tlp) != "red",
            sa.or_(
                sa.and_(col(record.distribution) == "country", shared_within == viewer.country),
                col(record.distribution) == "community",
                sa.and_(col(record.distribution) == "sharing_group", in_group),
            ),
        ),
    )


def originated_by(viewer: Viewer) -> ColumnElement[bool]:
    return sa.and_(
        col(IntelRecord.originator_country) == viewer.country,
        col(IntelRecord.originator_agency) == viewer.agency,
    )
