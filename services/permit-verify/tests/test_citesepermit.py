"""CITESEPermit XML in and out: the real EPIX messages (v2 CITESEPermit, v1 CBFShip) import
through `POST /v1/permits` as their issuing country's MA, and `GET /v1/permits/{id}` with
`Accept: application/xml` gives every box of box_to_xpath.md back; hostile or broken XML is
a 422 naming the XPath; content negotiation.

The box comparison normalises only what the brief allows, and nothing else:
1. whitespace: leading and trailing space dropped, inner runs of whitespace (line breaks in
   box 5's special conditions) one space;
2. date-time formats: `2014-01-06T12:03:52.00+01:00` and `...52.000+01:00` are one instant
   (compared in UTC); a date alone compares by its day;
3. namespace prefixes and qualification: elements are matched by local name (the sample's
   `CITESEPermit` is unqualified inside a SOAP envelope, ours is `rsm:CITESEPermit` in the v2
   namespace: that the export uses the v2 namespaces is asserted separately);
4. an empty element equals an absent one (the sample is a filled-in template: `<ID></ID>`).
Attributes are not compared, except the quantity's `unitCode` (box 11).
"""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from pangolin_core import migrations
from pangolin_core.testing import identity_headers, running_app
from permit_support import CUSTOMS, MA_KE, SW_KE, PermitFactory, Registry
from permit_verify.app import DEFINITION, create_app
from permit_verify.epix.citesepermit import (
    RAM_NS,
    V2_NS,
    InvalidCitesEPermit,
    from_citesepermit,
    to_citesepermit,
    xpath_of,
)
from permit_verify.media import negotiate
from permit_verify.permits.schemas import PermitItemOut, PermitOut, PermitStatus, PermitType
from permit_verify.settings import PermitVerifySettings

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "permits"
V2_SAMPLE = DATA / "epix_v2_CITESEPermit.xml"
V1_SAMPLE = DATA / "epix_v1_CBFShip.xml"
MA_XA = identity_headers("permits:issue", client_id="ma-xa", country="XA")

# ------------------------------------------------------------- boxes, as box_to_xpath.md has them

H = "HeaderExchangedDocument"
C = "SpecifiedSupplyChainConsignment"
ADDRESS = ("StreetName", "CityName", "PostcodeCode", "CountryID", "CountryName")
PARTY = ("ID", "Name", *(f"PostalTradeAddress/{n}" for n in ADDRESS))
SIGNATORY = ("ActualDateTime", "ID", "Statement", "ProviderTradeParty/Name")
HEADER_BOXES: dict[str, tuple[str, ...]] = {
    "1": (f"{H}/ID", f"{H}/TypeCode", f"{H}/Name", f"{H}/CopyIndicator"),
    "2": tuple(
        f"{H}/{p}EffectiveSpecifiedPeriod/{e}"
        for p in ("", "ReferenceReferencedDocument/")
        for e in ("StartDateTime", "EndDateTime")
    ),
    "3": tuple(f"{C}/ConsigneeTradeParty/{p}" for p in PARTY),
    "4": (
        *(f"{C}/ConsignorTradeParty/{p}" for p in PARTY),
        *(f"{H}/SecondSignatoryDocumentAuthentication/{p}" for p in SIGNATORY),
    ),
    "5": (f"{H}/Information",),
    "5a": (f"{H}/PurposeCode", f"{H}/Purpose"),
    "5b": (f"{H}/FirstSignatoryDocumentAuthentication/ID",),
    "6": tuple(
        f"{H}/FirstSignatoryDocumentAuthentication/ProviderTradeParty/{p}" for p in PARTY[1:]
    ),
    "13": (
        f"{H}/IssueLogisticsLocation/Name",
        f"{H}/IssueDateTime",
        *(f"{H}/ThirdSignatoryDocumentAuthentication/{p}" for p in SIGNATORY),
    ),
    "14": (
        f"{C}/ExaminationTransportEvent/ActualOccurrenceDateTime",
        f"{C}/ExaminationTransportEvent/OccurrenceLogisticsLocation/ID",
        f"{C}/ExaminationTransportEvent/CertifyingTradeParty/Name",
        *(f"{H}/FourthSignatoryDocumentAuthentication/{p}" for p in SIGNATORY),
    ),
    "15": (
        f"{C}/TransportContractReferencedDocument/ID",
        f"{C}/TransportContractReferencedDocument/TypeCode",
    ),
}
PRODUCT = "IncludedSupplyChainTradeLineItem/SpecifiedTradeProduct"
PROCEDURE = "ApplicableCrossBorderRegulatoryProcedure"
LINE = "IncludedSupplyChainTradeLineItem"
MARKS = "PhysicalLogisticsShippingMarks"
QUANTITY = "TransportLogisticsPackage/ItemQuantity"
ITEM_BOXES: dict[str, tuple[str, ...]] = {
    "7/8": (f"{PRODUCT}/ScientificName", f"{PRODUCT}/CommonName"),
    "9": (f"{PRODUCT}/Description", f"{PRODUCT}/TypeCode", f"{MARKS}/Marking"),
    "10": (f"{LINE}/TypeCode", f"{LINE}/TypeExtensionCode"),
    "11": (QUANTITY, f"{QUANTITY}/@unitCode"),
    "11a": (f"{PROCEDURE}/UsedToDateQuotaQuantity", f"{PROCEDURE}/AnnualQuotaQuantity"),
    "12": ("OriginTradeCountry/ID", "OriginTradeCountry/Name", "861/ID", "861/IssueDateTime"),
    "12a": ("ExportTradeCountry/ID", "ExportTradeCountry/Name", "811/ID", "811/IssueDateTime"),
    "12b": (
        f"{PROCEDURE}/CategoryCode",
        f"{PROCEDURE}/AcquisitionDateTime",
        f"{PROCEDURE}/PreviousReferencedDocument/ID",
        f"{PROCEDURE}/PreviousReferencedDocument/Name",
    ),
    "14": ("ExaminationTransportEvent/UnitQuantity",),
}  # fmt: skip


