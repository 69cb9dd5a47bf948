"""Typed errors of the Voki REST client, in the spirit of httpx's own exception tree.

Every failure the REST layer can meet becomes one of these, with a message fit to show a
user as is. Messages never contain a token, a password or an ``Authorization`` header.
"""

from __future__ import annotations


class VokiError(Exception):
    """Base class: anything that went wrong talking to a Voki server."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class NetworkError(VokiError):
    """The server could not be reached or did not answer (DNS, refused, timeout, reset)."""


class TLSError(NetworkError):
    """The TLS handshake failed, typically certificate verification."""


class AuthError(VokiError):
    """401: bad credentials, or a token that is expired, revoked or for another tenant."""


class MFARequired(VokiError):
    """The login needs a second factor; ``mfa_token`` goes to ``/api/auth/mfa/verify``."""

    def __init__(self, mfa_token: str) -> None:
        super().__init__("A verification code is required", status=200)
        self.mfa_token = mfa_token

    def __repr__(self) -> str:  # never show the MFA token
        return "MFARequired(mfa_token=<redacted>)"


class ForbiddenError(VokiError):
    """403: this role may not see that resource."""


class NotFoundError(VokiError):
    """404."""


class ValidationError(VokiError):
    """422, with the server's per-field messages."""

    def __init__(self, message: str, fields: dict[str, list[str]], *, status: int = 422) -> None:
        super().__init__(message, status=status)
        self.fields = fields


class RateLimitedError(VokiError):
    """429. ``retry_after`` is the server's ``Retry-After`` in seconds (60 if it sent none)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, status=429)
        self.retry_after = retry_after


class ServerError(VokiError):
    """5xx, or an answer that does not have the documented shape."""


class ProtocolError(ServerError):
    """A 2xx answer whose body could not be understood (not JSON, or failing validation)."""
