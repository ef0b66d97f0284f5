"""Verifying a declaration: gather the facts, apply the rules, ask risk-score, store.

The facts come in a fixed number of round trips whatever the number of lines (MEASURED.md:
~1 ms per async SQLite query): one registry query for every permit the declaration names,
one for the other declarations that presented them, one `species.rpc.status` batch for the
declared species and the permit items' species. A dependency that does not answer becomes a
finding (SPECIES_UNAVAILABLE, RISK_UNAVAILABLE), never a 500. The answer is stored with the
declaration id: a replay returns it as first given.

A verification is two units of work of Core statements (`Database.run`; on SQLite each is
one hop to a thread instead of one per statement): a read (the replay check and the
registry's rows) and a write (the answer, its event, the partners' copies). The NATS calls
and the partners' registries are asked between them, outside any transaction, so on SQLite
the write lock is held for the inserts only. There is no request session: the write unit
is the one commit. (A declaration naming partners' permits reads twice: the replay check,
then the registry once the partners answered; one under a quota reads its exports too.)
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from pydantic import ValidationError
from sqlalchemy import Connection

from pangolin_core.contracts.cites_codes import CodeLists
from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.contracts.permits import (
    Declaration,
    Finding,
    PermitReference,
    VerificationCompleted,
    VerifiedLineSummary,
)
from pangolin_core.contracts.risk import ASSESS_SUBJECT, AssessmentRequest, RiskAssessment
from pangolin_core.contracts.species import SpeciesStatus, StatusQuery
from pangolin_core.db import Database
from pangolin_core.errors import InvalidInput, NotFound, PangolinError
from pangolin_core.identity import Caller
from pangolin_core.messaging.outbox import outbox_rows, write_outbox_rows
from pangolin_core.messaging.rpc import RpcClient
from permit_verify.errors import DeclarationChanged, VerificationInProgress
from permit_verify.partners import repository as partner_copies
from permit_verify.partners import service as partners
from permit_verify.partners.client import PartnerDirectory
from permit_verify.partners.service import PartnerAnswers
from permit_verify.permits.models import Permit, PermitItem
from permit_verify.permits.rules import quota_counts
from permit_verify.permits.schemas import PermitOut
from permit_verify.permits.service import EVENT_SOURCE, permit_out
from permit_verify.permits.signing import PermitSigner
from permit_verify.species import species_statuses
from permit_verify.verifications import repository
from permit_verify.verifications.repository import StoredVerification
from permit_verify.verifications.rules import (
    Code,
    LineFacts,
    OtherDeclaration,
    declaration_problems,
    declaration_verdict,
    line_findings,
    line_verdict,
    matched_item,
)
from permit_verify.verifications.schemas import LineResult, VerificationOut

NO_PARTNER_ANSWERS = PartnerAnswers({}, frozenset(), {})


def fingerprint(declaration: Declaration) -> str:
    raw = json.dumps(declaration.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def status_queries(declaration: Declaration, item_species: Sequence[str]) -> list[StatusQuery]:
    """One query per line (the declared name, on the declared date, as the trading State
    sees it: docs/species-ref.md), then one per permit item species still to resolve to its
    taxon, asked as the same State sees it: without a country an answer carries every
    country's suspensions (5 KB instead of 0.9 KB for Python regius), and parsing that was
    a fifth of a verification's CPU (bench/verify.py)."""
    countries = declaration.countries
    on = declaration.declared_on
    if declaration.direction == "import":
        trading = {
            "country": countries.import_,
            "direction": "import",
            "origin": countries.origin,
            "exporter": countries.export,
        }
    else:  # export, re-export (its origin is another State), transit: the exporting State's view
        trading = {"country": countries.export, "direction": "export", "origin": countries.origin}
    queries = [
        StatusQuery.model_validate(
            {
                "name": line.species,
                "as_of": on,
                "term": line.term,
                "source": line.source,
                "purpose": line.purpose,
                **trading,
            }
        )
        for line in declaration.lines
    ]
    queries += [
        StatusQuery.model_validate({"name": name, "as_of": on, **trading}) for name in item_species
    ]
    return queries