def _normalised(value: str) -> str | None:
    text = " ".join(value.split())
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T.*", text):
        return datetime.fromisoformat(text).astimezone(UTC).isoformat()
    return text


def _children(elements: list[etree._Element], step: str) -> list[etree._Element]:
    return [
        c
        for e in elements
        for c in e
        if isinstance(c.tag, str) and etree.QName(c).localname == step
    ]


def _value(start: etree._Element, path: str) -> str | None:
    steps = path.split("/")
    elements = [start]
    if steps[0] in ("861", "811"):  # AssociatedReferencedDocument[TypeCode=...]
        elements = [
            d
            for d in _children(elements, "AssociatedReferencedDocument")
            if any((t.text or "").strip() == steps[0] for t in _children([d], "TypeCode"))
        ]
        steps = steps[1:]
    attribute = steps.pop()[1:] if steps[-1].startswith("@") else None
    for step in steps:
        elements = _children(elements, step)
    raw = [(e.get(attribute) if attribute else e.text) or "" for e in elements]
    values = [v for v in (_normalised(r) for r in raw) if v is not None]
    return " | ".join(values) if values else None


def message_root(xml: bytes) -> etree._Element:
    document = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    return next(
        e
        for e in document.iter()
        if isinstance(e.tag, str) and etree.QName(e).localname in ("CITESEPermit", "CBFShip")
    )


def boxes(xml: bytes) -> dict[str, str | None]:
    """Every box's values by `box: xpath` (items by their block letter), normalised."""
    root = message_root(xml)
    out = {
        f"{box}: {path}": _value(root, path)
        for box, paths in HEADER_BOXES.items()
        for path in paths
    }
    for item in _children(_children([root], C), "IncludedSupplyChainConsignmentItem"):
        block = _value(item, "ID")
        for box, paths in ITEM_BOXES.items():
            for path in paths:
                out[f"{box}: item {block}: {path}"] = _value(item, path)
    return out


# ------------------------------------------------------------------------------ pure mappings


