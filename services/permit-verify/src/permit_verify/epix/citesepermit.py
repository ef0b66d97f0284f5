"""CITESEPermit XML (UN/CEFACT, the CITES Electronic Permitting Toolkit v2) in and out: pure
mappings between the message and the registry's permit (`PermitIn` / `PermitOut`).

Which permit box lives at which XPath follows `box_to_xpath.md` (EPIX's permit mappings).
`from_citesepermit` reads v2 (`CITESEPermit`) and v1 (`CBFShip`), bare or inside a SOAP
envelope; `to_citesepermit` writes v2. What a message carries that the JSON contract has no
box for (date-times with their time of day, address lines, common names, marks, the country
of last re-export, reference dates, quota figures, the original unit code) comes back as
`ExchangeDetails`, stored with the permit so the export gives every box back.

Messages are parsed with a hardened parser: no DTD at all (so no entity expansion, no
billion laughs, no external entity), no network, no huge trees. A message that is not XML,
has another root or namespace, or lacks a mandatory box is an `InvalidCitesEPermit` (422)
naming the box's XPath as `field`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree
from pydantic import ValidationError

from pangolin_core.errors import InvalidInput
from permit_verify.permits.schemas import PermitIn, PermitOut, PermitType
from permit_verify.tables import plain

V2_NS = "urn:un:unece:uncefact:data:standard:CITESEPermit:2"
V1_NS = "urn:un:unece:uncefact:data:draft:CBFShip:1"
RAM_NS = "urn:un:unece:uncefact:data:draft:ReusableAggregateBusinessInformationEntity:1"
SOAP_NAMESPACES = frozenset(
    {"http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope"}
)
ROOTS = {"CITESEPermit": (2, V2_NS), "CBFShip": (1, V1_NS)}
MAX_MESSAGE_BYTES = 1024 * 1024

H = "/CITESEPermit/HeaderExchangedDocument"
C = "/CITESEPermit/SpecifiedSupplyChainConsignment"
I = C + "/IncludedSupplyChainConsignmentItem"  # noqa: E741 - box_to_xpath.md's name
PRODUCT = "IncludedSupplyChainTradeLineItem/SpecifiedTradeProduct"
AUTHORITY = "FirstSignatoryDocumentAuthentication/ProviderTradeParty"

# Box 1's document type (UNTDID 1001 as EPIX uses it): E, R, I, or O with the name in H/Name.
TYPE_CODES = {
    "E": PermitType.EXPORT,
    "R": PermitType.RE_EXPORT,
    "I": PermitType.IMPORT,
}
OTHER_DOCUMENT_NAMES = {
    PermitType.CERTIFICATE_OF_ORIGIN: "Certificate of origin",
    PermitType.PRE_CONVENTION: "Pre-Convention certificate",
    PermitType.CAPTIVE_BRED: "Captive-breeding certificate",
    PermitType.ARTIFICIALLY_PROPAGATED: "Certificate of artificial propagation",
    PermitType.INTRODUCTION_FROM_SEA: "Certificate of introduction from the sea",
    PermitType.TRAVELLING_EXHIBITION: "Travelling-exhibition certificate",
    PermitType.MUSICAL_INSTRUMENT: "Musical-instrument certificate",
    PermitType.PERSONAL_OWNERSHIP: "Certificate of ownership",
}
# A name in H/Name (lower case, letters only) -> the certificate it is.
_OTHER_BY_KEY = {
    "certificateoforigin": PermitType.CERTIFICATE_OF_ORIGIN,
    "preconventioncertificate": PermitType.PRE_CONVENTION,
    "preconvention": PermitType.PRE_CONVENTION,
    "captivebreedingcertificate": PermitType.CAPTIVE_BRED,
    "captivebred": PermitType.CAPTIVE_BRED,
    "certificateofartificialpropagation": PermitType.ARTIFICIALLY_PROPAGATED,
    "artificiallypropagated": PermitType.ARTIFICIALLY_PROPAGATED,
    "certificateofintroductionfromthesea": PermitType.INTRODUCTION_FROM_SEA,
    "introductionfromthesea": PermitType.INTRODUCTION_FROM_SEA,
    "travellingexhibitioncertificate": PermitType.TRAVELLING_EXHIBITION,
    "travellingexhibition": PermitType.TRAVELLING_EXHIBITION,
    "musicalinstrumentcertificate": PermitType.MUSICAL_INSTRUMENT,
    "musicalinstrument": PermitType.MUSICAL_INSTRUMENT,
    "certificateofownership": PermitType.PERSONAL_OWNERSHIP,
    "personalownership": PermitType.PERSONAL_OWNERSHIP,
    "personalownershipcertificate": PermitType.PERSONAL_OWNERSHIP,
}

# UN/ECE Recommendation 20 unit codes -> CITES units; `None` is a number of specimens
# (the JSON contract's `unit: null`). A CITES code that is not a Rec. 20 code (KIL, SQM...)
# is read as itself.
UNECE_TO_CITES: dict[str, str | None] = {
    "PCS": None,
    "H87": None,
    "C62": None,
    "NMB": None,
    "NAR": None,
    "KGM": "KIL",
    "GRM": "GRM",
    "MGM": "MGM",
    "MC": "MYG",
    "TNE": "TON",
    "LTR": "LTR",
    "MLT": "MLT",
    "MTR": "MTR",
    "CMT": "CTM",
    "INH": "INC",
    "FOT": "FEE",
    "MTK": "SQM",
    "CMK": "SQC",
    "DMK": "SQD",
    "FTK": "SQF",
    "MTQ": "CUM",
    "CMQ": "CCM",
    "FTQ": "CUF",
    "LBR": "PND",
    "ONZ": "OUN",
    "PR": "PAI",
    "SET": "SET",
}
CITES_TO_UNECE: dict[str | None, str] = {
    cites: unece for unece, cites in reversed(UNECE_TO_CITES.items())
}
CITES_TO_UNECE[None] = "PCS"

# Where a JSON field's box lives, to name the XPath in a refusal of an imported message.
_FIELD_XPATHS = {
    "number": H + "/ID",
    "type": H + "/TypeCode",
    "issuing_country": H + "/" + AUTHORITY + "/PostalTradeAddress/CountryID",
    "issuing_authority": H + "/" + AUTHORITY + "/Name",
    "security_stamp": H + "/FirstSignatoryDocumentAuthentication/ID",
    "issued_on": H + "/IssueDateTime",
    "valid_until": H + "/EffectiveSpecifiedPeriod/EndDateTime",
    "purpose": H + "/PurposeCode",
    "special_conditions": H + "/Information",
    "exporter": C + "/ConsignorTradeParty",
    "exporter.name": C + "/ConsignorTradeParty/Name",
    "exporter.address": C + "/ConsignorTradeParty/PostalTradeAddress",
    "exporter.country": C + "/ConsignorTradeParty/PostalTradeAddress/CountryID",
    "importer": C + "/ConsigneeTradeParty",
    "importer.name": C + "/ConsigneeTradeParty/Name",
    "importer.address": C + "/ConsigneeTradeParty/PostalTradeAddress",
    "importer.country": C + "/ConsigneeTradeParty/PostalTradeAddress/CountryID",
    "items": I,
}
_ITEM_XPATHS = {
    "item_id": "ID",
    "species": PRODUCT + "/ScientificName",
    "description": PRODUCT + "/Description",
    "term": PRODUCT + "/TypeCode",
    "appendix": "IncludedSupplyChainTradeLineItem/TypeCode",
    "source": "IncludedSupplyChainTradeLineItem/TypeExtensionCode",
    "quantity": "TransportLogisticsPackage/ItemQuantity",
    "unit": "TransportLogisticsPackage/ItemQuantity/@unitCode",
    "origin_country": "OriginTradeCountry/ID",
    "origin_permit": "AssociatedReferencedDocument[TypeCode='861']/ID",
    "reexport_certificate": "AssociatedReferencedDocument[TypeCode='811']/ID",
}


def xpath_of(field_path: str) -> str | None:
    """The XPath of the box a JSON field path names (`items[1].quantity` ->
    `.../IncludedSupplyChainConsignmentItem[2]/TransportLogisticsPackage/ItemQuantity`)."""
    if field_path.startswith("items["):
        index, _, rest = field_path[len("items[") :].partition("]")
        if not index.isdigit():
            return None
        item = f"{I}[{int(index) + 1}]"
        name = rest.lstrip(".")
        return (
            item if not name else (f"{item}/{_ITEM_XPATHS[name]}" if name in _ITEM_XPATHS else None)
        )
    return _FIELD_XPATHS.get(field_path)


class InvalidCitesEPermit(InvalidInput):
    code, title = "invalid_citesepermit", "Invalid CITESEPermit message"


def _refuse(xpath: str, message: str, kind: str) -> InvalidCitesEPermit:
    return InvalidCitesEPermit(
        f"{xpath}: {message}", errors=[{"field": xpath, "message": message, "type": kind}]
    )


@dataclass
class ExchangeDetails:
    """What a message carries beyond the JSON contract's boxes, kept to give it back:
    plain JSON (strings, nested dicts), stored with the permit."""

    values: dict[str, Any] = field(default_factory=dict)

    def get(self, *path: str) -> Any:
        node: Any = self.values
        for key in path:
            if not isinstance(node, Mapping):
                return None
            node = node.get(key)
        return node


@dataclass(frozen=True)
class ImportedPermit:
    permit: PermitIn
    details: ExchangeDetails
    version: int  # 2 (CITESEPermit) or 1 (CBFShip)


# ---------------------------------------------------------------------------------- reading


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_message(xml: bytes) -> etree._Element:
    """The CITESEPermit or CBFShip element of a message (bare or in a SOAP envelope)."""
    if len(xml) > MAX_MESSAGE_BYTES:
        raise _refuse("/", f"a message is at most {MAX_MESSAGE_BYTES} bytes", "too_large")
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        # No CITESEPermit message needs a DTD; refusing it outright rules out entity
        # expansion and external entities whatever the parser does with them.
        raise _refuse("/", "a document type declaration (DTD) is not accepted", "xml_dtd")
    try:
        document = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        raise _refuse("/", f"not well-formed XML: {exc.msg}", "xml_syntax") from exc
    if document is None:
        raise _refuse("/", "an empty document", "xml_syntax")
    if document.getroottree().docinfo.doctype:  # a DTD in another encoding than UTF-8
        raise _refuse("/", "a document type declaration (DTD) is not accepted", "xml_dtd")
    root = _message_root(document)
    name = etree.QName(root)
    version, namespace = ROOTS[name.localname]
    if name.namespace not in (None, namespace):
        raise _refuse(
            f"/{name.localname}",
            f"the namespace must be {namespace}, not {name.namespace}",
            "xml_namespace",
        )
    if root.find(f"{{{namespace}}}HeaderExchangedDocument") is None:
        raise _refuse(
            f"/{name.localname}/HeaderExchangedDocument",
            f"missing (in namespace {namespace}): v{version} needs its header",
            "missing",
        )
    return root


def _message_root(document: etree._Element) -> etree._Element:
    name = etree.QName(document)
    if name.localname in ROOTS:
        return document
    if name.localname == "Envelope" and name.namespace in SOAP_NAMESPACES:
        found = [
            element
            for element in document.iter()
            if isinstance(element.tag, str) and etree.QName(element).localname in ROOTS
        ]
        if len(found) == 1:
            return found[0]
    raise _refuse(
        f"/{name.localname}",
        "the root must be CITESEPermit (v2) or CBFShip (v1), bare or in one SOAP envelope",
        "xml_root",
    )


class _Reader:
    """XPath-ish reads relative to the message, in its namespaces."""

    def __init__(self, root: etree._Element, version: int) -> None:
        self.version = version
        self.ns = {"d": V2_NS if version == 2 else V1_NS, "ram": RAM_NS}
        header = root.find("d:HeaderExchangedDocument", self.ns)
        assert header is not None  # parse_message checked it
        self.header = header
        consignment = root.find("d:SpecifiedSupplyChainConsignment", self.ns)
        if consignment is None:
            raise _refuse(C, "missing: the consignment carries the parties and items", "missing")
        self.consignment = consignment

    def all(self, element: etree._Element, path: str) -> list[etree._Element]:
        steps = "/".join(f"ram:{step}" for step in path.split("/"))
        return list(element.iterfind(steps, self.ns))

    def text(self, element: etree._Element, path: str) -> str | None:
        for found in self.all(element, path):
            value = (found.text or "").strip()
            if value:
                return value
        return None

    def attribute(self, element: etree._Element, path: str, name: str) -> str | None:
        for found in self.all(element, path):
            value = (found.get(name) or "").strip()
            if value and value != "?":
                return value
        return None

    def required(self, element: etree._Element, path: str, xpath: str) -> str:
        value = self.text(element, path)
        if value is None:
            raise _refuse(xpath, "missing or empty: a mandatory box", "missing")
        return value

    def address(self, party: etree._Element) -> tuple[str | None, dict[str, str]]:
        """The party's country and its address lines (v1 nests the country one deeper)."""
        lines: dict[str, str] = {}
        for key, path in (
            ("street", "PostalTradeAddress/StreetName"),
            ("po_box", "PostalTradeAddress/PostOfficeBox"),
            ("postcode", "PostalTradeAddress/PostcodeCode"),
            ("city", "PostalTradeAddress/CityName"),
            ("subdivision", "PostalTradeAddress/CountrySubDivisionName"),
            ("country_name", "PostalTradeAddress/CountryName"),
            ("country_name", "PostalTradeAddress/CountryIdentificationTradeCountry/Name"),
        ):
            value = self.text(party, path)
            if value is not None:
                lines.setdefault(key, value)
        country = self.text(party, "PostalTradeAddress/CountryID") or self.text(
            party, "PostalTradeAddress/CountryIdentificationTradeCountry/ID"
        )
        return country, lines


