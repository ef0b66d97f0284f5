"""Merging OpenAPI documents into the one a partner reads: pure functions, no I/O.

The gateway's own paths come first. Each service adds the operations the route table
forwards to it (a `{param}` segment matches a `*` of a rule, never a literal), each with the
scopes of its rule as security alternatives and the service as its tag. Components are
merged by name: the same name with the same content is kept once; the same name with other
content is renamed `<service>__<Name>` and the service's `$ref`s follow. Only the components
a kept operation reaches are brought in.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from gateway import routes
from pangolin_core.contracts.roles import ROLE_SCOPES

Document = dict[str, Any]

OPERATIONS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
COMPONENTS = "#/components/"

OAUTH2 = "oauth2"
API_KEY = "apiKey"
TOKEN_URL = "/oauth/token"  # noqa: S105 (a path, not a secret)
API_KEY_HEADER = "X-API-Key"
UNAVAILABLE = "x-pangolin-unavailable"

# The gateway's own paths that need a scope (its admin API).
OWN_SCOPES: tuple[tuple[str, str], ...] = (("/v1/admin/", "admin"),)

SCOPE_DESCRIPTIONS: dict[str, str] = {
    "species:read": "Read species reference data: taxa, listings, quotas, suspensions, status.",
    "species:publish": "Publish species data, quotas and identification guides (an MA).",
    "permits:verify": "Verify a declaration's permits at the border (single window).",
    "permits:endorse": "Endorse a permit with the quantities actually shipped.",
    "permits:read": "Read permits and past verifications.",
    "permits:issue": "Issue and cancel permits of the caller's own country (an MA).",
    "permits:lookup": "Look up permits issued here (a partner country, EPIX-style).",
    "risk:*": "Every risk-score scope.",
    "risk:assess": "Ask for a risk assessment of a declaration.",
    "risk:outcomes": "Record the outcome of an inspection.",
    "risk:read": "Read assessments, targeting profiles and their evaluation.",
    "risk:profiles": "Manage targeting profiles.",
    "risk:models": "Manage risk models.",
    "intel:read": "Read, search and match intelligence shared with the caller.",
    "intel:write": "Publish and revoke intelligence.",
    "intel:federate": "Exchange intelligence with partner instances (TAXII).",
    "admin": "Manage clients, keys and read the audit trail (operators).",
}


def known_scopes() -> list[str]:
    """Every scope a route, a role or the gateway itself can ask for."""
    found = set(routes.all_scopes()).union(*ROLE_SCOPES.values(), (s for _, s in OWN_SCOPES))
    return sorted(found)


def security_schemes() -> dict[str, Any]:
    return {
        OAUTH2: {
            "type": "oauth2",
            "description": "OAuth2 client credentials: exchange the client id and secret at "
            f"`{TOKEN_URL}` for a bearer token.",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": TOKEN_URL,
                    "scopes": {
                        s: SCOPE_DESCRIPTIONS.get(s, f"The `{s}` scope.") for s in known_scopes()
                    },
                }
            },
        },
        API_KEY: {
            "type": "apiKey",
            "in": "header",
            "name": API_KEY_HEADER,
            "description": "For systems that cannot do OAuth2: the key carries its client's "
            "scopes.",
        },
    }


def security_for(scopes: Iterable[str]) -> list[dict[str, list[str]]]:
    """Any one of `scopes` is enough, by token or by API key (OpenAPI 3.1 lets an API-key
    requirement name the roles it needs)."""
    return [{scheme: [scope]} for scope in sorted(scopes) for scheme in (OAUTH2, API_KEY)]


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(COMPONENTS):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _split(ref: str) -> tuple[str, str]:
    section, _, name = ref[len(COMPONENTS) :].partition("/")
    return section, name


def _rewrite(node: Any, renames: Mapping[str, str]) -> Any:
    """A copy of `node` with every `$ref` in `renames` pointing at its new name."""
    if isinstance(node, dict):
        return {
            key: renames.get(value, value)
            if key == "$ref" and isinstance(value, str)
            else _rewrite(value, renames)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite(value, renames) for value in node]
    return node


def forwarded_paths(doc: Document, service: str) -> dict[str, dict[str, Any]]:
    """The path items of `doc` the route table sends to `service`, each operation with the
    security of its rule and the service as its tag; other operations are left out."""
    kept: dict[str, dict[str, Any]] = {}
    for path, item in doc.get("paths", {}).items():
        operations = {}
        for method, operation in item.items():
            if method not in OPERATIONS:
                continue
            rule = routes.match(method.upper(), path)
            if rule is None or rule.upstream != service:
                continue
            operation = copy.deepcopy(operation)
            operation["tags"] = [service]
            operation["security"] = security_for(rule.scopes)
            operations[method] = operation
        if operations:
            shared = {k: copy.deepcopy(v) for k, v in item.items() if k not in OPERATIONS}
            kept[path] = {**shared, **operations}
    return kept


def _reachable(doc: Document, roots: Any) -> dict[str, dict[str, Any]]:
    """The components of `doc` that `roots` refer to, directly or through each other."""
    available = doc.get("components", {})
    found: dict[str, dict[str, Any]] = {}
    todo = list(_refs(roots))
    while todo:
        section, name = _split(todo.pop())
        body = available.get(section, {}).get(name)
        if body is None or name in found.get(section, {}):
            continue
        found.setdefault(section, {})[name] = body
        todo.extend(_refs(body))
    return found


def _renames(
    existing: Mapping[str, Mapping[str, Any]],
    theirs: Mapping[str, Mapping[str, Any]],
    prefix: str,
) -> dict[str, str]:
    """`$ref` -> new `$ref` for each of `theirs` whose name is taken by other content. A
    component that is the same text but refers to a renamed one is renamed too."""
    renamed: set[tuple[str, str]] = set()
    while True:
        renames = {f"{COMPONENTS}{s}/{n}": f"{COMPONENTS}{s}/{prefix}__{n}" for s, n in renamed}
        conflicts = {
            (section, name)
            for section, bodies in theirs.items()
            for name, body in bodies.items()
            if (section, name) not in renamed
            and name in existing.get(section, {})
            and _rewrite(body, renames) != existing[section][name]
        }
        if not conflicts:
            return renames
        renamed |= conflicts


def _unique_operation_ids(paths: Mapping[str, Any], taken: set[str], prefix: str) -> None:
    for item in paths.values():
        for method, operation in item.items():
            if method not in OPERATIONS or "operationId" not in operation:
                continue
            if operation["operationId"] in taken:
                operation["operationId"] = f"{prefix}__{operation['operationId']}"
            taken.add(operation["operationId"])


def _operation_ids(paths: Mapping[str, Any]) -> set[str]:
    return {
        operation["operationId"]
        for item in paths.values()
        for method, operation in item.items()
        if method in OPERATIONS and "operationId" in operation
    }


def _used_tags(paths: Mapping[str, Any]) -> list[str]:
    used: list[str] = []
    for item in paths.values():
        for method, operation in item.items():
            if method in OPERATIONS:
                used.extend(t for t in operation.get("tags", []) if t not in used)
    return used


def merge_documents(
    own: Document, upstreams: Mapping[str, Document], unavailable: Sequence[str] = ()
) -> Document:
    """The gateway's document `own` with the forwarded part of each service's document."""
    merged = copy.deepcopy(own)
    # A routed path is answered by a service, never by the gateway, whatever it declares.
    paths: dict[str, dict[str, Any]] = {
        p: item for p, item in merged.get("paths", {}).items() if not routes.is_routed(p)
    }
    for path, item in paths.items():
        for prefix, scope in OWN_SCOPES:
            if path.startswith(prefix) or path == prefix.rstrip("/"):
                for method, operation in item.items():
                    if method in OPERATIONS:
                        operation["security"] = security_for([scope])
    components: dict[str, dict[str, Any]] = merged.setdefault("components", {})
    tags: list[dict[str, Any]] = list(merged.get("tags", []))
    for tag in _used_tags(paths):  # every tag is declared, the gateway's own groups first
        if all(t["name"] != tag for t in tags):
            tags.append({"name": tag})
    operation_ids = _operation_ids(paths)

    for service in sorted(upstreams):
        doc = upstreams[service]
        kept = forwarded_paths(doc, service)
        if not kept:
            continue
        prefix = service.replace("-", "_")
        theirs = _reachable(doc, kept)
        renames = _renames(components, theirs, prefix)
        kept = _rewrite(kept, renames)
        _unique_operation_ids(kept, operation_ids, prefix)
        for section, bodies in theirs.items():
            target = components.setdefault(section, {})
            for name, body in bodies.items():
                new_ref = renames.get(f"{COMPONENTS}{section}/{name}")
                target.setdefault(_split(new_ref)[1] if new_ref else name, _rewrite(body, renames))
        for path, item in kept.items():
            paths.setdefault(path, {}).update(item)
        info = doc.get("info", {})
        tags.append(
            {"name": service, "description": info.get("description") or info.get("title", "")}
        )

    merged["paths"] = paths
    components["securitySchemes"] = {**components.get("securitySchemes", {}), **security_schemes()}
    if tags:
        merged["tags"] = tags
    if unavailable:
        merged[UNAVAILABLE] = sorted(unavailable)
    else:
        merged.pop(UNAVAILABLE, None)
    return merged
