"""The STIX objects every Pangolin bundle may refer to: the TLP 2.0 marking-definitions (their
official ids, from the OASIS TLP 2.0 extension), Pangolin's own identity and the
extension-definition of `x-pangolin-seizure` and of the Pangolin record properties.

stix2 3.0.2 ships only TLP 1.0 (`TLP_WHITE`...), so TLP 2.0 is defined here, as published.
"""

from __future__ import annotations

from typing import Any

from pangolin_core.contracts.intel import Tlp

# The OASIS TLP 2.0 extension-definition and its five marking-definitions (cti-stix-common-
# objects, extension-definition-specifications/tlp-2.0).
TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_MARKING_IDS: dict[Tlp, str] = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_OF_MARKING: dict[str, Tlp] = {v: k for k, v in TLP2_MARKING_IDS.items()}
_TLP2_CREATED = "2022-10-01T00:00:00.000Z"

# Pangolin's identity (the creator of its extension-definition) and the extension-definition
# itself: stable ids, never regenerated, so every instance and partner agrees on them.
PANGOLIN_IDENTITY_ID = "identity--6f4b3c2a-9d1e-4c8f-8a57-2b9e0c4d7f31"
# Two extension-definitions: the new SDO, and the record properties (a property extension on
# every object of a record). stix2 binds one extension type to one extension id.
SEIZURE_EXTENSION_ID = "extension-definition--5e0b7c3f-1d24-4a9b-8f6e-0c3a9d2b7e15"
PANGOLIN_EXTENSION_ID = "extension-definition--a4c9e1d2-3b7f-4e58-9c06-7d2f1b8e5a94"
SEIZURE_TYPE = "x-pangolin-seizure"
EXTENSION_VERSION = "1.0.0"
SCHEMA_BASE = "https://pangolin.example/stix/extensions"
# Its JSON schema ships beside this module (`x-pangolin-seizure.schema.json`, `$id` = this).
SEIZURE_SCHEMA = f"{SCHEMA_BASE}/x-pangolin-seizure/1.0.0/schema.json"
RECORD_PROPERTIES_SCHEMA = f"{SCHEMA_BASE}/pangolin-record/1.0.0/schema.json"
_PANGOLIN_CREATED = "2026-12-01T00:00:00.000Z"


def tlp_marking_definition(tlp: Tlp) -> dict[str, Any]:
    """The TLP 2.0 marking-definition of `tlp`, exactly as OASIS publishes it."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_MARKING_IDS[tlp],
        "created": _TLP2_CREATED,
        "name": f"TLP:{tlp.upper()}",
        "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": tlp}},
    }


def pangolin_identity() -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": PANGOLIN_IDENTITY_ID,
        "created": _PANGOLIN_CREATED,
        "modified": _PANGOLIN_CREATED,
        "name": "Pangolin (CITES customs risk management)",
        "identity_class": "system",
    }


def seizure_extension_definition() -> dict[str, Any]:
    """The new SDO `x-pangolin-seizure`: the CITES illegal-trade report's fields."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": SEIZURE_EXTENSION_ID,
        "created_by_ref": PANGOLIN_IDENTITY_ID,
        "created": _PANGOLIN_CREATED,
        "modified": _PANGOLIN_CREATED,
        "name": "x-pangolin-seizure",
        "description": (
            "A wildlife seizure as reported in the CITES annual illegal trade report: date,"
            " place, agency, detection method, items (species, term, quantity, unit, value),"
            " concealment, transport mode, countries, offenders, legal outcome, disposal."
        ),
        "schema": SEIZURE_SCHEMA,
        "version": EXTENSION_VERSION,
        "extension_types": ["new-sdo"],
    }


def record_extension_definition() -> dict[str, Any]:
    """The record properties STIX has no place for, on every object of a record."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": PANGOLIN_EXTENSION_ID,
        "created_by_ref": PANGOLIN_IDENTITY_ID,
        "created": _PANGOLIN_CREATED,
        "modified": _PANGOLIN_CREATED,
        "name": "Pangolin record properties",
        "description": (
            "A Pangolin record's id, type and version, its grading (scheme and code),"
            " handling code, distribution and sharing group, originator, review and expiry"
            " dates, and the details STIX has no property for (aliases, identifiers...)."
        ),
        "schema": RECORD_PROPERTIES_SCHEMA,
        "version": EXTENSION_VERSION,
        "extension_types": ["property-extension"],
    }


def common_objects() -> list[dict[str, Any]]:
    """The objects a bundle of Pangolin records needs besides the records' own."""
    return [pangolin_identity(), seizure_extension_definition(), record_extension_definition()] + [
        tlp_marking_definition(t) for t in TLP2_MARKING_IDS
    ]
