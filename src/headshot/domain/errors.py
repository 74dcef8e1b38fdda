"""The error tree of the service. Routes map each class to an HTTP status and a stable code.

    HeadshotError
    ├── NotFoundError              404  (also for other users' ids: never reveal existence)
    ├── ConflictError              409
    ├── InvalidInputError          422  (bad fields, undecodable or unsupported files)
    ├── PayloadTooLargeError       413  (bytes or pixels over a limit)
    ├── AuthenticationError        401
    ├── PermissionDeniedError      403  (e.g. consent_required, missing token scope)
    ├── RateLimitedError           429  (carries retry_after_s)
    │   ├── QuotaExceededError          a person's trainings or images for the period
    │   └── SpendCapReachedError        the instance's daily provider budget
    └── ServerBusyError            503  (carries retry_after_s; try the same request again)

Messages are plain sentences for a person; they never contain paths, secrets or other users' data.
"""

from __future__ import annotations

from typing import Any


class HeadshotError(Exception):
    code = "error"

    def __init__(
        self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}


class NotFoundError(HeadshotError):
    code = "not_found"


class ConflictError(HeadshotError):
    code = "conflict"


class InvalidInputError(HeadshotError):
    code = "invalid_input"


class PayloadTooLargeError(HeadshotError):
    code = "too_large"


class AuthenticationError(HeadshotError):
    code = "unauthenticated"


class PermissionDeniedError(HeadshotError):
    code = "forbidden"


class RateLimitedError(HeadshotError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, details={"retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s


class QuotaExceededError(RateLimitedError):
    """A person's own limit for the period is used up (429, with when it frees up)."""

    code = "quota_exceeded"


class SpendCapReachedError(RateLimitedError):
    """The instance's daily provider budget is used up for everyone (429, until midnight UTC)."""

    code = "spend_cap_reached"


class ServerBusyError(HeadshotError):
    code = "busy"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, details={"retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s
