"""Live vendor work on one workspace: which accounts there are, their clients, running any
operation and syncing an account. The window and the command line both use this."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from promodesk.domain.jobs import ProgressFn, ignore_progress
from promodesk.domain.vendors import Vendor
from promodesk.services.accounts import SANDBOX_PREFIX, Account, AccountsService
from promodesk.services.bulk import BulkRunner
from promodesk.services.operations import OPERATIONS, operation
from promodesk.services.operations.base import Operation
from promodesk.services.operations.executor import Executor, OperationOutcome
from promodesk.services.sync import SyncOutcome, sync_account
from promodesk.vendors.errors import NetworkError, VendorError
from promodesk.vendors.registry import VENDORS

# A script's way to give an account's secret where there is no keychain (headless servers).
SECRET_VARIABLE = "PROMODESK_SECRET"  # noqa: S105 - the name of a variable, not a secret


class UnknownAccount(LookupError):
    """No account by that name (the message lists the ones there are)."""


def never_connected(error: BaseException | None) -> bool:
    """True when a call failed without ever reaching the vendor (no network, the address does
    not resolve, the connection was refused): the window then works offline. A connection that
    broke after sending is not this (the change may have been made)."""
    return isinstance(error, NetworkError) and not error.maybe_applied


class LiveWork:
    def __init__(self, workspace: Path, accounts: AccountsService | None = None) -> None:
        self.workspace = Path(workspace)
        self.accounts = accounts or AccountsService()
        self.executor = Executor(self.workspace, self.client)
        self.bulk = BulkRunner(self.executor)

    async def client(self, account: Account) -> Any:
        """The account's client; its secret from the keychain, else PROMODESK_SECRET."""
        connections = self.accounts.connections
        if account.sandbox:
            return await connections.client(account)
        secret = await self.accounts.secrets.get(account.id) or os.environ.get(SECRET_VARIABLE)
        if not secret:
            label = VENDORS[account.vendor].secret_field.label.lower()
            raise VendorError(
                account.vendor.display_name,
                f"no {label} for {account.name}: store one with 'promodesk accounts add' (or "
                f"in File ▸ Accounts), or set {SECRET_VARIABLE} where there is no keychain",
            )
        return await connections.client(account, secret=secret)

    async def find_account(self, name: str) -> Account:
        """An account by name (any case) or id; sandbox-optimove/-altcraft/-impact always."""
        accounts = await self.accounts.entries()
        wanted = name.strip().lower()
        matches = [
            entry.account
            for entry in accounts
            if entry.account.id.lower() == wanted or entry.account.name.lower() == wanted
        ]
        if wanted.startswith(SANDBOX_PREFIX):
            matches = [entry.account for entry in accounts if entry.account.id == wanted]
        if len(matches) == 1:
            return matches[0]
        names = ", ".join(
            entry.account.id if entry.account.sandbox else entry.account.name for entry in accounts
        )
        if not matches:
            raise UnknownAccount(f"no account called {name!r} (there are: {names})")
        raise UnknownAccount(f"{name!r} names {len(matches)} accounts: use its id instead")

    @staticmethod
    def operations(vendor: Vendor) -> list[Operation]:
        return list(OPERATIONS[vendor].values())

    async def run(
        self,
        account: Account,
        name: str,
        inputs: Mapping[str, Any] | BaseModel,
        *,
        check_state: bool = True,
    ) -> OperationOutcome:
        return await self.executor.run(
            account, operation(account.vendor, name), inputs, check_state=check_state
        )

    async def sync(
        self, account: Account, *, progress: ProgressFn = ignore_progress
    ) -> SyncOutcome:
        return await sync_account(
            self.workspace, account, await self.client(account), progress=progress
        )

    async def aclose(self) -> None:
        await self.accounts.aclose()
