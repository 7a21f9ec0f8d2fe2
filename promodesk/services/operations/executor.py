"""One executor runs any operation of any vendor's table: checks the inputs and the target's
state, calls the client, reads the new state back, and writes the result with its audit
entry in one transaction. The window, the bulk runner and the CLI all go through it."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from promodesk.domain.values import now_utc_text
from promodesk.domain.vendors import Vendor
from promodesk.services.jobs import to_the_end
from promodesk.services.operations.base import Inputs, Operation, WriteContext, code_fields
from promodesk.store import audit
from promodesk.store.db import connect, retry_busy, transaction
from promodesk.store.importers.base import ensure_account
from promodesk.store.runs import finish_run, start_run
from promodesk.store.writes import WriteOutcome
from promodesk.vendors.errors import VendorError, outcome_unknown

log = logging.getLogger("promodesk.operations")
T = TypeVar("T")

Status = Literal["ok", "failed", "unknown"]


class InputError(ValueError):
    """The inputs do not fit the operation: `problems` names each field and what is wrong."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{name}: {text}" if name else text for name, text in problems))


class NotAllowed(ValueError):
    """The target's state forbids the operation (the reason says why, in a marketer's words)."""


class NotRecorded(sqlite3.OperationalError):
    """The vendor refused (or its answer was lost), and the workspace could not put that on
    record: the audit log would miss an attempt, so the caller hears both."""

    def __init__(self, outcome: OperationOutcome, error: BaseException) -> None:
        self.outcome = outcome
        super().__init__(
            f"{outcome.message.rstrip('.')}; and it could not be put on record in the "
            f"workspace ({error})"
        )


@dataclass(frozen=True)
class JournalItem:
    """An item of a bulk run's journal, marked done (or not) with its operation's result."""

    run_id: int
    position: int

    def record(self, conn: sqlite3.Connection, status: str, message: str) -> None:
        conn.execute(
            "UPDATE journal SET status = ?, message = ?, attempts = attempts + 1, "
            "updated_at = ? WHERE run_id = ? AND position = ?",
            (status, message, now_utc_text(), self.run_id, self.position),
        )


@dataclass(frozen=True)
class AccountRef:
    """Who the executor works for: the settings account (services.accounts.Account) reduced
    to what the workspace records."""

    id: str
    vendor: Vendor
    name: str
    sandbox: bool


@dataclass
class OperationOutcome:
    operation: Operation
    inputs: Inputs
    status: Status
    message: str  # one line, in a marketer's words
    details: str = ""  # what a support person wants (status, the vendor's own message)
    result: Any = None
    written: WriteOutcome = field(default_factory=WriteOutcome)
    run_id: int | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def validate_inputs(operation: Operation, values: Mapping[str, Any] | BaseModel) -> Inputs:
    if isinstance(values, operation.inputs):
        return values
    data = values.model_dump() if isinstance(values, BaseModel) else dict(values)
    try:
        return operation.inputs.model_validate(data)
    except ValidationError as error:
        raise InputError(
            [
                (
                    ".".join(str(part) for part in problem["loc"]),
                    str(problem["msg"]).removeprefix("Value error, "),
                )
                for problem in error.errors()
            ]
        ) from None


# Keys that hold promo-code values inside nested inputs (transaction commands, lists of
# legacy promotions), in the spellings the vendors and our models use.
NESTED_CODE_KEYS = frozenset(
    {"code", "codes", "defaultCode", "default_code", "promoCode", "promo_code", "promo_codes"}
)


def _walk_codes(value: Any, *, is_code: bool, visit: Callable[[str], Any]) -> Any:
    """`value` with `visit` applied to every code value in it (nested ones by their key)."""
    if isinstance(value, str):
        return visit(value) if is_code else value
    if isinstance(value, list):
        return [_walk_codes(item, is_code=is_code, visit=visit) for item in value]
    if isinstance(value, dict):
        return {
            key: _walk_codes(item, is_code=is_code or key in NESTED_CODE_KEYS, visit=visit)
            for key, item in value.items()
        }
    return value


def hashed_inputs(operation: Operation, inputs: Inputs, salt: bytes) -> dict[str, Any]:
    codes = code_fields(operation.inputs)
    return {
        name: _walk_codes(
            value, is_code=name in codes, visit=lambda code: audit.hash_code(salt, code)
        )
        for name, value in inputs.model_dump(mode="json").items()
        if value is not None
    }


