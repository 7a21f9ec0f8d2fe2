"""Vendor accounts: settings as JSON in the user's config folder, secrets in the keychain, one
client per account made once and reused, and the built-in Sandbox account per vendor.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, Field, ValidationError

from promodesk.atomic import atomic_write
from promodesk.domain.dates import zone_problem
from promodesk.domain.vendors import Vendor
from promodesk.services.paths import config_dir
from promodesk.services.reachability import why_unreachable
from promodesk.services.secrets import KeychainStatus, SecretStore, secret_problem
from promodesk.vendors.errors import NetworkError, VendorError
from promodesk.vendors.fake_support import SandboxTransport
from promodesk.vendors.http import PROBE_TIMEOUT
from promodesk.vendors.registry import VENDORS, VendorClient

# Test connection: the vendor's answer within this many seconds, and a verdict within a couple
# more whatever happens (a keychain that is slow to unlock included): about ten in all.
CHECK_WITHIN_S = PROBE_TIMEOUT
_CHECK_SLACK_S = 2.0

SANDBOX_PREFIX = "sandbox-"
# accounts.json holds a few settings per account: anything this big is not it.
_MAX_SETTINGS_BYTES = 10 * 1024 * 1024


class Account(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    vendor: Vendor
    name: str
    settings: dict[str, str] = Field(default_factory=dict)

    @property
    def sandbox(self) -> bool:
        return self.id.startswith(SANDBOX_PREFIX)

    @property
    def label(self) -> str:
        if self.sandbox and "sandbox" not in self.name.lower():
            return f"{self.name} (sandbox)"
        return self.name


def sandbox_account(vendor: Vendor) -> Account:
    return Account(
        id=f"{SANDBOX_PREFIX}{vendor.value}",
        vendor=vendor,
        name="Sandbox",
        settings=dict(VENDORS[vendor].sandbox_settings),
    )


def check_settings(vendor: Vendor, settings: Mapping[str, str]) -> list[str]:
    """What is missing or wrong in an account's settings, in words ([] when fine)."""
    problems = []
    for field in VENDORS[vendor].fields:
        if field.secret:
            continue
        value = (settings.get(field.key) or "").strip()
        if field.required and not value:
            problems.append(f"{field.label} is required")
        elif value and field.kind == "url" and not value.startswith(("https://", "http://")):
            problems.append(f"{field.label} must start with https://")
        elif value and field.kind == "int" and not value.isdigit():
            problems.append(f"{field.label} must be a number")
        elif value and field.kind == "choice" and value not in field.choices:
            problems.append(f"{field.label} must be one of {', '.join(field.choices)}")
        elif value and field.kind == "zone" and zone_problem(value):
            problems.append(f"{field.label}: {zone_problem(value)}")
    return problems


def account_problems(account: Account, secret: str | None, *, new: bool = False) -> list[str]:
    """Everything wrong with an account about to be saved, in words ([] when fine): its
    name, its settings, and its secret (required for a new account)."""
    problems = check_settings(account.vendor, account.settings)
    if not account.name.strip():
        problems.insert(0, "Name is required")
    label = VENDORS[account.vendor].secret_field.label
    if secret:
        problem = secret_problem(label, secret)
        if problem is not None:
            problems.append(problem)
    elif new:
        problems.append(f"{label} is required")
    return problems