def test_the_v2_sample_maps_to_the_json_permit() -> None:
    imported = from_citesepermit(V2_SAMPLE.read_bytes())
    permit = imported.permit.model_dump(mode="json")
    assert imported.version == 2
    assert {k: permit[k] for k in ("number", "type", "issuing_country", "issuing_authority")} == {
        "number": "XA000000",
        "type": "re_export",
        "issuing_country": "XA",
        "issuing_authority": "Authority name",
    }
    assert (permit["issued_on"], permit["valid_until"]) == ("2014-01-06", "2014-07-05")
    assert permit["security_stamp"] is None and permit["purpose"] == "T"
    assert permit["special_conditions"].startswith("For live animals, this permit is only valid")
    assert permit["exporter"] == {
        "name": "Consignor name",
        "address": "Street, 00000 City, Neverland",
        "country": "XA",
    }
    assert permit["importer"]["country"] == "XB"
    assert permit["items"] == [
        {
            "item_id": "A",
            "species": "Alligator mississippiensis",
            "description": "watchstraps",
            "term": "LPS",
            "appendix": "II",
            "source": "W",
            "quantity": "5",
            "unit": None,
            "origin_country": "XC",
            "origin_permit": "XC12345",
            "reexport_certificate": "XA12345",
        },
        {
            "item_id": "B",
            "species": "Crocodylus siamensis",
            "description": "watchstraps",
            "term": "LPS",
            "appendix": "I",
            "source": "D",
            "quantity": "10",
            "unit": None,
            "origin_country": "TH",
            "origin_permit": None,
            "reexport_certificate": "FR1202501030-R",
        },
    ]
    kept = imported.details
    assert kept.get("items", "A", "common_name") == "American Alligator"
    assert kept.get("items", "B", "reexport_country") == "FR"
    assert kept.get("items", "B", "origin_permit_date") == "2007-07-09T00:00:00.000+02:00"
    assert kept.get("issue_date_time") == "2014-01-06T12:03:52.00+01:00"


def test_the_v1_cbfship_sample_is_the_same_permit() -> None:
    v2 = from_citesepermit(V2_SAMPLE.read_bytes())
    v1 = from_citesepermit(V1_SAMPLE.read_bytes())
    assert v1.version == 1
    assert v1.permit == v2.permit
    # v1 nests the address's country one deeper; its names come through the same.
    assert v1.details.get("importer", "address_lines") == v2.details.get(
        "importer", "address_lines"
    )


def stored(imported_permit: Any, **changes: Any) -> PermitOut:
    """A registry answer for a `PermitIn` (what the API returns after issuing it)."""
    data = imported_permit.model_dump()
    items = [
        PermitItemOut(**item, taxon_id=None, balance=item["quantity"]) for item in data.pop("items")
    ]
    return PermitOut(
        **{**data, **changes},
        id="00000000-0000-0000-0000-000000000001",
        status=PermitStatus.VALID,
        items=items,
        signature="x.y.z",
        signing_key_id="k",
        version=1,
        created_at=datetime.now(UTC),
    )


def test_export_gives_every_box_of_the_sample_back() -> None:
    original = V2_SAMPLE.read_bytes()
    imported = from_citesepermit(original)
    exported = to_citesepermit(stored(imported.permit), imported.details.values)
    assert boxes(exported) == boxes(original)
    # Re-importing the export gives the same permit and details.
    again = from_citesepermit(exported)
    assert again.permit == imported.permit
    assert again.details.get("items") == imported.details.get("items")


def test_a_json_permit_exports_with_un_ece_units_and_an_o_document_name() -> None:
    imported = from_citesepermit(V2_SAMPLE.read_bytes())
    items = [
        imported.permit.items[0].model_copy(update={"unit": "KIL", "quantity": Decimal("12.5")}),
        imported.permit.items[1],
    ]
    permit = imported.permit.model_copy(
        update={"type": PermitType.MUSICAL_INSTRUMENT, "items": items}
    )
    exported = to_citesepermit(stored(permit))  # issued as JSON: no details
    root = message_root(exported)
    assert etree.QName(root).namespace == V2_NS
    assert root.nsmap == {"rsm": V2_NS, "ram": RAM_NS}
    values = boxes(exported)
    assert values[f"1: {H}/TypeCode"] == "O"
    assert values[f"1: {H}/Name"] == "Musical-instrument certificate"
    assert values["11: item A: TransportLogisticsPackage/ItemQuantity"] == "12.5"
    assert values["11: item A: TransportLogisticsPackage/ItemQuantity/@unitCode"] == "KGM"
    assert values["11: item B: TransportLogisticsPackage/ItemQuantity/@unitCode"] == "PCS"
    assert values[f"2: {H}/EffectiveSpecifiedPeriod/EndDateTime"] == "2014-07-05"
    assert values[f"3: {C}/ConsigneeTradeParty/PostalTradeAddress/StreetName"] == (
        "Street, 00000 City, Wonderland"
    )
    back = from_citesepermit(exported)
    assert back.permit.type == "musical_instrument"
    assert (back.permit.items[0].unit, back.permit.items[0].quantity) == ("KIL", Decimal("12.5"))
    assert back.permit.items[1].unit is None


