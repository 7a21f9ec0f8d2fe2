"""What an operation table entry declares, once, for the window, the bulk runner, the CLI and
the tests alike.

An `Operation` is one vendor call a marketer can make: its inputs as a pydantic model (field
titles and descriptions are the form's labels and help; field names are the client method's
parameter names), the workspace row it acts on, the states that allow it (with the reason when
not), whether repeating it after an unknown outcome is safe, whether it runs in bulk, the
confirmation it needs when it cannot be undone, how it runs against the client and how its
result is written to the workspace.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic import Field as PydanticField

from promodesk.domain.text import refuse_control_characters
from promodesk.domain.vendors import CodeStatus, Vendor
from promodesk.store.writes import WriteOutcome

Row = Mapping[str, Any]
# (target row) -> None when allowed, else the reason in a marketer's words
Allowed = Callable[[Row], str | None]


class Inputs(BaseModel):
    """Base of every operation's input model: strict about unknown fields, trims text, and
    refuses control characters (a tab only outside code values), as every importer does."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        exact = info.field_name in code_fields(cls)
        for text in value if isinstance(value, list | tuple) else (value,):
            if isinstance(text, str):
                refuse_control_characters(text, allow_tab=not exact)
        return value


def CodeField(default: Any = ..., *, title: str, description: str = "", **extra: Any) -> Any:
    """A field that holds promo-code values: hashed in the audit log."""
    return PydanticField(
        default,
        title=title,
        description=description,
        json_schema_extra={"code_value": True, **extra.pop("json_schema_extra", {})},
        **extra,
    )


def Field(default: Any = ..., *, title: str, description: str = "", **extra: Any) -> Any:
    return PydanticField(default, title=title, description=description, **extra)


def when_left_empty(extra: Any) -> str:
    """What leaving an optional field empty means, from its `json_schema_extra`: "optional",
    or, for one of several ways to give the same thing (declared `one_needed`), "this or
    another way to …". The form's placeholder and `do --list` say it alike."""
    if isinstance(extra, dict) and extra.get("one_needed"):
        return f"this or another {extra['one_needed']}"
    return "optional"


