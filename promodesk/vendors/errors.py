"""One error hierarchy for the three vendors, with messages a marketer can act on.

`str(error)` is the sentence shown to the user; `error.details` is the extra a support person
wants (status, vendor message, field errors). Neither ever contains a secret: everything that
could is passed through `redact` first.
"""

from __future__ import annotations

from dataclasses import dataclass

from promodesk.vendors.redaction import redact


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class VendorError(Exception):
    """Something a vendor call could not do. Subclasses say what kind of thing."""

    retryable = False
    # Between the vendor's name and the sentence ("Optimove: the service failed").
    separator = ": "

    def __init__(
        self,
        vendor: str,
        message: str,
        *,
        operation: str = "",
        status: int | None = None,
        vendor_message: str = "",
        field_errors: tuple[FieldError, ...] = (),
    ) -> None:
        self.vendor = vendor
        self.operation = operation
        self.status = status
        self.vendor_message = redact(vendor_message)
        self.field_errors = field_errors
        super().__init__(redact(f"{vendor}{self.separator}{message}"))

    @property
    def details(self) -> str:
        lines = []
        if self.operation:
            lines.append(f"while: {self.operation}")
        if self.status is not None:
            lines.append(f"status: {self.status}")
        if self.vendor_message:
            lines.append(f"{self.vendor} said: {self.vendor_message}")
        lines += [f"  {error}" for error in self.field_errors]
        return redact("\n".join(lines))


class AuthError(VendorError):
    """401: the key or token was refused."""


class ForbiddenError(VendorError):
    """403: the credentials are valid but may not do this (e.g. a scoped or read-only token)."""


class NotFoundError(VendorError):
    """404, or the vendor's way of saying a thing does not exist."""


class ConflictError(VendorError):
    """409: the thing exists already, or its state does not allow this change."""


class QuotaError(VendorError):
    """402: the vendor refused for a plan or tariff limit."""


class VendorValidationError(VendorError):
    """400/422: the request was refused as invalid; `field_errors` say what."""


class RateLimitedError(VendorError):
    """429 for longer than promodesk waits by itself."""

    retryable = True

    def __init__(
        self,
        vendor: str,
        message: str,
        *,
        retry_after: float | None = None,
        operation: str = "",
        status: int | None = 429,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(vendor, message, operation=operation, status=status)


class ServerError(VendorError):
    """5xx: the vendor failed."""

    retryable = True


class NetworkError(VendorError):
    """No (complete) answer: connection refused, dropped, or timed out.

    `maybe_applied` is True when the request may have reached the vendor: a change may or may
    not have happened, and the caller must look before trying again.
    """

    retryable = True

    def __init__(
        self, vendor: str, message: str, *, maybe_applied: bool, operation: str = ""
    ) -> None:
        self.maybe_applied = maybe_applied
        super().__init__(vendor, message, operation=operation)


class MalformedResponseError(VendorError):
    """The vendor answered with something that is not what its API returns."""

    retryable = True


class AnswerRefusedError(MalformedResponseError):
    """An answer promodesk will not read: bigger than the cap, nested too deeply, compressed
    beyond the cap, or in an encoding it does not read. Asking again would get the same, so it
    is never retried."""

    retryable = False


class WebPageError(AnswerRefusedError):
    """A web page where data was expected: a firewall, a hotel or office login page, or an
    address that is not the vendor's API. Reads "Optimove answered with a web page, ..."."""

    separator = " "


def outcome_unknown(error: BaseException) -> bool:
    """True when a change may have been made although the call failed: the connection broke
    after sending, the vendor failed mid-way (5xx), or the answer was unreadable. Before
    sending a create again, look whether the first one landed."""
    if isinstance(error, NetworkError):
        return error.maybe_applied
    return isinstance(error, ServerError | MalformedResponseError)
