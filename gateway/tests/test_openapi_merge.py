"""Merging the services' OpenAPI documents (pure: documents in, document out)."""

from __future__ import annotations

from typing import Any

from gateway import routes
from gateway.apidoc.merge import merge_documents

PROBLEM = {"type": "object", "properties": {"title": {"type": "string"}}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def operation(op_id: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"content": {"application/json": {"schema": schema}}} if schema else {}
    return {
        "operationId": op_id,
        "tags": ["original"],
        "responses": {"200": {"description": "OK", **body}},
    }


OWN: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Pangolin gateway", "version": "0.1.0"},
    "paths": {
        "/health": {"get": operation("health")},
        "/oauth/token": {"post": operation("token")},
        "/v1/admin/audit": {"get": operation("list_audit", ref("AuditPage"))},
        "/v1/admin/clients/{client_id}": {"delete": operation("disable_client")},
    },
    "components": {"schemas": {"AuditPage": {"type": "object"}, "Problem": PROBLEM}},
}

SPECIES: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Pangolin species-ref", "version": "0.1.0"},
    "paths": {
        "/health": {"get": operation("species_health")},
        "/v1/species/taxa/{taxon_id}": {
            "parameters": [{"name": "taxon_id", "in": "path", "required": True}],
            "get": operation("get_taxon", ref("TaxonOut")),
            # PATCH of one taxon: WRITE /v1/species/** -> species:publish
            "patch": operation("patch_taxon", ref("Problem")),
        },
        "/v1/species/match": {"post": operation("match", ref("MatchPage"))},
        "/v1/permits/elsewhere": {"get": operation("wrong_service")},
        "/internal/reindex": {"post": operation("reindex")},
    },
    "components": {
        "schemas": {
            "TaxonOut": {"type": "object", "properties": {"name": ref("Name")}},
            "Name": {"type": "string"},
            "MatchPage": {"type": "object", "properties": {"items": ref("Item")}},
            "Item": {"type": "object", "properties": {"taxon": ref("TaxonOut")}},
            "Problem": PROBLEM,  # the same as the gateway's: kept once
            "Unused": {"type": "integer"},
        }
    },
}

PERMITS: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Pangolin permit-verify", "version": "0.1.0"},
    "paths": {
        "/v1/permits/{permit_id}/endorsements": {
            "post": operation("endorse", ref("Problem")),
            "get": operation("endorsements", ref("Page")),
        },
        "/v1/permits/{permit_id}": {"get": operation("get_taxon", ref("Page"))},
        "/v1/species/taxa/{taxon_id}": {"get": operation("not_ours")},
    },
    "components": {
        "schemas": {
            # Other content under the same names: renamed, and so is what refers to them.
            "Problem": {"type": "object", "properties": {"detail": {"type": "string"}}},
            "Name": {"type": "integer"},
            "Page": {"type": "object", "properties": {"name": ref("Name")}},
        }
    },
}


def merged() -> dict[str, Any]:
    return merge_documents(
        OWN, {"species-ref": SPECIES, "permit-verify": PERMITS}, ["risk-score", "intel-share"]
    )


def alternatives(*scopes: str) -> list[dict[str, list[str]]]:
    return [{scheme: [s]} for s in scopes for scheme in ("oauth2", "apiKey")]


def test_only_operations_the_route_table_forwards_to_that_service_are_kept() -> None:
    doc = merged()
    assert set(doc["paths"]) == {
        "/health",
        "/oauth/token",
        "/v1/admin/audit",
        "/v1/admin/clients/{client_id}",
        "/v1/species/taxa/{taxon_id}",
        "/v1/species/match",
        "/v1/permits/{permit_id}/endorsements",
        "/v1/permits/{permit_id}",
    }
    assert doc["paths"]["/health"]["get"]["operationId"] == "health"  # the gateway's own
    taxon = doc["paths"]["/v1/species/taxa/{taxon_id}"]
    assert set(taxon) == {"parameters", "get", "patch"}
    # species-ref's operation (its id taken by permit-verify, which merged first), not
    # permit-verify's: the table sends this path to species-ref.
    assert taxon["get"]["operationId"] == "species_ref__get_taxon"


def rule_security(method: str, path: str) -> list[dict[str, list[str]]]:
    """What the route table asks for a call to `path` (a `{param}` stands for any value)."""
    rule = routes.match(method, path.replace("{", "").replace("}", ""))
    assert rule is not None
    return alternatives(*sorted(rule.scopes))


def test_each_operation_needs_one_of_its_rule_scopes_and_is_tagged_with_its_service() -> None:
    paths = merged()["paths"]
    forwarded = [
        ("get", "/v1/species/taxa/{taxon_id}"),
        ("patch", "/v1/species/taxa/{taxon_id}"),
        ("post", "/v1/species/match"),
        ("post", "/v1/permits/{permit_id}/endorsements"),
        ("get", "/v1/permits/{permit_id}/endorsements"),
        ("get", "/v1/permits/{permit_id}"),
    ]
    for method, path in forwarded:
        operation = paths[path][method]
        assert operation["security"] == rule_security(method.upper(), path), (method, path)
        service = "species-ref" if path.startswith("/v1/species/") else "permit-verify"
        assert operation["tags"] == [service]
    # Read by hand from the route table: endorsing needs exactly one scope, reading a
    # permit any one of several.
    endorsements = paths["/v1/permits/{permit_id}/endorsements"]
    assert endorsements["post"]["security"] == alternatives("permits:endorse")
    assert len(endorsements["get"]["security"]) > 2


