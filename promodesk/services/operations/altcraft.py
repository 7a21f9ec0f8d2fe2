"""Altcraft's operations (promo codes API v1.1): import, get, activate, update, attach,
detach, export all. Codes live in loyalty programs; `loyalty_id` empty means the account's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import AwareDatetime, field_validator, model_validator

from promodesk.domain.records import AltcraftCodeRecord
from promodesk.domain.vendors import CodeStatus, Vendor
from promodesk.services.operations.base import (
    CodeField,
    Field,
    Inputs,
    Operation,
    Row,
    Target,
    WriteContext,
)
from promodesk.store.records import altcraft_row, altcraft_sent_in_full, keep_unsent_altcraft
from promodesk.store.writes import ALTCRAFT_CODES, Staging, WriteOutcome, upsert

MATCHING = {
    "email": "Email",
    "phone": "Phone",
    "profile_id": "Profile ID",
    "email_profile": "Email, within the profile's own data",
    "custom": "A field of your choice",
}
# Above this many codes, one export of the program is cheaper than a `get` per code.
_GET_EACH_UP_TO = 20

CODE = Target(
    "altcraft_codes",
    {"code": "code", "loyalty_id": "loyalty_id"},
    noun="code",
    label_column="code",
)


def _program_known(row: Row) -> str | None:
    if not str(row.get("loyalty_id", "")).isdigit():
        return (
            "This code was imported without its loyalty program; import it again with the "
            "program, or find it in the program it belongs to"
        )
    return None


def _attached(row: Row) -> str | None:
    if reason := _program_known(row):
        return reason
    status = str(row.get("status", ""))
    if status == CodeStatus.ATTACHED.value:
        return None
    if status == CodeStatus.ACTIVATED.value:
        return "This code is already activated"
    return f"Only a code attached to a profile can be activated (this one is {status or 'unknown'})"


def _detachable(row: Row) -> str | None:
    if reason := _program_known(row):
        return reason
    if str(row.get("status", "")) == CodeStatus.AVAILABLE.value:
        return "This code is not attached to any profile"
    return None


class Program(Inputs):
    loyalty_id: int | None = Field(
        None, title="Loyalty program ID", description="Empty: the account's program.", gt=0
    )


class ImportCodes(Program):
    codes: list[str] = CodeField(
        title="Codes",
        description="One code per line.",
        min_length=1,
        json_schema_extra={"editor": "lines"},
    )

    @field_validator("codes")
    @classmethod
    def _clean(cls, codes: list[str]) -> list[str]:
        cleaned = [code.strip() for code in codes if code.strip()]
        if not cleaned:
            raise ValueError("give at least one code")
        return cleaned


class OneCode(Program):
    code: str = CodeField(title="Code", min_length=1)


class UpdateCode(OneCode):
    activated: bool | None = Field(
        None, title="Activated", description="Yes marks the code used, No unused."
    )
    expire_date: AwareDatetime | None = Field(
        None, title="Expires", description="When the code stops working."
    )

    @model_validator(mode="after")
    def _something(self) -> UpdateCode:
        if self.activated is None and self.expire_date is None:
            raise ValueError("change the activation, the expiry date, or both")
        return self


_FINDS_THE_PROFILE = {"one_needed": "way to find the profile"}


class ProfileCode(Program):
    matching: Literal["email", "phone", "profile_id", "email_profile", "custom"] | None = Field(
        None,
        title="Find the profile by",
        description="Empty: by the one value given below.",
        json_schema_extra={"choices": MATCHING},
    )
    # Any one of these will do (the form and `do --list` say so, not "optional").
    email: str | None = Field(None, title="Email", json_schema_extra=_FINDS_THE_PROFILE)
    phone: str | None = Field(None, title="Phone", json_schema_extra=_FINDS_THE_PROFILE)
    profile_id: str | None = Field(None, title="Profile ID", json_schema_extra=_FINDS_THE_PROFILE)
    field_name: str | None = Field(None, title="Field", description="For “a field of your choice”.")
    field_value: str | None = Field(None, title="Field value", json_schema_extra=_FINDS_THE_PROFILE)
    db_id: int | None = Field(
        None, title="Database ID", description="Empty: the account's database.", gt=0
    )

    @model_validator(mode="after")
    def _profile_given(self) -> ProfileCode:
        given = {
            "email": self.email,
            "phone": self.phone,
            "profile_id": self.profile_id,
            "email_profile": self.email,
            "custom": self.field_name and self.field_value,
        }
        if self.matching is not None and not given[self.matching]:
            raise ValueError(f"finding the profile by {MATCHING[self.matching].lower()} needs it")
        if self.matching is None and not any(given.values()):
            raise ValueError("say which profile: an email, a phone, a profile ID or a field")
        return self


class AttachCode(ProfileCode):
    code: str | None = CodeField(
        None,
        title="Code",
        description="Empty: any free code of the program. A code the program does not have "
        "yet is added first, when the program allows it.",
    )


class DetachCode(ProfileCode):
    code: str = CodeField(title="Code", min_length=1)


def _program_of(client: Any, inputs: Program) -> int:
    return int(inputs.loyalty_id or client.loyalty_id)


def _with_account_program(client: Any, inputs: Program) -> Program:
    """An empty program means the account's: filled in before anything else looks."""
    if inputs.loyalty_id is not None:
        return inputs
    return inputs.model_copy(update={"loyalty_id": int(client.loyalty_id)})


def _in_program(records: Sequence[AltcraftCodeRecord], program: int) -> list[AltcraftCodeRecord]:
    """Records stamped with the program they were read from (get may leave it out)."""
    return [record.model_copy(update={"loyalty_id": program}) for record in records]


