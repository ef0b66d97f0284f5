"""A circuit breaker per upstream: stop sending to a service that does not answer.

Closed: calls pass; `failures` consecutive connection failures open it. Open: calls are
refused at once until `reset_seconds` have passed; then one probe is let through (half-open).
A probe that succeeds closes the breaker; one that fails opens it again for another period.
The clock is passed in, so the rules are tested without waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    failures: int
    reset_seconds: float
    state: BreakerState = BreakerState.CLOSED
    consecutive_failures: int = 0
    opened_at: float = 0.0
    probe_in_flight: bool = False

    def allow(self, now: float) -> bool:
        """May a call go to the upstream now? (In half-open, only the one probe may.)"""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN and now - self.opened_at >= self.reset_seconds:
            self.state = BreakerState.HALF_OPEN
            self.probe_in_flight = False
        if self.state is BreakerState.HALF_OPEN and not self.probe_in_flight:
            self.probe_in_flight = True
            return True
        return False

    def retry_after(self, now: float) -> float:
        """Seconds until a call may be tried again (for `Retry-After`)."""
        if self.state is BreakerState.OPEN:
            return max(0.0, self.reset_seconds - (now - self.opened_at))
        return self.reset_seconds if self.state is BreakerState.HALF_OPEN else 0.0

    def succeeded(self) -> None:
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self.probe_in_flight = False

    def failed(self, now: float) -> None:
        self.consecutive_failures += 1
        self.probe_in_flight = False
        if self.state is BreakerState.HALF_OPEN or self.consecutive_failures >= self.failures:
            self.state = BreakerState.OPEN
            self.opened_at = now

    def released(self) -> None:
        """A call that was allowed ended without telling anything about the upstream (the
        client went away): let another probe through."""
        self.probe_in_flight = False
