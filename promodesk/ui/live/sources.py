"""Where a panel's rows come from: a source is the imported files, the built-in sandbox, or
one of the user's accounts, each with its rows in the workspace (`accounts.id`).

A panel shows one source at a time and acts on it: imported files are a snapshot (nothing
to change at the vendor), an account is worked with live, or offline when the user says so
or the network is gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from promodesk.domain.vendors import Vendor

IMPORTED = "imported"  # the workspace's key for rows from saved exports
SANDBOX_PREFIX = "sandbox-"  # services.accounts' (not imported here: it loads httpx)
NO_ROWS = -1  # an account_id no row has: a source with nothing in the workspace yet


@dataclass(frozen=True)
class Source:
    vendor: Vendor
    key: str  # 'imported', or the settings account's id
    label: str
    kind: str  # imported | sandbox | live
    account: Any = None  # services.accounts.Account; None: imported, or not set up here
    workspace_id: int | None = None  # its accounts.id in the workspace (None: no rows yet)
    as_of: str = ""

    @property
    def imported(self) -> bool:
        return self.kind == IMPORTED

    @property
    def sandbox(self) -> bool:
        return self.kind == "sandbox"

    @property
    def name(self) -> str:
        """The account's own name in sentences ("Sandbox", "Brand EU")."""
        return "Sandbox" if self.sandbox else self.label

    @property
    def filter_id(self) -> int:
        return self.workspace_id if self.workspace_id is not None else NO_ROWS

    @property
    def tooltip(self) -> str:
        vendor = self.vendor.display_name
        if self.imported:
            return (
                f"{vendor} exports you opened in this workspace: a snapshot, browsed on this "
                "computer. Pick an account to change things at the vendor."
            )
        if self.sandbox:
            return (
                f"A fake {vendor} inside promodesk: no network, no credentials. Try every "
                "operation safely; its data lasts until promodesk closes."
            )
        if self.account is None:
            return f"Rows from {self.label}, an account not set up on this computer"
        return f"Your {vendor} account {self.label}"


def sandbox_key(vendor: Vendor) -> str:
    return f"{SANDBOX_PREFIX}{vendor.value}"


def build_sources(
    vendor: Vendor, accounts: Iterable[Any] | None, workspace: Sequence[Any]
) -> list[Source]:
    """The sources of `vendor`: imported files, the sandbox, the user's accounts (settings),
    then accounts whose rows are in the workspace but which are not set up here. `accounts`:
    services.accounts.Account objects (None while they load: the sandbox is known anyway);
    `workspace`: store.workspace.SourceInfo rows."""
    rows = {info.key: info for info in workspace if info.vendor is vendor}
    sources = [
        Source(
            vendor,
            IMPORTED,
            "Imported files",
            IMPORTED,
            workspace_id=rows[IMPORTED].account_id if IMPORTED in rows else None,
            as_of=rows[IMPORTED].as_of if IMPORTED in rows else "",
        )
    ]
    mine = [account for account in accounts or () if account.vendor is vendor]
    known = {account.id for account in mine}
    if sandbox_key(vendor) not in known:
        sources.append(_sandbox(vendor, None, rows))
    for account in sorted(mine, key=lambda a: (not a.sandbox, a.name.lower())):
        if account.sandbox:
            sources.append(_sandbox(vendor, account, rows))
            continue
        info = rows.get(account.id)
        sources.append(
            Source(
                vendor,
                account.id,
                account.name,
                "live",
                account,
                info.account_id if info else None,
                info.as_of if info else "",
            )
        )
    for key, info in sorted(rows.items(), key=lambda item: item[1].name.lower()):
        if key == IMPORTED or key in known or key == sandbox_key(vendor):
            continue
        sources.append(
            Source(
                vendor,
                key,
                f"{info.name} (not set up here)",
                "live",
                None,
                info.account_id,
                info.as_of,
            )
        )
    return sources


def _sandbox(vendor: Vendor, account: Any, rows: dict[str, Any]) -> Source:
    info = rows.get(sandbox_key(vendor))
    return Source(
        vendor,
        sandbox_key(vendor),
        "Sandbox (built in)",
        "sandbox",
        account,
        info.account_id if info else None,
        info.as_of if info else "",
    )


def default_source(sources: Sequence[Source], saved: str = "") -> Source:
    """What a panel shows first: the user's last pick for this workspace, else the imported
    files when the workspace holds some, else the account with the newest data, else the
    sandbox (ready to try out on a first start)."""
    by_key = {source.key: source for source in sources}
    if saved in by_key:
        return by_key[saved]
    imported = by_key.get(IMPORTED)
    if imported is not None and imported.as_of:
        return imported
    with_data = [source for source in sources if source.as_of and not source.imported]
    if with_data:
        return max(with_data, key=lambda source: source.as_of)
    return next((source for source in sources if source.sandbox), sources[0])


def why_not_writable(source: Source, online: bool) -> str | None:
    """Why changes at the vendor cannot be made from this source now (None: they can)."""
    vendor = source.vendor.display_name
    if source.imported:
        return (
            "Imported files are a snapshot kept on this computer: pick Sandbox or one of your "
            f"{vendor} accounts in Source (top left) to work with {vendor}"
        )
    if source.account is None and not source.sandbox:
        return f"{source.name} is not set up on this computer: add it in File ▸ Accounts…"
    if source.account is None:
        return "The accounts are still loading"
    if not online:
        return f"{source.name} is offline: switch it online in the status bar to work with {vendor}"
    return None