def code_fields(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(
        name
        for name, info in model.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("code_value")
    )


@dataclass(frozen=True)
class Target:
    """The workspace row an operation acts on: its table, and which of the operation's inputs
    come from which of the row's columns (the window fills them from the selection)."""

    table: str
    fields: Mapping[str, str]  # input field -> row column
    noun: str  # "code", "promotion", ...
    label_column: str  # the column that names the row for humans

    def inputs_from(self, row: Row) -> dict[str, Any]:
        return {name: row[column] for name, column in self.fields.items() if column in row}


@dataclass(frozen=True)
class WriteContext:
    """What an operation's `write` gets, inside the transaction that also records the audit
    entry: write through store.writes with these."""

    conn: Any  # sqlite3.Connection (Any keeps sqlite3 out of the table modules' imports)
    account_id: int
    run_id: int
    as_of: str


Kind = Literal["create", "change", "read"]


@dataclass(frozen=True)
class CommandKind:
    """One kind of change a transaction can carry (`Operation.commands`): the command as the
    vendor spells it, its words, and its fields. `inputs` checks them (an operation's own
    input model can serve: its target fields are then filled from the transaction's target);
    `wire` names each field that is sent as the command spells it."""

    name: str
    label: str
    inputs: type[BaseModel] | None = None
    wire: Mapping[str, str] = field(default_factory=dict)

    def build(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The command as sent; pydantic's ValidationError names what is wrong."""
        if self.inputs is None:
            return {"command": self.name}
        checked = self.inputs.model_validate(dict(values))
        dumped = checked.model_dump(mode="json", by_alias=True, exclude_none=True)
        return {
            "command": self.name,
            **{wire: dumped[name] for name, wire in self.wire.items() if name in dumped},
        }


@dataclass(frozen=True)
class Operation:
    vendor: Vendor
    name: str  # the client method
    label: str  # the menu text, e.g. "Expire code"
    inputs: type[Inputs]
    kind: Kind  # create / change: audited vendor changes; read: fetches only
    group: str = ""  # the menu it belongs to: "Promotions", "Codes", ...
    description: str = ""
    target: Target | None = None
    allowed: Allowed | None = None
    # Safe to send again when the first try's outcome is unknown (a lost answer): a read, a
    # state set to a value, or a create the client makes exactly-once itself.
    repeat_safe: bool = False
    bulk: bool = False
    confirm: str | None = None
    # Fills inputs the account decides when left empty (e.g. Altcraft's loyalty program), so
    # that state checks, the audit log and the bulk journal see the real values.
    complete: Callable[[Any, Any], Any] | None = None
    # How it runs: default `getattr(client, name)(**inputs)`.
    call: Callable[[Any, Any], Awaitable[Any]] | None = None
    # Reads the new state after the call (e.g. GET the code that was just expired).
    refresh: Callable[[Any, Any, Any], Awaitable[Any]] | None = None
    # Writes the (refreshed) result to the workspace; returns what changed there.
    write: Callable[[WriteContext, Any, Any], WriteOutcome] | None = None
    # One line for the message bar, the CLI and the audit log: (inputs, result) -> text.
    summary: Callable[[Any, Any], str] | None = None
    # Turns the result into plain JSON for `promodesk do --json` and the audit entry.
    result_json: Callable[[Any], Any] | None = None
    # Offered by the window as its own view rather than a form (e.g. the tiers editor).
    editor: str = ""
    hidden_fields: Sequence[str] = field(default_factory=tuple)
    # A transaction's kinds of change (its editor offers these, in this order).
    commands: Sequence[CommandKind] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        return f"{self.vendor.value}.{self.name}"

    @property
    def changes_vendor(self) -> bool:
        return self.kind != "read"

    def blocked_reason(self, row: Row | None) -> str | None:
        """Why the target's state forbids this operation now (None: it is allowed)."""
        if self.target is None or row is None:
            return None
        if row.get("state") == CodeStatus.GONE.value or row.get("status") == CodeStatus.GONE.value:
            return f"The vendor no longer has this {self.target.noun} (found gone at the last sync)"
        if self.allowed is None:
            return None
        return self.allowed(row)

    async def invoke(self, client: Any, inputs: Inputs) -> Any:
        if self.call is not None:
            return await self.call(client, inputs)
        method = getattr(client, self.name)
        return await method(**call_arguments(method, inputs))

    def describe(self, inputs: Inputs, result: Any) -> str:
        if self.summary is not None:
            return self.summary(inputs, result)
        return f"{self.label}: done"


def call_arguments(method: Callable[..., Any], inputs: BaseModel) -> dict[str, Any]:
    """The inputs as keyword arguments, unset optional ones left out (the client's default
    applies), each under the method's own parameter name."""
    accepted = inspect.signature(method).parameters
    # JSON mode: dates as ISO 8601 text, which is what the clients send on.
    values = {
        name: value for name, value in inputs.model_dump(mode="json").items() if value is not None
    }
    unknown = sorted(set(values) - set(accepted))
    if unknown:
        raise TypeError(f"{method.__qualname__} takes no {', '.join(unknown)}")
    return values


def not_in(column: str, states: Mapping[str, str]) -> Allowed:
    """Allowed unless `row[column]` is one of `states` (state -> reason)."""

    def check(row: Row) -> str | None:
        return states.get(str(row.get(column, "")))

    return check


def only_in(column: str, states: Sequence[str], reason: str) -> Allowed:
    """Allowed only when `row[column]` is one of `states`; `reason` may use {state}."""

    def check(row: Row) -> str | None:
        state = str(row.get(column, ""))
        if state in states:
            return None
        return reason.format(state=state or "unknown")

    return check


def first_of(*checks: Allowed) -> Allowed:
    """The first reason any of `checks` gives (None when all allow it)."""

    def check(row: Row) -> str | None:
        for one in checks:
            reason = one(row)
            if reason:
                return reason
        return None

    return check