def test_un_ece_unit_codes_map_to_cites_units_and_come_back_as_sent() -> None:
    sample = V2_SAMPLE.read_bytes().replace(b'unitCode="PCS">5<', b'unitCode="KGM">5.25<', 1)
    imported = from_citesepermit(sample)
    assert (imported.permit.items[0].unit, imported.permit.items[0].quantity) == (
        "KIL",
        Decimal("5.25"),
    )
    exported = to_citesepermit(stored(imported.permit), imported.details.values)
    assert boxes(exported)["11: item A: TransportLogisticsPackage/ItemQuantity/@unitCode"] == "KGM"
    cites_code = V2_SAMPLE.read_bytes().replace(b'unitCode="PCS">5<', b'unitCode="KIL">5<', 1)
    imported = from_citesepermit(cites_code)
    exported = to_citesepermit(stored(imported.permit), imported.details.values)
    assert imported.permit.items[0].unit == "KIL"
    assert boxes(exported)["11: item A: TransportLogisticsPackage/ItemQuantity/@unitCode"] == "KIL"


def _refusal(xml: bytes) -> dict[str, Any]:
    with pytest.raises(InvalidCitesEPermit) as caught:
        from_citesepermit(xml)
    assert caught.value.status == 422
    return caught.value.errors[0]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<CITESEPermit xmlns="urn:un:unece:uncefact:data:standard:CITESEPermit:2">&lol3;</CITESEPermit>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/steal">]>
