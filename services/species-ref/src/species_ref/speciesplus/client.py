"""An async client of the Species+ API v1 (api.speciesplus.net): taxon concepts page by page
(`Link: <...>; rel="next"`, `updated_since` for increments), and per taxon its CITES
legislation and distributions.

Polite by construction: at most `concurrency` requests at once; 429, 502, 503, 504 and
transport errors are retried a bounded number of times with exponential backoff, waiting at
least what `Retry-After` asks (a wait longer than `max_retry_after` is not waited out: the
client gives up with `SpeciesPlusUnavailable`). Any other error status is a
`SpeciesPlusStatusError` at once: Species+ answers 500 to a taxon id that does not exist, and
asking again would not help. A next page is only followed on the base URL's own origin, so
the token never travels elsewhere.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Literal, Self, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from species_ref.settings import SpeciesRefSettings

TOKEN_HEADER = "X-Authentication-Token"  # noqa: S105 - a header name, not a secret
DEFAULT_BASE_URL = "https://api.speciesplus.net/api/v1/"
RETRIED_STATUSES = frozenset({429, 502, 503, 504})

Scope = Literal["current", "historic", "all"]
Day = date  # a field named `date` would shadow the type inside its model
_M = TypeVar("_M")


# --- errors -------------------------------------------------------------------------------


class SpeciesPlusError(Exception):
    """Base of the errors of the Species+ client."""


class SpeciesPlusStatusError(SpeciesPlusError):
    """Species+ answered an error status; `message` is its own error text when it gave one."""

    def __init__(self, *, url: str, status: int, message: str) -> None:
        super().__init__(f"Species+ answered {status} to {url}: {message}")
        self.url, self.status, self.message = url, status, message


class SpeciesPlusUnavailable(SpeciesPlusError):
    """Still rate-limited or unreachable after the retries (or asked to wait too long)."""

    def __init__(self, *, url: str, attempts: int, reason: str) -> None:
        super().__init__(f"Species+ unavailable for {url} after {attempts} attempt(s): {reason}")
        self.url, self.attempts, self.reason = url, attempts, reason


class SpeciesPlusResponseError(SpeciesPlusError):
    """A response that is not what the API documents (not JSON, wrong shape, foreign link)."""


# --- response models -------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class GeoEntity(_Model):
    iso_code2: str | None
    name: str | None = None
    type: str | None = None


class HigherTaxa(_Model):
    kingdom: str
    phylum: str | None = None
    class_name: str | None = Field(None, alias="class")
    order: str | None = None
    family: str | None = None


class Synonym(_Model):
    id: int
    full_name: str
    author_year: str | None = None
    rank: str


class CommonName(_Model):
    name: str
    language: str | None = None


class HashAnnotation(_Model):
    symbol: str | None = None
    full_note: str | None = None


class CurrentListing(_Model):
    """A listing in force, as `taxon_concepts` embeds it."""

    id: int
    appendix: str
    annotation: str | None = None
    hash_annotation: str | HashAnnotation | None = None
    effective_at: date | None = None
    party: GeoEntity | None = None


class TaxonConcept(_Model):
    id: int
    full_name: str
    author_year: str | None = None
    rank: str
    name_status: str
    updated_at: datetime
    active: bool = True
    cites_listing: str | None = None
    higher_taxa: HigherTaxa
    synonyms: list[Synonym] = []
    common_names: list[CommonName] = []
    cites_listings: list[CurrentListing] = []


class Pagination(_Model):
    current_page: int
    per_page: int
    total_entries: int


class TaxonConceptPage(_Model):
    pagination: Pagination
    taxon_concepts: list[TaxonConcept]
    next_url: str | None = None


class ListingChangeRecord(_Model):
    """One change of a listing (`change_type` "+", "-", "R+", "R-")."""

    id: int
    taxon_concept_id: int
    is_current: bool
    appendix: str
    change_type: str
    effective_at: date | None = None
    annotation: str | None = None
    party: GeoEntity | None = None


class QuotaUnit(_Model):
    code: str | None = None
    name: str | None = None


class QuotaRecord(_Model):
    id: int
    taxon_concept_id: int
    quota: Decimal | None = None
    publication_date: date | None = None
    notes: str | None = None
    url: str | None = None
    public_display: bool = True
    is_current: bool
    unit: QuotaUnit | str | None = None
    geo_entity: GeoEntity


class Notification(_Model):
    name: str
    date: Day | None = None
    url: str | None = None


class SuspensionRecord(_Model):
    """A trade suspension; `taxon_concept_id` None: every taxon (country-wide)."""

    id: int
    taxon_concept_id: int | None = None
    notes: str | None = None
    start_date: date
    is_current: bool
    applies_to_import: bool = False
    geo_entity: GeoEntity
    start_notification: Notification | None = None


class CitesLegislation(_Model):
    cites_listings: list[ListingChangeRecord] = []
    cites_quotas: list[QuotaRecord] = []
    cites_suspensions: list[SuspensionRecord] = []


class DistributionRecord(_Model):
    id: int
    iso_code2: str | None
    name: str | None = None
    tags: list[str] = []
    type: str | None = None
    references: list[str] = []


_DISTRIBUTIONS = TypeAdapter(list[DistributionRecord])


# --- the client ------------------------------------------------------------------------------


class SpeciesPlusClient:
    """Use as `async with SpeciesPlusClient(token=...) as client:`; an `http` client passed in
    stays the caller's to close."""

    def __init__(
        self,
        *,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        http: httpx.AsyncClient | None = None,
        concurrency: int = 4,
        max_attempts: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        max_retry_after: float = 300.0,
        timeout: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if max_attempts < 1 or concurrency < 1:
            raise ValueError("max_attempts and concurrency must be at least 1")
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._origin = _origin(self.base_url)
        self._token = token
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._slots = asyncio.Semaphore(concurrency)
        self.max_attempts = max_attempts
        self.backoff, self.max_backoff, self.max_retry_after = backoff, max_backoff, max_retry_after
        self._sleep = sleep
        # Requests given up as unavailable (rate-limited or unreachable after the retries):
        # a caller that lets a failed taxon pass (the sync does) can tell an outage, worth
        # trying again later, from a bad taxon id.
        self.unavailable = 0

    @classmethod
    def from_settings(
        cls, settings: SpeciesRefSettings, *, http: httpx.AsyncClient | None = None
    ) -> Self:
        """The client species-ref's settings describe (URL, token, concurrency)."""
        return cls(
            token=settings.speciesplus_token.get_secret_value(),
            base_url=settings.speciesplus_url,
            concurrency=settings.speciesplus_concurrency,
            http=http,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def taxon_concepts(
        self,
        *,
        updated_since: datetime | None = None,
        name: str | None = None,
        taxonomy: str | None = None,
        language: str | None = None,
        page: int = 1,
        per_page: int = 500,
        max_pages: int | None = None,
    ) -> AsyncIterator[TaxonConceptPage]:
        """Pages of taxon concepts from `page`, following `rel="next"` until there is none (or
        `max_pages` were read). `updated_since` is sent in UTC; `language` selects the
        languages of common names (e.g. "EN,FR"); `taxonomy` is CITES (default) or CMS."""
        params: dict[str, str] = {}
        if taxonomy is not None:
            params["taxonomy"] = taxonomy
        if language is not None:
            params["language"] = language
        if name is not None:
            params["name"] = name
        if updated_since is not None:
            params["updated_since"] = _utc(updated_since).strftime("%Y-%m-%dT%H:%M:%S")
        params |= {"page": str(page), "per_page": str(per_page)}
        url: str | None = urljoin(self.base_url, "taxon_concepts.json")
        read = 0
        while url is not None and (max_pages is None or read < max_pages):
            response = await self._get(url, params)
            found = self._parse(response, TypeAdapter(TaxonConceptPage))
            next_url = _next_link(response, self._origin)
            yield found.model_copy(update={"next_url": next_url})
            url, params = next_url, {}  # the link carries the query
            read += 1

    async def cites_legislation(
        self, taxon_id: int, *, scope: Scope | None = "all", language: str | None = None
    ) -> CitesLegislation:
        """Listings, quotas and suspensions of a taxon (`scope` None: the API's default,
        current ones; "all": with their history). `language` (en, es, fr) of the texts."""
        params: dict[str, str] = {}
        if scope is not None:
            params["scope"] = scope
        if language is not None:
            params["language"] = language
        url = urljoin(self.base_url, f"taxon_concepts/{taxon_id}/cites_legislation.json")
        return self._parse(await self._get(url, params), TypeAdapter(CitesLegislation))

    async def distributions(
        self, taxon_id: int, *, language: str | None = None
    ) -> list[DistributionRecord]:
        params = {"language": language} if language is not None else {}
        url = urljoin(self.base_url, f"taxon_concepts/{taxon_id}/distributions.json")
        return self._parse(await self._get(url, params), _DISTRIBUTIONS)

    # --- transport ---------------------------------------------------------------------------

    async def _get(self, url: str, params: Mapping[str, str]) -> httpx.Response:
        headers = {TOKEN_HEADER: self._token, "Accept": "application/json"}
        reason = ""
        for attempt in range(1, self.max_attempts + 1):
            wait = self._backoff(attempt)
            try:
                async with self._slots:
                    response = await self._http.get(url, params=params or None, headers=headers)
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    return response
                if response.status_code not in RETRIED_STATUSES:
                    raise SpeciesPlusStatusError(
                        url=str(response.url),
                        status=response.status_code,
                        message=_error_message(response),
                    )
                reason = f"status {response.status_code}"
                asked = _retry_after(response.headers.get("Retry-After"))
                if asked is not None:
                    if asked > self.max_retry_after:
                        self.unavailable += 1
                        raise SpeciesPlusUnavailable(
                            url=url, attempts=attempt, reason=f"{reason}, Retry-After {asked:g} s"
                        )
                    wait = max(wait, asked)
            if attempt < self.max_attempts:
                await self._sleep(wait)
        self.unavailable += 1
        raise SpeciesPlusUnavailable(url=url, attempts=self.max_attempts, reason=reason)

    def _backoff(self, attempt: int) -> float:
        """Exponential with a little jitter (so replicas do not retry in step)."""
        base = min(self.backoff * 2.0 ** (attempt - 1), self.max_backoff)
        return base * random.uniform(0.9, 1.0)  # noqa: S311 - jitter, not security

    @staticmethod
    def _parse(response: httpx.Response, adapter: TypeAdapter[_M]) -> _M:
        try:
            return adapter.validate_json(response.content)
        except ValidationError as exc:
            raise SpeciesPlusResponseError(
                f"unexpected response from {response.url}: {exc.error_count()} error(s), "
                f"first: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}"
            ) from exc


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _next_link(response: httpx.Response, origin: tuple[str, str]) -> str | None:
    link = response.links.get("next")
    if not link or not link.get("url"):
        return None
    url = urljoin(str(response.url), link["url"])
    if _origin(url) != origin:
        raise SpeciesPlusResponseError(f"next page {url} is not on {origin[0]}://{origin[1]}")
    return url


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(float((when - datetime.now(UTC)).total_seconds()), 0.0)


def _error_message(response: httpx.Response) -> str:
    """`{"error": {"message": ...}}` as Species+ words its errors, else the start of the body."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
    return response.text[:200]


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment  # taken as UTC already
    return moment.astimezone(UTC)
