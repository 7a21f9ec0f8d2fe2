"""Altcraft promo codes (API v1.1): import, get, activate, update, attach, detach, export all.

Every call is a POST with the token in the body, in JSON or in Altcraft's XML (root <xml>,
arrays as repeated elements), answered in the same envelope: {data, error, error_text}. An
`error` other than 0 is a failure even when HTTP says 200.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from xml.sax.saxutils import escape

import httpx

from promodesk.domain.records import AltcraftCodeRecord
from promodesk.vendors.altcraft.endpoints import MATCHING, METHODS, SUCCESS
from promodesk.vendors.altcraft.models import Envelope, ImportItem, ImportSummary
from promodesk.vendors.errors import (
    AuthError,
    ForbiddenError,
    NotFoundError,
    QuotaError,
    VendorError,
    VendorValidationError,
    outcome_unknown,
)
from promodesk.vendors.http import (
    RateLimit,
    VendorHttp,
    parse_json,
    parse_xml,
    validate,
    xml_to_dict,
)

VENDOR = "Altcraft"
# Not documented by Altcraft: a conservative default, configurable per account.
RATE_LIMIT = RateLimit(20, 1.0)
IMPORT_BATCH = 1000
# Above this many codes, one export_all is cheaper than a `get` per code when checking what
# an interrupted import left behind.
_LOOKUP_BY_EXPORT = 20


class AltcraftClient:
    vendor = VENDOR

    def __init__(
        self,
        http: VendorHttp,
        token: str,
        loyalty_id: int,
        *,
        db_id: int | None = None,
        response_format: str = "json",
        import_batch: int = IMPORT_BATCH,
    ) -> None:
        if response_format not in ("json", "xml"):
            raise ValueError("response_format must be 'json' or 'xml'")
        self.http = http
        self._token = token
        self.loyalty_id = loyalty_id
        self.db_id = db_id
        self.response_format = response_format
        self.import_batch = import_batch

    @classmethod
    def connect(
        cls,
        base_url: str,
        token: str,
        loyalty_id: int,
        *,
        db_id: int | None = None,
        response_format: str = "json",
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limit: RateLimit | None = RATE_LIMIT,
        import_batch: int = IMPORT_BATCH,
        **options: Any,
    ) -> AltcraftClient:
        http = VendorHttp(
            VENDOR,
            base_url,
            secrets=(token,),
            transport=transport,
            rate_limit=rate_limit,
            **options,
        )
        return cls(
            http,
            token,
            loyalty_id,
            db_id=db_id,
            response_format=response_format,
            import_batch=import_batch,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- transport ------------------------------------------------------------------------------

    def _body(self, params: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"token": self._token, "format": self.response_format}
        body.update({key: value for key, value in params.items() if value is not None})
        return body

    async def _call(
        self, name: str, params: dict[str, Any], *, idempotent: bool | None = None
    ) -> Envelope:
        method = METHODS[name]
        body = self._body(params)
        if self.response_format == "xml":
            request: dict[str, Any] = {
                "content": _to_xml(body),
                "headers": {"Content-Type": "application/xml"},
            }
        else:
            request = {"json": body}

        def parse(response: httpx.Response) -> Envelope:
            if self.response_format == "xml":
                data = xml_to_dict(parse_xml(response.content, vendor=VENDOR, operation=name))
            else:
                data = parse_json(response, vendor=VENDOR, operation=name)
            envelope = validate(Envelope, data, vendor=VENDOR, operation=name)
            if envelope.error != SUCCESS:
                raise _envelope_error(envelope, name)
            return envelope

        return await self.http.fetch(
            "POST",
            method.path,
            parse,
            operation=name.replace("_", " "),
            idempotent=method.idempotent if idempotent is None else idempotent,
            **request,
        )

    async def ping(self) -> None:
        """The token works if asking for a code that does not exist says 'not found'."""
        try:
            await self.get("promodesk-connection-check")
        except NotFoundError:
            return

    # -- operations -----------------------------------------------------------------------------

    async def import_codes(
        self, codes: Sequence[str], *, loyalty_id: int | None = None
    ) -> ImportSummary:
        """Import in batches; returns what all batches did, added up. A batch whose answer
        was lost is checked code by code before the missing ones are sent again."""
        program = loyalty_id or self.loyalty_id
        total = ImportSummary()
        for start in range(0, len(codes), self.import_batch):
            batch = list(codes[start : start + self.import_batch])
            for attempt in range(self.http.retry.attempts):
                try:
                    total.add(await self._import_batch(batch, program))
                    break
                except VendorError as error:
                    if not outcome_unknown(error) or attempt + 1 >= self.http.retry.attempts:
                        raise
                    # What landed counts as inserted (a code that was there before the lost call
                    # counts too: Altcraft cannot tell us which); only the rest is sent again.
                    present = await self._present(batch, program)
                    total.inserted += sum(1 for code in batch if code in present)
                    batch = [code for code in batch if code not in present]
                    if not batch:
                        break
        return total

    async def _import_batch(self, codes: list[str], loyalty_id: int) -> ImportSummary:
        envelope = await self._call(
            "import", {"codes": codes, "loyalty_id": loyalty_id}, idempotent=False
        )
        extra = envelope.model_extra or {}
        items = (
            envelope.data
            if isinstance(envelope.data, list)
            else ([envelope.data] if envelope.data else [])
        )
        parsed = [validate(ImportItem, item, vendor=VENDOR, operation="import") for item in items]
        return ImportSummary(
            inserted=int(extra.get("inserted") or 0),
            duplicated=int(extra.get("duplicated") or 0),
            discarded_by_limit=int(extra.get("discarded_by_limit") or 0),
            errors=[item for item in parsed if item.error],
        )

    async def _present(self, codes: list[str], loyalty_id: int) -> set[str]:
        if len(codes) > _LOOKUP_BY_EXPORT:
            return {record.code for record in await self.export_all(loyalty_id=loyalty_id)} & set(
                codes
            )
        found = set()
        for code in codes:
            try:
                await self.get(code, loyalty_id=loyalty_id)
            except NotFoundError:
                continue
            found.add(code)
        return found

    async def get(self, code: str, *, loyalty_id: int | None = None) -> AltcraftCodeRecord:
        envelope = await self._call(
            "get", {"code": code, "loyalty_id": loyalty_id or self.loyalty_id}
        )
        return validate(AltcraftCodeRecord, envelope.data, vendor=VENDOR, operation="get")

    async def activate(self, code: str, *, loyalty_id: int | None = None) -> None:
        """Only works for a code attached to a profile."""
        await self._call("activate", {"code": code, "loyalty_id": loyalty_id or self.loyalty_id})

    async def update(
        self,
        code: str,
        *,
        activated: bool | None = None,
        expire_date: str | None = None,
        loyalty_id: int | None = None,
    ) -> None:
        if activated is None and expire_date is None:
            raise ValueError("update needs activated or expire_date")
        await self._call(
            "update",
            {
                "code": code,
                "loyalty_id": loyalty_id or self.loyalty_id,
                "activated": activated,
                "expire_date": expire_date,
            },
        )

    def _profile(
        self,
        matching: str | None,
        profile_id: str | None,
        email: str | None,
        phone: str | None,
        field_name: str | None,
        field_value: str | None,
        db_id: int | None,
    ) -> dict[str, Any]:
        if matching is None:  # the one way of finding the profile that was given
            given = [
                name
                for name, value in (
                    ("profile_id", profile_id),
                    ("email", email),
                    ("phone", phone),
                    ("custom", field_name),
                )
                if value
            ]
            matching = given[0] if len(given) == 1 else "profile_id"
        if matching not in MATCHING:
            raise ValueError(f"matching must be one of {', '.join(MATCHING)}")
        needed = {
            "profile_id": profile_id,
            "email": email,
            "phone": phone,
            "custom": field_name and field_value,
        }[matching]
        if not needed:
            raise ValueError(f"matching by {matching} needs its value")
        database = db_id or self.db_id
        if database is None:
            raise ValueError("attach and detach need the database id (db_id)")
        params: dict[str, Any] = {"db_id": database, "matching": matching}
        if matching == "custom":
            params.update(field_name=field_name, field_value=field_value)
        else:
            params[matching] = needed
        return params

    async def attach(
        self,
        *,
        code: str | None = None,
        matching: str | None = None,
        profile_id: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        field_name: str | None = None,
        field_value: str | None = None,
        db_id: int | None = None,
        loyalty_id: int | None = None,
    ) -> str | None:
        """Attach `code` to the matched profile (importing it first if the program does not
        have it), or without `code` any free code. Returns the code attached when known:
        Altcraft does not say which free code it picked, so then it is looked up."""
        program = loyalty_id or self.loyalty_id
        params = {
            **self._profile(matching, profile_id, email, phone, field_name, field_value, db_id),
            "loyalty_id": program,
            "code": code,
        }
        before: set[str] = set()
        if code is None:
            before = {r.code for r in await self.export_all(loyalty_id=program) if r.attached}
        for attempt in range(self.http.retry.attempts):
            try:
                await self._call("attach", params)
                break
            except VendorError as error:
                if (
                    not outcome_unknown(error)
                    or code is None
                    or attempt + 1 >= self.http.retry.attempts
                ):
                    raise
                record = await self._get_or_none(code, program)
                if record is not None and (record.is_attached or record.attached):
                    break  # the first try landed
        if code is not None:
            return code
        after = {r.code for r in await self.export_all(loyalty_id=program) if r.attached}
        new = sorted(after - before)
        return new[0] if len(new) == 1 else None

    async def detach(
        self,
        code: str,
        *,
        matching: str | None = None,
        profile_id: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        field_name: str | None = None,
        field_value: str | None = None,
        db_id: int | None = None,
        loyalty_id: int | None = None,
    ) -> None:
        program = loyalty_id or self.loyalty_id
        params = {
            **self._profile(matching, profile_id, email, phone, field_name, field_value, db_id),
            "loyalty_id": program,
            "code": code,
        }
        for attempt in range(self.http.retry.attempts):
            try:
                await self._call("detach", params)
                return
            except VendorError as error:
                if not outcome_unknown(error) or attempt + 1 >= self.http.retry.attempts:
                    raise
                record = await self._get_or_none(code, program)
                if record is None or not (record.is_attached or record.attached):
                    return  # the first try landed

    async def export_all(self, *, loyalty_id: int | None = None) -> list[AltcraftCodeRecord]:
        envelope = await self._call("export_all", {"loyalty_id": loyalty_id or self.loyalty_id})
        items: Iterable[Any] = (
            envelope.data
            if isinstance(envelope.data, list)
            else ([envelope.data] if envelope.data else [])
        )
        return [
            validate(AltcraftCodeRecord, item, vendor=VENDOR, operation="export all")
            for item in items
        ]

    async def _get_or_none(self, code: str, loyalty_id: int) -> AltcraftCodeRecord | None:
        try:
            return await self.get(code, loyalty_id=loyalty_id)
        except NotFoundError:
            return None


def _envelope_error(envelope: Envelope, operation: str) -> VendorError:
    code = int(envelope.error or 0)
    text = envelope.error_text or f"error {code}"
    common: dict[str, Any] = {"operation": operation, "status": code, "vendor_message": text}
    kinds: dict[int, type[VendorError]] = {
        400: VendorValidationError,
        401: AuthError,
        402: QuotaError,
        403: ForbiddenError,
        404: NotFoundError,
    }
    messages = {
        401: "the API token was refused; check the account's token",
        402: "refused by the account's tariff limit",
        403: "this token may not use this loyalty program",
    }
    return kinds.get(code, VendorError)(VENDOR, messages.get(code, text), **common)


def _to_xml(body: dict[str, Any]) -> bytes:
    """Altcraft's request XML: root <xml>, one element per field, arrays repeated."""
    parts = ["<xml>"]
    for key, value in body.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            text = str(item).lower() if isinstance(item, bool) else str(item)
            parts.append(f"<{key}>{escape(text)}</{key}>")
    parts.append("</xml>")
    return "".join(parts).encode()