<CITESEPermit xmlns="urn:un:unece:uncefact:data:standard:CITESEPermit:2">&xxe;</CITESEPermit>"""


@pytest.mark.parametrize(
    ("xml", "field", "kind"),
    [
        pytest.param(BILLION_LAUGHS, "/", "xml_dtd", id="billion-laughs"),
        pytest.param(EXTERNAL_ENTITY, "/", "xml_dtd", id="external-entity"),
        pytest.param(
            BILLION_LAUGHS.decode()
            .replace('"1.0"?>', '"1.0" encoding="UTF-16"?>')
            .encode("utf-16"),
            "/",
            "xml_dtd",
            id="dtd-in-utf-16",
        ),
        pytest.param(b"<CITESEPermit><unclosed></CITESEPermit>", "/", "xml_syntax", id="malformed"),
        pytest.param(b"", "/", "xml_syntax", id="empty"),
        pytest.param(b"<Invoice xmlns='urn:x'/>", "/Invoice", "xml_root", id="wrong-root"),
        pytest.param(
            b"<CITESEPermit xmlns='urn:un:unece:uncefact:data:standard:CITESEPermit:1'/>",
            "/CITESEPermit",
            "xml_namespace",
            id="wrong-namespace",
        ),
        pytest.param(
            b"<CITESEPermit xmlns='urn:un:unece:uncefact:data:standard:CITESEPermit:2'/>",
            "/CITESEPermit/HeaderExchangedDocument",
            "missing",
            id="no-header",
        ),
    ],
)
def test_hostile_or_broken_xml_is_refused_naming_where(xml: bytes, field: str, kind: str) -> None:
    error = _refusal(xml)
    assert (error["field"], error["type"]) == (field, kind)


def test_an_external_entity_is_never_fetched_even_past_the_dtd_check() -> None:
    """UTF-16 hides `<!DOCTYPE` from the byte check: the parser then sees the DTD, and with
    no network and no entity resolution it fetches nothing; the DTD is refused after."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        hostile = EXTERNAL_ENTITY.replace(b"127.0.0.1:9", f"127.0.0.1:{port}".encode())
        utf16 = hostile.decode().replace('"1.0"?>', '"1.0" encoding="UTF-16"?>').encode("utf-16")
        assert b"<!DOCTYPE" not in utf16
        assert _refusal(utf16)["type"] == "xml_dtd"
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody came


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (
            b'<urn1:ScientificName languageID="EN">Alligator mississippiensis<',
            b'<urn1:ScientificName languageID="EN"><',
            "/CITESEPermit/SpecifiedSupplyChainConsignment/IncludedSupplyChainConsignmentItem[1]"
            "/IncludedSupplyChainTradeLineItem/SpecifiedTradeProduct/ScientificName",
        ),
        (
            b"<urn1:PurposeCode>T</urn1:PurposeCode>",
            b"<urn1:PurposeCode> </urn1:PurposeCode>",
            "/CITESEPermit/HeaderExchangedDocument/PurposeCode",
        ),
        (
            b'listAgencyID="6">R</urn1:TypeCode>',
            b'listAgencyID="6">Q</urn1:TypeCode>',
            "/CITESEPermit/HeaderExchangedDocument/TypeCode",
        ),
        (
            b'unitCode="PCS">5<',
            b'unitCode="PCS">five<',
            "/CITESEPermit/SpecifiedSupplyChainConsignment/IncludedSupplyChainConsignmentItem[1]"
            "/TransportLogisticsPackage/ItemQuantity",
        ),
        (
            b'unitCode="PCS">5<',
            b'unitCode="PCS">-5<',
            "/CITESEPermit/SpecifiedSupplyChainConsignment/IncludedSupplyChainConsignmentItem[1]"
            "/TransportLogisticsPackage/ItemQuantity",
        ),
        (
            b"<urn1:IssueDateTime>2014-01-06T12:03:52.00+01:00</urn1:IssueDateTime>",
            b"<urn1:IssueDateTime>6 Jan 2014</urn1:IssueDateTime>",
            "/CITESEPermit/HeaderExchangedDocument/IssueDateTime",
        ),
    ],
    ids=[
        "no-species",
        "blank-purpose",
        "unknown-type",
        "quantity-not-a-number",
        "negative-quantity",
        "bad-date",
    ],
)
def test_a_missing_or_wrong_box_is_refused_with_its_xpath(
    old: bytes, new: bytes, field: str
) -> None:
    sample = V2_SAMPLE.read_bytes()
    assert old in sample
    assert _refusal(sample.replace(old, new, 1))["field"] == field


def test_an_o_document_is_the_certificate_its_name_says_and_keeps_its_own_dates() -> None:
    sample = (
        V2_SAMPLE.read_bytes()
        .replace(b'listAgencyID="6">R</urn1:TypeCode>', b'listAgencyID="6">O</urn1:TypeCode>', 1)
        .replace(
            b'<urn1:Name languageID="EN"></urn1:Name>',
            b'<urn1:Name languageID="EN">Certificate of Ownership</urn1:Name>',
            1,
        )
        .replace(
            b"<urn1:StartDateTime>2014-01-06T12:03:52.000",
            b"<urn1:StartDateTime>2014-02-01T08:00:00",
        )
    )
    imported = from_citesepermit(sample)
    assert imported.permit.type == PermitType.PERSONAL_OWNERSHIP
    exported = to_citesepermit(stored(imported.permit), imported.details.values)
    assert boxes(exported) == boxes(sample)
    assert boxes(exported)[f"2: {H}/EffectiveSpecifiedPeriod/StartDateTime"] == (
        "2014-02-01T07:00:00+00:00"
    )
    unknown = sample.replace(b"Certificate of Ownership", b"Hunting trophy licence")
    assert _refusal(unknown)["field"] == "/CITESEPermit/HeaderExchangedDocument/Name"


