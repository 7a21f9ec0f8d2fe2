"""The impact.com fake against impact.com's official OpenAPI (Brand v14, Promo Codes), a copy
of which is in tests/fixtures: the client's requests and the typed fake's answers (list, get,
create, expire) must validate, and the fake must refuse, with the documented error body, the
requests the OpenAPI calls invalid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from defusedxml import ElementTree
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from promodesk.vendors.fake_support import SandboxTransport
from promodesk.vendors.impact.client import ImpactClient
from promodesk.vendors.impact.fake import SANDBOX_SID, SANDBOX_TOKEN, FakeImpact
from tests.integration.conftest import SleepRecorder, fast

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "impact-brand-promocodes-v14.yaml"
SERVER = "https://api.impact.com"  # the spec's server: paths and bodies are what is checked
COLLECTION = f"/Advertisers/{SANDBOX_SID}/PromoCodes"

# vendor-apis.md 3.2 (the OpenAPI documents only the 200 answers).
ERROR_BODY = {
    "type": "object",
    "required": ["Status", "Message"],
    "properties": {
        "Status": {"const": "ERROR"},
        "Message": {"type": "string", "minLength": 1},
        "Errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["Field", "Message"],
                "properties": {"Field": {"type": "string"}, "Message": {"type": "string"}},
            },
        },
    },
}


def _nullable_as_meant(node: Any) -> None:
    """The document says `openapi: 3.1.0` but marks optional fields with 3.0's
    `nullable: true`, which 3.1 ignores. Read it as meant: null is allowed."""
    if isinstance(node, dict):
        if node.pop("nullable", False) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        for value in node.values():
            _nullable_as_meant(value)
    elif isinstance(node, list):
        for value in node:
            _nullable_as_meant(value)


@pytest.fixture(scope="module")
def spec() -> OpenAPI:
    document = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    _nullable_as_meant(document)
    return OpenAPI.from_dict(document)


class Exchanges(SandboxTransport):
    """Every request the client sends and the answer it got."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.seen: list[tuple[httpx.Request, httpx.Response]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        response = await super().handle_async_request(request)
        content = await response.aread()
        self.seen.append((request, httpx.Response(response.status_code, content=content)))
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(content),
            request=request,
        )


def as_openapi(request: httpx.Request, answer: httpx.Response) -> tuple[MockRequest, MockResponse]:
    mock_request = MockRequest(
        SERVER,
        request.method.lower(),
        request.url.path,
        args=dict(request.url.params),
        data=request.content or None,
        content_type=request.headers.get("content-type", "application/json"),
    )
    return mock_request, MockResponse(answer.content, status_code=answer.status_code)


async def test_requests_and_typed_answers_validate_against_the_openapi(spec: OpenAPI) -> None:
    fake = FakeImpact(rate_limit=None, typed=True)
    transport = Exchanges(fake)
    client = ImpactClient.connect(
        "http://impact.test",
        SANDBOX_SID,
        SANDBOX_TOKEN,
        page_size=10,
        transport=transport,
        **fast(SleepRecorder()),
    )
    made = await client.create(
        partner_id=2552901,
        campaign_id=1000,
        code="SPEC15",
        credit_policy="WINNER",
        start_date="2030-01-01T00:00:00-05:00",
        end_date="2030-02-01T00:00:00Z",
        deal_id=3,
        deal_name="Spec deal",
    )
    await client.get(made.id)
    await client.list_all()
    await client.list_all(campaign_id=1000, state="ACTIVE", code="SPEC15")
    await client.list_all(start_date="2029-01-01T00:00:00Z", end_date="2031-01-01T00:00:00Z")
    await client.expire(made.id)
    await client.get(made.id)
    await client.aclose()
    for request, answer in transport.seen:
        assert answer.status_code == 200, answer.text
        mock_request, mock_response = as_openapi(request, answer)
        spec.validate_request(mock_request)
        spec.validate_response(mock_request, mock_response)
    assert len(transport.seen) == 10  # create + get, list 3 pages, 2 filtered lists, expire, get
    assert {request.method for request, _ in transport.seen} == {"GET", "POST", "DELETE"}


