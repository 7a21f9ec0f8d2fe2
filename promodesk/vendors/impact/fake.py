"""A sandbox impact.com Advertiser API for promo codes, with the documented behaviour.

HTTP Basic (AccountSID:AuthToken): 401 for bad credentials, 403 for a token without the
operation's permission (a read-only token writing, a scoped token without the promo-code
scopes). XML unless JSON is asked for (Accept or a .json suffix). The IR-Version header is
recorded and checked. Lists paged with Page/PageSize and an envelope whose next-page URI is
host-relative and "" on the last page. Values come as strings, as the prose examples show
them (`typed=False`, the sandbox default), or typed per the OpenAPI: integers, booleans and
nulls (`typed=True`). Create takes a form or JSON and answers {Status, Uri}; expire keeps the
code, INACTIVE. 1,000 requests per hour per account, 429 with X-RateLimit-* headers (Reset as
an epoch).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import time
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from promodesk.domain.values import to_utc_text
from promodesk.domain.vendors import Vendor
from promodesk.vendors.fake_support import (
    SANDBOX_SEEDED,
    FakeVendor,
    FaultInjector,
    FaultPlan,
    SlidingWindow,
    json_bytes,
)
from promodesk.vendors.impact.endpoints import (
    CREDIT_POLICIES,
    DEFAULT_API_VERSION,
    MATCH_TYPES,
    MAX_INTEGER_DIGITS,
    MAX_STRING,
    SCOPES,
)
from promodesk.vendors.registry import SANDBOX_CREDENTIALS

SANDBOX_SID = SANDBOX_CREDENTIALS[Vendor.IMPACT]["account_sid"]
SANDBOX_TOKEN = SANDBOX_CREDENTIALS[Vendor.IMPACT]["auth_token"]
READ_ONLY_TOKEN = "sandbox-impact-readonly"
SCOPED_NO_PROMO_TOKEN = "sandbox-impact-scoped-other"
SCOPED_LIST_ONLY_TOKEN = "sandbox-impact-scoped-list"

_ALL = frozenset(SCOPES.values())
_TOKEN_SCOPES = {
    SANDBOX_TOKEN: _ALL,
    READ_ONLY_TOKEN: frozenset({SCOPES["list promo codes"], SCOPES["get promo code"]}),
    SCOPED_NO_PROMO_TOKEN: frozenset(),
    SCOPED_LIST_ONLY_TOKEN: frozenset({SCOPES["list promo codes"]}),
}

_PARTNERS = {
    "2552842": "Wile E. Coyote Facebook",
    "2552901": "Trail Deals Blog",
    "2553010": "Coupon Finder",
}
_PROGRAMS = {"1000": "Acme Campaign", "1001": "Acme Outdoor UK"}

# How @nextpageuri is written: a path on the host (what impact.com sends), a "//host/..."
# reference some answers carry, an absolute URL elsewhere, or nothing.
# "path" as impact.com documents it; the others are links a client must not follow off the
# account's host (or none); "token": pages by number but every second link carries a paging
# token instead (a vendor that changes how it pages: the client follows the link).
NextPageStyle = Literal["path", "protocol-relative", "absolute", "none", "token"]


def _iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")


def _within(record: dict[str, Any], bounds: list[tuple[str, int, str]]) -> bool:
    """StartDate keeps codes starting on or after it; EndDate, codes ending by it."""
    return all(
        (to_utc_text(record["StartDate"]) >= value)
        if cmp > 0
        else (bool(record["EndDate"]) and to_utc_text(record["EndDate"]) <= value)
        for _name, cmp, value in bounds
    )


def _as_text(value: Any) -> str:
    """A value as the prose examples show it: every value a string, unset ones ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_INTEGERS = ("Id", "CampaignId", "AssignedPartnerId", "DealId")
_BOOLEANS = ("SynchAdsPromoCodes",)


def _typed(record: dict[str, Any]) -> dict[str, Any]:
    """A record as the OpenAPI types it: integers, booleans, and null for what is unset."""
    typed: dict[str, Any] = {}
    for key, value in record.items():
        if value == "" or value is None:
            typed[key] = None
        elif key in _INTEGERS:
            typed[key] = int(value)
        elif key in _BOOLEANS:
            typed[key] = value if isinstance(value, bool) else str(value).lower() == "true"
        else:
            typed[key] = value
    return typed