def test_a_v1_refusal_names_the_v1_root() -> None:
    sample = V1_SAMPLE.read_bytes()
    old = b"<urn1:PurposeCode>T</urn1:PurposeCode>"
    assert old in sample
    error = _refusal(sample.replace(old, b"", 1))
    assert error["field"] == "/CBFShip/HeaderExchangedDocument/PurposeCode"


def test_json_fields_name_their_boxes() -> None:
    assert xpath_of("exporter.country") == (
        "/CITESEPermit/SpecifiedSupplyChainConsignment/ConsignorTradeParty/PostalTradeAddress/CountryID"
    )
    assert xpath_of("items[1].source") == (
        "/CITESEPermit/SpecifiedSupplyChainConsignment/IncludedSupplyChainConsignmentItem[2]"
        "/IncludedSupplyChainTradeLineItem/TypeExtensionCode"
    )
    assert xpath_of("items[x].source") is None and xpath_of("nothing") is None


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/xml", "application/xml"),
        ("text/xml", "text/xml"),
        ("application/json;q=0.5, application/xml", "application/xml"),
        ("application/*", "application/json"),
        ("text/*;q=0.9, application/json;q=0.1", "text/xml"),
        ("image/png", None),
        ("application/json;q=0", None),
    ],
)
def test_content_negotiation(accept: str | None, chosen: str | None) -> None:
    assert negotiate(accept, ("application/json", "application/xml", "text/xml")) == chosen


# ----------------------------------------------------------------------------------- the API


@pytest.fixture
async def epix_registry(database_url: str, nats_url: str) -> AsyncIterator[Registry]:
    """The registry, accepting the sample's fictitious importer country XB (an ISO 3166
    user-assigned code: the CITES list has XA and XC, not XB)."""
    await migrations.upgrade(DEFINITION.migrations, database_url)
    settings = PermitVerifySettings(
        database_url=database_url,
        nats_url=nats_url,
        extra_country_codes=["XB"],
        species_check_at_issue=False,  # no species-ref here (tests/ runs it)
    )
    app = create_app(settings)
    async with running_app(app) as client:
        yield Registry(client, app.state.runtime.db)


XML = {"content-type": "application/xml"}


@pytest.mark.parametrize("code", ["FR", "XAA", "xb", "QA", "1X"])
def test_only_user_assigned_codes_may_be_added_to_the_country_list(code: str) -> None:
    with pytest.raises(ValueError, match="user-assigned"):
        PermitVerifySettings(extra_country_codes=[code])
    assert PermitVerifySettings(extra_country_codes=["XB", "QM", "ZZ", "AA"]).extra_country_codes