async def _quota_used(
    *,
    db: Database,
    rpc: RpcClient,
    declaration: Declaration,
    statuses: Sequence[SpeciesStatus],
    timeout: float,
) -> dict[int, Decimal] | None:
    """Quota id -> what the exporting country already exported under it this calendar year
    (None: it could not be counted). Only when a line falls under a quota above zero: then
    one registry query for the country's endorsed quantities since 1 January, and one
    species-ref batch telling which of them fall under which quota (synonyms and higher
    taxa included, as species-ref scopes quotas)."""
    quotas = {q.id for status in statuses for q in status.quotas if q.quota > 0}
    country = declaration.countries.export
    if not quotas or declaration.direction == "import" or country is None:
        return {}
    on = declaration.declared_on
    exported = await db.run(
        lambda conn: repository.exported_quantities(
            conn, country=country, since=date(on.year, 1, 1), until=on
        ),
        write=False,
    )
    if not exported:
        return {}
    queries = [
        StatusQuery(
            name=e.species,
            as_of=on,
            country=country,
            direction="export",
            term=e.term,
            source=e.source,
            purpose=e.purpose,
        )
        for e in exported
    ]
    answers = await species_statuses(rpc=rpc, queries=queries, timeout=timeout)
    if answers is None:
        return None
    used: dict[int, Decimal] = defaultdict(Decimal)
    for export, status in zip(exported, answers, strict=True):
        for quota in status.quotas:
            if quota.id in quotas and quota_counts(quota, export.unit):
                used[quota.id] += export.quantity
    return dict(used)


async def assess_risk(
    *, rpc: RpcClient, declaration: Declaration, findings: list[Finding], timeout: float
) -> tuple[RiskAssessment | None, list[Finding]]:
    """risk-score's assessment, or None and a RISK_UNAVAILABLE finding saying why."""
    request = AssessmentRequest(declaration=declaration, findings=findings)
    try:
        return await rpc.call(ASSESS_SUBJECT, request, RiskAssessment, timeout=timeout), []
    except (PangolinError, ValidationError) as exc:
        reason = exc.detail if isinstance(exc, PangolinError) else "an answer outside the contract"
        finding = Finding(
            code=Code.RISK_UNAVAILABLE.value,
            severity="warning",
            message=f"risk-score gave no assessment ({reason}): no lane; apply the office's"
            " fallback selection",
            field=None,
        )
        return None, [finding]


def _replay(stored: StoredVerification, declaration: Declaration, print_: str) -> VerificationOut:
    """The answer stored for the declaration id, if the declaration is the same."""
    if stored.fingerprint != print_:
        raise DeclarationChanged(
            f"Declaration {declaration.declaration_id} was verified with other content: a"
            " corrected declaration is sent under a new declaration id.",
            errors=[
                {
                    "field": "declaration_id",
                    "message": "already verified with other content",
                    "type": "declaration_changed",
                }
            ],
            verification_id=stored.id,
        )
    return VerificationOut.model_validate(stored.response)


@dataclass(frozen=True)
class RegistryFacts:
    """What the registry holds about a declaration's permits, read in one unit."""

    permits: Mapping[tuple[str, str], PermitOut]
    others: Mapping[str, Sequence[OtherDeclaration]]
    partners: PartnerAnswers = NO_PARTNER_ANSWERS

    def permit(self, ref: PermitReference | None) -> PermitOut | None:
        return None if ref is None else self.permits.get((ref.issuing_country, ref.number))

    def known_taxa(self) -> dict[str, int]:
        """The permit items' species names whose taxon was resolved when they were issued."""
        return {
            item.species: item.taxon_id
            for p in self.permits.values()
            for item in p.items
            if item.taxon_id is not None
        }

    def jwks(self, permit: PermitOut, signer: PermitSigner) -> Mapping[str, object]:
        fetched = self.partners.found.get((permit.issuing_country, permit.number))
        return fetched.jwks if fetched is not None else signer.jwks(permit.issuing_country)

    def item_species(self) -> list[str]:
        """The permit items' species names still to resolve (none stored at issue)."""
        known = self.known_taxa()
        names = {item.species for p in self.permits.values() for item in p.items}
        return sorted(names - known.keys())