def target_text(operation: Operation, inputs: Inputs, salt: bytes) -> str:
    """What the operation acted on, for the audit log ('code #3fa4…', 'promotion summer-1',
    'Partner ID 2001, Program ID 1000')."""
    codes = code_fields(operation.inputs)
    values = inputs.model_dump()
    if operation.target is not None:
        parts = [
            str(audit.hashed(salt, values[name]) if name in codes else values[name])
            for name in operation.target.fields
            if values.get(name) is not None
        ]
        return f"{operation.target.noun} {' '.join(parts)}".strip()
    named = []
    for name, info in operation.inputs.model_fields.items():
        value = values.get(name)
        if value in (None, "", []) or isinstance(value, dict):
            continue  # (an empty field names nothing: "Description " said nothing)
        title = info.title or name
        if isinstance(value, list):
            named.append(f"{len(value):,} {title.lower()}")
        else:
            named.append(f"{title} {audit.hashed(salt, value) if name in codes else value}")
    return ", ".join(named[:3])


def codes_mentioned(operation: Operation, inputs: Inputs, result: Any) -> set[str]:
    """Every promo-code value the inputs or the result hold (to keep them out of the log)."""
    found: set[str] = set()
    codes = code_fields(operation.inputs)
    for name, value in inputs.model_dump(mode="json").items():
        _walk_codes(value, is_code=name in codes, visit=found.add)
    items = result if isinstance(result, list) else getattr(result, "records", [result])
    for item in items if isinstance(items, list) else [items]:
        code = getattr(item, "code", None)
        if isinstance(code, str):
            found.add(code)
    return {code for code in found if code}


def without_codes(text: str, codes: set[str], salt: bytes) -> str:
    """`text` with every code value in it replaced by its hash (longest first)."""
    for code in sorted(codes, key=len, reverse=True):
        text = text.replace(code, audit.hash_code(salt, code))
    return text


