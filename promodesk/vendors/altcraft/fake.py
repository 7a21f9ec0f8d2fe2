"""A sandbox Altcraft promo-code API (v1.1) with the documented rules.

Token in the body or as Bearer; JSON or XML bodies (root <xml>, arrays repeated); answers in
the envelope {data, error, error_text}, in JSON or XML per `format`, with errors reported as
HTTP 200 and a non-zero `error`, as Altcraft does. Codes live in loyalty programs: import
counts duplicates and what the program's limit discards; attach imports an unknown code when
the program allows new codes (else refuses it), or picks any free one; activate needs an
attached code; personal programs refuse a second attachment, universal ones allow it; detach
is refused for a code held by several profiles. Profiles are found by profile_id, email
(the default when `matching` is left out), email_profile, phone or a custom field.

Fake-only: `get` also lists every profile holding the code as `profile_ids` (Altcraft names
only the latest, `profile_id`); `report_holders=False` leaves it out, as the real API does.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

import defusedxml.ElementTree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from promodesk.domain.values import to_utc_text
from promodesk.domain.vendors import Vendor
from promodesk.vendors.altcraft.endpoints import DEFAULT_MATCHING, MATCHING, METHODS
from promodesk.vendors.fake_support import (
    SANDBOX_SEEDED,
    FakeVendor,
    FaultInjector,
    FaultPlan,
    SlidingWindow,
    json_bytes,
)
from promodesk.vendors.registry import SANDBOX_CREDENTIALS

SANDBOX_TOKEN = SANDBOX_CREDENTIALS[Vendor.ALTCRAFT]["token"]
SANDBOX_LOYALTY_ID = 5
SANDBOX_DB_ID = 1


def _now(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class CodeState:
    code: str
    created: str
    attached: str = ""
    activated: str = ""
    expired: str = ""
    expire_date: str = ""
    profiles: list[str] = field(default_factory=list)
    database_id: int | None = None

    def info(self, loyalty_id: int, *, holders: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "loyalty_id": loyalty_id,
            "created": self.created,
            "is_attached": bool(self.attached),
            "is_activated": bool(self.activated),
            "is_expired": bool(self.expired),
            "attached": self.attached,
            "activated": self.activated,
            "expired": self.expired,
            "expire_date": self.expire_date,
        }
        if self.profiles:
            data.update(database_id=self.database_id, profile_id=self.profiles[-1])
        if holders:  # fake-only: every holder, in the order they were attached
            data["profile_ids"] = list(self.profiles)
        return data

    def export(self) -> dict[str, Any]:
        item: dict[str, Any] = {"code": self.code}
        if self.attached:
            item["attached"] = self.attached
        if self.activated:
            item["activated"] = self.activated
        return item


@dataclass
class Program:
    loyalty_id: int
    universal: bool = False  # universal codes attach to many profiles; personal to one
    limit: int = 1_000_000  # codes the tariff allows; the rest is "discarded_by_limit"
    # The program's "allow new codes" setting: attach with an unknown code imports it.
    allow_new_codes: bool = True
    codes: dict[str, CodeState] = field(default_factory=dict)


class AltcraftState:
    def __init__(self, *, demo: bool = True) -> None:
        self.programs: dict[int, Program] = {
            5: Program(5),
            8: Program(8, universal=True, allow_new_codes=False),
        }
        self.profiles: dict[tuple[int, str, str], str] = {}
        if demo:
            seeded = _now(SANDBOX_SEEDED)
            for number in range(40):
                code = f"LOY5-{number:04d}"
                self.programs[5].codes[code] = CodeState(code, seeded)
            for number in range(10):
                code = f"UNIV8-{number:03d}"
                self.programs[8].codes[code] = CodeState(code, seeded)

    def profile(self, db_id: int, matching: str, value: str) -> str:
        """Resolve email/phone/custom matching to a profile id (stable per value)."""
        if matching == "profile_id":
            return value
        # The sandbox keeps no subscriptions: both email modes find the profile's email.
        key = (db_id, "email" if matching == "email_profile" else matching, value)
        if key not in self.profiles:
            self.profiles[key] = (
                "p-" + hashlib.sha256("|".join(map(str, key)).encode()).hexdigest()[:12]
            )
        return self.profiles[key]


class FakeAltcraft(FakeVendor):
    def __init__(
        self,
        *,
        token: str = SANDBOX_TOKEN,
        rate_limit: tuple[int, float] | None = (50, 1.0),
        faults: FaultPlan | None = None,
        demo: bool = True,
        report_holders: bool = True,
    ) -> None:
        self.token = token
        self.report_holders = report_holders
        self.state = AltcraftState(demo=demo)
        self.limit = SlidingWindow(*rate_limit) if rate_limit else None
        self.faults = faults or FaultPlan()
        self.lock = asyncio.Lock()
        routes = [
            Route(method.path, self._handler(method.name), methods=["POST"])
            for method in METHODS.values()
        ]
        routes += [
            *self.sandbox_routes(),
        ]
        self.app = FaultInjector(Starlette(routes=routes), self.faults, error_body=_error_body)

    def _handler(self, name: str) -> Any:
        operation = getattr(self, f"op_{name}")

        async def handle(request: Request) -> Response:
            params, bad = await _read(request)
            fmt = str(params.get("format") or "json")
            if bad:
                return _envelope(fmt, None, 400, bad)
            token = (
                params.get("token")
                or request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            )
            if self.limit is not None and self.limit.hit(str(token)) is not None:
                return Response(
                    _error_body(429),
                    status_code=429,
                    media_type="application/json",
                    headers={"Retry-After": "1"},
                )
            if token != self.token:
                return _envelope(fmt, None, 401, "API token required")
            async with self.lock:
                try:
                    data, extra = await operation(params)
                except _Refused as refused:
                    return _envelope(fmt, None, refused.code, refused.text)
            return _envelope(fmt, data, 0, "Successful operation", extra)

        return handle

    def _program(self, params: dict[str, Any]) -> Program:
        try:
            loyalty_id = int(params.get("loyalty_id") or 0)
        except (TypeError, ValueError):
            raise _Refused(400, "loyalty_id must be a number") from None
        if not loyalty_id:
            raise _Refused(400, "loyalty_id is required")
        program = self.state.programs.get(loyalty_id)
        if program is None:
            raise _Refused(404, "Loyalty program not found")
        return program

    def _code(self, program: Program, params: dict[str, Any]) -> CodeState:
        code = str(params.get("code") or "")
        if not code:
            raise _Refused(400, "code is required")
        found = program.codes.get(code)
        if found is None:
            raise _Refused(404, "Promocode not found")
        return found

    def _matched(self, params: dict[str, Any]) -> tuple[int, str]:
        try:
            db_id = int(params.get("db_id") or 0)
        except (TypeError, ValueError):
            raise _Refused(400, "db_id must be a number") from None
        if not db_id:
            raise _Refused(400, "db_id is required")
        matching = str(params.get("matching") or DEFAULT_MATCHING)
        if matching == "custom":
            value = f"{params.get('field_name')}={params.get('field_value')}"
            if not params.get("field_name") or not params.get("field_value"):
                raise _Refused(400, "field_name and field_value are required for custom matching")
        elif matching not in MATCHING:
            raise _Refused(400, f"matching must be one of {', '.join(MATCHING)}")
        else:
            source = "email" if matching == "email_profile" else matching
            value = str(params.get(source) or "")
            if not value:
                raise _Refused(400, f"{source} is required to match the profile")
        return db_id, self.state.profile(db_id, matching, value)

    async def op_import(self, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        program = self._program(params)
        codes = params.get("codes")
        if isinstance(codes, str):
            codes = [codes]
        if not isinstance(codes, list) or not codes:
            raise _Refused(400, "codes is required")
        items, inserted, duplicated, discarded = [], 0, 0, 0
        for value in codes:
            code = str(value).strip()
            if code in program.codes:
                duplicated += 1
                items.append({"code": code, "error": 500, "error_text": "Promocode duplicated"})
            elif len(program.codes) >= program.limit:
                discarded += 1
                items.append({"code": code, "error": 402, "error_text": "Tariff limit reached"})
            else:
                program.codes[code] = CodeState(code, _now())
                inserted += 1
                items.append({"code": code, "error": 0, "error_text": ""})
        return items, {
            "inserted": inserted,
            "duplicated": duplicated,
            "discarded_by_limit": discarded,
        }

    async def op_get(self, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        program = self._program(params)
        found = self._code(program, params)
        return found.info(program.loyalty_id, holders=self.report_holders), {}

    async def op_activate(self, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        found = self._code(self._program(params), params)
        if not found.attached:
            raise _Refused(400, "Promocode is not attached to a profile")
        found.activated = found.activated or _now()
        return None, {}

    async def op_update(self, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        found = self._code(self._program(params), params)
        activated, expire = params.get("activated"), params.get("expire_date")
        if activated is None and not expire:
            raise _Refused(400, "activated or expire_date is required")
        if activated is not None:
            flag = str(activated).lower() in ("true", "1")
            if flag and not found.attached:
                raise _Refused(400, "Promocode is not attached to a profile")
            found.activated = (found.activated or _now()) if flag else ""
        if expire:
            try:
                found.expire_date = to_utc_text(str(expire))
            except ValueError:
                raise _Refused(400, "expire_date must be RFC 3339") from None
            if found.expire_date <= _now():
                found.expired = found.expired or _now()
        return None, {}

    async def op_attach(self, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        program = self._program(params)
        db_id, profile = self._matched(params)
        code = str(params.get("code") or "")
        if code:
            found = program.codes.get(code)
            if found is None and not program.allow_new_codes:
                raise _Refused(
                    404, "Promocode not found; the loyalty program does not allow new codes"
                )
            if found is None:  # not found: imported, then attached
                found = program.codes[code] = CodeState(code, _now())
            elif found.attached and not program.universal:
                raise _Refused(400, "Promocode is already attached; multiple usage is restricted")
        else:
            free = next(
                (c for c in program.codes.values() if not c.attached and not c.expired), None
            )
            if free is None:
                raise _Refused(404, "No free promocodes in the loyalty program")
            found = free
        found.attached = found.attached or _now()
        found.profiles.append(profile)
        found.database_id = db_id
        return None, {}

    async def op_detach(self, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        program = self._program(params)
        if not params.get("code"):
            raise _Refused(400, "code is required")
        found = self._code(program, params)
        _db_id, profile = self._matched(params)
        if len(found.profiles) > 1:  # in any program, universal ones included
            raise _Refused(400, "Promocode is attached to several profiles")
        if profile not in found.profiles:
            raise _Refused(400, "Promocode is not attached to this profile")
        found.profiles.remove(profile)
        if not found.profiles:
            found.attached = ""
            found.database_id = None
        return None, {}

    async def op_export_all(self, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        program = self._program(params)
        return [code.export() for code in program.codes.values()], {}

    async def sandbox_state(self, request: Request) -> Response:
        return JSONResponse(
            {
                str(loyalty_id): {
                    code: state.info(loyalty_id, holders=True)
                    for code, state in program.codes.items()
                }
                for loyalty_id, program in self.state.programs.items()
            }
            | {"faults_injected": dict(self.faults.injected)}
        )

    async def sandbox_reset(self, request: Request) -> Response:
        async with self.lock:
            self.state = AltcraftState(demo=True)
        return Response(status_code=204)


class _Refused(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def _error_body(status: int) -> bytes:
    return json_bytes(
        {
            "data": None,
            "error": status,
            "error_text": "Too many requests" if status == 429 else "Server error",
        }
    )


async def _read(request: Request) -> tuple[dict[str, Any], str]:
    """The request's fields from JSON or Altcraft XML; (fields, problem)."""
    raw = await request.body()
    kind = request.headers.get("content-type", "")
    if "xml" in kind or raw.lstrip().startswith(b"<"):
        try:
            root = defusedxml.ElementTree.fromstring(raw, forbid_dtd=True)
        except Exception:  # any parse failure is a bad request
            return {}, "Incorrect request: XML could not be read"
        params: dict[str, Any] = {}
        for child in root:
            text = child.text or ""
            if child.tag in params:
                existing = params[child.tag]
                params[child.tag] = (
                    [*existing, text] if isinstance(existing, list) else [existing, text]
                )
            elif child.tag == "codes":
                params[child.tag] = [text]
            else:
                params[child.tag] = text
        return params, ""
    try:
        body = await request.json()
    except ValueError:
        return {}, "Incorrect request: JSON could not be read"
    return (body, "") if isinstance(body, dict) else ({}, "Incorrect request")


