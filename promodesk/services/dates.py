"""Dates on the clock the user picks (View ▸ Dates): the vendor's, the computer's, or UTC.

Each vendor account has a time zone setting (`time_zone`, vendors/registry.py; UTC when
empty). A workspace's sources are the accounts (their settings id is the source's key); a
source that is no account (imported files) is on UTC. `DateRenderer` is built once per
workspace (it reads the account settings and the workspace's sources) and then renders any
stored UTC date without I/O, so a table model can call it for every cell it paints.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promodesk.domain.dates import (
    DEFAULT_ZONE,
    LOCAL,
    DateView,
    ShownDate,
    date_only_expiry,
    show,
    shown_date,
    zone_named,
    zone_problem,
)
from promodesk.store.db import connect

ZONE_SETTING = "time_zone"


def account_zones(sources: Iterable[tuple[int, str]], accounts: Iterable[Any]) -> dict[int, str]:
    """Workspace source id -> IANA zone, from (source id, source key) pairs and the settings
    accounts (services.accounts.Account); a bad or missing setting is UTC."""
    by_key = {}
    for account in accounts:
        zone = (account.settings.get(ZONE_SETTING) or "").strip() or DEFAULT_ZONE
        by_key[account.id] = zone if not zone_problem(zone) else DEFAULT_ZONE
    return {source_id: by_key.get(key, DEFAULT_ZONE) for source_id, key in sources}


def workspace_sources(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    return [
        (int(source_id), str(key))
        for source_id, key in conn.execute("SELECT id, key FROM accounts ORDER BY id")
    ]


def workspace_zones(workspace: Path, accounts: Iterable[Any] | None = None) -> dict[int, str]:
    """Each source's zone in a workspace file (blocking: call from a worker thread). Without
    `accounts`, the saved account settings are read."""
    if accounts is None:
        from promodesk.services.accounts import AccountStore

        accounts = AccountStore().all()
    conn = connect(workspace, readonly=True)
    try:
        return account_zones(workspace_sources(conn), accounts)
    finally:
        conn.close()


@dataclass(frozen=True)
class DateRenderer:
    """Renders stored dates for one workspace; pure after construction."""

    zones: Mapping[int, str] = field(default_factory=dict)  # source id -> IANA zone

    def zone_of(self, account_id: int | None) -> str:
        return self.zones.get(account_id or 0, DEFAULT_ZONE)

    def render(self, utc_text: str, account_id: int | None, view: DateView) -> str:
        if not utc_text:
            return ""
        if view is DateView.UTC:
            return show(utc_text, zone_named(DEFAULT_ZONE))
        if view is DateView.LOCAL:
            return show(utc_text, LOCAL)
        return show(utc_text, zone_named(self.zone_of(account_id)))

    def all_three(self, utc_text: str, account_id: int | None) -> ShownDate:
        """For a details pane: the date on every clock."""
        return shown_date(utc_text, self.zone_of(account_id))

    def expiry_note(self, utc_text: str, account_id: int | None) -> str:
        """'' unless the expiry looks given without a time: then when it really ends."""
        return date_only_expiry(utc_text, self.zone_of(account_id))


def renderer_for(workspace: Path, accounts: Iterable[Any] | None = None) -> DateRenderer:
    return DateRenderer(workspace_zones(workspace, accounts))
