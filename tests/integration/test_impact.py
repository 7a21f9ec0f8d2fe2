"""Every impact.com client operation against the fake, in JSON and in XML (the `impact`
fixture runs each test in both)."""

from __future__ import annotations

import time

import httpx
import pytest

from promodesk.domain.vendors import CodeStatus
from promodesk.vendors import errors
from promodesk.vendors.fake_support import SandboxTransport
from promodesk.vendors.http import RetryPolicy
from promodesk.vendors.impact.client import ImpactClient
from promodesk.vendors.impact.fake import (
    READ_ONLY_TOKEN,
    SANDBOX_SID,
    SANDBOX_TOKEN,
    SCOPED_NO_PROMO_TOKEN,
    FakeImpact,
)
from tests.integration.conftest import SleepRecorder, fast


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
    """The next page is fetched ahead; stopping after the first code cancels that prefetch
    and nothing else is asked for."""
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
    assert len(transport.urls) <= 2  # page 1, and at most the prefetched page 2
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
    assert (
        created.deal_name == "Blog deal" and created.extra_fields()["SynchAdsPromoCodes"] == "false"
    )
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
        (SANDBOX_SID, SCOPED_NO_PROMO_TOKEN, errors.ForbiddenError, "may not"),
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
        assert len(matching) == 1 and matching[0]["Id"] == record.id, fault
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
        await client.ping()
    # The 4th is refused with X-RateLimit-Reset an epoch an hour away: too long to wait in a
    # retry, so it goes to the user with the wait.
    with pytest.raises(errors.RateLimitedError) as caught:
        await client.ping()
    assert caught.value.retry_after == pytest.approx(3600, abs=5)
    assert sleeps.delays == []
    await client.aclose()
    # A short reset is waited out.
    fake = FakeImpact(rate_limit=(2, 1.0))
    client = ImpactClient.connect(
        "http://impact.test",
        SANDBOX_SID,
        SANDBOX_TOKEN,
        transport=SandboxTransport(fake),
        **fast(sleeps, sleep=__import__("asyncio").sleep),
    )
    started = time.monotonic()
    for _ in range(3):
        await client.ping()
    assert fake.limit is not None and fake.limit.refused >= 1
    assert time.monotonic() - started < 5
    await client.aclose()