def _envelope(
    fmt: str, data: Any, error: int, text: str, extra: dict[str, Any] | None = None
) -> Response:
    if fmt == "xml":
        return Response(
            _xml({"data": data, "error": error, "error_text": text, **(extra or {})}),
            media_type="application/xml",
        )
    return JSONResponse({"data": data, "error": error, "error_text": text, **(extra or {})})


def _xml(envelope: dict[str, Any]) -> bytes:
    """Altcraft's response XML: unset values as empty elements, arrays as repeated <data>."""

    def element(name: str, value: Any) -> str:
        if isinstance(value, list):  # repeated elements
            return "".join(element(name, item) for item in value)
        if value is None or value == "":
            return f"<{name}/>"
        if isinstance(value, dict):
            return (
                f"<{name}>"
                + "".join(element(k, v) for k, v in sorted(value.items()))
                + f"</{name}>"
            )
        if isinstance(value, bool):
            return f"<{name}>{str(value).lower()}</{name}>"
        return f"<{name}>{escape(str(value))}</{name}>"

    parts = ["<xml>"]
    for key, value in envelope.items():
        if isinstance(value, list):
            parts += [element(key, item) for item in value]
        else:
            parts.append(element(key, value))
    parts.append("</xml>")
    return "".join(parts).encode()
