"""Account secrets in the OS keychain, never in a file.

keyring is imported on first use and always called on a worker thread with a timeout: its
backends can block (a locked keychain waiting for a password) and may be missing altogether
(headless Linux, some frozen builds). Without a usable backend a secret is kept for the running
session only and the UI says so; there is no plaintext fallback. PROMODESK_KEYRING=memory
selects an in-memory keychain (tests, demos).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

from promodesk.vendors.redaction import register_secret

SERVICE = "promodesk"
TIMEOUT_S = 5.0

_NAMES = {
    "\n": "a line break",
    "\r": "a line break",
    "\t": "a tab",
    "\x00": "a NUL character",
    " ": "a space",
    "\xa0": "a non-breaking space",
}


def secret_problem(label: str, value: str) -> str | None:
    """What is wrong with a key or token as typed or pasted (None when fine). Keys and tokens
    are printable ASCII without spaces: a control character (a trailing newline, CR, NUL),
    a space or a character such as "é" or a curly quote comes from copying, and sent in a
    header it breaks the request (and an error would quote the secret)."""
    for character in value:
        if character.isascii() and character.isprintable() and character != " ":
            continue
        if character in _NAMES:
            what = _NAMES[character]
        elif unicodedata.category(character) == "Cc":
            what = f"an invisible control character (U+{ord(character):04X})"
        elif character.isspace():
            what = f"a space character (U+{ord(character):04X})"
        else:
            what = f"the character {character!r}"
        return (
            f"The {label} contains {what}, which no key or token has (it usually comes with "
            "copying): paste it again without it"
        )
    return None


@dataclass(frozen=True)
class KeychainStatus:
    persistent: bool
    backend: str
    reason: str = ""


class _MemoryKeychain:
    """A keychain that forgets on exit (PROMODESK_KEYRING=memory)."""

    name = "in-memory keychain"

    def __init__(self) -> None:
        self._values: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def get_password(self, service: str, user: str) -> str | None:
        with self._lock:
            return self._values.get((service, user))

    def set_password(self, service: str, user: str, value: str) -> None:
        with self._lock:
            self._values[(service, user)] = value

    def delete_password(self, service: str, user: str) -> None:
        with self._lock:
            self._values.pop((service, user), None)


def _system_keychain() -> tuple[Any, KeychainStatus]:
    import keyring
    import keyring.backends.fail
    import keyring.backends.null

    backend = keyring.get_keyring()
    unusable = (keyring.backends.fail.Keyring, keyring.backends.null.Keyring)
    if isinstance(backend, unusable) or getattr(backend, "priority", 1) <= 0:
        return None, KeychainStatus(False, NO_KEYCHAIN, "no keychain on this computer")
    return backend, KeychainStatus(True, keychain_name(backend))


def _ignore_outcome(call: asyncio.Future[Any]) -> None:
    """A late answer nobody waits for any more: read, so asyncio does not log it as lost."""
    if not call.cancelled():
        call.exception()


NO_KEYCHAIN = "no keychain"
# keyring's backends by module, in the words their users know them by.
_KEYCHAIN_NAMES = {
    "keyring.backends.macOS": "the macOS Keychain",
    "keyring.backends.Windows": "Windows Credential Manager",
    "keyring.backends.SecretService": "the Secret Service (GNOME Keyring, KeePassXC…)",
    "keyring.backends.kwallet": "KWallet",
    "keyring.backends.libsecret": "the Secret Service (libsecret)",
    "keyring.backends.chainer": "the system keychain",
}


def keychain_name(backend: Any) -> str:
    """ "the macOS Keychain", not "macOS.Keyring"; a third-party backend by its class name."""
    module = type(backend).__module__
    for prefix, name in _KEYCHAIN_NAMES.items():
        if module == prefix or module.startswith(prefix + "."):
            return name
    return f"{type(backend).__name__} ({module})"


class SecretStore:
    def __init__(self, *, timeout: float = TIMEOUT_S) -> None:
        self.timeout = timeout
        self._backend: Any = None
        self._status: KeychainStatus | None = None
        self._session: dict[str, str] = {}  # secrets kept in memory when they cannot be stored
        # A keychain call that timed out: its thread cannot be stopped. Until it ends, the
        # keychain is not asked again (each call would hold one more of the worker threads
        # every sync, import and operation share).
        self._unanswered: asyncio.Future[Any] | None = None

    async def status(self) -> KeychainStatus:
        if self._status is None:
            if os.environ.get("PROMODESK_KEYRING") == "memory":
                self._backend = _MemoryKeychain()
                self._status = KeychainStatus(
                    False,
                    _MemoryKeychain.name,
                    "promodesk was started with a keychain that forgets on exit",
                )
            else:
                try:
                    self._backend, self._status = await self._off_thread(_system_keychain)
                except Exception as error:  # any failure means "not available"
                    self._backend = None
                    self._status = KeychainStatus(
                        False, NO_KEYCHAIN, f"the keychain could not be opened ({error})"
                    )
        return self._status

    async def _off_thread(self, function: Any, *args: Any) -> Any:
        if self._unanswered is not None and not self._unanswered.done():
            raise TimeoutError("the keychain has not answered yet (is it locked?)")
        call = asyncio.ensure_future(asyncio.to_thread(function, *args))
        try:
            return await asyncio.wait_for(asyncio.shield(call), self.timeout)
        except TimeoutError:
            self._unanswered = call
            call.add_done_callback(_ignore_outcome)
            raise TimeoutError(
                f"the keychain did not answer within {self.timeout:.0f} s (is it locked?)"
            ) from None

    async def get(self, account_id: str) -> str | None:
        if account_id in self._session:
            return self._session[account_id]
        await self.status()
        if self._backend is None:
            return None
        value: str | None = await self._off_thread(self._backend.get_password, SERVICE, account_id)
        register_secret(value)
        return value

    async def set(self, account_id: str, secret: str) -> bool:
        """Store a secret; True if it will survive a restart, False if kept for this session.
        A secret with a control character is refused (ValueError, see `secret_problem`)."""
        register_secret(secret)
        problem = secret_problem("secret", secret)
        if problem is not None:
            raise ValueError(problem)
        status = await self.status()
        if self._backend is not None:
            try:
                await self._off_thread(self._backend.set_password, SERVICE, account_id, secret)
            except Exception:  # a failing keychain leaves the session copy
                self._session[account_id] = secret
                return False
            self._session.pop(account_id, None)
            return status.persistent
        self._session[account_id] = secret
        return False

    async def delete(self, account_id: str) -> None:
        self._session.pop(account_id, None)
        await self.status()
        if self._backend is not None:
            # Nothing stored, or a keychain that fails: either way nothing is left to delete.
            with contextlib.suppress(Exception):
                await self._off_thread(self._backend.delete_password, SERVICE, account_id)