async def test_an_idempotent_xml_post_replays_its_first_answer(epix_registry: Registry) -> None:
    headers = {**MA_XA, **XML, "Idempotency-Key": "epix-1"}
    first = await epix_registry.client.post(
        "/v1/permits", content=V2_SAMPLE.read_bytes(), headers=headers
    )
    again = await epix_registry.client.post(
        "/v1/permits", content=V1_SAMPLE.read_bytes(), headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    assert await epix_registry.count("permit") == 1


async def test_the_epix_v2_message_imports_and_exports_back_with_every_box_equal(
    epix_registry: Registry,
) -> None:
    original = V2_SAMPLE.read_bytes()
    answer = await epix_registry.client.post(
        "/v1/permits", content=original, headers={**MA_XA, **XML}
    )
    assert answer.status_code == 201, answer.text
    permit = answer.json()
    assert (permit["number"], permit["type"], permit["issuing_country"]) == (
        "XA000000",
        "re_export",
        "XA",
    )
    assert [(i["item_id"], i["species"], i["quantity"]) for i in permit["items"]] == [
        ("A", "Alligator mississippiensis", "5"),
        ("B", "Crocodylus siamensis", "10"),
    ]
    assert permit["signature"].count(".") == 2  # signed the same way as JSON

    exported = await epix_registry.client.get(
        f"/v1/permits/{permit['id']}", headers={**CUSTOMS, "accept": "application/xml"}
    )
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("application/xml")
    expected, actual = boxes(original), boxes(exported.content)
    assert actual == expected
    # Not vacuous: the sample fills these boxes, and they came back.
    filled = {k: v for k, v in expected.items() if v is not None}
    assert len(filled) >= 40
    assert filled[f"1: {H}/ID"] == "XA000000"
    assert filled["12a: item B: 811/ID"] == "FR1202501030-R"
    assert filled[
        "7/8: item A: IncludedSupplyChainTradeLineItem/SpecifiedTradeProduct/CommonName"
    ] == ("American Alligator")

    json_again = await epix_registry.client.get(f"/v1/permits/{permit['id']}", headers=CUSTOMS)
    assert json_again.json() | {"warnings": []} == permit  # warnings: the 201 answer's


async def test_the_v1_cbfship_message_imports_to_the_same_permit(epix_registry: Registry) -> None:
    v1 = await epix_registry.client.post(
        "/v1/permits", content=V1_SAMPLE.read_bytes(), headers={**MA_XA, "content-type": "text/xml"}
    )
    assert v1.status_code == 201, v1.text
    exported = await epix_registry.client.get(
        f"/v1/permits/{v1.json()['id']}", headers={**CUSTOMS, "accept": "text/xml"}
    )
    assert exported.headers["content-type"].startswith("text/xml")
    assert (
        from_citesepermit(exported.content).permit
        == from_citesepermit(V2_SAMPLE.read_bytes()).permit
    )
    # The same number again, now as v2: the registry already has it.
    again = await epix_registry.client.post(
        "/v1/permits", content=V2_SAMPLE.read_bytes(), headers={**MA_XA, **XML}
    )
    assert again.status_code == 409 and again.json()["code"] == "permit_number_taken"


async def test_xml_goes_through_the_same_checks_as_json(epix_registry: Registry) -> None:
    sample = V2_SAMPLE.read_bytes()
    # Another country's MA cannot issue XA's permit.
    foreign = await epix_registry.client.post(
        "/v1/permits", content=sample, headers={**MA_KE, **XML}
    )
    assert foreign.status_code == 403 and foreign.json()["code"] == "not_issuing_country"
    # A rule: wild Appendix I specimens for commercial purposes (item B's source D -> W).
    wild = sample.replace(b"<urn1:TypeExtensionCode>D<", b"<urn1:TypeExtensionCode>W<", 1)
    refused = await epix_registry.client.post("/v1/permits", content=wild, headers={**MA_XA, **XML})
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert {"purpose"} <= {e["field"] for e in errors}
    assert any(e["xpath"] == "/CITESEPermit/HeaderExchangedDocument/PurposeCode" for e in errors)
    # A code outside the lists, and a validity too long.
    bad = sample.replace(b">LPS<", b">QQQ<", 1).replace(
        b"2014-07-05T12:03:52.000", b"2014-09-05T12:03:52.000"
    )
    refused = await epix_registry.client.post("/v1/permits", content=bad, headers={**MA_XA, **XML})
    assert refused.status_code == 422
    fields = {(e["field"], e.get("xpath")) for e in refused.json()["errors"]}
    assert (
        "valid_until",
        "/CITESEPermit/HeaderExchangedDocument/EffectiveSpecifiedPeriod/EndDateTime",
    ) in fields
    assert any(f == "items[0].term" for f, _ in fields)
    assert await epix_registry.count("permit") == 0


async def test_without_the_extra_country_the_sample_is_refused_naming_the_importer(
    registry: Registry,
) -> None:
    answer = await registry.client.post(
        "/v1/permits", content=V2_SAMPLE.read_bytes(), headers={**MA_XA, **XML}
    )
    assert answer.status_code == 422
    assert {(e["field"], e["xpath"]) for e in answer.json()["errors"]} >= {
        (
            "importer.country",
            "/CITESEPermit/SpecifiedSupplyChainConsignment/ConsigneeTradeParty/PostalTradeAddress/CountryID",
        )
    }


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL_ENTITY, b"<CITESEPermit>"])
async def test_hostile_xml_is_a_422_at_the_api(registry: Registry, hostile: bytes) -> None:
    answer = await registry.client.post("/v1/permits", content=hostile, headers={**MA_KE, **XML})
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "invalid_citesepermit" and body["errors"][0]["field"] == "/"
    assert await registry.count("permit") == 0


