"""The answers the gateway gives itself instead of forwarding a call."""

from __future__ import annotations

from pangolin_core.errors import PangolinError


class MethodNotAllowed(PangolinError):
    status, code, title = 405, "method_not_allowed", "Method not allowed"


class RouteNotFound(PangolinError):
    status, code, title = 404, "not_found", "Not found"


class PayloadTooLarge(PangolinError):
    status, code, title = 413, "payload_too_large", "Request body too large"


class UnsupportedMediaType(PangolinError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class TooManyRequests(PangolinError):
    status, code, title = 429, "rate_limited", "Too many requests"


class BadGateway(PangolinError):
    status, code, title = 502, "upstream_unreachable", "The service could not be reached"


class UpstreamUnavailable(PangolinError):
    status, code, title = 503, "upstream_unavailable", "The service is unavailable"


class UpstreamTimeout(PangolinError):
    status, code, title = 504, "upstream_timeout", "The service did not answer in time"
