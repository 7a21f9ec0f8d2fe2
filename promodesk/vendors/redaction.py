"""Keeping secrets out of logs, errors and anything else that leaves the process.

Every API key and token promodesk handles is registered here the moment it is read; `redact`
replaces any registered secret (and anything shaped like an Authorization header) in a text,
and `RedactingFilter` does it for every log record.
"""

from __future__ import annotations

import logging
import re
import threading

_MASK = "•••"
_lock = threading.Lock()
_secrets: set[str] = set()
_SHAPES = re.compile(
    r"(?i)(authorization:\s*(?:basic|bearer)\s+)\S+|(x-api-key:\s*)\S+|((?:api_key|token)=)[^&\s\"']+"
)


def register_secret(value: str | None) -> None:
    """Remember a secret so that it is masked wherever it would be written."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    if not text:
        return text
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, _MASK)
    return _SHAPES.sub(lambda match: next(g for g in match.groups() if g is not None) + _MASK, text)


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message (and its exception text) before any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = ()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            text = "".join(str(arg) for arg in error.args)
            if redact(text) != text:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def install_log_redaction() -> None:
    """Mask secrets in everything the root logger's handlers write."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(item, RedactingFilter) for item in handler.filters):
            handler.addFilter(RedactingFilter())
