"""The CloudEvents envelope and versioned event payloads."""

from __future__ import annotations

from typing import ClassVar

import pytest
from pydantic import ValidationError

from pangolin_core.contracts.envelope import CloudEvent, EventData


class PermitEndorsed(EventData):
    event_type: ClassVar[str] = "permits.permit.endorsed"
    version: ClassVar[int] = 2

    permit_number: str
    quantity: str


def test_an_event_payload_travels_in_a_cloud_event_and_back() -> None:
    data = PermitEndorsed(permit_number="KE/2026/E/000123", quantity="60")
    event = data.to_event(source="/permit-verify", subject="KE/2026/E/000123")

    wire = event.to_json()
    received = CloudEvent.from_json(wire)

    assert received == event
    assert received.specversion == "1.0"
    assert received.type == "permits.permit.endorsed"
    assert received.dataversion == "2"
    assert received.time.tzinfo is not None
    assert PermitEndorsed.from_event(received) == data


@pytest.mark.parametrize("bad_type", ["", "permits", "Permits.Permit.Endorsed", "a.b"])
def test_an_event_type_must_be_a_domain_entity_event_subject(bad_type: str) -> None:
    with pytest.raises(ValidationError):
        CloudEvent(source="/t", type=bad_type)


def test_an_envelope_without_its_required_attributes_is_refused() -> None:
    with pytest.raises(ValidationError):
        CloudEvent.from_json(b'{"specversion": "1.0", "type": "species.taxon.upserted"}')