def test_the_gateways_admin_api_needs_the_admin_scope_and_its_token_endpoint_nothing() -> None:
    paths = merged()["paths"]
    assert paths["/v1/admin/audit"]["get"]["security"] == alternatives("admin")
    assert paths["/v1/admin/clients/{client_id}"]["delete"]["security"] == alternatives("admin")
    assert "security" not in paths["/oauth/token"]["post"]
    assert "security" not in paths["/health"]["get"]


def test_same_schemas_are_kept_once_and_different_ones_renamed_with_their_refs() -> None:
    doc = merged()
    schemas = doc["components"]["schemas"]
    # Services merge in name order: permit-verify's names are taken first.
    assert set(schemas) == {
        "AuditPage",
        "Problem",  # the gateway's, equal to species-ref's: kept once
        "permit_verify__Problem",  # not equal to the gateway's
        "Name",  # permit-verify's
        "Page",
        "species_ref__Name",  # not equal to permit-verify's
        "TaxonOut",  # a free name, referring to species-ref's Name under its new one
        "Item",
        "MatchPage",
    }
    assert schemas["Name"] == {"type": "integer"}
    assert schemas["species_ref__Name"] == {"type": "string"}
    assert schemas["Page"]["properties"]["name"] == ref("Name")
    assert schemas["TaxonOut"]["properties"]["name"] == ref("species_ref__Name")
    assert schemas["Item"]["properties"]["taxon"] == ref("TaxonOut")
    assert "Unused" not in schemas  # only what a kept operation reaches

    def schema_of(path: str, method: str) -> Any:
        response = doc["paths"][path][method]["responses"]["200"]
        return response["content"]["application/json"]["schema"]

    assert schema_of("/v1/permits/{permit_id}/endorsements", "post") == ref(
        "permit_verify__Problem"
    )
    assert schema_of("/v1/permits/{permit_id}", "get") == ref("Page")
    assert schema_of("/v1/species/taxa/{taxon_id}", "patch") == ref("Problem")
    assert schema_of("/v1/species/taxa/{taxon_id}", "get") == ref("TaxonOut")
    assert schema_of("/v1/species/match", "post") == ref("MatchPage")


def test_a_schema_equal_in_text_but_referring_to_a_renamed_one_is_renamed_too() -> None:
    page = {"type": "object", "properties": {"name": ref("Name")}}
    first = {
        "paths": {"/v1/species/taxa": {"get": operation("a", ref("Page"))}},
        "components": {"schemas": {"Page": page, "Name": {"type": "string"}}},
    }
    second = {
        "paths": {"/v1/risk/profiles": {"get": operation("b", ref("Page"))}},
        "components": {"schemas": {"Page": page, "Name": {"type": "integer"}}},
    }
    doc = merge_documents(OWN, {"species-ref": first, "risk-score": second})
    schemas = doc["components"]["schemas"]
    # risk-score comes first in name order; species-ref's differ and are renamed.
    assert schemas["Name"] == {"type": "integer"}
    assert schemas["species_ref__Name"] == {"type": "string"}
    assert schemas["species_ref__Page"]["properties"]["name"] == ref("species_ref__Name")
    taxa = doc["paths"]["/v1/species/taxa"]["get"]
    assert taxa["responses"]["200"]["content"]["application/json"]["schema"] == ref(
        "species_ref__Page"
    )


def test_operation_ids_stay_unique() -> None:
    doc = merged()
    ids = [
        op["operationId"]
        for item in doc["paths"].values()
        for method, op in item.items()
        if method != "parameters"
    ]
    assert len(ids) == len(set(ids))
    assert doc["paths"]["/v1/permits/{permit_id}"]["get"]["operationId"] == "get_taxon"
    taxon = doc["paths"]["/v1/species/taxa/{taxon_id}"]["get"]
    assert taxon["operationId"] == "species_ref__get_taxon"


def test_security_schemes_and_unavailable_services() -> None:
    doc = merged()
    schemes = doc["components"]["securitySchemes"]
    flow = schemes["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth/token"
    assert routes.all_scopes() | {"admin"} <= set(flow["scopes"])
    assert all(flow["scopes"].values())
    assert schemes["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["apiKey"]["description"],
    }
    assert doc["x-pangolin-unavailable"] == ["intel-share", "risk-score"]
    # Every tag used is declared: the gateway's own first, then one per service.
    assert [t["name"] for t in doc["tags"]] == ["original", "permit-verify", "species-ref"]
    assert "x-pangolin-unavailable" not in merge_documents(OWN, {"species-ref": SPECIES})


def test_the_inputs_are_not_changed() -> None:
    before = repr((OWN, SPECIES, PERMITS))
    merged()
    assert repr((OWN, SPECIES, PERMITS)) == before
