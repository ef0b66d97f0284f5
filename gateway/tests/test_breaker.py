"""The circuit breaker's rules, on an explicit clock."""

from __future__ import annotations

from gateway.proxy.breaker import BreakerState, CircuitBreaker


def test_consecutive_failures_open_it_and_a_success_in_between_resets_the_count() -> None:
    breaker = CircuitBreaker(failures=3, reset_seconds=5)
    breaker.failed(0.0)
    breaker.failed(0.1)
    breaker.succeeded()
    breaker.failed(0.2)
    breaker.failed(0.3)
    assert breaker.state is BreakerState.CLOSED
    breaker.failed(0.4)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow(1.0)
    assert breaker.retry_after(1.0) == 4.4


def test_after_the_reset_time_one_probe_goes_and_its_success_closes_it() -> None:
    breaker = CircuitBreaker(failures=1, reset_seconds=5)
    breaker.failed(10.0)
    assert not breaker.allow(14.9)
    assert breaker.allow(15.0)  # the probe
    assert breaker.state is BreakerState.HALF_OPEN
    assert not breaker.allow(15.0)  # only one at a time
    breaker.succeeded()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow(15.1)


def test_a_failed_probe_opens_it_for_another_period() -> None:
    breaker = CircuitBreaker(failures=2, reset_seconds=5)
    breaker.failed(0.0)
    breaker.failed(0.0)
    assert breaker.allow(5.0)
    breaker.failed(5.0)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow(9.9)
    assert breaker.allow(10.0)


def test_a_probe_released_without_an_answer_lets_the_next_one_through() -> None:
    breaker = CircuitBreaker(failures=1, reset_seconds=1)
    breaker.failed(0.0)
    assert breaker.allow(1.0)
    breaker.released()
    assert breaker.allow(1.0)