async def _get_code(client: Any, inputs: Any, result: Any) -> list[AltcraftCodeRecord]:
    code = inputs.code or result  # attach without a code returns the one it picked
    if not code:
        return []
    program = _program_of(client, inputs)
    return _in_program([await client.get(code, loyalty_id=program)], program)


async def _get_imported(client: Any, inputs: ImportCodes, _result: Any) -> list[AltcraftCodeRecord]:
    program = _program_of(client, inputs)
    if len(inputs.codes) <= _GET_EACH_UP_TO:
        found = [await client.get(code, loyalty_id=program) for code in dict.fromkeys(inputs.codes)]
    else:
        wanted = set(inputs.codes)
        found = [r for r in await client.export_all(loyalty_id=program) if r.code in wanted]
    return _in_program(found, program)


def _with_program(
    ctx: WriteContext, _inputs: Any, records: Sequence[AltcraftCodeRecord]
) -> WriteOutcome:
    rows = [altcraft_row(record, str(record.loyalty_id)) for record in records]
    # (an import of many codes reads them back from export_all)
    exported = [not altcraft_sent_in_full(record) for record in records]
    return upsert(
        ctx.conn,
        ALTCRAFT_CODES,
        ctx.account_id,
        keep_unsent_altcraft(ctx.conn, ctx.account_id, rows, exported=exported),
        run_id=ctx.run_id,
        as_of=ctx.as_of,
    )


def _write_program(ctx: WriteContext, _inputs: Program, records: Any) -> WriteOutcome:
    """export_all lists every code of the program: what is not in it is gone."""
    program = str(records.loyalty_id)
    staging = Staging(ctx.conn, ALTCRAFT_CODES, ctx.account_id)
    rows = [altcraft_row(record, program) for record in records.records]
    staging.add(keep_unsent_altcraft(ctx.conn, ctx.account_id, rows))
    return staging.write(run_id=ctx.run_id, as_of=ctx.as_of, gone_scope={"loyalty_id": program})


class ProgramExport:
    """export_all's records with the program they are from."""

    def __init__(self, loyalty_id: int, records: list[AltcraftCodeRecord]) -> None:
        self.loyalty_id = loyalty_id
        self.records = records


async def _export(client: Any, inputs: Program) -> ProgramExport:
    program = _program_of(client, inputs)
    return ProgramExport(program, await client.export_all(loyalty_id=program))


def _json(records: Sequence[AltcraftCodeRecord]) -> list[dict[str, Any]]:
    return [record.model_dump(mode="json", exclude_none=True) for record in records]


def _first_code(_inputs: Any, records: Sequence[AltcraftCodeRecord]) -> str:
    return records[0].code if records else "the code"


def _altcraft_op(name: str, label: str, inputs: type[Inputs], **options: Any) -> Operation:
    """An Altcraft operation with what they all share: the account's program filled in, every
    call safe to repeat (the client looks before sending a write again), and the codes it
    touched read back and written to the workspace."""
    options.setdefault("group", "Codes")
    options.setdefault("refresh", _get_code)
    options.setdefault("write", _with_program)
    options.setdefault("result_json", _json)
    if options.get("target", CODE) is not None:
        options.setdefault("target", CODE)
        options.setdefault("allowed", _program_known)
    return Operation(
        Vendor.ALTCRAFT,
        name,
        label,
        inputs,
        kind=options.pop("kind", "change"),
        complete=_with_account_program,
        repeat_safe=True,
        **options,
    )


OPERATIONS: tuple[Operation, ...] = (
    _altcraft_op(
        "import_codes",
        "Add codes to the program…",
        ImportCodes,
        kind="create",
        target=None,
        description="Adds codes to a loyalty program. Codes it has already are counted as "
        "duplicated; codes over the program's limit are discarded.",
        refresh=_get_imported,
        summary=lambda inputs, records: (
            f"{len(records):,} of {len(inputs.codes):,} code(s) are in the program now"
        ),
    ),
    _altcraft_op(
        "get",
        "Reload from Altcraft",
        OneCode,
        kind="read",
        call=lambda client, inputs: _get_code(client, inputs, None),
        refresh=None,
        summary=lambda _inputs, records: (
            f"{_first_code(_inputs, records)} is "
            f"{records[0].status.value if records else 'not found'}"
        ),
    ),
    _altcraft_op(
        "activate",
        "Activate code",
        OneCode,
        description="Marks the code as used. Only a code attached to a profile can be.",
        allowed=_attached,
        bulk=True,
        summary=lambda inputs, _records: f"Activated {inputs.code}",
    ),
    _altcraft_op(
        "update",
        "Change expiry or activation…",
        UpdateCode,
        bulk=True,
        summary=lambda inputs, _records: f"Updated {inputs.code}",
    ),
    _altcraft_op(
        "attach",
        "Attach to a profile…",
        AttachCode,
        group="Profiles",
        description="Gives a code to a customer profile.",
        summary=lambda _inputs, records: f"Attached {_first_code(_inputs, records)}",
    ),
    _altcraft_op(
        "detach",
        "Detach from a profile…",
        DetachCode,
        group="Profiles",
        allowed=_detachable,
        bulk=True,
        summary=lambda inputs, _records: f"Detached {inputs.code}",
    ),
    _altcraft_op(
        "export_all",
        "Reload the whole program",
        Program,
        kind="read",
        target=None,
        description="Fetches every code of the program; codes Altcraft no longer lists are "
        "marked gone.",
        call=_export,
        refresh=None,
        write=_write_program,
        summary=lambda _inputs, export: (
            f"{len(export.records):,} code(s) in program {export.loyalty_id}"
        ),
        result_json=lambda export: _json(export.records),
    ),
)