class Executor:
    """Runs operations for accounts against one workspace file."""

    def __init__(self, workspace: Path, clients: Callable[[Any], Any]) -> None:
        """`clients(account)` is awaited for the account's client (services.accounts
        Connections.client)."""
        self.workspace = Path(workspace)
        self._clients = clients

    async def client(self, account: Any) -> Any:
        return await self._clients(account)

    async def in_workspace(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(conn)` in a worker thread on its own connection (the loop never waits on
        SQLite), retried while the workspace is busy."""

        def run() -> T:
            conn = connect(self.workspace)
            try:
                return retry_busy(lambda: work(conn))
            finally:
                conn.close()

        return await asyncio.to_thread(run)

    async def target_row(
        self, account: AccountRef, operation: Operation, inputs: Inputs
    ) -> dict[str, Any] | None:
        target = operation.target
        if target is None:
            return None
        values = inputs.model_dump()
        keys = {column: values[name] for name, column in target.fields.items()}
        if any(value is None for value in keys.values()):
            return None

        def read(conn: sqlite3.Connection) -> dict[str, Any] | None:
            found = conn.execute(
                "SELECT id FROM accounts WHERE vendor = ? AND key = ?",
                (account.vendor.value, account.id),
            ).fetchone()
            if found is None:
                return None
            where = " AND ".join(f"{column} = ?" for column in keys)
            cursor = conn.execute(
                f"SELECT * FROM {target.table} WHERE account_id = ? AND {where}",
                (
                    found[0],
                    *[str(v) if column_is_text(column) else v for column, v in keys.items()],
                ),
            )
            row = cursor.fetchone()
            if row is None:
                return None
            return dict(zip([d[0] for d in cursor.description], row, strict=True))

        return await self.in_workspace(read)

    async def run(
        self,
        account: Any,
        operation: Operation,
        values: Mapping[str, Any] | BaseModel,
        *,
        check_state: bool = True,
        journal: JournalItem | None = None,
    ) -> OperationOutcome:
        """Run one operation. Bad inputs raise InputError and a state that forbids it raises
        NotAllowed (nothing is sent); a vendor refusal or a lost answer is an outcome, not an
        exception, and is on record in the audit log like a success. `journal`: the bulk
        journal item this is, updated in the same transaction as the result."""
        ref = account_ref(account)
        if ref.vendor is not operation.vendor:
            raise NotAllowed(
                f"{operation.label} is a {operation.vendor.display_name} operation; "
                f"{ref.name} is a {ref.vendor.display_name} account"
            )
        inputs = validate_inputs(operation, values)
        client = await self.client(account)
        if operation.complete is not None:
            inputs = operation.complete(client, inputs)
        if check_state and operation.target is not None:
            reason = operation.blocked_reason(await self.target_row(ref, operation, inputs))
            if reason:
                raise NotAllowed(reason)
        try:
            result = await operation.invoke(client, inputs)
        except ValueError as error:
            # The client refused the inputs before sending anything (a rule the input model
            # does not know): bad inputs, like InputError.
            raise InputError([("", str(error))]) from None
        except VendorError as error:
            status: Status = "unknown" if outcome_unknown(error) else "failed"
            outcome = OperationOutcome(
                operation, inputs, status, str(error), error.details, error=error
            )
            await to_the_end(self._record_failure(ref, outcome, journal))
            return outcome
        except asyncio.CancelledError:
            if operation.changes_vendor:
                outcome = OperationOutcome(
                    operation,
                    inputs,
                    "unknown",
                    "Cancelled while waiting for the answer: it may or may not have been done",
                )
                try:
                    await to_the_end(self._record_failure(ref, outcome, journal))
                except NotRecorded:
                    # The cancel goes on; what was not recorded is in the log.
                    log.exception("a cancelled %s was not put on record", operation.key)
            raise
        refreshed = result
        note = ""
        read_back = True
        if operation.refresh is not None:
            try:
                refreshed = await operation.refresh(client, inputs, result)
            except VendorError as error:
                # Done at the vendor; only reading it back failed. The next refresh shows it.
                refreshed, read_back = None, False
                note = f" (done, but reading it back failed: {error})"
            except asyncio.CancelledError:
                # Cancelled after the vendor made the change: it is on record as done (not
                # read back), so a resumed bulk run does not send it again.
                done = OperationOutcome(
                    operation,
                    inputs,
                    "ok",
                    f"{operation.label} (done; cancelled before it was read back)",
                    result=None,
                )
                await to_the_end(self._record_success(ref, done, journal, write=False))
                raise
        outcome = OperationOutcome(
            operation,
            inputs,
            "ok",
            (operation.describe(inputs, refreshed) if read_back else operation.label) + note,
            result=refreshed,
        )
        await to_the_end(self._record_success(ref, outcome, journal, write=read_back))
        return outcome

    async def _record_success(
        self,
        account: AccountRef,
        outcome: OperationOutcome,
        journal: JournalItem | None,
        *,
        write: bool,
    ) -> None:
        operation = outcome.operation
        write_result = write

        def commit(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                account_id = workspace_account(conn, account)
                run_id = start_run(conn, "operation", account_id=account_id, title=operation.label)
                as_of = now_utc_text()
                written = WriteOutcome()
                if operation.write is not None and write_result:
                    written = operation.write(
                        WriteContext(conn, account_id, run_id, as_of),
                        outcome.inputs,
                        outcome.result,
                    )
                if journal is not None:
                    journal.record(conn, "ok", outcome.message)
                if operation.changes_vendor:
                    self._audit(conn, account, account_id, run_id, outcome, "ok", written)
                finish_run(
                    conn,
                    run_id,
                    "done",
                    added=written.added,
                    changed=written.changed,
                    gone=written.gone,
                    message=outcome.message,
                )
                conn.execute(
                    "UPDATE accounts SET as_of = max(as_of, ?) WHERE id = ?", (as_of, account_id)
                )
                outcome.written = written
                outcome.run_id = run_id

        await self.in_workspace(commit)

    async def _record_failure(
        self, account: AccountRef, outcome: OperationOutcome, journal: JournalItem | None
    ) -> None:
        if not outcome.operation.changes_vendor and journal is None:
            return

        def write(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                if journal is not None:
                    journal.record(conn, outcome.status, outcome.message)
                if not outcome.operation.changes_vendor:
                    return
                account_id = workspace_account(conn, account)
                run_id = start_run(
                    conn, "operation", account_id=account_id, title=outcome.operation.label
                )
                self._audit(conn, account, account_id, run_id, outcome, outcome.status, None)
                finish_run(conn, run_id, "failed", message=outcome.message)
                outcome.run_id = run_id

        try:
            await self.in_workspace(write)
        except (sqlite3.Error, OSError) as error:
            raise NotRecorded(outcome, error) from error

    @staticmethod
    def _audit(
        conn: sqlite3.Connection,
        account: AccountRef,
        account_id: int,
        run_id: int,
        outcome: OperationOutcome,
        status: audit.Outcome,
        written: WriteOutcome | None,
    ) -> None:
        operation = outcome.operation
        salt = audit.audit_salt(conn)
        result: dict[str, Any] = {}
        if written is not None:
            result = {"added": written.added, "changed": written.changed, "gone": written.gone}
        audit.record(
            conn,
            run_id=run_id,
            account_id=account_id,
            vendor=account.vendor.value,
            account=account.name,
            operation=operation.name,
            target=target_text(operation, outcome.inputs, salt),
            inputs=hashed_inputs(operation, outcome.inputs, salt),
            outcome=status,
            message=without_codes(
                outcome.message, codes_mentioned(operation, outcome.inputs, outcome.result), salt
            ),
            result=result,
        )


def column_is_text(column: str) -> bool:
    """Workspace id columns stored as text (ids people paste whole, Altcraft's program)."""
    return column in {"loyalty_id", "promotion_id", "promocode_id", "file_id", "code"}


def account_ref(account: Any) -> AccountRef:
    if isinstance(account, AccountRef):
        return account
    return AccountRef(account.id, account.vendor, account.name, bool(account.sandbox))


def workspace_account(conn: sqlite3.Connection, account: AccountRef) -> int:
    return ensure_account(
        conn,
        account.vendor,
        key=account.id,
        name=account.name if not account.sandbox else "Sandbox",
        kind="sandbox" if account.sandbox else "live",
    )
