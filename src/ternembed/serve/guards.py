"""ASGI middleware guarding the server: bearer key, body size, and the bound on concurrent requests.

They answer at once, before a request reaches the routes: a missing or wrong key is 401, a body over
the limit is 413 (from its Content-Length, or as soon as the bytes read pass it), and a request beyond
``max_concurrent`` is 429 with ``Retry-After`` rather than a place in an ever longer queue.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ternembed.serve.errors import ApiError, error_response
from ternembed.serve.metrics import ServerMetrics

OPEN_PATHS = ("/health",)
"""Answered without a key and outside the concurrency bound, so health checks see an overloaded server."""


class _Guard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, error: ApiError) -> None:
        await error_response(error, scope["path"])(scope, receive, send)


class BearerKeyGuard(_Guard):
    """401 unless ``Authorization: Bearer <key>`` matches (compared in constant time)."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        super().__init__(app)
        self._expected = f"Bearer {key}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(b"authorization", b"")
        if not hmac.compare_digest(given, self._expected):
            error = ApiError(
                401,
                "missing or wrong API key; send the header 'Authorization: Bearer <key>'",
                code="invalid_api_key",
                headers={"WWW-Authenticate": "Bearer"},
            )
            return await self._refuse(scope, receive, send, error)
        await self.app(scope, receive, send)


class BodySizeGuard(_Guard):
    """413 for a request body over ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = int(max_bytes)

    def _too_large(self) -> ApiError:
        return ApiError(413, f"the request body is over the server's limit of {self.max_bytes} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._refuse(scope, receive, send, self._too_large())
        seen = 0

        async def bounded_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise self._too_large()
            return message

        await self.app(scope, bounded_receive, send)


class ConcurrencyGuard(_Guard):
    """429 with ``Retry-After`` for a request beyond ``max_concurrent`` in flight."""

    def __init__(self, app: ASGIApp, max_concurrent: int, metrics: ServerMetrics) -> None:
        super().__init__(app)
        self.max_concurrent = int(max_concurrent)
        self.metrics = metrics
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS or scope["path"] == "/metrics":
            return await self.app(scope, receive, send)
        if self.in_flight >= self.max_concurrent:
            self.metrics.rejected.inc()
            error = ApiError(
                429,
                f"the server is answering its limit of {self.max_concurrent} concurrent requests; retry shortly",
                code="rate_limit_exceeded",
                headers={"Retry-After": "1"},
            )
            return await self._refuse(scope, receive, send, error)
        self.in_flight += 1
        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self.metrics.in_flight.dec()