def _as_partner_serves_it(fetched: PermitOut, copy: PermitOut | None) -> PermitOut:
    """The partner's permit, with what was endorsed here and not yet confirmed to it: each
    balance the lower of the partner's and this registry's copy, the copy's status when it
    is closed here."""
    if copy is None or copy.id != fetched.id:
        return fetched
    here = {item.item_id: item.balance for item in copy.items}
    items = [
        item.model_copy(update={"balance": min(item.balance, here.get(item.item_id, item.balance))})
        for item in fetched.items
    ]
    status = fetched.status if copy.status.value in ("valid", "partially_used") else copy.status
    return fetched.model_copy(update={"items": items, "status": status})


@dataclass(frozen=True)
class RegistryRows:
    """The registry's rows about a declaration's permits, as one read unit found them."""

    permits: Mapping[tuple[str, str], tuple[Permit, list[PermitItem]]]
    # Ids the partners served that this registry holds for another permit.
    ids_taken: set[str]
    # Other declarations on the permits the lines present: those found here and those the
    # partners served (a superset of the permits the rules will see).
    others: Mapping[str, Sequence[OtherDeclaration]]


def _read_registry(
    conn: Connection, declaration: Declaration, answers: PartnerAnswers
) -> RegistryRows:
    """Three statements whatever the number of lines (the second only for partners'
    permits): the permits and their items, the partner-served ids already held here, the
    other declarations."""
    references = {
        (ref.issuing_country, ref.number)
        for line in declaration.lines
        for ref in (line.permit, line.import_permit)
        if ref is not None
    }
    found = repository.permits_by_reference(conn, references)
    served = {key: fetched.permit.id for key, fetched in answers.found.items()}
    new_ids = {i for key, i in served.items() if key not in found or found[key][0].id != i}
    taken = repository.ids_taken(conn, new_ids)
    presented = {(p.issuing_country, p.number) for line in declaration.lines if (p := line.permit)}
    permit_ids = {found[key][0].id for key in presented if key in found}
    permit_ids |= {served[key] for key in presented if key in served}
    others = repository.other_declarations(
        conn, permit_ids=permit_ids, declaration_id=declaration.declaration_id
    )
    return RegistryRows(found, taken, others)


def _without_ids_taken(answers: PartnerAnswers, taken: set[str]) -> PartnerAnswers:
    """The answers without permits served under an id this registry holds for another
    permit (the copy is kept, and endorsed, under the partner's id): those are unavailable."""
    if not taken:
        return answers
    refused = {
        key: f"{key[0]} served a permit id this registry holds for another permit"
        for key, fetched in answers.found.items()
        if fetched.permit.id in taken
    }
    return PartnerAnswers(
        {k: v for k, v in answers.found.items() if v.permit.id not in taken},
        answers.not_found,
        {**answers.unavailable, **refused},
    )


def _registry_facts(rows: RegistryRows, answers: PartnerAnswers) -> RegistryFacts:
    permits = {key: permit_out(permit, items) for key, (permit, items) in rows.permits.items()}
    answers = _without_ids_taken(answers, rows.ids_taken)
    # A partner's permit is what its registry serves now (a copy kept here is not enough
    # when the partner cannot be asked: its status may have changed there).
    for key in (*answers.not_found, *answers.unavailable):
        permits.pop(key, None)
    for key, fetched in answers.found.items():
        permits[key] = _as_partner_serves_it(fetched.permit, permits.get(key))
    return RegistryFacts(permits, rows.others, answers)