def address_text(lines: Mapping[str, str]) -> str | None:
    """One address text from its lines: `Street, PO Box 1, 00000 City, Region, Country`."""
    city = " ".join(v for v in (lines.get("postcode"), lines.get("city")) if v)
    parts = [
        lines.get("street"),
        lines.get("po_box"),
        city,
        lines.get("subdivision"),
        lines.get("country_name"),
    ]
    text = ", ".join(p for p in parts if p)
    return text or None


def _instant(value: str, xpath: str) -> datetime | date:
    try:
        if "T" in value:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        if len(value) == 8 and value.isdigit():  # UN/CEFACT format 102: CCYYMMDD
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        return date.fromisoformat(value)
    except ValueError as exc:
        raise _refuse(xpath, f"{value!r} is not an ISO 8601 date or date-time", "date") from exc


def _day(value: str, xpath: str) -> date:
    """The calendar day of a date-time as written (its own offset: the issuing office's day)."""
    moment = _instant(value, xpath)
    return moment.date() if isinstance(moment, datetime) else moment


def _document_type(reader: _Reader) -> PermitType:
    code = reader.required(reader.header, "TypeCode", H + "/TypeCode")
    if code in TYPE_CODES:
        return TYPE_CODES[code]
    if code == "O":
        name = reader.text(reader.header, "Name") or ""
        kind = _OTHER_BY_KEY.get("".join(c for c in name.lower() if c.isalpha()))
        if kind is None:
            raise _refuse(
                H + "/Name",
                f"document type O needs the certificate's name; {name!r} is not one of "
                + ", ".join(OTHER_DOCUMENT_NAMES.values()),
                "document_type",
            )
        return kind
    raise _refuse(H + "/TypeCode", f"{code!r} is not E, R, I or O", "document_type")


