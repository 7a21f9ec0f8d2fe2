"""Every impact.com client operation against the fake, in JSON and in XML (the `impact`
fixture runs each test in both)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from promodesk.domain.vendors import CodeStatus, Vendor
from promodesk.vendors import errors
from promodesk.vendors.fake_support import SandboxTransport
from promodesk.vendors.http import RetryPolicy
from promodesk.vendors.impact.client import ImpactClient
from promodesk.vendors.impact.fake import (
    READ_ONLY_TOKEN,
    SANDBOX_SID,
    SANDBOX_TOKEN,
    SCOPED_LIST_ONLY_TOKEN,
    SCOPED_NO_PROMO_TOKEN,
    FakeImpact,
)
from promodesk.vendors.registry import VENDORS
from tests.integration.conftest import RecordingTransport, SleepRecorder, fast


class CountingTransport(SandboxTransport):
    def __init__(self, app: FakeImpact) -> None:
        super().__init__(app)
        self.urls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        return await super().handle_async_request(request)


async def test_list_follows_every_page(impact_fake: FakeImpact, sleeps: SleepRecorder) -> None:
    for response_format in ("json", "xml"):
        transport = CountingTransport(impact_fake)
        client = ImpactClient.connect(
            "http://impact.test",
            SANDBOX_SID,
            SANDBOX_TOKEN,
            page_size=7,
            response_format=response_format,
            transport=transport,
            **fast(sleeps),
        )
        records = await client.list_all()
        assert [r.code for r in records] == [f"SANDBOX{n:02d}" for n in range(25)]
        assert len(transport.urls) == 4  # 7 + 7 + 7 + 4, @numpages "4" as a string
        assert "Page=4" in transport.urls[-1] and "PageSize=7" in transport.urls[-1]
        assert all(r.partner_name and r.campaign_name for r in records)
        await client.aclose()


async def test_a_caller_that_stops_early_leaves_no_request_behind(
    impact_fake: FakeImpact, sleeps: SleepRecorder
) -> None:
    """The next pages are fetched ahead; stopping after the first code cancels those
    prefetches and nothing else is asked for."""
    transport = CountingTransport(impact_fake)
    client = ImpactClient.connect(
        "http://impact.test",
        SANDBOX_SID,
        SANDBOX_TOKEN,
        page_size=5,
        transport=transport,
        **fast(sleeps),
    )
    codes = client.iter_codes()
    first = await anext(codes)
    await codes.aclose()
    assert first.code == "SANDBOX00"
    assert len(transport.urls) <= 3  # page 1, and at most pages 2 and 3 asked for ahead
    # The pages asked for ahead were dropped and their ends awaited: no request still runs.
    running = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    assert not [task for task in running if not task.done()]
    await client.aclose()


async def test_list_filters(impact: ImpactClient) -> None:
    by_program = await impact.list_all(campaign_id=1001)
    assert len(by_program) == 12 and {r.campaign_id for r in by_program} == {"1001"}
    assert [r.code for r in await impact.list_all(code="SANDBOX07")] == ["SANDBOX07"]
    assert await impact.list_all(code="NOPE") == []
    assert len(await impact.list_all(state="ACTIVE")) == 25
    assert await impact.list_all(state="INACTIVE") == []
    await impact.create(
        partner_id=2552842,
        campaign_id=1000,
        code="DATED",
        start_date="2030-01-01T00:00:00Z",
        end_date="2030-02-01T00:00:00-05:00",
    )
    started_later = await impact.list_all(start_date="2029-12-31T00:00:00Z")
    assert [r.code for r in started_later] == ["DATED"]
    ending = await impact.list_all(end_date="2030-02-02T00:00:00Z")
    assert [r.code for r in ending] == ["DATED"]
    assert ending[0].end_date == "2030-02-01T05:00:00Z"
    with pytest.raises(errors.VendorValidationError, match="State"):
        await impact.list_all(state="PAUSED")


async def test_create_get_expire(impact: ImpactClient, impact_fake: FakeImpact) -> None:
    created = await impact.create(
        partner_id=2552901,
        campaign_id=1000,
        code="BLOG15",
        credit_policy="INVOLVED",
        deal_id=42,
        deal_name="Blog deal",
    )
    assert (
        created.code == "BLOG15"
        and created.state == "ACTIVE"
        and created.status is CodeStatus.ACTIVE
    )
    assert (created.partner_name, created.credit_policy) == ("Trail Deals Blog", "INVOLVED")
    assert created.deal_name == "Blog deal" and created.deal_id == "42"
    assert created.extra_fields()["SynchAdsPromoCodes"] in ("false", False)
    again = await impact.get(created.id)
    assert again.code == "BLOG15" and again.id == created.id
    await impact.expire(created.id)
    expired = await impact.get(created.id)
    assert (
        expired.state == "INACTIVE" and expired.status is CodeStatus.INACTIVE and expired.end_date
    )
    assert int(created.id) in impact_fake.state.codes  # kept, only inactive
    # The same code can be made again once the old one is inactive.
    assert (
        await impact.create(partner_id=2552901, campaign_id=1000, code="BLOG15")
    ).id != created.id
    with pytest.raises(errors.NotFoundError):
        await impact.get(99)


async def test_create_is_refused_with_field_errors(impact: ImpactClient) -> None:
    with pytest.raises(errors.VendorValidationError) as caught:
        await impact.create(partner_id="abc", campaign_id=1000, code="X1")
    assert [f.field for f in caught.value.field_errors] == ["AssignedPartnerId"]
    await impact.create(partner_id=2552842, campaign_id=1000, code="TAKEN")
    with pytest.raises(errors.VendorValidationError, match="already exists"):
        await impact.create(
            partner_id=2553010, campaign_id=1000, code="TAKEN"
        )  # another partner's code
    with pytest.raises(errors.VendorValidationError, match="CreditPolicy"):
        await impact.create(partner_id=1, campaign_id=1, code="X", credit_policy="SOMETIMES")
    with pytest.raises(errors.VendorValidationError, match="255"):
        await impact.create(partner_id=1, campaign_id=1, code="é" * 200)


async def test_form_encoding_is_what_goes_out(impact_fake: FakeImpact) -> None:
    seen: list[httpx.Request] = []

    class Spy(SandboxTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return await super().handle_async_request(request)

    client = ImpactClient.connect(
        "http://impact.test",
        SANDBOX_SID,
        SANDBOX_TOKEN,
        transport=Spy(impact_fake),
        **fast(SleepRecorder()),
    )
    await client.create(partner_id=2552842, campaign_id=1000, code="A&B=C D")
    post = next(r for r in seen if r.method == "POST")
    assert post.headers["content-type"] == "application/x-www-form-urlencoded"
    assert b"Code=A%26B%3DC+D" in post.content
    assert [r.code for r in await client.list_all(code="A&B=C D")] == ["A&B=C D"]
    await client.aclose()


@pytest.mark.parametrize(
    ("sid", "token", "kind", "words"),
    [
        (SANDBOX_SID, "wrong", errors.AuthError, "credentials were refused"),
        ("IRsomeoneelse", SANDBOX_TOKEN, errors.AuthError, "credentials were refused"),
        (
            SANDBOX_SID,
            SCOPED_NO_PROMO_TOKEN,
            errors.ForbiddenError,
            "lacks the 'Retrieve promo codes' permission",
        ),
    ],
)
async def test_credentials_are_checked(
    impact_fake: FakeImpact, sid: str, token: str, kind: type, words: str
) -> None:
    client = ImpactClient.connect(
        "http://impact.test",
        sid,
        token,
        transport=SandboxTransport(impact_fake),
        **fast(SleepRecorder()),
    )
    with pytest.raises(kind, match=words) as caught:
        await client.ping()
    assert token not in str(caught.value) and token not in caught.value.details
    await client.aclose()


async def test_a_read_only_token_reads_but_cannot_write(impact_fake: FakeImpact) -> None:
    client = ImpactClient.connect(
        "http://impact.test",
        SANDBOX_SID,
        READ_ONLY_TOKEN,
        transport=SandboxTransport(impact_fake),
        **fast(SleepRecorder()),
    )
    await client.ping()
    with pytest.raises(errors.ForbiddenError):
        await client.create(partner_id=2552842, campaign_id=1000, code="NOPE")
    with pytest.raises(errors.ForbiddenError):
        await client.expire(7_000_001)
    await client.aclose()


async def test_lost_answers_never_make_a_second_code(
    impact: ImpactClient, impact_fake: FakeImpact
) -> None:
    impact_fake.faults.slow_seconds = 2.0
    impact.http.total_timeout = 0.2
    for fault, code in (
        ("lost", "LOST1"),
        ("drop-after", "DROP1"),
        ("truncate", "CUT1"),
        ("malformed", "BAD1"),
        ("500", "FIVE1"),
        ("drop-before", "DB1"),
    ):
        impact_fake.faults.script.append(fault)
        record = await impact.create(partner_id=2552842, campaign_id=1000, code=code)
        matching = [r for r in impact_fake.state.codes.values() if r["Code"] == code]
        assert len(matching) == 1 and str(matching[0]["Id"]) == record.id, fault
    assert sum(impact_fake.faults.injected.values()) == 6


async def test_rate_limit_headers_are_honoured(sleeps: SleepRecorder) -> None:
    fake = FakeImpact(rate_limit=(3, 3600.0))
    client = ImpactClient.connect(
        "http://impact.test",
        SANDBOX_SID,
        SANDBOX_TOKEN,
        transport=SandboxTransport(fake),
        **fast(sleeps, retry=RetryPolicy(attempts=3, base_delay=0.01, jitter=0.0)),
    )
    for _ in range(3):
        await client.get(7_000_001)
    # The 4th is refused with X-RateLimit-Reset an epoch an hour away: too long to wait in a
    # retry, so it goes to the user with the wait.
    with pytest.raises(errors.RateLimitedError) as caught:
        await client.get(7_000_001)
    assert caught.value.retry_after == pytest.approx(3600, abs=5)
    assert sleeps.delays == []
    await client.aclose()
    # A short reset is waited out: the client waits what the reset says (the fake's window
    # is real time, so the wait is real), not an hour and not a retry's guess.
    import asyncio

    waits: list[float] = []

    async def wait_for_real(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(seconds)

    fake = FakeImpact(rate_limit=(2, 1.0))
    client = ImpactClient.connect(
        "http://impact.test",
        SANDBOX_SID,
        SANDBOX_TOKEN,
        transport=SandboxTransport(fake),
        **fast(sleeps, sleep=wait_for_real),
    )
    for _ in range(3):
        await client.get(7_000_001)
    assert fake.limit is not None and fake.limit.refused >= 1
    assert waits and all(0 < wait <= 2.0 for wait in waits)  # the 1 s window, with slack
    await client.aclose()


# -- contract corrections (vendor-apis.md 1.10) -------------------------------------------------


def connect(fake: FakeImpact, token: str = SANDBOX_TOKEN, **options: Any) -> tuple[Any, Any]:
    transport = RecordingTransport(fake)
    client = ImpactClient.connect(
        "http://impact.test",
        SANDBOX_SID,
        token,
        transport=transport,
        **fast(SleepRecorder(), **options),
    )
    return client, transport


async def test_the_api_version_is_pinned_per_account(impact_fake: FakeImpact) -> None:
    client, transport = connect(impact_fake)
    await client.get(7_000_001)
    assert transport.requests[-1].headers["ir-version"] == "14"
    older, older_transport = connect(impact_fake, api_version=13)
    await older.list_all(code="SANDBOX01")
    assert {r.headers["ir-version"] for r in older_transport.requests} == {"13"}
    assert impact_fake.api_versions == {"14": 1, "13": 1}
    unknown, _ = connect(impact_fake, api_version=99)
    with pytest.raises(errors.VendorValidationError, match="IR-Version"):
        await unknown.get(7_000_001)
    field = next(f for f in VENDORS[Vendor.IMPACT].fields if f.key == "api_version")
    assert (field.label, field.kind, field.default, field.required) == (
        "API version",
        "int",
        "14",
        False,
    )
    made = VENDORS[Vendor.IMPACT].make_client(
        {"base_url": "http://impact.test", "account_sid": SANDBOX_SID},
        SANDBOX_TOKEN,
        SandboxTransport(impact_fake),
    )
    assert isinstance(made, ImpactClient) and made.http.client.headers["ir-version"] == "14"
    for item in (client, older, unknown, made):
        await item.aclose()


@pytest.mark.parametrize("style", ["protocol-relative", "absolute", "none"])
async def test_a_next_page_uri_off_the_account_host_is_not_followed(
    impact_fake: FakeImpact, style: str
) -> None:
    impact_fake.next_page_style = style  # type: ignore[assignment]
    client, transport = connect(impact_fake, page_size=7)
    records = await client.list_all()
    assert [r.code for r in records] == [f"SANDBOX{n:02d}" for n in range(25)]
    assert {r.url.host for r in transport.requests} == {"impact.test"}
    assert all("evil" not in url for url in transport.urls)
    # Each next page asked for as Page+1 on the account's own collection.
    assert [r.url.params["Page"] for r in transport.requests] == ["1", "2", "3", "4"]
    await client.aclose()


async def test_the_page_after_next_is_asked_for_while_the_next_is_read(
    impact_fake: FakeImpact,
) -> None:
    """While impact.com's next-page links are its pages by number, page N+2 is asked for
    when page N arrives; each page is still asked for once, in order."""
    client, transport = connect(impact_fake, page_size=7)
    codes = client.iter_codes()
    read = [(await anext(codes)).code for _ in range(8)]  # page 1, and page 2's first
    assert [r.url.params["Page"] for r in transport.requests] == ["1", "2", "3"]
    read += [record.code async for record in codes]
    assert read == [f"SANDBOX{n:02d}" for n in range(25)]
    assert [r.url.params["Page"] for r in transport.requests] == ["1", "2", "3", "4"]
    await client.aclose()


async def test_a_next_page_link_that_is_not_the_page_asked_for_ahead_is_followed(
    impact_fake: FakeImpact,
) -> None:
    """Page 2's link carries a token: the page 3 asked for ahead by number is dropped and the
    link followed; every code comes once, in order."""
    impact_fake.next_page_style = "token"
    client, transport = connect(impact_fake, page_size=5)
    records = await client.list_all()
    assert [r.code for r in records] == [f"SANDBOX{n:02d}" for n in range(25)]
    asked = [(r.url.params["Page"], r.url.params.get("Token", "")) for r in transport.requests]
    # Followed: 1, 2, 3 by its token, 4, 5 by its token. Asked ahead and dropped: 3 and 5.
    followed = [page for page in asked if page[1] or page[0] in ("1", "2", "4")]
    assert followed == [("1", ""), ("2", ""), ("3", "t3"), ("4", ""), ("5", "t5")]
    assert sorted(asked) == sorted([*followed, ("3", ""), ("5", "")])
    await client.aclose()


async def test_a_single_slash_next_page_path_is_followed_on_the_account_host(
    impact_fake: FakeImpact,
) -> None:
    client, transport = connect(impact_fake, page_size=7)
    await client.list_all()
    # The fake writes Page before PageSize; the client's own query has PageSize first.
    assert transport.urls[1].endswith("?Page=2&PageSize=7")
    assert client._next_page_url("//evil.example/Advertisers/x") is None
    assert client._next_page_url("/\\evil.example/x") is None
    assert client._next_page_url("http://impact.test/Advertisers/x?Page=2") is None
    assert client._next_page_url("https://evil.example/x") is None
    assert (
        client._next_page_url("/Advertisers/x?Page=2") == "http://impact.test/Advertisers/x?Page=2"
    )
    await client.aclose()


async def test_credentials_never_go_to_another_host(impact_fake: FakeImpact) -> None:
    """Even a request the client is made to send elsewhere carries no Basic header."""
    client, transport = connect(impact_fake)
    with pytest.raises(errors.AuthError):
        await client.http.request(
            "GET",
            "http://evil.example/Advertisers/x/PromoCodes",
            operation="list promo codes",
            idempotent=True,
        )
    assert "authorization" not in transport.requests[-1].headers
    await client.get(7_000_001)
    assert transport.requests[-1].headers["authorization"].startswith("Basic ")
    await client.aclose()


@pytest.mark.parametrize(
    ("token", "operation", "scope"),
    [
        (SCOPED_LIST_ONLY_TOKEN, "get", "Retrieve promo code"),
        (SCOPED_LIST_ONLY_TOKEN, "create", "Create promo code"),
        (SCOPED_LIST_ONLY_TOKEN, "expire", "Expire promo code"),
        (READ_ONLY_TOKEN, "create", "Create promo code"),
        (READ_ONLY_TOKEN, "expire", "Expire promo code"),
        (SCOPED_NO_PROMO_TOKEN, "list", "Retrieve promo codes"),
    ],
)
async def test_a_403_names_the_missing_permission(
    impact_fake: FakeImpact, token: str, operation: str, scope: str
) -> None:
    client, _ = connect(impact_fake, token)
    calls = {
        "list": lambda: client.list_all(),
        "get": lambda: client.get(7_000_001),
        "create": lambda: client.create(partner_id=2552842, campaign_id=1000, code="SCOPE1"),
        "expire": lambda: client.expire(7_000_001),
    }
    with pytest.raises(errors.ForbiddenError) as caught:
        await calls[operation]()
    assert str(caught.value).startswith(f"impact.com: this token lacks the '{scope}' permission")
    assert "required permission" in caught.value.details  # what impact.com said is kept
    if token == SCOPED_LIST_ONLY_TOKEN:
        assert len(await client.list_all(code="SANDBOX02")) == 1
    await client.aclose()


def core(record: Any) -> tuple[Any, ...]:
    return (
        record.id,
        record.code,
        record.type,
        record.credit_policy,
        record.campaign_id,
        record.partner_id,
        record.partner_name,
        bool(record.start_date),  # the moments themselves are the fake's clock
        bool(record.end_date),
        record.state,
        record.deal_id,
        record.deal_name,
    )


@pytest.mark.parametrize("response_format", ["json", "xml"])
async def test_typed_and_all_string_answers_read_the_same(response_format: str) -> None:
    """The prose examples send every value as a string and unset ones as ""; the OpenAPI types
    them (integers, booleans, nulls). The client reads both, in JSON and in XML."""
    seen: dict[bool, list[tuple[Any, ...]]] = {}
    for typed in (False, True):
        fake = FakeImpact(rate_limit=None, typed=typed)
        client, _ = connect(fake, page_size=10, response_format=response_format)
        made = await client.create(
            partner_id=2552901, campaign_id=1001, code="TYPED", deal_id=7, deal_name="Deal"
        )
        await client.expire(made.id)
        records = [*await client.list_all(), await client.get(made.id)]
        seen[typed] = [core(r) for r in records]
        last = records[-1]
        assert (last.state, last.deal_id, last.campaign_id) == ("INACTIVE", "7", "1001")
        assert last.end_date.endswith("Z") and records[0].end_date == ""
        await client.aclose()
    assert seen[True] == seen[False] and len(seen[True]) == 27


async def test_the_typed_fake_really_answers_typed(sleeps: SleepRecorder) -> None:
    fake = FakeImpact(rate_limit=None, typed=True)
    async with httpx.AsyncClient(
        transport=SandboxTransport(fake), auth=(SANDBOX_SID, SANDBOX_TOKEN)
    ) as raw:
        answer = await raw.get(
            f"http://impact.test/Advertisers/{SANDBOX_SID}/PromoCodes/7000001",
            headers={"Accept": "application/json"},
        )
        body = answer.json()
        assert isinstance(body["Id"], int) and isinstance(body["CampaignId"], int)
        assert body["SynchAdsPromoCodes"] is False and body["EndDate"] is None
        assert body["DealId"] is None
        listed = await raw.get(
            f"http://impact.test/Advertisers/{SANDBOX_SID}/PromoCodes",
            headers={"Accept": "application/json"},
        )
        assert listed.json()["@page"] == 1
    strings = FakeImpact(rate_limit=None)
    async with httpx.AsyncClient(
        transport=SandboxTransport(strings), auth=(SANDBOX_SID, SANDBOX_TOKEN)
    ) as raw:
        answer = await raw.get(
            f"http://impact.test/Advertisers/{SANDBOX_SID}/PromoCodes/7000001",
            headers={"Accept": "application/json"},
        )
        body = answer.json()
        assert (body["Id"], body["EndDate"], body["SynchAdsPromoCodes"]) == ("7000001", "", "false")


# -- ids promodesk cannot keep, answers nested too deeply ---------------------------------------


@pytest.mark.parametrize("field", ["Id", "CampaignId", "AssignedPartnerId", "DealId"])
async def test_an_id_too_large_to_keep_is_a_clear_message(
    impact: ImpactClient, impact_fake: FakeImpact, field: str
) -> None:
    huge = 2**63  # one more than SQLite's INTEGER holds
    record = impact_fake.state.codes[7_000_003]
    record[field] = huge
    impact_fake.state.codes[huge if field == "Id" else 7_000_003] = record
    with pytest.raises(errors.AnswerRefusedError) as caught:
        await impact.list_all()
    assert str(caught.value) == (
        f"impact.com: the answer to list promo codes has {field} 9223372036854775808, larger "
        "than promodesk can keep (at most 9223372036854775807)"
    )
    assert impact.http.calls <= 4  # not asked again and again
    with pytest.raises(ValueError, match="whole number"):
        await impact.get(str(huge))
    with pytest.raises(ValueError, match="whole number"):
        await impact.expire("7000001; DROP")


async def test_a_deeply_nested_answer_is_a_clear_message(
    impact_fake: FakeImpact, sleeps: SleepRecorder
) -> None:
    nested: Any = "bottom"
    for _ in range(500):  # as deep as the fake's own encoder goes; far past the cap
        nested = [nested]
    impact_fake.state.codes[7_000_002]["DealProducts"] = nested
    impact_fake.typed = True  # sent as it is (in the strings form it would be one string)
    client, _ = connect(impact_fake)
    with pytest.raises(errors.AnswerRefusedError, match="get promo code is nested more than 64"):
        await client.get(7_000_002)
    await client.aclose()
