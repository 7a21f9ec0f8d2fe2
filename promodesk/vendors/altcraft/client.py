"""Altcraft promo codes (API v1.1): import, get, activate, update, attach, detach, export all.

Every call is a POST with the token in the body, in JSON or in Altcraft's XML (root <xml>,
arrays as repeated elements), answered in the same envelope: {data, error, error_text}. An
`error` other than 0 is a failure even when HTTP says 200.

Attach and detach are not safe to repeat blindly (a universal code would get a second
attachment; a personal one an error). After an unknown outcome the client looks whether the
goal is reached for *this* profile before sending again, and a repeat that is refused
because the first try did land is success. How it looks (`get`'s holders) is explained at
`_holders`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from xml.sax.saxutils import escape

import httpx

from promodesk.domain.records import AltcraftCodeRecord
from promodesk.vendors.altcraft.endpoints import DEFAULT_MATCHING, MATCHING, METHODS, SUCCESS
from promodesk.vendors.altcraft.models import Envelope, ImportItem, ImportSummary
from promodesk.vendors.errors import (
    AuthError,
    ForbiddenError,
    MalformedResponseError,
    NotFoundError,
    QuotaError,
    VendorError,
    VendorValidationError,
    outcome_unknown,
)
from promodesk.vendors.http import (
    PROBE_TIMEOUT,
    RateLimit,
    VendorHttp,
    validate,
    xml_to_dict,
)

VENDOR = "Altcraft"
# Not documented by Altcraft: a conservative default, configurable per account.
RATE_LIMIT = RateLimit(20, 1.0)
IMPORT_BATCH = 1000
# export_all is the only list and returns the whole program in one answer: larger caps than
# other calls (a million codes is about 60 MB of JSON, 4 million XML elements).
MAX_EXPORT_BYTES = 128 * 1024 * 1024
MAX_EXPORT_XML_ELEMENTS = 4_000_000
PING_CODE = "promodesk-connection-check"
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
        options.setdefault("max_answer_bytes", MAX_EXPORT_BYTES)
        options.setdefault("max_xml_elements", MAX_EXPORT_XML_ELEMENTS)
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

    def _request(self, params: dict[str, Any]) -> dict[str, Any]:
        body = self._body(params)
        if self.response_format == "xml":
            return {"content": _to_xml(body), "headers": {"Content-Type": "application/xml"}}
        return {"json": body}

    def _envelope(self, response: httpx.Response, operation: str) -> Envelope:
        if self.response_format == "xml":
            data = xml_to_dict(self.http.xml(response.content, operation))
        else:
            data = self.http.json(response, operation)
        return validate(Envelope, data, vendor=VENDOR, operation=operation)

    async def _call(
        self, name: str, params: dict[str, Any], *, idempotent: bool | None = None
    ) -> Envelope:
        method = METHODS[name]
        operation = name.replace("_", " ")

        def parse(response: httpx.Response) -> Envelope:
            envelope = self._envelope(response, operation)
            if envelope.error != SUCCESS:
                raise _envelope_error(envelope, name)
            return envelope

        return await self.http.fetch(
            "POST",
            method.path,
            parse,
            operation=operation,
            idempotent=method.idempotent if idempotent is None else idempotent,
            **self._request(params),
        )

    async def ping(self, *, within: float = PROBE_TIMEOUT) -> None:
        """Test connection, one try within `within` seconds: asking for a code that does not
        exist must come back in Altcraft's envelope ("not found" proves the token works)."""
        operation = "test connection"
        response = await self.http.probe(
            "POST",
            METHODS["get"].path,
            operation=operation,
            within=within,
            **self._request({"code": PING_CODE, "loyalty_id": self.loyalty_id}),
        )
        if response.status_code == 200:
            try:
                envelope = self._envelope(response, operation)
            except MalformedResponseError:
                envelope = None
            if envelope is not None:
                if envelope.error in (SUCCESS, 404):
                    return
                raise _envelope_error(envelope, operation)
        raise self.http.not_the_api(response, operation)

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

    async def _holders(self, code: str, loyalty_id: int) -> tuple[str, ...] | None:
        """The profiles holding a code, as far as `get` tells (None: no such code).

        Altcraft's `get` names one `profile_id` (the code's latest attachment). The sandbox
        also lists every holder of a universal code as `profile_ids`, a fake-only field used
        when present: with the real API, a universal code's holders other than the latest
        cannot be seen, and the checks below compare the latest holder instead."""
        try:
            envelope = await self._call("get", {"code": code, "loyalty_id": loyalty_id})
        except NotFoundError:
            return None
        record = validate(AltcraftCodeRecord, envelope.data, vendor=VENDOR, operation="get")
        listed = envelope.data.get("profile_ids") if isinstance(envelope.data, dict) else None
        if isinstance(listed, list):
            return tuple(str(item) for item in listed)
        if isinstance(listed, str) and listed:
            return (listed,)
        attached = record.is_attached or bool(record.attached)
        return (record.profile_id,) if attached and record.profile_id else ()

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
        """How attach and detach find the profile. `matching` is always sent, so Altcraft's
        own default never applies unseen. Left out, it is the one way given (profile_id,
        email, phone, or field_name with field_value); when several are given it is `email`
        if an email is among them (Altcraft's default), otherwise an error asks which."""
        if matching is None:
            given = [
                name
                for name, value in (
                    ("profile_id", profile_id),
                    ("email", email),
                    ("phone", phone),
                    ("custom", field_name or field_value),
                )
                if value
            ]
            if not given:
                raise ValueError(
                    "say how to find the profile: profile_id, email, phone, or field_name "
                    "with field_value"
                )
            if len(given) == 1:
                matching = given[0]
            elif "email" in given:
                matching = DEFAULT_MATCHING
            else:
                raise ValueError(
                    f"several ways to find the profile were given ({', '.join(given)}): "
                    "say which one with matching"
                )
        if matching not in MATCHING:
            raise ValueError(f"matching must be one of {', '.join(MATCHING)}")
        needed = {
            "profile_id": profile_id,
            "email": email,
            "email_profile": email,
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
        elif matching == "email_profile":
            params["email"] = email
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
        """Attach `code` to the matched profile (Altcraft imports an unknown code first when
        the program allows new codes), or without `code` any free code. Returns the code
        attached when known: Altcraft does not say which free code it picked, so then it is
        looked up.

        After an unknown outcome the code is looked up: sent again only if *this* profile
        does not hold it yet (found by profile_id it is seen directly; found by email, phone
        or a field, by comparing with how the code was before the first try)."""
        program = loyalty_id or self.loyalty_id
        who = self._profile(matching, profile_id, email, phone, field_name, field_value, db_id)
        params = {**who, "loyalty_id": program, "code": code}
        if code is None:
            return await self._attach_any(params, program)
        target = profile_id if who["matching"] == "profile_id" else None
        before = None if target else await self._holders(code, program)
        await self._until(
            "attach", params, lambda after: _attach_landed(after, before, target), code, program
        )
        return code

    async def _attach_any(self, params: dict[str, Any], program: int) -> str | None:
        before = {r.code for r in await self.export_all(loyalty_id=program) if r.attached}
        await self._call("attach", params)
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
        """Detach `code` from the matched profile. Altcraft refuses when the code is held by
        several profiles. A repeat (after an unknown outcome) that finds this profile no
        longer holding the code is success."""
        program = loyalty_id or self.loyalty_id
        who = self._profile(matching, profile_id, email, phone, field_name, field_value, db_id)
        params = {**who, "loyalty_id": program, "code": code}
        target = profile_id if who["matching"] == "profile_id" else None
        before = None if target else await self._holders(code, program)
        await self._until(
            "detach", params, lambda after: _detach_landed(after, before, target), code, program
        )

    async def _until(
        self,
        name: str,
        params: dict[str, Any],
        reached: Callable[[tuple[str, ...] | None], bool],
        code: str,
        program: int,
    ) -> None:
        """Send a change not safe to repeat. After an unknown outcome, or when a repeat is
        refused (the first try may have landed meanwhile), look whether the goal is reached
        before sending again."""
        attempts = self.http.retry.attempts
        repeated = False
        for attempt in range(attempts):
            try:
                await self._call(name, params)
                return
            except VendorError as error:
                unknown = outcome_unknown(error)
                if (unknown or repeated) and reached(await self._holders(code, program)):
                    return
                if not unknown or attempt + 1 >= attempts:
                    raise
                repeated = True
                await self.http.pause(attempt)

    async def export_all(self, *, loyalty_id: int | None = None) -> list[AltcraftCodeRecord]:
        return [self.record(item) for item in await self.export_items(loyalty_id=loyalty_id)]

    async def export_items(self, *, loyalty_id: int | None = None) -> list[Any]:
        """export_all's items as Altcraft sent them, not validated yet: a sync validates
        (with `record`) only the codes that changed since it last saw them."""
        envelope = await self._call("export_all", {"loyalty_id": loyalty_id or self.loyalty_id})
        if isinstance(envelope.data, list):
            return envelope.data
        return [envelope.data] if envelope.data else []

    def record(self, item: Any) -> AltcraftCodeRecord:
        """One item of `export_items`, validated (what `export_all` returns)."""
        return validate(AltcraftCodeRecord, item, vendor=VENDOR, operation="export all")


def _attach_landed(
    after: tuple[str, ...] | None, before: tuple[str, ...] | None, target: str | None
) -> bool:
    if not after:
        return False
    if target is not None:
        return target in after
    # Found by email, phone or a field: the profile's id is not known here, so the code's
    # holders are compared with those before the first try (a new holder is ours).
    if not before:
        return True
    return len(after) > len(before) or after[-1] != before[-1]


def _detach_landed(
    after: tuple[str, ...] | None, before: tuple[str, ...] | None, target: str | None
) -> bool:
    if not after:
        return True  # nobody holds it any more
    if target is not None:
        return target not in after
    if not before:
        return False
    return len(after) < len(before) or after[-1] != before[-1]


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