class AccountStore:
    """The user's accounts (no secrets in here: those are in the keychain)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "accounts.json"
        self.notice = ""  # set when a damaged file was put aside (the dialog shows it)

    def load(self) -> list[Account]:
        """The user's accounts; [] when there are none or the file is damaged (then it is
        kept aside and `notice` says so). Never raises for what is in the file."""
        data = self._read()
        if data is None:
            return []
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            self._put_aside(f"line {line}: byte 0x{data[error.start]:02X} is not UTF-8 text")
            return []
        try:
            parsed = json.loads(text)
            return [Account.model_validate(item) for item in parsed["accounts"]]
        except json.JSONDecodeError as error:
            self._put_aside(f"line {error.lineno}: {error.msg}")
        except RecursionError:
            self._put_aside("it is nested too deeply to be promodesk's settings")
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "an account"
            self._put_aside(f"{where}: {first['msg']}")
        except (KeyError, TypeError):  # valid JSON, but not {"accounts": [...]}
            self._put_aside("it does not hold an account list")
        return []

    def _read(self) -> bytes | None:
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as error:
            self.notice = self._unreadable(error)
            return None
        if not stat.S_ISREG(status.st_mode):  # a folder (or a pipe) where the file should be
            self._put_aside("it is a folder or a special file, not a settings file")
            return None
        if status.st_size > _MAX_SETTINGS_BYTES:
            self._put_aside(f"it is {status.st_size:,} bytes, far too large for account settings")
            return None
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            self.notice = self._unreadable(error)
            return None

    def _unreadable(self, error: OSError) -> str:
        return (
            f"{self.path} could not be read ({error.strerror}); only the built-in sandbox "
            "accounts are listed until it can be."
        )

    def _put_aside(self, problem: str) -> None:
        """Keep a damaged file (never overwrite what a user may want back) and start afresh."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        kept = self.path.with_name(f"{self.path.stem}.damaged-{stamp}.json")
        number = 1
        while kept.exists():
            number += 1
            kept = self.path.with_name(f"{self.path.stem}.damaged-{stamp}-{number}.json")
        try:
            os.replace(self.path, kept)
        except OSError as error:
            self.notice = (
                f"{self.path} could not be read ({problem}) nor moved aside ({error.strerror}); "
                "only the built-in sandbox accounts are listed."
            )
            return
        self.notice = (
            f"{self.path} could not be read ({problem}). It was kept as {kept.name}; "
            "the account list starts empty."
        )

    def save(self, accounts: list[Account]) -> None:
        payload = {"accounts": [a.model_dump(mode="json") for a in accounts if not a.sandbox]}
        with atomic_write(self.path, "w", encoding="utf-8") as out:
            json.dump(payload, out, indent=2)

    def all(self) -> list[Account]:
        """Sandbox accounts first (one per vendor), then the user's."""
        return [sandbox_account(vendor) for vendor in Vendor] + self.load()

    def put(self, account: Account) -> None:
        if account.sandbox:
            raise ValueError("the sandbox accounts are built in")
        accounts = [a for a in self.load() if a.id != account.id]
        self.save([*accounts, account])

    def remove(self, account_id: str) -> None:
        self.save([a for a in self.load() if a.id != account_id])


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str
    seconds: float
    details: str = ""  # the technical detail (the error as the system or vendor said it)


class Connections:
    """One client per account, made on first use and closed on shutdown. Sandbox accounts talk
    to in-process fakes (no sockets) whose state lasts for the session."""

    def __init__(self, secrets: SecretStore, *, check_within: float = CHECK_WITHIN_S) -> None:
        self.secrets = secrets
        self.check_within = check_within
        # Keywords every new client is made with (the clients' `connect` options): tests and
        # benchmarks set a quick retry policy or lift the rate limit here.
        self.client_options: dict[str, Any] = {}
        self._clients: dict[str, tuple[str, VendorClient]] = {}
        self._fakes: dict[Vendor, Any] = {}

    def fake(self, vendor: Vendor) -> Any:
        if vendor not in self._fakes:
            self._fakes[vendor] = VENDORS[vendor].make_fake()
        return self._fakes[vendor]

    def use_fake(self, vendor: Vendor, fake: Any) -> None:
        """The sandbox of `vendor` is `fake` (one with other data or limits, for tests and
        benchmarks). Call it before the sandbox's first client is made."""
        if f"{SANDBOX_PREFIX}{vendor.value}" in self._clients:
            raise RuntimeError("the sandbox is in use already")
        self._fakes[vendor] = fake

    async def client(self, account: Account, *, secret: str | None = None) -> VendorClient:
        info = VENDORS[account.vendor]
        if account.sandbox:
            secret, transport = info.sandbox_secret, SandboxTransport(self.fake(account.vendor))
        else:
            secret = secret or await self.secrets.get(account.id)
            transport = None
            if not secret:
                raise VendorError(
                    account.vendor.display_name,
                    f"no {info.secret_field.label.lower()} stored for {account.name}",
                )
        fingerprint = json.dumps([account.settings, secret], sort_keys=True)
        cached = self._clients.get(account.id)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        if cached is not None:
            await cached[1].aclose()
        client = info.make_client(account.settings, secret, transport, **self.client_options)
        self._clients[account.id] = (fingerprint, client)
        return client

    async def check(self, account: Account, *, secret: str | None = None) -> ConnectionCheck:
        """Test connection: one cheap call that proves the address and the credentials."""
        problems = check_settings(account.vendor, account.settings)
        if problems:
            return ConnectionCheck(False, "; ".join(problems), 0.0)
        start = time.perf_counter()
        name = account.vendor.display_name
        try:
            # One quick try, no retry loop: a server that never answers gets a verdict soon.
            async with asyncio.timeout(self.check_within + _CHECK_SLACK_S):
                client = await self.client(account, secret=secret)
                await client.ping(within=self.check_within)
        except NetworkError as error:
            # The call never reached the vendor: say which step failed (the name, the port)
            # in words, within what is left of the time a verdict may take.
            seconds = time.perf_counter() - start
            details = "\n".join(filter(None, [str(error), error.details]))
            base_url = account.settings.get("base_url", "")
            # Only a call that never got a connection: one that connected and then heard
            # nothing has its own words, and a second connection would be a second try.
            never_connected = isinstance(
                error.__context__, httpx.ConnectError | httpx.ConnectTimeout
            )
            if not never_connected or account.sandbox or not base_url:
                return ConnectionCheck(False, str(error), seconds, details)
            left = max(1.0, self.check_within + _CHECK_SLACK_S - seconds)
            said = await why_unreachable(base_url, step_timeout=left / 2)
            return ConnectionCheck(False, said or str(error), time.perf_counter() - start, details)
        except VendorError as error:
            return ConnectionCheck(False, str(error), time.perf_counter() - start, error.details)
        except TimeoutError:
            return ConnectionCheck(
                False,
                f"{name}: no verdict within {self.check_within + _CHECK_SLACK_S:g} s",
                time.perf_counter() - start,
            )
        seconds = time.perf_counter() - start
        return ConnectionCheck(True, f"Connected to {name} in {seconds * 1000:.0f} ms", seconds)

    async def forget(self, account_id: str) -> None:
        cached = self._clients.pop(account_id, None)
        if cached is not None:
            await cached[1].aclose()

    async def aclose(self) -> None:
        for _fingerprint, client in self._clients.values():
            await client.aclose()
        self._clients.clear()


