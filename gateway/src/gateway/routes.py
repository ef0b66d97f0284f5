"""The route table: which service answers a path, and the scopes each method needs.

This is data, in one place. A rule matches a method and a path pattern (`*` is one path
segment, a trailing `**` any rest, the empty rest included); the first rule that matches wins.
A caller needs *one* of the rule's scopes (`risk:*` grants every `risk:` scope). A path no rule
covers is a 404 at the gateway: nothing reaches a service that is not declared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

SPECIES = "species-ref"
PERMITS = "permit-verify"
RISK = "risk-score"
INTEL = "intel-share"

READ = frozenset({"GET", "HEAD"})
WRITE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ANY = READ | WRITE

JSON = frozenset({"application/json"})
TAXII = frozenset({"application/taxii+json", "application/stix+json", "application/json"})


@dataclass(frozen=True)
class Rule:
    methods: frozenset[str]
    pattern: str
    upstream: str
    scopes: frozenset[str]  # one of them is needed
    content_types: frozenset[str] = JSON  # accepted request bodies (media type, no parameters)

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.pattern.strip("/").split("/"))


def rule(
    methods: frozenset[str],
    pattern: str,
    upstream: str,
    *scopes: str,
    content_types: frozenset[str] = JSON,
) -> Rule:
    return Rule(methods, pattern, upstream, frozenset(scopes), content_types)


ROUTES: tuple[Rule, ...] = (
    # species-ref: everyone who works with specimens reads; Management Authorities publish.
    rule(
        WRITE, "/v1/species/publications/**", SPECIES, "species:publish",
        content_types=frozenset({"application/json", "text/csv", "multipart/form-data"}),
    ),
    rule(READ, "/v1/species/publications/**", SPECIES, "species:publish"),
    # The Species+ sync (its state, a run now) is the operator's: the Species+ token, its
    # rate limits and the replicas' host names are not a Management Authority's concern.
    rule(READ | frozenset({"POST"}), "/v1/species/sync", SPECIES, "admin"),
    rule(READ, "/v1/species/**", SPECIES, "species:read"),
    # Batch reads are POSTs.
    rule(frozenset({"POST"}), "/v1/species/match", SPECIES, "species:read"),
    rule(frozenset({"POST"}), "/v1/species/status", SPECIES, "species:read"),
    rule(WRITE, "/v1/species/**", SPECIES, "species:publish"),
    # permit-verify.
    rule(frozenset({"POST"}), "/v1/verifications", PERMITS, "permits:verify"),
    rule(READ, "/v1/verifications/**", PERMITS, "permits:verify", "permits:read"),
    rule(READ, "/v1/permits/lookup", PERMITS, "permits:lookup", "permits:read"),
    # The public keys that verify a country's permit signatures: partners check theirs too.
    rule(
        READ, "/v1/permits/jwks/*", PERMITS,
        "permits:lookup", "permits:read", "permits:issue", "permits:endorse", "permits:verify",
    ),
    rule(
        frozenset({"POST"}), "/v1/permits/verify-token", PERMITS,
        "permits:verify", "permits:read", "permits:lookup",
    ),
    rule(frozenset({"POST"}), "/v1/permits/*/endorsements", PERMITS, "permits:endorse"),
    # A partner country confirms what it endorsed on a permit issued here.
    rule(frozenset({"POST"}), "/v1/permits/*/confirmations", PERMITS, "permits:lookup"),
    rule(
        frozenset({"POST"}), "/v1/permits", PERMITS, "permits:issue",
        content_types=frozenset({"application/json", "application/xml", "text/xml"}),
    ),
    rule(frozenset({"POST"}), "/v1/permits/*/status", PERMITS, "permits:issue"),
    rule(
        READ, "/v1/permits/**", PERMITS,
        "permits:read", "permits:issue", "permits:endorse", "permits:verify",
    ),
    # risk-score: the customs risk unit (`risk:*`); single scopes can be granted one by one.
    rule(frozenset({"POST"}), "/v1/risk/assessments", RISK, "risk:assess"),
    rule(frozenset({"POST"}), "/v1/risk/assessments/*/outcome", RISK, "risk:outcomes"),
    rule(READ, "/v1/risk/models/**", RISK, "risk:models"),  # training reports: model owners
    rule(READ, "/v1/risk/**", RISK, "risk:read"),
    rule(WRITE, "/v1/risk/profiles/**", RISK, "risk:profiles"),
    rule(WRITE, "/v1/risk/models/**", RISK, "risk:models"),
    # intel-share: reading, matching and searching is `intel:read`; writing `intel:write`;
    # partner instances exchange over TAXII with `intel:federate`.
    # its audit trail and sharing groups are an operator's business too (`admin`).
    rule(READ, "/v1/intel/audit", INTEL, "intel:read", "admin"),
    rule(READ, "/v1/intel/sharing-groups/**", INTEL, "intel:read", "admin"),
    rule(WRITE, "/v1/intel/sharing-groups/**", INTEL, "intel:write", "admin"),
    rule(READ, "/v1/intel/**", INTEL, "intel:read"),
    rule(frozenset({"POST"}), "/v1/intel/match", INTEL, "intel:read"),
    rule(WRITE, "/v1/intel/**", INTEL, "intel:write"),
    rule(READ, "/taxii2/**", INTEL, "intel:read", "intel:federate", content_types=TAXII),
    rule(WRITE, "/taxii2/**", INTEL, "intel:write", "intel:federate", content_types=TAXII),
)  # fmt: skip

# Paths the table covers at all: a request under one of these with a method no rule allows
# is a 405, not a 404.
PREFIXES: tuple[str, ...] = (
    "/v1/species",
    "/v1/permits",
    "/v1/verifications",
    "/v1/risk",
    "/v1/intel",
    "/taxii2",
)


def _matches(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    if pattern and pattern[-1] == "**":
        head = pattern[:-1]
        return len(path) >= len(head) and all(
            p == "*" or p == s for p, s in zip(head, path, strict=False)
        )
    return len(pattern) == len(path) and all(
        p == "*" or p == s for p, s in zip(pattern, path, strict=True)
    )


def is_routed(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PREFIXES)


@lru_cache(maxsize=4096)  # paths repeat (ids vary, and then the oldest entries go)
def _match_segments(method: str, segments: tuple[str, ...]) -> Rule | None:
    for candidate in ROUTES:
        if method in candidate.methods and _matches(candidate.segments, segments):
            return candidate
    return None


def match(method: str, path: str) -> Rule | None:
    """The rule for this call, or None (404 if the path is not routed at all, else 405)."""
    return _match_segments(method, tuple(path.strip("/").split("/")))


def all_scopes() -> frozenset[str]:
    return frozenset().union(*(r.scopes for r in ROUTES))


def allowed_methods(path: str) -> frozenset[str]:
    """The methods some rule accepts at this path (for 405's `Allow`)."""
    segments = tuple(path.strip("/").split("/"))
    return frozenset().union(*(r.methods for r in ROUTES if _matches(r.segments, segments)))
