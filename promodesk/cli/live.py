"""Live vendor work from the command line, on the same operation tables as the window:

promodesk sync ACCOUNT [--workspace PATH]
promodesk do ACCOUNT OPERATION [--FIELD VALUE...] [--json]      (do ACCOUNT --list)
promodesk history [--workspace PATH] [--csv -o OUT] [filters]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

from promodesk.cli.common import (
    ProgressLine,
    add_workspace_argument,
    error,
    workspace_of,
)
from promodesk.domain.text import printable

T = TypeVar("T")
# Each command starts the built-in sandbox afresh: a change made there by one is gone for the
# next (attach, then activate: "not attached"), while the workspace keeps its record.
SANDBOX_FORGETS = (
    "note: the built-in sandbox starts afresh with each command; what this one changes there, "
    "the next one will not find (for a sandbox that lasts: 'promodesk sandbox serve', and an "
    "account pointing at it)"
)
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


def register(commands: Any) -> None:
    sync = commands.add_parser(
        "sync",
        help="mirror an account into the workspace",
        description="Read everything the account has at the vendor into the workspace (only "
        "what changed is written; what the vendor no longer has is marked gone). ACCOUNT is "
        "an account's name, or sandbox-optimove / sandbox-altcraft / sandbox-impact.",
    )
    sync.add_argument("account", metavar="ACCOUNT")
    add_workspace_argument(sync, what="to sync into (created if missing)")
    sync.set_defaults(run=_sync)

    do = commands.add_parser(
        "do",
        help="run one vendor operation",
        description="Run one operation of the account's vendor, e.g. 'promodesk do shop-impact "
        "expire --promo-code-id 7000001'. 'promodesk do ACCOUNT --list' lists the operations "
        "and their fields. Exit status 0 when done, 1 with the vendor's reason, 2 for bad "
        "arguments. A create repeated after a lost answer never makes a second one.",
        add_help=False,
    )
    do.add_argument("account", metavar="ACCOUNT", nargs="?")
    do.add_argument("--list", action="store_true", help="list the operations and their fields")
    _add_do_options(do)
    do.add_argument("operation", metavar="OPERATION", nargs="?")
    do.add_argument("fields", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    do.set_defaults(run=_do, parser=do)

    history = commands.add_parser(
        "history",
        help="print the audit log",
        description="Every change made through promodesk, newest first (promo codes appear "
        "hashed). Filters narrow it; --csv writes it for a spreadsheet.",
    )
    add_workspace_argument(history, what="to read")
    history.add_argument("--account", default="", help="only this account (its name)")
    history.add_argument("--operation", default="", help="only this operation, e.g. expire")
    history.add_argument("--target", default="", help="only changes to this code or id")
    history.add_argument("--since", default="", help="only from this date on (YYYY-MM-DD)")
    history.add_argument("--csv", action="store_true", help="write CSV (with -o, to a file)")
    history.add_argument("-o", "--output", type=Path, default=None, metavar="OUT")
    history.set_defaults(run=_history)


def _add_do_options(parser: argparse.ArgumentParser) -> None:
    """Options of `do` that may come before or after the operation's own fields."""
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    parser.add_argument("-h", "--help", action="store_true", help="show this help")
    add_workspace_argument(parser, what="to record the result in (created if missing)")