@dataclass(frozen=True)
class AccountEntry:
    account: Account
    has_secret: bool


@dataclass(frozen=True)
class SavedAccount:
    account: Account
    # True: the secret is in the keychain; False: kept for this session only; None: unchanged.
    secret_persistent: bool | None


class AccountsService:
    """What the accounts dialog does, as async use cases: file and keychain work happens off
    the GUI thread, and every account's client is made once and closed on shutdown."""

    def __init__(
        self,
        store: AccountStore | None = None,
        secrets: SecretStore | None = None,
        *,
        check_within: float = CHECK_WITHIN_S,
    ) -> None:
        self.store = store or AccountStore()
        self.secrets = secrets or SecretStore()
        self.connections = Connections(self.secrets, check_within=check_within)

    async def keychain(self) -> KeychainStatus:
        return await self.secrets.status()

    async def entries(self) -> list[AccountEntry]:
        accounts = await asyncio.to_thread(self.store.all)
        entries = []
        for account in accounts:
            if account.sandbox:
                entries.append(AccountEntry(account, True))
                continue
            try:
                has_secret = bool(await self.secrets.get(account.id))
            except (TimeoutError, OSError, RuntimeError):
                has_secret = False  # a locked or failing keychain: the form asks again
            entries.append(AccountEntry(account, has_secret))
        return entries

    async def save(self, account: Account, secret: str | None) -> SavedAccount:
        """Store the settings (and the secret, when a new one was typed)."""
        if account.sandbox:
            raise ValueError("the sandbox accounts are built in and cannot be changed")
        problems = account_problems(account, secret)
        if problems:
            raise AccountSettingsError(problems)
        persistent = None
        if secret:
            persistent = await self.secrets.set(account.id, secret)
        await asyncio.to_thread(self.store.put, account)
        await self.connections.forget(account.id)  # the next call uses the new settings
        return SavedAccount(account, persistent)

    async def remove(self, account: Account) -> None:
        if account.sandbox:
            raise ValueError("the sandbox accounts are built in")
        await self.connections.forget(account.id)
        await asyncio.to_thread(self.store.remove, account.id)
        await self.secrets.delete(account.id)

    async def check(self, account: Account, secret: str | None = None) -> ConnectionCheck:
        label = VENDORS[account.vendor].secret_field.label
        if secret:
            problem = secret_problem(label, secret)
            if problem is not None:
                return ConnectionCheck(False, problem, 0.0)
        if not account.sandbox and not secret and not await self.secrets.get(account.id):
            return ConnectionCheck(False, f"Enter the {label.lower()} first", 0.0)
        return await self.connections.check(account, secret=secret or None)

    async def aclose(self) -> None:
        await self.connections.aclose()


class AccountSettingsError(ValueError):
    """An account's settings are incomplete or wrong; `problems` says each thing to fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