class ImpactState:
    """Records are kept as the prose examples show them (every value a string, "" when
    unset); the typed form is made for the page being answered."""

    def __init__(self, *, demo: bool = True) -> None:
        self.codes: dict[int, dict[str, Any]] = {}
        self.next_id = 7_000_000
        if demo:
            for number in range(25):
                partner = list(_PARTNERS)[number % 3]
                program = list(_PROGRAMS)[number % 2]
                self.add(
                    {
                        "Code": f"SANDBOX{number:02d}",
                        "AssignedPartnerId": partner,
                        "CampaignId": program,
                        "CreditPolicy": "ALWAYS",
                        "Type": "LI",
                        "StartDate": _iso(SANDBOX_SEEDED),
                    },
                    created=_iso(SANDBOX_SEEDED),
                )

    def add(self, fields: dict[str, str], *, created: str | None = None) -> dict[str, Any]:
        """A new code from a create's fields (text, as a form sends them)."""
        self.next_id += 1
        partner = fields["AssignedPartnerId"]
        program = fields["CampaignId"]
        record = {
            "Id": str(self.next_id),
            "Code": fields["Code"],
            "Type": fields.get("Type", "LI"),
            "CreditPolicy": fields.get("CreditPolicy", "ALWAYS"),
            "CampaignId": program,
            "CampaignName": _PROGRAMS.get(program, f"Program {program}"),
            "AssignedPartnerId": partner,
            "AssignedPartnerName": _PARTNERS.get(partner, f"Partner {partner}"),
            "CreatedDate": created or _iso(),
            "StartDate": fields.get("StartDate") or _iso(),
            "EndDate": fields.get("EndDate", ""),
            "State": "ACTIVE",
            "DealId": fields.get("DealId", ""),
            "DealName": fields.get("DealName", ""),
            "DealState": "",
            "DiscountType": "",
            "SynchAdsPromoCodes": "false",
        }
        self.codes[self.next_id] = record
        return record

    def expire(self, number: int) -> None:
        record = self.codes[number]
        record["State"] = "INACTIVE"
        record["EndDate"] = record["EndDate"] or _iso()