async def test_json_permits_export_as_xml_406_for_other_accepts_415_for_other_bodies(
    registry: Registry, export_permit: PermitFactory
) -> None:
    issued = (await registry.client.post("/v1/permits", json=export_permit(), headers=MA_KE)).json()
    xml = await registry.client.get(
        f"/v1/permits/{issued['id']}", headers={**CUSTOMS, "accept": "application/xml"}
    )
    assert xml.status_code == 200
    back = from_citesepermit(xml.content).permit.model_dump(mode="json")
    sent = {k: v for k, v in issued.items() if k in back}
    sent["items"] = [{k: v for k, v in i.items() if k in back["items"][0]} for i in issued["items"]]
    assert back == sent

    refused = await registry.client.get(
        f"/v1/permits/{issued['id']}", headers={**CUSTOMS, "accept": "image/png"}
    )
    assert refused.status_code == 406 and refused.json()["code"] == "not_acceptable"
    unknown = await registry.client.get(
        "/v1/permits/00000000-0000-0000-0000-000000000000",
        headers={**CUSTOMS, "accept": "application/xml"},
    )
    assert unknown.status_code == 404

    csv = await registry.client.post(
        "/v1/permits", content=b"number,type", headers={**MA_KE, "content-type": "text/csv"}
    )
    assert csv.status_code == 415 and csv.json()["code"] == "unsupported_media_type"
    broken_json = await registry.client.post(
        "/v1/permits", content=b"{not json", headers={**MA_KE, "content-type": "application/json"}
    )
    assert broken_json.status_code == 422


async def test_box_14_carries_each_endorsement_of_an_item(
    registry: Registry, export_permit: PermitFactory
) -> None:
    """Box 14 (`I/ExaminationTransportEvent`): what customs cleared per block, when and at
    which office, from the registry's endorsements; the permit's other boxes do not move."""
    permit = export_permit()
    block_b = permit["items"][0] | {"item_id": "B", "unit": "KIL", "quantity": "20"}
    permit["items"].append(block_b)
    issued = (await registry.client.post("/v1/permits", json=permit, headers=MA_KE)).json()
    on = datetime.now(UTC).date().isoformat()
    endorsed = await registry.client.post(
        f"/v1/permits/{issued['id']}/endorsements",
        json={
            "declaration_id": "DECL-BOX14",
            "office": "JKIA",
            "endorsed_on": on,
            "items": [{"item_id": "A", "quantity": "30"}, {"item_id": "B", "quantity": "12.5"}],
        },
        headers=SW_KE,
    )
    assert endorsed.status_code == 201, endorsed.text
    xml = await registry.client.get(
        f"/v1/permits/{issued['id']}", headers={**CUSTOMS, "accept": "application/xml"}
    )
    assert xml.status_code == 200
    root = etree.fromstring(xml.content)
    ns = {"rsm": V2_NS, "ram": RAM_NS}
    items = root.findall(
        "rsm:SpecifiedSupplyChainConsignment/ram:IncludedSupplyChainConsignmentItem", ns
    )
    got = {
        item.findtext("ram:ID", namespaces=ns): [
            (
                e.findtext("ram:ActualOccurrenceDateTime", namespaces=ns),
                e.findtext("ram:UnitQuantity", namespaces=ns),
                e.find("ram:UnitQuantity", ns).get("unitCode"),  # type: ignore[union-attr]
                e.findtext("ram:OccurrenceLogisticsLocation/ram:ID", namespaces=ns),
            )
            for e in item.findall("ram:ExaminationTransportEvent", ns)
        ]
        for item in items
    }
    assert got == {"A": [(on, "30", "PCS", "JKIA")], "B": [(on, "12.5", "KGM", "JKIA")]}
    # The event follows the block's product line (the schema's order), and the message still
    # reads back as the permit that was issued.
    assert [etree.QName(c).localname for c in items[0]][-2:] == [
        "IncludedSupplyChainTradeLineItem",
        "ExaminationTransportEvent",
    ]
    back = from_citesepermit(xml.content).permit
    assert (back.number, [i.quantity for i in back.items]) == (
        issued["number"],
        [Decimal("100"), Decimal("20")],
    )
