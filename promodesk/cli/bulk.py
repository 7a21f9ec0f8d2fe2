"""promodesk bulk ACCOUNT OPERATION --from FILE [--FIELD VALUE...]
promodesk bulk --resume [RUN]          runs left unfinished by a crash, a cancel or Ctrl+C
promodesk bulk --retry-failed RUN      the failed and unknown items of a run, again
promodesk bulk --status RUN [--json]

FILE lists one target per line (e.g. impact.com code IDs for `expire`), or is a CSV whose
header names the operation's fields. Each finished item is printed as one line on stdout:
position, outcome, target, message (tab-separated).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from pathlib import Path
from typing import Any

from promodesk.cli.common import (
    ProgressLine,
    add_workspace_argument,
    error,
    tsv,
    workspace_of,
)
from promodesk.domain.text import printable

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


def register(commands: Any) -> None:
    bulk = commands.add_parser(
        "bulk",
        help="run one operation over many targets",
        description=__doc__.split("\n\n")[1] if __doc__ else "",
    )
    bulk.add_argument("account", metavar="ACCOUNT", nargs="?")
    bulk.add_argument("operation", metavar="OPERATION", nargs="?")
    bulk.add_argument("--from", dest="source", type=Path, metavar="FILE", help="the targets")
    bulk.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a field every item shares (repeatable)",
    )
    bulk.add_argument(
        "--resume",
        nargs="?",
        const=0,
        type=int,
        metavar="RUN",
        help="finish an interrupted run (all of them without RUN)",
    )
    bulk.add_argument("--retry-failed", type=int, metavar="RUN")
    bulk.add_argument("--status", type=int, metavar="RUN")
    bulk.add_argument("--json", action="store_true", help="--status as JSON")
    bulk.add_argument(
        "--concurrency", type=_at_least_one, default=4, help="items in flight (default 4)"
    )
    add_workspace_argument(bulk, what="to record the results in")
    bulk.set_defaults(run=_bulk)


# A plan is a list of targets (codes, ids): a few MB holds hundreds of thousands of them.
MAX_PLAN_BYTES = 32 * 1024 * 1024


def _plan_text(source: Path) -> str:
    """The plan file's text, refused with the line when it is not a plan: not a regular file
    (a FIFO would never end), too large, not UTF-8, or holding control characters."""
    from promodesk.domain.text import control_character_at, describe_control_character, file_label
    from promodesk.store.importers.base import open_regular

    with open_regular(source) as handle:
        data = handle.read(MAX_PLAN_BYTES + 1)
    name = file_label(source)
    if len(data) > MAX_PLAN_BYTES:
        raise ValueError(f"{name}: larger than {MAX_PLAN_BYTES >> 20} MB; split it into parts")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        line = data.count(b"\n", 0, problem.start) + 1
        raise ValueError(
            f"{name}: line {line}: the text is not UTF-8 (byte 0x{data[problem.start]:02X}); "
            "save it as UTF-8"
        ) from None
    for number, line in enumerate(text.split("\n"), start=1):
        at = control_character_at(line.removesuffix("\r"), allow_tab=True)
        if at >= 0:
            raise ValueError(f"{name}: line {number}: {describe_control_character(line, at)}")
    return text


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return value


def _items(source: Path, operation: Any, shared: dict[str, str]) -> list[dict[str, Any]]:
    text = _plan_text(source)
    lines = [line for line in text.splitlines() if line.strip()]
    fields = set(operation.inputs.model_fields)
    header = next(csv.reader(lines[:1])) if lines else []
    if header and set(name.strip() for name in header) <= fields:
        rows = csv.DictReader(lines)
        return [{**shared, **{k.strip(): v for k, v in row.items() if v}} for row in rows]
    if operation.target is None:
        raise ValueError(
            f"{source.name}: give a CSV whose header names {operation.name}'s fields "
            f"({', '.join(sorted(fields))})"
        )
    field = next(iter(operation.target.fields))
    return [{**shared, field: line.strip()} for line in lines]


def _bulk(args: argparse.Namespace) -> int:
    from promodesk.services.live import LiveWork, UnknownAccount
    from promodesk.services.operations.executor import InputError, NotAllowed
    from promodesk.services.workspace_session import EXPECTED_ERRORS
    from promodesk.store.importers.base import ImportFileError

    workspace = workspace_of(args)
    if not workspace.exists():
        error(f"no workspace at {workspace}")
        return EXIT_FAILED
    progress = ProgressLine()

    async def work() -> int:
        from promodesk.services.bulk import BulkRunner

        live = LiveWork(workspace)
        runner = BulkRunner(live.executor)
        try:
            if args.status is not None:
                return await _status(runner, args.status, as_json=args.json)
            if args.resume is not None or args.retry_failed is not None:
                return await _again(live, runner, args, progress)
            if not (args.account and args.operation and args.source):
                error("say ACCOUNT OPERATION --from FILE, or --resume / --retry-failed / --status")
                return EXIT_USAGE
            account = await live.find_account(args.account)
            from promodesk.services.operations import operation as find_operation

            try:
                chosen = find_operation(account.vendor, args.operation)
            except KeyError as problem:
                error(str(problem.args[0]))
                return EXIT_USAGE
            shared = dict(item.split("=", 1) for item in args.set if "=" in item)
            try:
                items = _items(args.source, chosen, shared)
            except (OSError, ValueError, ImportFileError) as problem:
                error(str(problem))
                return EXIT_USAGE
            run_id = await runner.plan(account, chosen, items)
            print(f"bulk run {run_id}: {len(items):,} item(s)", file=sys.stderr)
            return await _execute(runner, account, run_id, progress, args.concurrency)
        finally:
            await live.aclose()

    try:
        return asyncio.run(work())
    except (UnknownAccount, InputError) as problem:
        progress.done()
        error(str(problem))
        return EXIT_USAGE
    except NotAllowed as problem:
        error(str(problem))
        return EXIT_FAILED
    except KeyboardInterrupt:
        progress.done()
        print(
            "cancelled: finished items are kept; resume with 'promodesk bulk --resume'",
            file=sys.stderr,
        )
        return EXIT_CANCELLED
    except EXPECTED_ERRORS as problem:
        progress.done()
        error(str(problem))
        return EXIT_FAILED


async def _execute(
    runner: Any,
    account: Any,
    run_id: int,
    progress: ProgressLine,
    concurrency: int,
    *,
    retry: bool = False,
) -> int:
    def show(item: Any) -> None:
        print(
            tsv(item.position, item.status, item.target, item.message),
            flush=True,
        )

    if retry:
        summary = await runner.retry_failed(account, run_id, progress=progress, on_item=show)
    else:
        summary = await runner.run(
            account, run_id, progress=progress, concurrency=concurrency, on_item=show
        )
    progress.done()
    print(printable(f"bulk run {run_id}: {summary.text()}"), file=sys.stderr)
    return EXIT_OK if summary.ok + summary.skipped == summary.total else EXIT_FAILED


async def _again(live: Any, runner: Any, args: argparse.Namespace, progress: ProgressLine) -> int:
    from promodesk.services.run_claims import RunBusy
    from promodesk.store.db import connect

    if args.retry_failed is not None:
        run_ids = [args.retry_failed]
    elif args.resume:
        run_ids = [args.resume]
    else:
        run_ids = [info.id for info in await runner.unfinished()]
        if not run_ids:
            print("no unfinished bulk runs", file=sys.stderr)
            return EXIT_OK
    status = EXIT_OK
    for run_id in run_ids:
        conn = connect(live.workspace, readonly=True)
        try:
            row = conn.execute(
                "SELECT a.key FROM runs r JOIN accounts a ON a.id = r.account_id "
                "WHERE r.id = ? AND r.kind = 'bulk'",
                (run_id,),
            ).fetchone()
        finally:
            conn.close()
        if row is None:
            error(f"there is no bulk run {run_id} in {live.workspace}")
            return EXIT_USAGE
        account = await live.find_account(row[0])
        try:
            result = await _execute(
                runner,
                account,
                run_id,
                progress,
                args.concurrency,
                retry=args.retry_failed is not None,
            )
        except RunBusy as busy:  # (going on in a window: the other runs still get their turn)
            progress.done()
            error(str(busy))
            result = EXIT_FAILED
        status = max(status, result)
    return status


async def _status(runner: Any, run_id: int, *, as_json: bool) -> int:
    if not any(info.id == run_id for info in await runner.runs()):
        error(f"there is no bulk run {run_id} in this workspace")
        return EXIT_USAGE
    summary = await runner.summary(run_id)
    items = await runner.items(run_id)
    if as_json:
        print(
            json.dumps(
                {
                    "run": run_id,
                    "total": summary.total,
                    "ok": summary.ok,
                    "failed": summary.failed,
                    "unknown": summary.unknown,
                    "skipped": summary.skipped,
                    "pending": summary.pending,
                    "items": [
                        {
                            "position": i.position,
                            "status": i.status,
                            "target": i.target,
                            "attempts": i.attempts,
                            "message": i.message,
                        }
                        for i in items
                    ],
                }
            )
        )
    else:
        for item in items:
            print(tsv(item.position, item.status, item.target, item.message))
        print(printable(f"bulk run {run_id}: {summary.text()}"), file=sys.stderr)
    return EXIT_OK
