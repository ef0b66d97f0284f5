"""The events leave through the outbox relay to the INTEL stream, as CloudEvents carrying
their `Nats-Msg-Id`."""

from __future__ import annotations

import json
from typing import Any

import nats

from intel_support import KE_CUSTOMS, IntelShare, person
from pangolin_core.testing import eventually


async def test_a_new_record_reaches_the_intel_stream(intel: IntelShare, nats_url: str) -> None:
    created = await intel.create(KE_CUSTOMS, person())
    received: list[tuple[str, dict[str, Any], str | None]] = []
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()

        async def collect(msg: Any) -> None:
            event = json.loads(msg.data)
            if event["subject"] == created["id"]:
                received.append((msg.subject, event, (msg.headers or {}).get("Nats-Msg-Id")))
            await msg.ack()

        sub = await js.subscribe("intel.>", cb=collect, stream="INTEL")

        async def both_arrived() -> bool:
            return len(received) >= 2

        await eventually(both_arrived)
        await sub.unsubscribe()
    finally:
        await nc.close()
    by_subject = {subject: (event, msg_id) for subject, event, msg_id in received}
    assert set(by_subject) == {"intel.record.published", "intel.watchlist.changed"}
    watchlist, msg_id = by_subject["intel.watchlist.changed"]
    assert msg_id == watchlist["id"]
    assert watchlist["type"] == "intel.watchlist.changed"
    [entry] = watchlist["data"]["entries"]
    assert entry["kind"] == "trader"
    assert "Нгуен Ван Хунг" in entry["names"]
    published, _ = by_subject["intel.record.published"]
    assert published["data"]["originator"] == {"agency": "customs", "country": "KE"}
    assert published["data"]["confidence"] == 50
