"""The rate-limit response headers of a decision.

Follows draft-ietf-httpapi-ratelimit-headers-11 (23 May 2026), the structured-field form:
`RateLimit-Policy` is a List of quota policies (a String item with `q`, the quota, and `w`,
the window in whole seconds, never 0); `RateLimit` is a List of service limits (`r`, the
quota available, and `t`, the effective window in whole seconds).
"""

from __future__ import annotations

import math

from gateway.state import RateDecision

POLICY_NAME = "default"


def rate_limit_headers(decision: RateDecision) -> dict[str, str]:
    policy = decision.policy
    # A full bucket refills in burst/rate seconds: `q` per `w` is the policy's average rate.
    window = max(1, math.ceil(policy.burst / policy.rate))
    if decision.allowed:
        remaining, effective = decision.remaining, math.ceil(decision.reset_seconds)
        headers = {}
    else:
        # Section 6: Retry-After must not point earlier than the end of the effective window.
        # Refused, nothing is available until the next token, so that is the window.
        retry_after = max(1, math.ceil(decision.retry_after_seconds))
        remaining, effective = 0, retry_after
        headers = {"Retry-After": str(retry_after)}
    headers["RateLimit-Policy"] = f'"{POLICY_NAME}";q={policy.burst};w={window}'
    headers["RateLimit"] = f'"{POLICY_NAME}";r={remaining};t={effective}'
    return headers