async def verify(
    *,
    db: Database,
    declaration: Declaration,
    caller: Caller,
    codes: CodeLists,
    signer: PermitSigner,
    rpc: RpcClient,
    species_timeout: float,
    risk_timeout: float,
    today: date,
    directory: PartnerDirectory | None = None,
) -> VerificationOut:
    problems = declaration_problems(declaration, codes, today=today)
    if problems:
        raise InvalidInput(
            "The declaration cannot be verified: "
            + "; ".join(f"{p['field']}: {p['message']}" for p in problems),
            errors=problems,
        )
    print_ = fingerprint(declaration)
    # Permits of partner countries are asked of their registries, outside any transaction
    # (as the NATS calls), after the replay check: a replay asks nobody.
    partner_refs = {
        (ref.issuing_country, ref.number)
        for line in declaration.lines
        for ref in (line.permit, line.import_permit)
        if ref is not None and ref.issuing_country != caller.country
        if directory is not None and ref.issuing_country in directory
    }

    def replay_or_registry(conn: Connection) -> StoredVerification | RegistryRows | None:
        """One read unit: the stored verification, else (no partner to ask first) the
        registry's rows."""
        stored = repository.find(conn, declaration_id=declaration.declaration_id)
        if stored is not None:
            return stored
        return None if partner_refs else _read_registry(conn, declaration, NO_PARTNER_ANSWERS)

    found = await db.run(replay_or_registry, write=False)
    if isinstance(found, StoredVerification):
        return _replay(found, declaration, print_)
    answers = NO_PARTNER_ANSWERS
    if found is None:
        assert directory is not None
        answers = await partners.fetch(directory=directory, references=partner_refs)
        found = await db.run(lambda conn: _read_registry(conn, declaration, answers), write=False)
    registry = _registry_facts(found, answers)

    # A permit item named as a line declares it is resolved by that line's query.
    declared = {line.species for line in declaration.lines}
    item_species = [name for name in registry.item_species() if name not in declared]
    statuses = await species_statuses(
        rpc=rpc, queries=status_queries(declaration, item_species), timeout=species_timeout
    )
    lines_n = len(declaration.lines)
    taxa: dict[str, int | None] = dict(registry.known_taxa())
    quota_used: dict[int, Decimal] | None = None
    if statuses is not None:
        # The same name is the same taxon: a line's answer wins over a taxon stored at issue.
        lines = zip(declaration.lines, statuses[:lines_n], strict=True)
        taxa |= {line.species: s.taxon_id for line, s in lines}
        resolved = zip(item_species, statuses[lines_n:], strict=True)
        taxa |= {name: s.taxon_id for name, s in resolved}
        quota_used = await _quota_used(
            db=db,
            rpc=rpc,
            declaration=declaration,
            statuses=statuses[:lines_n],
            timeout=species_timeout,
        )

    results: list[LineResult] = []
    # What earlier lines drew on each permit's blocks (export and import permits alike)
    # and declared under each quota: lines add up, a split is no way round.
    drawn: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    quota_drawn: dict[int, Decimal] = defaultdict(Decimal)
    for n, line in enumerate(declaration.lines):
        permit = registry.permit(line.permit)
        import_permit = registry.permit(line.import_permit)
        status = statuses[n] if statuses is not None else None
        facts = LineFacts(
            index=n,
            line=line,
            permit=permit,
            import_permit=import_permit,
            status=status,
            species_answered=statuses is not None,
            taxa=taxa,
            other_declarations=registry.others.get(permit.id, []) if permit is not None else [],
            jwks=registry.jwks(permit, signer) if permit is not None else {},
            quota_used=quota_used,
            drawn_before=dict(drawn[permit.id]) if permit is not None else {},
            import_drawn_before=dict(drawn[import_permit.id]) if import_permit else {},
            quota_drawn_before=dict(quota_drawn),
            partner_not_found=registry.partners.not_found,
            partner_unavailable=registry.partners.unavailable,
        )
        findings = line_findings(declaration, facts, home_country=caller.country)
        for presented in (permit, import_permit):
            item = matched_item(line, presented, status, taxa) if presented is not None else None
            if presented is not None and item is not None and line.unit == item.unit:
                drawn[presented.id][item.item_id] += line.quantity
        for quota in status.quotas if status is not None else ():
            if quota.quota > 0 and quota_counts(quota, line.unit):
                quota_drawn[quota.id] += line.quantity
        results.append(
            LineResult(
                line_no=line.line_no,
                verdict=line_verdict(findings),
                permit_id=permit.id if permit is not None else None,
                findings=findings,
            )
        )

    risk, declaration_findings = await assess_risk(
        rpc=rpc,
        declaration=declaration,
        findings=[f for result in results for f in result.findings],
        timeout=risk_timeout,
    )
    out = VerificationOut(
        verification_id=str(uuid4()),
        declaration_id=declaration.declaration_id,
        verdict=declaration_verdict(r.verdict for r in results),
        lines=results,
        findings=declaration_findings,
        risk=risk,
        verified_at=datetime.now(UTC),
    )
    # The partners' permits are kept here (under their ids) so the single window can
    # endorse them; stored with the verification, in one unit of work.
    write = _VerificationWrite(
        copies=[fetched.permit for fetched in registry.partners.found.values()],
        declaration=declaration,
        fingerprint=print_,
        out=out,
        caller=caller,
    )
    # No OUTBOX_WRITTEN: the relay's short poll publishes the events in batches
    # (settings.outbox_poll_interval) instead of a pass per verification.
    return await db.run(write)


