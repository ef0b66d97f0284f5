"""Storing records that arrive over TAXII: pushed by a partner or a local client, or pulled
from a partner. The rules (pure where they can be):

- TLP RED and organisation-only records are refused: they never leave their owner.
- Who may speak for a record: a partner instance (`intel:federate`) for the records of its
  own country only; a local client (`intel:write`) for its own organisation's records only.
- A record keeps its originator; one held here already keeps it too (another originator
  under the same id is refused).
- A newer version wins; the same or an older one is ignored (not an error). A record held
  revoked changes no more; one held under another type is refused.
- Content and grading are checked like a record created here (CITES code lists, grades of
  the scheme); a local record's sharing group must exist here.
- Distribution is downgraded on arrival when the record comes from another country: a
  `community` record is shared within this country only (`country`, `distribution_country`
  = this country), so it is never re-shared to other partners; a `sharing_group` record stays
  in its group when the group (same id) exists here and this country or agency is a member,
  else it is downgraded the same way. (Only "this country" is checked, not an agency: the
  group names who may read it here, the access rule applies it.)
- Revocations propagate as the revoked version, like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.records import grading
from intel_share.records import service as records
from intel_share.records.models import IntelRecord
from intel_share.records.schemas import RecordContent, RecordOut
from intel_share.sharing_groups.models import SharingGroup, SharingGroupMember
from pangolin_core.contracts.cites_codes import CodeLists
from pangolin_core.contracts.intel import DistributionLevel

Outcome = Literal["stored", "ignored", "refused"]


@dataclass(frozen=True)
class Sender:
    """Who hands the records over: a partner instance (its country) or a local organisation."""

    client_id: str
    country: str
    agency: str
    is_partner: bool


@dataclass(frozen=True)
class Received:
    record_id: str
    version: int
    outcome: Outcome
    message: str

    @property
    def ok(self) -> bool:
        return self.outcome != "refused"


def refusal(record: RecordOut, sender: Sender, home_country: str) -> str | None:
    """Why `sender` may not hand `record` to this instance (None: it may)."""
    if record.tlp == "red" or record.distribution.level == "organisation":
        return "TLP RED and organisation-only records never leave their owner"
    origin = record.originator
    if sender.is_partner:
        if origin.country != sender.country:
            return f"a partner in {sender.country} hands over its own country's records only"
        if origin.country == home_country:
            return "a partner cannot hand over this country's own records"
    elif (origin.country, origin.agency) != (sender.country, sender.agency):
        return "a client hands over its own organisation's records only"
    return None


def arrival_distribution(
    record: RecordOut, home_country: str, group_admits_home: bool
) -> tuple[DistributionLevel, str | None, str | None]:
    """(level, sharing_group_id, distribution_country) of a record stored here."""
    dist = record.distribution
    if record.originator.country == home_country:
        return dist.level, dist.sharing_group_id, None
    if dist.level == "sharing_group" and group_admits_home:
        return "sharing_group", dist.sharing_group_id, None
    return "country", None, home_country


async def _group_admits(session: AsyncSession, group_id: str | None, country: str) -> bool:
    if group_id is None:
        return False
    query = select(sa.func.count()).where(
        col(SharingGroupMember.group_id) == group_id, col(SharingGroupMember.country) == country
    )
    return bool((await session.exec(query)).one())


async def receive(
    *,
    session: AsyncSession,
    record: RecordOut,
    sender: Sender,
    home_country: str,
    codes: CodeLists,
) -> Received:
    """Store `record` (one version) by the rules above, in the caller's unit of work. Its
    content and grading are checked as a record created here is (CITES code lists, grades of
    its scheme): a partner's data is not trusted more than a local client's."""
    refused = refusal(record, sender, home_country)
    if refused is not None:
        return Received(record.id, record.version, "refused", refused)
    try:
        content = RecordContent.model_validate(
            record.model_dump(
                include={"title", "description", "seizure", "alert", "entity", "relationships"}
            )
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return Received(record.id, record.version, "refused", f"{where}: {first['msg']}")
    grade = record.grading
    errors = records.content_errors(content, codes) + grading.grading_errors(
        grade.scheme, grade.source, grade.information, record.handling_code
    )
    if errors:
        where, message = errors[0]
        return Received(record.id, record.version, "refused", f"{where}: {message}")
    held = await session.get(IntelRecord, record.id, with_for_update=True)
    origin = record.originator
    if held is not None:
        if (held.originator_country, held.originator_agency) != (origin.country, origin.agency):
            return Received(
                record.id, record.version, "refused", "held here with another originator"
            )
        if held.type != record.type:
            return Received(record.id, record.version, "refused", f"held here as {held.type}")
        if held.version >= record.version:
            return Received(
                record.id, record.version, "ignored", f"version {held.version} is held already"
            )
        if held.revoked:
            return Received(record.id, record.version, "refused", "revoked: it changes no more")
    group = record.distribution.sharing_group_id
    if (
        origin.country == home_country
        and group is not None
        and await session.get(SharingGroup, group) is None
    ):
        return Received(record.id, record.version, "refused", f"no sharing group {group} here")
    level, group_id, within = arrival_distribution(
        record,
        home_country,
        await _group_admits(session, record.distribution.sharing_group_id, home_country),
    )
    row = held or IntelRecord(
        id=record.id,
        type=record.type,
        title=record.title,
        originator_agency=origin.agency,
        originator_country=origin.country,
        grading_scheme=record.grading.scheme,
        grading_source=record.grading.source,
        grading_information=record.grading.information,
        confidence=0,
        tlp=record.tlp,
        distribution=level,
        created_by=sender.client_id,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )
    row.grading_scheme = record.grading.scheme
    row.grading_source = record.grading.source
    row.grading_information = record.grading.information
    row.confidence = grading.confidence(row.grading_scheme, row.grading_information)
    row.handling_code = record.handling_code
    row.tlp = record.tlp
    row.distribution = level
    row.sharing_group_id = group_id
    row.distribution_country = within
    row.review_on = record.review_on
    row.expires_on = record.expires_on
    row.version = record.version
    row.revoked = record.revoked
    row.revoked_at = record.revoked_at
    row.revoked_reason = record.revoked_reason
    row.updated_at = record.updated_at
    relationships = records.apply_content(row, content)
    await records.save_version(
        session=session, record=row, relationships=relationships, changed_by=sender.client_id
    )
    return Received(record.id, record.version, "stored", f"version {record.version} stored")