def _party(reader: _Reader, tag: str) -> tuple[dict[str, Any], dict[str, Any]]:
    xpath = f"{C}/{tag}"
    found = reader.all(reader.consignment, tag)
    if not found:
        raise _refuse(xpath, "missing: a mandatory box", "missing")
    element = found[0]
    country, lines = reader.address(element)
    party = {
        "name": reader.required(element, "Name", xpath + "/Name"),
        "address": address_text(lines),
        "country": country,
    }
    if country is None:
        raise _refuse(
            xpath + "/PostalTradeAddress/CountryID", "missing: a mandatory box", "missing"
        )
    details: dict[str, Any] = {"address_lines": lines}
    party_id = reader.text(element, "ID")
    if party_id is not None:
        details["id"] = party_id
    return party, details


# Boxes 4 (applicant), 13 (issued by) and 14 (the endorsing officer) are signatories 2-4.
SIGNATORIES = (
    ("SecondSignatoryDocumentAuthentication", "B"),
    ("ThirdSignatoryDocumentAuthentication", "C"),
    ("FourthSignatoryDocumentAuthentication", "D"),
)
_SIGNATORY_BOXES = (
    ("actual_date_time", "ActualDateTime"),
    ("id", "ID"),
    ("statement", "Statement"),
    ("name", "ProviderTradeParty/Name"),
)