class _VerificationWrite:
    """The write unit of a verification: the partners' copies, the answer, its presented
    permits and its event. Or, when a concurrent request stored this declaration first,
    that request's answer: the unique index on the declaration id makes the second insert
    do nothing (on SQLite under the write lock; on PostgreSQL the insert waits for the
    other transaction), and the replay reads the first."""

    def __init__(
        self,
        *,
        copies: list[PermitOut],
        declaration: Declaration,
        fingerprint: str,
        out: VerificationOut,
        caller: Caller,
    ) -> None:
        self.copies = copies
        self.declaration = declaration
        self.fingerprint = fingerprint
        self.out = out
        self.verification = {
            "id": out.verification_id,
            "declaration_id": out.declaration_id,
            "fingerprint": fingerprint,
            "verdict": out.verdict,
            "response": out.model_dump(mode="json"),
            "client_id": caller.client_id,
            "country": caller.country,
            "created_at": out.verified_at,
        }
        self.presented = [
            {
                "verification_id": out.verification_id,
                "declaration_id": out.declaration_id,
                "permit_id": line.permit_id,
                "line_no": line.line_no,
            }
            for line in out.lines
            if line.permit_id is not None
        ]
        # Made here, in the request's task: the outbox row carries its trace context.
        (self.event,) = outbox_rows([completed_event(declaration, out, caller)])

    def __call__(self, conn: Connection) -> VerificationOut:
        partner_copies.store_copies(conn, self.copies)
        if repository.add(conn, self.verification, self.presented):
            write_outbox_rows(conn, [self.event])
            return self.out
        stored = repository.find(conn, declaration_id=self.declaration.declaration_id)
        if stored is None:
            raise VerificationInProgress(
                f"Declaration {self.declaration.declaration_id} was verified by a concurrent"
                " request: send it again to get that result."
            )
        return _replay(stored, self.declaration, self.fingerprint)


def completed_event(declaration: Declaration, out: VerificationOut, caller: Caller) -> CloudEvent:
    event = VerificationCompleted(
        verification_id=out.verification_id,
        declaration_id=out.declaration_id,
        direction=declaration.direction,
        declared_on=declaration.declared_on,
        office=declaration.office,
        verdict=out.verdict,
        lines=[
            VerifiedLineSummary(
                line_no=line.line_no,
                verdict=line.verdict,
                permit_id=line.permit_id,
                finding_codes=[f.code for f in line.findings],
            )
            for line in out.lines
        ],
        finding_codes=[f.code for f in out.findings],
        risk_lane=out.risk.lane if out.risk is not None else None,
        risk_score=out.risk.score if out.risk is not None else None,
        verified_by=caller.client_id,
        verifying_country=caller.country,
    )
    return event.to_event(source=EVENT_SOURCE, subject=out.verification_id)


async def read(*, db: Database, verification_id: str) -> VerificationOut:
    response = await db.run(lambda conn: repository.response_of(conn, verification_id), write=False)
    if response is None:
        raise NotFound(f"No verification {verification_id}.")
    return VerificationOut.model_validate(response)