class FakeImpact(FakeVendor):
    def __init__(
        self,
        *,
        sid: str = SANDBOX_SID,
        token: str = SANDBOX_TOKEN,
        rate_limit: tuple[int, float] | None = (1000, 3600.0),
        faults: FaultPlan | None = None,
        demo: bool = True,
        typed: bool = False,
        next_page_style: NextPageStyle = "path",
    ) -> None:
        self.sid = sid
        self.tokens = {**_TOKEN_SCOPES, token: _ALL}
        self.state = ImpactState(demo=demo)
        self.limit = SlidingWindow(*rate_limit) if rate_limit else None
        self.faults = faults or FaultPlan()
        self.typed = typed
        self.next_page_style: NextPageStyle = next_page_style
        self.api_versions: collections.Counter[str] = collections.Counter()  # IR-Version seen
        self.lock = asyncio.Lock()
        base = "/Advertisers/{sid}/PromoCodes"
        routes = [
            Route(base, self.collection, methods=["GET", "POST"]),
            Route(base + ".json", self.collection, methods=["GET", "POST"]),
            Route(base + ".xml", self.collection, methods=["GET", "POST"]),
            Route(base + "/{id}", self.item, methods=["GET", "DELETE", "POST"]),
            *self.sandbox_routes(),
        ]
        self.app = FaultInjector(Starlette(routes=routes), self.faults, error_body=_error_body)

    # -- plumbing -------------------------------------------------------------------------------

    def _wants_json(self, request: Request) -> bool:
        path = request.url.path
        if path.endswith(".json") or path.split("/")[-1].endswith(".json"):
            return True
        if path.endswith(".xml"):
            return False
        return "json" in request.headers.get("accept", "")

    def _answer(
        self,
        request: Request,
        body: dict[str, Any],
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        if self._wants_json(request):
            return JSONResponse(body, status_code=status, headers=headers)
        return Response(
            _xml(body), status_code=status, media_type="application/xml", headers=headers
        )

    def _error(
        self,
        request: Request,
        status: int,
        message: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        body: dict[str, Any] = {"Status": "ERROR", "Message": message}
        if errors:
            body["Errors"] = errors
        return self._answer(request, body, status, headers)

    def _record(self, number: int) -> dict[str, Any]:
        record = self.state.codes[number]
        return _typed(record) if self.typed else record

    def _auth(self, request: Request, operation: str) -> Response | None:
        header = request.headers.get("authorization", "")
        try:
            user, _, secret = (
                base64.b64decode(header.removeprefix("Basic ").strip()).decode().partition(":")
            )
        except ValueError:
            user, secret = "", ""
        scopes = self.tokens.get(secret)
        if not header.startswith("Basic ") or user != self.sid or scopes is None:
            return self._error(request, 401, "Unauthorized: no valid API key was provided")
        if request.path_params.get("sid") != self.sid:
            return self._error(request, 403, "Forbidden: this account cannot access that resource")
        if SCOPES[operation] not in scopes:
            return self._error(
                request, 403, "Forbidden: the token does not have the required permission"
            )
        version = request.headers.get("ir-version", "")
        self.api_versions[version or "(none)"] += 1
        if version and not (version.isdigit() and 1 <= int(version) <= DEFAULT_API_VERSION):
            return self._error(
                request,
                400,
                "Validation Failed",
                [{"Field": "IR-Version", "Message": f"Unsupported API version {version[:10]}"}],
            )
        if self.limit is not None:
            wait = self.limit.hit(user)
            if wait is not None:
                reset = int(time.time() + wait) + 1
                return self._error(
                    request,
                    429,
                    "Too Many Requests",
                    headers={
                        "X-RateLimit-Limit": str(self.limit.requests),
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": str(reset),
                    },
                )
        return None

    async def _fields(self, request: Request) -> dict[str, str]:
        kind = request.headers.get("content-type", "")
        if "json" in kind:
            try:
                body = await request.json()
            except ValueError:
                return {}
            return {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}
        # application/x-www-form-urlencoded (what impact.com's examples send)
        return dict(
            parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
        )

    # -- routes ---------------------------------------------------------------------------------

    async def collection(self, request: Request) -> Response:
        write = request.method == "POST"
        refused = self._auth(request, "create promo code" if write else "list promo codes")
        if refused is not None:
            return refused
        async with self.lock:
            if write:
                return await self._create(request)
            return self._list(request)

    def _invalid(self, request: Request, field: str, message: str) -> Response:
        return self._error(
            request, 400, "Validation Failed", [{"Field": field, "Message": message}]
        )

    def _list(self, request: Request) -> Response:
        query = request.query_params
        try:
            page = max(1, int(query.get("Page", "1")))
            size = max(1, min(20_000, int(query.get("PageSize", "1000"))))
        except ValueError:
            return self._error(request, 400, "Page and PageSize must be numbers")
        state = query.get("State")
        if state and state not in ("ACTIVE", "INACTIVE"):
            return self._invalid(request, "State", "ACTIVE or INACTIVE")
        campaign = query.get("CampaignId")
        if campaign and not (campaign.isdigit() and len(campaign) <= MAX_INTEGER_DIGITS):
            return self._invalid(request, "CampaignId", "Not a numeric value")
        bounds = []
        for name, comparison in (("StartDate", 1), ("EndDate", -1)):
            if query.get(name):
                try:
                    bounds.append((name, comparison, to_utc_text(query[name])))
                except ValueError:
                    return self._invalid(request, name, "ISO 8601 with a time zone")
        code = query.get("Code")
        if not (campaign or code or state or bounds):
            numbers = list(self.state.codes)  # the common case, kept cheap at 100k codes
        else:
            numbers = [
                number
                for number, record in self.state.codes.items()
                if (not campaign or int(record["CampaignId"]) == int(campaign))
                and (not code or record["Code"] == code)
                and (not state or record["State"] == state)
                and _within(record, bounds)
            ]
        pages = max(1, -(-len(numbers) // size))
        chunk = [self._record(number) for number in numbers[(page - 1) * size : page * size]]
        envelope: dict[str, Any] = {
            **self._paging(request, page, pages, size, len(numbers), len(chunk)),
            "PromoCodes": chunk,
        }
        return self._answer(request, envelope)

    def _paging(
        self, request: Request, page: int, pages: int, size: int, total: int, count: int
    ) -> dict[str, Any]:
        """The envelope's @-attributes: strings as the prose shows them, numbers if typed."""
        root = request.scope.get("root_path", "")
        base = f"{root}/Advertisers/{self.sid}/PromoCodes"
        params = {
            k: v for k, v in request.query_params.items() if k not in ("Page", "PageSize", "Token")
        }

        def uri(number: int) -> str:
            return f"{base}?{urlencode({**params, 'Page': number, 'PageSize': size})}"

        def number(value: int) -> int | str:
            return value if self.typed else str(value)

        following = ""
        if page < pages:
            following = {
                "path": uri(page + 1),
                "protocol-relative": f"//evil.example{uri(page + 1)}",
                "absolute": f"http://evil.example{uri(page + 1)}",
                "none": "",
                "token": f"{uri(page + 1)}&Token=t{page + 1}" if page % 2 == 0 else uri(page + 1),
            }[self.next_page_style]
        return {
            "@page": number(page),
            "@numpages": number(pages),
            "@pagesize": number(size),
            "@total": number(total),
            "@start": number((page - 1) * size),
            "@end": number((page - 1) * size + max(0, count - 1)),
            "@uri": uri(page),
            "@firstpageuri": uri(1),
            "@previouspageuri": uri(page - 1) if page > 1 else "",
            "@nextpageuri": following,
            "@lastpageuri": uri(pages),
        }

    async def _create(self, request: Request) -> Response:
        fields = await self._fields(request)
        errors = [
            {"Field": name, "Message": "Required"}
            for name in ("AssignedPartnerId", "CampaignId", "CreditPolicy", "Code", "Type")
            if not fields.get(name)
        ]
        if fields.get("CreditPolicy") and fields["CreditPolicy"] not in CREDIT_POLICIES:
            errors.append(
                {"Field": "CreditPolicy", "Message": "Must be ALWAYS, INVOLVED or WINNER"}
            )
        if fields.get("Type") and fields["Type"] not in MATCH_TYPES:
            errors.append({"Field": "Type", "Message": "Must be LI or RE"})
        for name in ("AssignedPartnerId", "CampaignId", "DealId"):
            value = fields.get(name)
            if value and not (value.isdigit() and len(value) <= MAX_INTEGER_DIGITS):
                errors.append({"Field": name, "Message": "Not a numeric value"})
        for name in ("Code", "DealName"):
            if len(fields.get(name, "").encode()) > MAX_STRING:
                errors.append({"Field": name, "Message": f"At most {MAX_STRING} characters"})
        for name in ("StartDate", "EndDate"):
            if fields.get(name):
                try:
                    to_utc_text(fields[name])
                except ValueError:
                    errors.append({"Field": name, "Message": "ISO 8601 with a time zone"})
        if not errors and any(
            r["Code"] == fields["Code"]
            and int(r["CampaignId"]) == int(fields["CampaignId"])
            and r["State"] == "ACTIVE"
            for r in self.state.codes.values()
        ):
            errors.append(
                {
                    "Field": "Code",
                    "Message": "An active promo code with this value already exists in the program",
                }
            )
        if errors:
            return self._error(request, 400, "Validation Failed", errors)
        record = self.state.add(fields)
        return self._answer(
            request, {"Status": "OK", "Uri": f"/Advertisers/{self.sid}/PromoCodes/{record['Id']}"}
        )

    async def item(self, request: Request) -> Response:
        method = request.method
        if method == "POST":  # POST may override the method (vendor-apis.md 3.1)
            override = (await self._fields(request)).get("_method", "").upper()
            method = override or "POST"
        operation = {"GET": "get promo code", "DELETE": "expire promo code"}.get(method)
        if operation is None:
            return self._error(request, 405, "Method Not Allowed")
        refused = self._auth(request, operation)
        if refused is not None:
            return refused
        raw = request.path_params["id"].split(".", 1)[0]
        if not raw.isdigit():
            return self._error(request, 404, "Not Found")
        async with self.lock:
            number = int(raw)
            if number not in self.state.codes:
                return self._error(request, 404, "Not Found")
            if method == "DELETE":
                self.state.expire(number)
                return self._answer(
                    request, {"Status": "OK", "Uri": f"/Advertisers/{self.sid}/PromoCodes/{raw}"}
                )
            return self._answer(
                request,
                {**self._record(number), "Uri": f"/Advertisers/{self.sid}/PromoCodes/{raw}"},
            )

    async def sandbox_state(self, request: Request) -> Response:
        return JSONResponse(
            {
                "codes": list(self.state.codes.values()),
                "faults_injected": dict(self.faults.injected),
            }
        )

    async def sandbox_reset(self, request: Request) -> Response:
        async with self.lock:
            self.state = ImpactState(demo=True)
        return Response(status_code=204)


def _error_body(status: int) -> bytes:
    return json_bytes(
        {"Status": "ERROR", "Message": "Too Many Requests" if status == 429 else "Server Error"}
    )


def _xml(body: dict[str, Any]) -> bytes:
    """impact.com's XML: the envelope's @-keys become attributes of the collection element."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?><ImpactRadiusResponse>']

    def leaf(name: str, value: Any) -> str:
        text = _as_text(value)
        return f"<{name}>{escape(text)}</{name}>" if text else f"<{name}/>"

    if "PromoCodes" in body:
        attributes = " ".join(
            f'{key[1:]}="{escape(_as_text(value), {chr(34): "&quot;"})}"'
            for key, value in body.items()
            if key.startswith("@")
        )
        parts.append(f"<PromoCodes {attributes}>")
        for record in body["PromoCodes"]:
            parts.append(
                "<PromoCode>" + "".join(leaf(k, v) for k, v in record.items()) + "</PromoCode>"
            )
        parts.append("</PromoCodes>")
    else:
        for key, value in body.items():
            if key == "Errors":
                parts.append(
                    "<Errors>"
                    + "".join(
                        "<Error>"
                        + leaf("Field", e.get("Field"))
                        + leaf("Message", e.get("Message"))
                        + "</Error>"
                        for e in value
                    )
                    + "</Errors>"
                )
            else:
                parts.append(leaf(key, value))
    parts.append("</ImpactRadiusResponse>")
    return "".join(parts).encode()