def _run_async(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(work())


def _live(args: argparse.Namespace, *, create: bool = True) -> Any:
    from promodesk.services.live import LiveWork

    workspace = workspace_of(args)
    if create and not workspace.exists():
        from promodesk.store.workspace import create_workspace

        create_workspace(workspace, label=workspace.stem)
        print(f"created workspace {workspace}", file=sys.stderr)
    return LiveWork(workspace)


def _sync(args: argparse.Namespace) -> int:
    from promodesk.services.live import UnknownAccount
    from promodesk.services.workspace_session import EXPECTED_ERRORS, build_workspace_indexes

    progress = ProgressLine()

    async def work() -> int:
        live = _live(args, create=False)
        try:
            account = await live.find_account(args.account)
            _live(args)  # the workspace, made only once the account is known
            outcome = await live.sync(account, progress=progress)
        finally:
            await live.aclose()
        progress.done()
        print(printable(f"synced {outcome.summary()}"), file=sys.stderr)
        build_workspace_indexes(live.workspace)
        return EXIT_OK

    try:
        return _run_async(work)
    except UnknownAccount as problem:
        progress.done()
        error(str(problem))
        return EXIT_USAGE
    except KeyboardInterrupt:
        progress.done()
        if _last_sync_done(workspace_of(args)):
            # Ctrl+C came while it was saving, which always runs to its end.
            print("cancelled, but the sync had already saved everything it read", file=sys.stderr)
        else:
            print("cancelled: nothing from this sync was kept", file=sys.stderr)
        return EXIT_CANCELLED
    except EXPECTED_ERRORS as problem:
        progress.done()
        error(printable(str(problem)))
        return EXIT_FAILED


def _last_sync_done(workspace: Path) -> bool:
    from promodesk.store.db import connect

    if not workspace.exists():
        return False
    conn = connect(workspace, readonly=True)
    try:
        row = conn.execute(
            "SELECT status FROM runs WHERE kind = 'sync' ORDER BY id DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    return bool(row and row[0] == "done")


def _do(args: argparse.Namespace) -> int:
    from promodesk.services.live import UnknownAccount
    from promodesk.services.operations.executor import InputError, NotAllowed
    from promodesk.services.workspace_session import EXPECTED_ERRORS

    if args.operation == "--list" or "--list" in args.fields:
        args.list = True
    if "-h" in args.fields or "--help" in args.fields:
        args.help = True
    if not args.account or (args.help and not args.operation):
        args.parser.print_help()
        return EXIT_OK if args.help else EXIT_USAGE
    if args.fields and args.workspace is None:
        # --workspace given after the operation's fields
        for number, word in enumerate(args.fields[:-1]):
            if word == "--workspace":
                args.workspace = Path(args.fields[number + 1])

    async def work() -> int:
        live = _live(args, create=bool(args.operation) and not (args.list or args.help))
        try:
            account = await live.find_account(args.account)
            if args.list or not args.operation:
                _print_operations(live.operations(account.vendor), account.vendor)
                return EXIT_OK if args.list else EXIT_USAGE
            from promodesk.services.operations import operation as find_operation

            try:
                chosen = find_operation(account.vendor, args.operation)
            except KeyError as problem:
                error(str(problem.args[0]))
                return EXIT_USAGE
            field_parser = _field_parser(chosen, args.account)
            parsed = vars(field_parser.parse_args(args.fields))
            args.json = args.json or parsed.pop("json")
            if args.help or parsed.pop("help"):
                field_parser.print_help()
                return EXIT_OK
            parsed.pop("workspace")
            values = parsed
            if chosen.confirm:
                print(printable(f"note: {chosen.confirm}"), file=sys.stderr)
            if account.sandbox and chosen.kind != "read":
                print(SANDBOX_FORGETS, file=sys.stderr)
            outcome = await live.run(account, chosen.name, _read_values(chosen, values))
            _print_outcome(outcome, as_json=args.json)
            if outcome.written.added:
                # New rows join the search index and All codes now, as after an import.
                from promodesk.services.workspace_session import build_workspace_indexes

                await asyncio.to_thread(build_workspace_indexes, live.workspace)
            return EXIT_OK if outcome.ok else EXIT_FAILED
        finally:
            await live.aclose()

    try:
        return _run_async(work)
    except UnknownAccount as problem:
        error(str(problem))
        return EXIT_USAGE
    except InputError as problem:
        for name, text in problem.problems:
            error(f"--{_flag(name)}: {text}" if name else text)
        return EXIT_USAGE
    except NotAllowed as problem:
        error(str(problem))
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except EXPECTED_ERRORS as problem:
        error(printable(str(problem)))
        return EXIT_FAILED


def _flag(name: str) -> str:
    return name.rstrip("_").replace("_", "-")


def _kind_of(annotation: Any) -> str:
    text = str(annotation)
    if "list[" in text or "List[" in text:
        return "list" if "dict" not in text and "Any" not in text else "json"
    if "dict" in text:
        return "json"
    if "bool" in text:
        return "bool"
    return "text"


def _choices_of(info: Any) -> dict[str, str]:
    """The values a field takes, with their words: declared choices, or a Literal's values."""
    extra = info.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("choices"), dict):
        return {str(key): str(label) for key, label in extra["choices"].items()}
    annotation = info.annotation
    # (a bare Literal's args are its values; an Optional's are its members)
    members = (annotation,) if get_origin(annotation) is Literal else get_args(annotation)
    literals = [
        value for member in members if get_origin(member) is Literal for value in get_args(member)
    ]
    return {str(value): str(value) for value in literals}


def _field_parser(chosen: Any, account: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"promodesk do {account} {chosen.name}",
        description=chosen.description or chosen.label.rstrip("…"),
        add_help=False,
    )
    _add_do_options(parser)
    for name, info in chosen.inputs.model_fields.items():
        kind = _kind_of(info.annotation)
        help_text = " ".join(part for part in (info.title, info.description) if part)
        choices = _choices_of(info)
        if choices:
            help_text += (
                " ("
                + ", ".join(
                    key if key == label else f"{key}: {label}" for key, label in choices.items()
                )
                + ")"
            )
        if kind == "list":
            help_text += "; several values, or @FILE with one per line"
            parser.add_argument(f"--{_flag(name)}", dest=name, nargs="+", help=help_text)
        elif kind == "json":
            parser.add_argument(
                f"--{_flag(name)}", dest=name, help=help_text + "; JSON, or @FILE.json"
            )
        else:
            parser.add_argument(f"--{_flag(name)}", dest=name, help=help_text)
    return parser


def _read_values(chosen: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Flag values as the operation's model takes them: @FILE read, JSON parsed."""
    read: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        kind = _kind_of(chosen.inputs.model_fields[name].annotation)
        if kind == "list":
            items: list[str] = []
            for item in value:
                if item.startswith("@"):
                    items += Path(item[1:]).read_text(encoding="utf-8-sig").splitlines()
                else:
                    items.append(item)
            read[name] = items
        elif kind == "json":
            text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
            try:
                read[name] = json.loads(text)
            except ValueError as problem:
                from promodesk.services.operations.executor import InputError

                raise InputError([(name, f"not valid JSON ({problem})")]) from None
        else:
            read[name] = value
    return read


def _print_operations(operations: list[Any], vendor: Any) -> None:
    from promodesk.services.operations.base import when_left_empty

    print(f"{vendor.display_name} operations:")
    for chosen in operations:
        marks = []
        if chosen.bulk:
            marks.append("bulk")
        if chosen.confirm:
            marks.append("cannot be undone")
        suffix = f"  [{', '.join(marks)}]" if marks else ""
        print(f"  {chosen.name:<28} {chosen.label.rstrip('…')}{suffix}")
        for name, info in chosen.inputs.model_fields.items():
            required = "required" if info.is_required() else when_left_empty(info.json_schema_extra)
            choices = _choices_of(info)
            one_of = f"; one of {', '.join(choices)}" if choices else ""
            print(f"      --{_flag(name):<24} {info.title or name} ({required}{one_of})")


def _print_outcome(outcome: Any, *, as_json: bool) -> None:
    if as_json:
        operation = outcome.operation
        result = outcome.result
        if result is not None and operation.result_json is not None:
            result = operation.result_json(result)
        elif result is not None and not isinstance(result, str | int | float | bool):
            result = None
        print(
            json.dumps(
                {
                    "ok": outcome.ok,
                    "status": outcome.status,
                    "operation": operation.name,
                    "message": outcome.message,
                    "details": outcome.details,
                    "result": result,
                    "workspace": {
                        "added": outcome.written.added,
                        "changed": outcome.written.changed,
                    },
                },
                ensure_ascii=False,
                default=str,
            )
        )
        return
    stream = sys.stdout if outcome.ok else sys.stderr
    prefix = "" if outcome.ok else ("error: " if outcome.status == "failed" else "unknown: ")
    print(printable(prefix + outcome.message), file=stream)
    if not outcome.ok and outcome.details:
        # One line each, indented under the error: a line break in them (a vendor's text)
        # cannot forge a line of output that starts where "error:" does.
        for line in outcome.details.splitlines():
            print("  " + printable(line), file=sys.stderr)


def _history(args: argparse.Namespace) -> int:
    from promodesk.codefiles.spreadsheet import write_csv
    from promodesk.store import audit
    from promodesk.store.db import connect

    workspace = workspace_of(args)
    if not workspace.exists():
        error(f"no workspace at {workspace}")
        return EXIT_FAILED
    since = args.since
    if since:
        from promodesk.domain.values import canonical_utc

        try:
            since = canonical_utc(since + "T00:00:00Z" if len(since) == 10 else since)
        except ValueError as problem:
            error(f"--since: {problem} (give a date like 2026-11-30)")
            return EXIT_USAGE
    where = audit.AuditFilter(
        account=args.account, operation=args.operation, target=args.target, since=since
    )
    conn = connect(workspace, readonly=True)
    try:
        rows = (audit.csv_row(entry) for entry in audit.entries(conn, where))
        if args.csv and args.output is not None:
            count = write_csv(args.output, audit.CSV_HEADER, rows)
            print(f"wrote {count:,} change(s) to {printable(str(args.output))}", file=sys.stderr)
            return EXIT_OK
        if args.csv:
            import csv

            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(audit.CSV_HEADER)
            from promodesk.codefiles.spreadsheet import safe_cell

            for row in rows:
                writer.writerow([safe_cell(value) for value in row])
            return EXIT_OK
        count = 0
        for row in rows:
            at, vendor, account, operation, target, outcome, message, _inputs = row
            line = f"{at}  {vendor:<8} {account:<16} {operation:<18} {outcome:<8} {target}"
            print(printable(f"{line}  {message}"))
            count += 1
        if not count:
            print("no changes on record", file=sys.stderr)
        return EXIT_OK
    finally:
        conn.close()
