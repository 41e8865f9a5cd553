"""The server's one error type and how it is written: OpenAI's schema, or TEI's on TEI routes."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from ternembed.errors import TernembedError

TEI_PATHS = ("/embed", "/info")
"""Routes answering errors in Text Embeddings Inference's ``{"error", "error_type"}`` schema."""

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "server_error",
}
_TEI_TYPES = {401: "Unhealthy", 413: "Validation", 422: "Validation", 429: "Overloaded", 500: "Backend"}


class ApiError(TernembedError):
    """A request the server refuses: HTTP status, a message naming the problem, and the field at fault."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers or {}


def error_response(error: ApiError, path: str) -> JSONResponse:
    """``error`` as a JSON response in the schema clients of ``path`` expect."""
    if path in TEI_PATHS:
        body = {"error": error.message, "error_type": _TEI_TYPES.get(error.status, "Validation")}
    else:
        body = {
            "error": {
                "message": error.message,
                "type": _TYPES.get(error.status, "invalid_request_error"),
                "param": error.param,
                "code": error.code,
            }
        }
    return JSONResponse(body, status_code=error.status, headers=error.headers)
