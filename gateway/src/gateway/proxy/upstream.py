"""One pooled HTTP client per upstream service, with its circuit breaker."""

from __future__ import annotations


class UpstreamPool:
    """Filled in by the proxy work."""