async def test_all_string_answers_do_not_validate(spec: OpenAPI) -> None:
    """The check can fail: the prose examples' strings are not what the OpenAPI types."""
    fake = FakeImpact(rate_limit=None)
    async with httpx.AsyncClient(
        transport=SandboxTransport(fake), auth=(SANDBOX_SID, SANDBOX_TOKEN)
    ) as raw:
        answer = await raw.get(
            f"http://impact.test{COLLECTION}/7000001", headers={"Accept": "application/json"}
        )
    request = MockRequest(SERVER, "get", f"{COLLECTION}/7000001")
    with pytest.raises(Exception, match="is not of type 'integer'"):
        spec.validate_response(request, MockResponse(answer.content))


# What the OpenAPI says of each request, and so what the fake must do with it.
REQUESTS = [
    ("GET", {"CampaignId": "1000"}, None, True),
    ("GET", {"CampaignId": "abc"}, None, False),
    ("GET", {"State": "PAUSED"}, None, False),
    ("GET", {"StartDate": "next tuesday"}, None, False),
    ("GET", {"EndDate": "2026-01-01T00:00:00+02:00"}, None, True),
    (
        "POST",
        None,
        "AssignedPartnerId=2552842&CampaignId=1000&CreditPolicy=ALWAYS&Code=OK1&Type=LI",
        True,
    ),
    ("POST", None, "AssignedPartnerId=2552842&CampaignId=1000&CreditPolicy=ALWAYS&Type=LI", False),
    (
        "POST",
        None,
        "AssignedPartnerId=x1&CampaignId=1000&CreditPolicy=ALWAYS&Code=B2&Type=LI",
        False,
    ),
    (
        "POST",
        None,
        "AssignedPartnerId=2552842&CampaignId=1000&CreditPolicy=MAYBE&Code=B3&Type=LI",
        False,
    ),
    (
        "POST",
        None,
        "AssignedPartnerId=2552842&CampaignId=1000&CreditPolicy=ALWAYS&Code=B4&Type=XX",
        False,
    ),
    (
        "POST",
        None,
        "AssignedPartnerId=2552842&CampaignId=1000&CreditPolicy=ALWAYS&Code=B5&Type=LI"
        "&StartDate=soon",
        False,
    ),
    (
        "POST",
        None,
        "AssignedPartnerId=2552842&CampaignId=1000&CreditPolicy=ALWAYS&Code=B6&Type=LI&DealId=d",
        False,
    ),
]


@pytest.mark.parametrize("response_format", ["json", "xml"])
@pytest.mark.parametrize(("method", "query", "form", "valid"), REQUESTS)
async def test_the_fake_refuses_what_the_openapi_calls_invalid(
    spec: OpenAPI,
    method: str,
    query: dict[str, str] | None,
    form: str | None,
    valid: bool,
    response_format: str,
) -> None:
    content_type = "application/x-www-form-urlencoded"
    request = MockRequest(
        SERVER,
        method.lower(),
        COLLECTION,
        args=query or {},
        data=form.encode() if form else None,
        content_type=content_type,
    )
    try:
        spec.validate_request(request)
        spec_says = True
    except Exception:  # any validation error: the spec calls it invalid
        spec_says = False
    assert spec_says == valid  # the table above reads the spec right
    fake = FakeImpact(rate_limit=None, typed=True)
    async with httpx.AsyncClient(
        transport=SandboxTransport(fake), auth=(SANDBOX_SID, SANDBOX_TOKEN)
    ) as raw:
        answer = await raw.request(
            method,
            f"http://impact.test{COLLECTION}",
            params=query,
            content=form,
            headers={
                "Accept": f"application/{response_format}",
                "Content-Type": content_type,
            },
        )
    assert (answer.status_code == 200) == valid, answer.text
    if valid:
        return
    assert answer.status_code == 400
    if response_format == "json":
        jsonschema.validate(answer.json(), ERROR_BODY)
    else:
        root = ElementTree.fromstring(answer.content)
        assert root.tag == "ImpactRadiusResponse" and root.findtext("Status") == "ERROR"
        assert root.findtext("Message") and root.find("Errors/Error/Field") is not None
