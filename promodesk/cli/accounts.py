"""promodesk accounts list [--json]
promodesk accounts add VENDOR NAME --FIELD VALUE...   (fields as in the Accounts dialog)
promodesk accounts remove NAME

Settings go to the same accounts.json the window uses; the secret goes to the system keychain
and never to a file. It is read from PROMODESK_SECRET, or asked for when run in a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from typing import Any

from promodesk.cli.common import error
from promodesk.domain.text import printable

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(commands: Any) -> None:
    from promodesk.domain.vendors import Vendor
    from promodesk.vendors.registry import VENDORS

    accounts = commands.add_parser("accounts", help="list, add or remove vendor accounts")
    actions = accounts.add_subparsers(dest="accounts_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the accounts promodesk knows")
    listing.add_argument("--json", action="store_true", help="one JSON object per account")
    listing.set_defaults(run=_list)

    add = actions.add_parser(
        "add",
        help="add an account (or change one with the same name)",
        description="Add an account. Its secret (API key or token) is read from the "
        "PROMODESK_SECRET environment variable, or asked for in a terminal, and goes to the "
        "system keychain, never to a file.",
    )
    add.add_argument("vendor", choices=[vendor.value for vendor in Vendor], metavar="VENDOR")
    add.add_argument("name", metavar="NAME")
    seen: set[str] = set()
    for info in VENDORS.values():
        for field in info.fields:
            if field.secret or field.key in seen:
                continue
            seen.add(field.key)
            vendors = ", ".join(
                other.vendor.display_name
                for other in VENDORS.values()
                if field.key in {f.key for f in other.fields}
            )
            add.add_argument(
                f"--{field.key.replace('_', '-')}",
                dest=field.key,
                default=None,
                help=f"{field.label} ({vendors})" + (f": {field.help}" if field.help else ""),
            )
    add.set_defaults(run=_add)

    remove = actions.add_parser("remove", help="remove an account and its stored secret")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(run=_remove)


def _list(args: argparse.Namespace) -> int:
    from promodesk.services.accounts import AccountsService

    async def work() -> int:
        service = AccountsService()
        try:
            entries = await service.entries()
            status = await service.keychain()
        finally:
            await service.aclose()
        if service.store.notice:
            print(printable(f"warning: {service.store.notice}"), file=sys.stderr)
        for entry in entries:
            account = entry.account
            if args.json:
                print(
                    json.dumps(
                        {
                            "id": account.id,
                            "vendor": account.vendor.value,
                            "name": account.name,
                            "sandbox": account.sandbox,
                            "settings": account.settings,
                            "secret_stored": entry.has_secret,
                        }
                    )
                )
                continue
            secret = "built in" if account.sandbox else ("stored" if entry.has_secret else "none")
            print(
                printable(
                    f"{account.id if account.sandbox else account.name:<24} "
                    f"{account.vendor.display_name:<11} secret: {secret}"
                )
            )
        if not status.persistent and not args.json:
            print(
                printable(
                    f"note: {status.reason or 'no keychain'}: secrets cannot be stored; "
                    "set PROMODESK_SECRET when running commands"
                ),
                file=sys.stderr,
            )
        return EXIT_OK

    return asyncio.run(work())


def _add(args: argparse.Namespace) -> int:
    from promodesk.domain.vendors import Vendor
    from promodesk.services.accounts import (
        Account,
        AccountSettingsError,
        AccountsService,
    )
    from promodesk.services.live import SECRET_VARIABLE
    from promodesk.vendors.registry import VENDORS

    vendor = Vendor(args.vendor)
    info = VENDORS[vendor]
    allowed = {field.key for field in info.fields if not field.secret}
    given = {
        key: value
        for key, value in vars(args).items()
        if key in {f.key for v in VENDORS.values() for f in v.fields} and value is not None
    }
    foreign = sorted(set(given) - allowed)
    if foreign:
        error(
            f"{vendor.display_name} accounts have no "
            f"{', '.join('--' + key.replace('_', '-') for key in foreign)}"
        )
        return EXIT_USAGE
    settings = {
        field.key: str(given.get(field.key) or (field.choices[0] if field.choices else ""))
        for field in info.fields
        if not field.secret
    }
    secret = os.environ.get(SECRET_VARIABLE, "")
    if not secret and sys.stdin.isatty():
        secret = getpass.getpass(f"{info.secret_field.label} for {args.name}: ")

    async def work() -> int:
        service = AccountsService()
        try:
            existing = [
                entry.account
                for entry in await service.entries()
                if not entry.account.sandbox
                and entry.account.name.lower() == args.name.lower()
                and entry.account.vendor is vendor
            ]
            account = Account(vendor=vendor, name=args.name, settings=settings)
            if existing:
                account = existing[0].model_copy(update={"settings": settings})
            try:
                saved = await service.save(account, secret or None)
            except AccountSettingsError as problem:
                for text in problem.problems:
                    error(text)
                return EXIT_USAGE
        finally:
            await service.aclose()
        print(printable(f"saved {vendor.display_name} account {args.name}"), file=sys.stderr)
        if not secret:
            print(
                f"note: no {info.secret_field.label.lower()} given; set {SECRET_VARIABLE} when "
                "running commands for this account",
                file=sys.stderr,
            )
        elif saved.secret_persistent is False:
            print(
                "note: there is no keychain on this computer, so the secret was not stored; "
                f"set {SECRET_VARIABLE} when running commands for this account",
                file=sys.stderr,
            )
        return EXIT_OK

    return asyncio.run(work())


def _remove(args: argparse.Namespace) -> int:
    from promodesk.services.accounts import AccountsService
    from promodesk.services.live import LiveWork, UnknownAccount

    async def work() -> int:
        service = AccountsService()
        live = LiveWork(workspace=os.devnull, accounts=service)  # type: ignore[arg-type]
        try:
            account = await live.find_account(args.name)
            if account.sandbox:
                error("the sandbox accounts are built in")
                return EXIT_USAGE
            await service.remove(account)
        except UnknownAccount as problem:
            error(str(problem))
            return EXIT_USAGE
        finally:
            await service.aclose()
        print(printable(f"removed {account.name}"), file=sys.stderr)
        return EXIT_OK

    return asyncio.run(work())
