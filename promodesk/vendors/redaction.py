"""Keeping secrets out of logs, errors and anything else that leaves the process.

Every API key and token promodesk handles is registered here the moment it is read; `redact`
replaces any registered secret (and anything shaped like an Authorization header) in a text,
and `RedactingFilter` does it for every log record.

A secret is also registered in every form promodesk itself turns it into on the way out, since
an error or a log line may show any of them: quoted as Python and httpx quote strings and bytes
(`b'tok\\n'`, and that again inside an exception's repr), base64 (a Basic header is
base64 of `SID:token`), URL-encoded, JSON-escaped and XML-escaped, and without the stray
whitespace a server might trim before echoing it.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import urllib.parse
from xml.sax.saxutils import escape

_MASK = "•••"
_lock = threading.Lock()
_secrets: set[str] = set()
_SHAPES = re.compile(
    r"(?i)(authorization:\s*(?:basic|bearer)\s+)\S+|(x-api-key:\s*)\S+|((?:api_key|token)=)[^&\s\"']+"
)


_MIN_LENGTH = 4


def _encodings(value: str) -> set[str]:
    """The secret as promodesk may write it: as is, and each way it is encoded or quoted."""
    raw = value.encode("utf-8", "surrogatepass")
    forms = {
        value,
        value.strip(),
        repr(value)[1:-1],
        repr(raw)[2:-1],  # httpx: "Illegal header value b'tok\\n'"
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value),
        escape(value, {'"': "&quot;"}),
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }
    # An exception's repr quotes its message again: every backslash doubled.
    forms |= {form.replace("\\", "\\\\") for form in forms if "\\" in form}
    return {form for form in forms if len(form) >= _MIN_LENGTH}


def register_secret(value: str | None) -> None:
    """Remember a secret so that it is masked wherever it would be written (in every form
    promodesk encodes it in)."""
    if value and len(value) >= _MIN_LENGTH:
        forms = _encodings(value)
        with _lock:
            _secrets.update(forms)


def register_credentials(user: str, secret: str) -> None:
    """A user and secret sent together as HTTP Basic: base64 of `user:secret` is a secret too
    (the user alone is not)."""
    register_secret(secret)
    pair = f"{user}:{secret}".encode("utf-8", "surrogatepass")
    encoded = base64.b64encode(pair).decode()
    with _lock:
        _secrets.update({encoded, encoded.rstrip("=")})


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
