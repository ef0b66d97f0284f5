"""`POST /v1/intel/match` and `intel.rpc.match` over a real nats-server: visibility per
caller, the services' view, bad input, the index following the record events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from httpx import Response

from intel_match_support import EntitiesByRecord, IntelShare, access, sharing_group
from intel_share.app import DEFINITION, create_app
from intel_share.matching.service import live_index
from intel_share.settings import IntelShareSettings
from pangolin_core import migrations
from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.contracts.intel import (
    MATCH_SUBJECT,
    IntelRecordRevoked,
    MatchQuery,
    MatchResult,
    Originator,
)
from pangolin_core.matching import IndexedEntity
from pangolin_core.messaging.connection import connect_nats
from pangolin_core.messaging.rpc import RpcClient, RpcRemoteError
from pangolin_core.telemetry import setup_telemetry
from pangolin_core.testing import eventually, identity_headers, running_app

CUSTOMS_KE = identity_headers("intel:read", client_id="customs-ke", country="KE")
CUSTOMS_VN = identity_headers("intel:read", client_id="customs-vn", country="VN")
PARTNER_TH = identity_headers("intel:read", client_id="partner-th", country="TH")
NO_INTEL = identity_headers("permits:read", client_id="customs-ke", country="KE")

HUNG = "Nguyễn Văn Hùng"


def hung(record_id: str, distribution: Any, tlp: Any = "green", **kwargs: Any) -> IndexedEntity:
    return IndexedEntity(
        entity_id=f"{record_id}:person:1",
        record_id=record_id,
        kind="person",
        names=[HUNG, "Нгуен Ван Хунг"],
        country="VN",
        birth_date=date(1975, 3, 4),
        access=access(distribution, tlp, **kwargs),
    )


async def loaded(intel: IntelShare, records: dict[str, list[IndexedEntity]]) -> None:
    intel.source.records.update(records)
    intel.source.ready.set()
    await live_index(intel.app.state.runtime).loaded.wait()


async def post_match(intel: IntelShare, headers: dict[str, str], **query: Any) -> Response:
    return await intel.client.post("/v1/intel/match", json=query, headers=headers)


async def matched_records(intel: IntelShare, headers: dict[str, str], name: str) -> list[str]:
    response = await post_match(intel, headers, name=name)
    assert response.status_code == 200, response.text
    return sorted(m["record_id"] for m in response.json()["matches"])


ONE_PER_DISTRIBUTION = {
    "r-org": [hung("r-org", "organisation")],
    "r-country": [hung("r-country", "country")],
    "r-community": [hung("r-community", "community")],
    "r-group": [hung("r-group", "sharing_group", group_id="g-vn")],
    "r-red": [hung("r-red", "community", "red")],
}


@pytest.mark.parametrize(
    ("caller", "visible"),
    [
        (CUSTOMS_KE, ["r-community", "r-country", "r-group", "r-org", "r-red"]),
        (
            # Another organisation of the originator's country: not a member of the group.
            identity_headers("intel:read", client_id="ma-ke", country="KE"),
            ["r-community", "r-country"],
        ),
        (CUSTOMS_VN, ["r-community", "r-group"]),
        (PARTNER_TH, ["r-community"]),
    ],
)
async def test_a_caller_finds_exactly_the_entities_of_records_it_may_see(
    intel_share: IntelShare, caller: dict[str, str], visible: list[str]
) -> None:
    await sharing_group(intel_share, "g-vn", "VN")
    await loaded(intel_share, ONE_PER_DISTRIBUTION)
    assert await matched_records(intel_share, caller, "Nguyen Van Hung") == visible


async def test_the_answer_explains_each_score(intel_share: IntelShare) -> None:
    await loaded(intel_share, {"r-1": [hung("r-1", "community")]})
    response = await post_match(
        intel_share,
        CUSTOMS_VN,
        name="Nguyen Van Hung",
        country="VN",
        birth_date="1980-01-01",
        threshold=0.5,
    )
    assert response.status_code == 200, response.text
    (found,) = response.json()["matches"]
    assert (found["entity_id"], found["name"], found["kind"]) == ("r-1:person:1", HUNG, "person")
    features = {f["name"]: f for f in found["features"]}
    assert features["name"]["score"] == 1.0
    assert features["country"]["score"] > 0
    assert features["birth_date"]["score"] < 0 and "1975-03-04" in features["birth_date"]["detail"]
    assert found["score"] == pytest.approx(sum(f["score"] for f in found["features"]))


async def test_hidden_records_do_not_crowd_out_visible_ones(intel_share: IntelShare) -> None:
    hidden = {f"r-h{n}": [hung(f"r-h{n}", "country")] for n in range(60)}
    await loaded(intel_share, {**hidden, "r-open": [hung("r-open", "community")]})
    response = await post_match(intel_share, CUSTOMS_VN, name="Nguyen Van Hung", limit=1)
    assert [m["record_id"] for m in response.json()["matches"]] == ["r-open"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x", "threshold": 1.5}, "threshold"),
        ({"name": "x", "limit": 0}, "limit"),
        ({"name": "x", "kind": "vessel"}, "kind"),
        ({"name": "x", "birth_date": "1975-13-40"}, "birth_date"),
        ({"name": "x", "country": "VNM"}, "country"),
    ],
)
async def test_bad_input_is_a_422_problem(
    intel_share: IntelShare, body: dict[str, Any], field: str
) -> None:
    await loaded(intel_share, {})
    response = await intel_share.client.post("/v1/intel/match", json=body, headers=CUSTOMS_KE)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"].endswith(field)


async def test_without_the_scope_or_the_gateway_the_call_is_refused(
    intel_share: IntelShare,
) -> None:
    await loaded(intel_share, {"r-1": [hung("r-1", "community")]})
    assert (await post_match(intel_share, NO_INTEL, name="Nguyen Van Hung")).status_code == 403
    assert (await intel_share.client.post("/v1/intel/match", json={"name": "x"})).status_code == 401


async def test_until_the_index_is_built_a_match_is_a_503_not_an_empty_answer(
    intel_share: IntelShare,
) -> None:
    intel_share.source.records["r-1"] = [hung("r-1", "community")]
    waiting = await post_match(intel_share, CUSTOMS_KE, name="Nguyen Van Hung")
    assert waiting.status_code == 503
    assert waiting.json()["code"] == "match_index_loading"
    assert (await intel_share.client.get("/ready")).json()["match_index"] == "loading"
    await loaded(intel_share, {})
    assert await matched_records(intel_share, CUSTOMS_KE, "Nguyen Van Hung") == ["r-1"]
    ready = (await intel_share.client.get("/ready")).json()
    assert (ready["match_index"], ready["match_index_entities"]) == ("ready", 1)


async def test_services_match_over_nats_without_red_or_organisation_only_records(
    intel_share: IntelShare, nats_url: str
) -> None:
    await loaded(intel_share, ONE_PER_DISTRIBUTION)
    nc = await connect_nats(nats_url, name="risk-score-test")
    try:
        rpc = RpcClient(nc, setup_telemetry("risk-score"))
        answer = await rpc.call(MATCH_SUBJECT, MatchQuery(name="Hung Nguyen Van"), MatchResult)
        with pytest.raises(RpcRemoteError) as refused:
            await rpc.call(MATCH_SUBJECT, MatchQuery.model_construct(name=""), MatchResult)
    finally:
        await nc.close()
    assert sorted(m.record_id for m in answer.matches) == ["r-community", "r-country", "r-group"]
    assert refused.value.status == 422


async def test_the_index_follows_published_and_revoked_records(
    intel_share: IntelShare, nats_url: str
) -> None:
    await loaded(intel_share, {})
    assert await matched_records(intel_share, CUSTOMS_KE, "Golden Ivory Trading Co., Ltd.") == []
    company = IndexedEntity(
        entity_id="r-9:company:1",
        record_id="r-9",
        kind="company",
        names=["GOLDEN IVORY TRADING COMPANY LIMITED"],
        access=access("community"),
    )
    intel_share.source.records["r-9"] = [company]
    nc = await connect_nats(nats_url, name="intel-share-relay-test")
    js = nc.jetstream()

    async def announce(event: CloudEvent) -> None:
        await js.publish(event.type, event.to_json(), headers={"Nats-Msg-Id": event.id})

    async def found() -> list[str]:
        return await matched_records(intel_share, CUSTOMS_KE, "Golden Ivory Trading Co., Ltd.")

    async def gone() -> bool:
        return not await found()

    try:
        # Any event naming the record is enough to reload it: here a watchlist change.
        await announce(
            CloudEvent(
                source="intel-share", type="intel.watchlist.changed", data={"record_id": "r-9"}
            )
        )
        assert await eventually(found) == ["r-9"]
        intel_share.source.records.pop("r-9")
        revoked = IntelRecordRevoked(
            record_id="r-9",
            record_version=2,
            originator=Originator(agency="customs-ke", country="KE"),
            revoked_at=datetime.now(UTC),
        )
        await announce(revoked.to_event(source="intel-share"))
        assert await eventually(gone)
        # An unreadable event is skipped; the subscription keeps working.
        await nc.publish("intel.record.published", b"not an event")
        intel_share.source.records["r-9"] = [company]
        await announce(
            CloudEvent(
                source="intel-share", type="intel.record.published", data={"record_id": "r-9"}
            )
        )
        assert await eventually(found) == ["r-9"]
    finally:
        await nc.close()


async def test_a_reload_catches_up_with_a_change_whose_event_was_missed(
    database_url: str, nats_url: str
) -> None:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    source = EntitiesByRecord()
    source.ready.set()
    settings = IntelShareSettings(
        database_url=database_url, nats_url=nats_url, match_index_reload_seconds=0.1
    )
    app = create_app(settings, entity_source=source)
    async with running_app(app) as client:
        intel = IntelShare(app, client, source)
        await live_index(app.state.runtime).loaded.wait()
        assert await matched_records(intel, CUSTOMS_KE, "Nguyen Van Hung") == []
        source.records["r-1"] = [hung("r-1", "community")]  # no event announces it

        async def found() -> list[str]:
            return await matched_records(intel, CUSTOMS_KE, "Nguyen Van Hung")

        assert await eventually(found) == ["r-1"]