def _signatories(reader: _Reader) -> dict[str, dict[str, str]]:
    kept: dict[str, dict[str, str]] = {}
    for tag, _ in SIGNATORIES:
        for element in reader.all(reader.header, tag):
            values = {
                key: value
                for key, path in _SIGNATORY_BOXES
                if (value := reader.text(element, path)) is not None
            }
            if values:
                kept[tag] = {**values, "type_code": reader.text(element, "TypeCode") or ""}
    return kept


def _transport_document(reader: _Reader) -> dict[str, str] | None:
    values = {
        key: value
        for key, path in (
            ("id", "TransportContractReferencedDocument/ID"),
            ("type_code", "TransportContractReferencedDocument/TypeCode"),
        )
        if (value := reader.text(reader.consignment, path)) is not None
    }
    return values or None


def _reference(
    reader: _Reader, item: etree._Element, type_code: str
) -> tuple[str | None, str | None]:
    for document in reader.all(item, "AssociatedReferencedDocument"):
        if reader.text(document, "TypeCode") == type_code:
            return reader.text(document, "ID"), reader.text(document, "IssueDateTime")
    return None, None


def _quantity(raw: str, xpath: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise _refuse(xpath, f"{raw!r} is not a number", "quantity") from exc
    if not value.is_finite():
        raise _refuse(xpath, f"{raw!r} is not a number", "quantity")
    return value


def _unit(code: str | None) -> str | None:
    if code is None:
        return None
    return UNECE_TO_CITES.get(code, code)


def _item(
    reader: _Reader, element: etree._Element, n: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    xpath = f"{I}[{n + 1}]"
    procedure = (
        "ApplicableCrossBorderRegulatoryProcedure"
        if reader.version == 2
        else "ApplicableCrossBorderGovernmentProcedure"
    )
    quantity_text = reader.required(
        element, "TransportLogisticsPackage/ItemQuantity", xpath + "/" + _ITEM_XPATHS["quantity"]
    )
    unit_code = reader.attribute(element, "TransportLogisticsPackage/ItemQuantity", "unitCode")
    origin_permit, origin_permit_date = _reference(reader, element, "861")
    reexport_certificate, reexport_date = _reference(reader, element, "811")
    item = {
        "item_id": reader.text(element, "ID") or _letters(n),
        "species": reader.required(
            element, PRODUCT + "/ScientificName", xpath + "/" + _ITEM_XPATHS["species"]
        ),
        "description": reader.text(element, PRODUCT + "/Description"),
        "term": reader.required(element, PRODUCT + "/TypeCode", xpath + "/" + _ITEM_XPATHS["term"]),
        "appendix": reader.required(
            element,
            "IncludedSupplyChainTradeLineItem/TypeCode",
            xpath + "/" + _ITEM_XPATHS["appendix"],
        ),
        "source": reader.required(
            element,
            "IncludedSupplyChainTradeLineItem/TypeExtensionCode",
            xpath + "/" + _ITEM_XPATHS["source"],
        ),
        "quantity": _quantity(quantity_text, xpath + "/" + _ITEM_XPATHS["quantity"]),
        "unit": _unit(unit_code),
        "origin_country": reader.text(element, "OriginTradeCountry/ID"),
        "origin_permit": origin_permit,
        "reexport_certificate": reexport_certificate,
    }
    details = {
        key: value
        for key, value in (
            ("unit_code", unit_code),
            ("common_name", reader.text(element, PRODUCT + "/CommonName")),
            ("marks", reader.text(element, "PhysicalLogisticsShippingMarks/Marking")),
            ("origin_country_name", reader.text(element, "OriginTradeCountry/Name")),
            ("origin_permit_date", origin_permit_date),
            ("reexport_country", reader.text(element, "ExportTradeCountry/ID")),
            ("reexport_country_name", reader.text(element, "ExportTradeCountry/Name")),
            ("reexport_certificate_date", reexport_date),
            ("quota_used", reader.text(element, procedure + "/UsedToDateQuotaQuantity")),
            (
                "quota_used_unit",
                reader.attribute(element, procedure + "/UsedToDateQuotaQuantity", "unitCode"),
            ),
            ("quota_annual", reader.text(element, procedure + "/AnnualQuotaQuantity")),
            (
                "quota_annual_unit",
                reader.attribute(element, procedure + "/AnnualQuotaQuantity", "unitCode"),
            ),
            ("category_code", reader.text(element, procedure + "/CategoryCode")),
            ("acquisition_date", reader.text(element, procedure + "/AcquisitionDateTime")),
            (
                "previous_document_id",
                reader.text(element, procedure + "/PreviousReferencedDocument/ID"),
            ),
            (
                "previous_document_name",
                reader.text(element, procedure + "/PreviousReferencedDocument/Name"),
            ),
        )
        if value is not None
    }
    return item, details


def _letters(n: int) -> str:
    """Block letters by position: A..Z, then AA, AB, ..."""
    return chr(65 + n) if n < 26 else chr(64 + n // 26) + chr(65 + n % 26)


def from_citesepermit(xml: bytes) -> ImportedPermit:
    """The permit a CITESEPermit v2 or CBFShip v1 message describes, as the JSON POST takes
    it, and what else the message carries. Pure: no I/O."""
    root = parse_message(xml)
    version = ROOTS[etree.QName(root).localname][0]
    try:
        return _read(_Reader(root, version))
    except InvalidCitesEPermit as exc:
        if version == 1:  # name the v1 message's own root in the XPaths
            for error in exc.errors:
                error["field"] = str(error["field"]).replace("/CITESEPermit/", "/CBFShip/", 1)
        raise


def _read(reader: _Reader) -> ImportedPermit:
    version = reader.version
    header = reader.header
    permit_type = _document_type(reader)
    issue_time = reader.required(header, "IssueDateTime", H + "/IssueDateTime")
    valid_from = reader.text(header, "EffectiveSpecifiedPeriod/StartDateTime") or reader.text(
        header, "ReferenceReferencedDocument/EffectiveSpecifiedPeriod/StartDateTime"
    )
    valid_until = reader.text(header, "EffectiveSpecifiedPeriod/EndDateTime") or reader.text(
        header, "ReferenceReferencedDocument/EffectiveSpecifiedPeriod/EndDateTime"
    )
    if valid_until is None:
        raise _refuse(
            H + "/EffectiveSpecifiedPeriod/EndDateTime", "missing: a mandatory box", "missing"
        )
    exporter, exporter_details = _party(reader, "ConsignorTradeParty")
    importer, importer_details = _party(reader, "ConsigneeTradeParty")
    authorities = reader.all(header, AUTHORITY)
    authority_country, authority_lines = (
        reader.address(authorities[0]) if authorities else (None, {})
    )
    # Box 6's authority says which country issued; without it, the holder's country does.
    issuing_country = authority_country or (
        importer["country"] if permit_type is PermitType.IMPORT else exporter["country"]
    )
    information = [
        (e.text or "").strip() for e in reader.all(header, "Information") if (e.text or "").strip()
    ]
    elements = reader.all(reader.consignment, "IncludedSupplyChainConsignmentItem")
    if not elements:
        raise _refuse(I, "missing: a permit has at least one item (block A)", "missing")
    items, item_details = [], {}
    for n, element in enumerate(elements):
        item, more = _item(reader, element, n)
        items.append(item)
        item_details[item["item_id"]] = more
    document = {
        "number": reader.required(header, "ID", H + "/ID"),
        "type": permit_type.value,
        "issuing_country": issuing_country,
        "issuing_authority": reader.text(header, AUTHORITY + "/Name"),
        "security_stamp": reader.text(header, "FirstSignatoryDocumentAuthentication/ID"),
        "issued_on": _day(issue_time, H + "/IssueDateTime"),
        "valid_until": _day(valid_until, H + "/EffectiveSpecifiedPeriod/EndDateTime"),
        "exporter": exporter,
        "importer": importer,
        "purpose": reader.required(header, "PurposeCode", H + "/PurposeCode"),
        "special_conditions": "\n".join(information) or None,
        "items": items,
    }
    try:
        permit = PermitIn.model_validate(document)
    except ValidationError as exc:
        raise _invalid_boxes(exc) from exc
    details = {
        "source_version": version,
        "document_name": reader.text(header, "Name"),
        "copy_indicator": reader.text(header, "CopyIndicator"),
        "issue_date_time": issue_time,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "purpose_text": reader.text(header, "Purpose"),
        "issue_place": reader.text(header, "IssueLogisticsLocation/Name"),
        "signatories": _signatories(reader) or None,
        "transport_document": _transport_document(reader),
        "authority": {"address_lines": authority_lines},
        "exporter": exporter_details,
        "importer": importer_details,
        "items": item_details,
    }
    return ImportedPermit(
        permit=permit,
        details=ExchangeDetails({k: v for k, v in details.items() if v is not None}),
        version=version,
    )


def _invalid_boxes(exc: ValidationError) -> InvalidCitesEPermit:
    errors = []
    for error in exc.errors():
        path = ""
        for part in error.get("loc", ()):
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        errors.append(
            {
                "field": xpath_of(path) or path,
                "json_field": path,
                "message": error.get("msg", "invalid"),
                "type": error.get("type", "invalid"),
            }
        )
    return InvalidCitesEPermit(
        "The message's boxes do not make a permit: "
        + "; ".join(f"{e['field']}: {e['message']}" for e in errors),
        errors=errors,
    )


# ---------------------------------------------------------------------------------- writing


class _Writer:
    def __init__(self) -> None:
        self.root = etree.Element(f"{{{V2_NS}}}CITESEPermit", nsmap={"rsm": V2_NS, "ram": RAM_NS})

    @staticmethod
    def add(
        parent: etree._Element, tag: str, text: str | None = None, **attributes: str
    ) -> etree._Element:
        element = etree.SubElement(parent, f"{{{RAM_NS}}}{tag}", attributes)
        if text is not None:
            element.text = text
        return element

    def maybe(self, parent: etree._Element, tag: str, text: str | None, **attributes: str) -> None:
        if text:
            self.add(parent, tag, text, **attributes)


def _same_day(written: Any, day: date) -> str:
    """The message's own date-time when it falls on the stored day, else the day."""
    if isinstance(written, str):
        try:
            if _day(written, "") == day:
                return written
        except InvalidInput:
            pass
    return day.isoformat()


def _lines_for(address: str | None, lines: Any) -> dict[str, str]:
    """The stored address lines when they still make the stored address, else one line."""
    if isinstance(lines, Mapping) and address_text(lines) == address:
        return {str(k): str(v) for k, v in lines.items()}
    return {"street": address} if address else {}


def _write_address(
    writer: _Writer, party: etree._Element, lines: Mapping[str, str], country: str | None
) -> None:
    address = writer.add(party, "PostalTradeAddress")
    writer.maybe(address, "PostcodeCode", lines.get("postcode"))
    writer.maybe(address, "PostOfficeBox", lines.get("po_box"))
    writer.maybe(address, "StreetName", lines.get("street"))
    writer.maybe(address, "CityName", lines.get("city"))
    writer.maybe(address, "CountryID", country)
    writer.maybe(address, "CountryName", lines.get("country_name"))
    writer.maybe(address, "CountrySubDivisionName", lines.get("subdivision"))


def _quantity_text(value: Decimal) -> str:
    return str(plain(value))


def _unit_code(unit: str | None, original: Any) -> str:
    """The message's own unit code when it means the stored unit (KIL or KGM), else Rec. 20's."""
    if isinstance(original, str) and _unit(original) == unit:
        return original
    return CITES_TO_UNECE.get(unit, unit or "PCS")


@dataclass(frozen=True)
class ItemEndorsement:
    """Box 14 of one item block: a quantity customs cleared, where and when (an endorsement
    line of the registry)."""

    item_id: str
    endorsed_on: date
    quantity: Decimal
    office: str


def to_citesepermit(
    permit: PermitOut,
    details: Mapping[str, Any] | None = None,
    endorsements: Sequence[ItemEndorsement] = (),
) -> bytes:
    """The permit as a CITESEPermit v2 message (UTF-8, with an XML declaration). `details`
    are those `from_citesepermit` kept, when the permit came in as XML; `endorsements` fill
    box 14 per item (`I/ExaminationTransportEvent`: date, quantity in the block's unit,
    office), oldest first. Pure."""
    extra = ExchangeDetails(dict(details or {}))
    endorsed: dict[str, list[ItemEndorsement]] = {}
    for endorsement in endorsements:
        endorsed.setdefault(endorsement.item_id, []).append(endorsement)
    writer = _Writer()
    header = etree.SubElement(writer.root, f"{{{V2_NS}}}HeaderExchangedDocument")
    writer.add(header, "ID", permit.number)
    if permit.type in OTHER_DOCUMENT_NAMES:
        code = "O"
        kept = extra.get("document_name")
        named = (
            isinstance(kept, str)
            and _OTHER_BY_KEY.get("".join(c for c in kept.lower() if c.isalpha())) is permit.type
        )
        writer.add(header, "Name", kept if named else OTHER_DOCUMENT_NAMES[permit.type])
    else:
        code = {v: k for k, v in TYPE_CODES.items()}[permit.type]
        writer.maybe(header, "Name", extra.get("document_name"))
    writer.add(header, "TypeCode", code, listID="1001", listAgencyID="6")
    writer.add(header, "IssueDateTime", _same_day(extra.get("issue_date_time"), permit.issued_on))
    writer.add(header, "CopyIndicator", extra.get("copy_indicator") or "false")
    writer.maybe(header, "Purpose", extra.get("purpose_text"))
    writer.add(header, "PurposeCode", permit.purpose)
    writer.maybe(header, "Information", permit.special_conditions)
    # The start of validity is no box of its own here: the message's, else the issue day.
    kept_start = extra.get("valid_from")
    valid_from = kept_start if isinstance(kept_start, str) else permit.issued_on.isoformat()
    valid_until = _same_day(extra.get("valid_until"), permit.valid_until)
    reference = writer.add(header, "ReferenceReferencedDocument")
    for parent in (reference, header):
        period = writer.add(parent, "EffectiveSpecifiedPeriod")
        writer.add(period, "StartDateTime", valid_from)
        writer.add(period, "EndDateTime", valid_until)
    if extra.get("issue_place"):
        writer.add(writer.add(header, "IssueLogisticsLocation"), "Name", extra.get("issue_place"))
    signatory = writer.add(header, "FirstSignatoryDocumentAuthentication")
    writer.add(signatory, "TypeCode", "A")
    writer.maybe(signatory, "ID", permit.security_stamp)
    authority = writer.add(signatory, "ProviderTradeParty")
    writer.maybe(authority, "Name", permit.issuing_authority)
    lines = extra.get("authority", "address_lines")
    _write_address(
        writer, authority, lines if isinstance(lines, Mapping) else {}, permit.issuing_country
    )
    for tag, type_code in SIGNATORIES:
        kept_signatory = extra.get("signatories", tag)
        if isinstance(kept_signatory, Mapping):
            other = writer.add(header, tag)
            writer.add(other, "TypeCode", str(kept_signatory.get("type_code") or type_code))
            writer.maybe(other, "ActualDateTime", kept_signatory.get("actual_date_time"))
            writer.maybe(other, "ID", kept_signatory.get("id"))
            writer.maybe(other, "Statement", kept_signatory.get("statement"))
            if kept_signatory.get("name"):
                writer.add(writer.add(other, "ProviderTradeParty"), "Name", kept_signatory["name"])

    consignment = etree.SubElement(writer.root, f"{{{V2_NS}}}SpecifiedSupplyChainConsignment")
    for tag, party, key in (
        ("ConsignorTradeParty", permit.exporter, "exporter"),
        ("ConsigneeTradeParty", permit.importer, "importer"),
    ):
        element = writer.add(consignment, tag)
        writer.maybe(element, "ID", extra.get(key, "id"))
        writer.add(element, "Name", party.name)
        _write_address(
            writer,
            element,
            _lines_for(party.address, extra.get(key, "address_lines")),
            party.country,
        )
    transport = extra.get("transport_document")
    if isinstance(transport, Mapping):
        document = writer.add(consignment, "TransportContractReferencedDocument")
        writer.maybe(document, "ID", transport.get("id"))
        writer.maybe(document, "TypeCode", transport.get("type_code"))
    for item in permit.items:
        more = extra.get("items", item.item_id)
        kept = ExchangeDetails(dict(more) if isinstance(more, Mapping) else {})
        element = writer.add(consignment, "IncludedSupplyChainConsignmentItem")
        writer.add(element, "ID", item.item_id)
        if kept.get("marks"):
            writer.add(
                writer.add(element, "PhysicalLogisticsShippingMarks"), "Marking", kept.get("marks")
            )
        for tag, country_id, country_name in (
            ("OriginTradeCountry", item.origin_country, kept.get("origin_country_name")),
            ("ExportTradeCountry", kept.get("reexport_country"), kept.get("reexport_country_name")),
        ):
            if country_id or country_name:
                trade_country = writer.add(element, tag)
                writer.maybe(trade_country, "ID", country_id)
                writer.maybe(trade_country, "Name", country_name)
        for type_code, number, issued in (
            ("861", item.origin_permit, kept.get("origin_permit_date")),
            ("811", item.reexport_certificate, kept.get("reexport_certificate_date")),
        ):
            if number or issued:
                reference = writer.add(element, "AssociatedReferencedDocument")
                writer.maybe(reference, "IssueDateTime", issued)
                writer.add(reference, "TypeCode", type_code, listID="1001", listAgencyID="6")
                writer.maybe(reference, "ID", number)
        package = writer.add(element, "TransportLogisticsPackage")
        writer.add(
            package,
            "ItemQuantity",
            _quantity_text(item.quantity),
            unitCode=_unit_code(item.unit, kept.get("unit_code")),
        )
        line = writer.add(element, "IncludedSupplyChainTradeLineItem")
        writer.add(line, "TypeCode", item.appendix)
        writer.add(line, "TypeExtensionCode", item.source)
        product = writer.add(line, "SpecifiedTradeProduct")
        writer.maybe(product, "Description", item.description)
        writer.add(product, "TypeCode", item.term)
        writer.maybe(product, "CommonName", kept.get("common_name"))
        writer.add(product, "ScientificName", item.species)
        for endorsement in endorsed.get(item.item_id, []):
            event = writer.add(element, "ExaminationTransportEvent")
            writer.add(event, "ActualOccurrenceDateTime", endorsement.endorsed_on.isoformat())
            writer.add(
                event,
                "UnitQuantity",
                _quantity_text(endorsement.quantity),
                unitCode=_unit_code(item.unit, kept.get("unit_code")),
            )
            writer.add(writer.add(event, "OccurrenceLogisticsLocation"), "ID", endorsement.office)
        _write_procedure(writer, element, kept)
    return bytes(
        etree.tostring(writer.root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    )


def _write_procedure(writer: _Writer, item: etree._Element, kept: ExchangeDetails) -> None:
    keys = (
        "quota_used",
        "quota_annual",
        "category_code",
        "acquisition_date",
        "previous_document_id",
        "previous_document_name",
    )
    if not any(kept.get(key) for key in keys):
        return
    procedure = writer.add(item, "ApplicableCrossBorderRegulatoryProcedure")
    writer.maybe(procedure, "CategoryCode", kept.get("category_code"))
    for tag, value, unit in (
        ("UsedToDateQuotaQuantity", kept.get("quota_used"), kept.get("quota_used_unit")),
        ("AnnualQuotaQuantity", kept.get("quota_annual"), kept.get("quota_annual_unit")),
    ):
        if value:
            writer.add(procedure, tag, value, **({"unitCode": unit} if unit else {}))
    writer.maybe(procedure, "AcquisitionDateTime", kept.get("acquisition_date"))
    if kept.get("previous_document_id") or kept.get("previous_document_name"):
        previous = writer.add(procedure, "PreviousReferencedDocument")
        writer.maybe(previous, "ID", kept.get("previous_document_id"))
        writer.maybe(previous, "Name", kept.get("previous_document_name"))
