"""Every Altcraft client operation against the fake, in JSON and in XML (the `altcraft`
fixture runs each test in both)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from promodesk.domain.vendors import CodeStatus
from promodesk.vendors import errors
from promodesk.vendors.altcraft.client import AltcraftClient, _to_xml
from promodesk.vendors.altcraft.endpoints import METHODS
from promodesk.vendors.altcraft.fake import SANDBOX_DB_ID, SANDBOX_TOKEN, FakeAltcraft
from promodesk.vendors.fake_support import SandboxTransport
from tests.integration.conftest import RecordingTransport, SleepRecorder, fast

UNIVERSAL = 8


async def test_import_in_batches_counts_what_happened(
    altcraft: AltcraftClient, altcraft_fake: FakeAltcraft
) -> None:
    altcraft_fake.state.programs[5].limit = 40 + 5  # the program holds 40 demo codes; room for 5
    codes = [f"NEW-{n}" for n in range(6)] + ["LOY5-0001", "NEW-0"]
    summary = await altcraft.import_codes(codes)
    # batches of 3: NEW-0..2 | NEW-3..5 | LOY5-0001, NEW-0
    assert (summary.inserted, summary.duplicated, summary.discarded_by_limit) == (5, 2, 1)
    assert {(e.code, e.error) for e in summary.errors} == {
        ("NEW-5", 402),
        ("LOY5-0001", 500),
        ("NEW-0", 500),
    }
    assert "NEW-4" in altcraft_fake.state.programs[5].codes
    assert "NEW-5" not in altcraft_fake.state.programs[5].codes


async def test_get_reports_each_state(altcraft: AltcraftClient) -> None:
    fresh = await altcraft.get("LOY5-0002")
    assert fresh.code == "LOY5-0002" and fresh.loyalty_id == 5
    assert (
        fresh.status is CodeStatus.AVAILABLE and fresh.attached == "" and fresh.profile_id is None
    )
    with pytest.raises(errors.NotFoundError, match="Promocode not found"):
        await altcraft.get("NO-SUCH-CODE")
    with pytest.raises(errors.NotFoundError, match="Loyalty program not found"):
        await altcraft.get("LOY5-0002", loyalty_id=999)


async def test_activate_needs_an_attached_code(altcraft: AltcraftClient) -> None:
    # HTTP 200, error 400 in the envelope: still a failure.
    with pytest.raises(errors.VendorValidationError, match="not attached"):
        await altcraft.activate("LOY5-0003")
    await altcraft.attach(code="LOY5-0003", profile_id="profile-1")
    await altcraft.activate("LOY5-0003")
    record = await altcraft.get("LOY5-0003")
    assert record.status is CodeStatus.ACTIVATED
    assert (record.profile_id, record.database_id) == ("profile-1", SANDBOX_DB_ID)
    assert record.activated.endswith("Z")


async def test_update_activation_and_expiry(altcraft: AltcraftClient) -> None:
    await altcraft.attach(code="LOY5-0004", email="ann@example.com")
    await altcraft.update("LOY5-0004", activated=True)
    assert (await altcraft.get("LOY5-0004")).status is CodeStatus.ACTIVATED
    await altcraft.update("LOY5-0004", activated=False)
    assert (await altcraft.get("LOY5-0004")).status is CodeStatus.ATTACHED
    await altcraft.update("LOY5-0004", expire_date="2099-01-01T10:00:00+03:00")
    record = await altcraft.get("LOY5-0004")
    assert record.expire_date == "2099-01-01T07:00:00Z" and not record.is_expired
    await altcraft.update("LOY5-0004", expire_date="2020-01-01T00:00:00Z")
    assert (await altcraft.get("LOY5-0004")).status is CodeStatus.EXPIRED
    with pytest.raises(errors.VendorValidationError, match="RFC 3339"):
        await altcraft.update("LOY5-0004", expire_date="next tuesday")
    with pytest.raises(ValueError, match="activated or expire_date"):
        await altcraft.update("LOY5-0004")


@pytest.mark.parametrize(
    "who",
    [
        {"matching": "profile_id", "profile_id": "p-42"},
        {"matching": "email", "email": "bob@example.com"},
        {"matching": "phone", "phone": "+15550100"},
        {"matching": "custom", "field_name": "loyalty_card", "field_value": "C-9"},
    ],
    ids=lambda who: who["matching"],
)
async def test_attach_and_detach_with_every_matching_mode(
    altcraft: AltcraftClient, who: dict[str, str]
) -> None:
    assert await altcraft.attach(code="LOY5-0010", **who) == "LOY5-0010"
    attached = await altcraft.get("LOY5-0010")
    assert attached.status is CodeStatus.ATTACHED and attached.profile_id
    # A personal program refuses a second attachment.
    with pytest.raises(errors.VendorValidationError, match="already attached"):
        await altcraft.attach(code="LOY5-0010", profile_id="someone-else")
    await altcraft.detach("LOY5-0010", **who)
    assert (await altcraft.get("LOY5-0010")).status is CodeStatus.AVAILABLE
    with pytest.raises(errors.VendorValidationError, match="not attached to this profile"):
        await altcraft.detach("LOY5-0010", **who)


async def test_attach_imports_an_unknown_code_and_picks_a_free_one(
    altcraft: AltcraftClient, altcraft_fake: FakeAltcraft
) -> None:
    assert await altcraft.attach(code="BRAND-NEW", profile_id="p-1") == "BRAND-NEW"
    assert (await altcraft.get("BRAND-NEW")).status is CodeStatus.ATTACHED
    picked = await altcraft.attach(profile_id="p-2")  # any free code: Altcraft does not say which
    assert picked == "LOY5-0000"
    assert altcraft_fake.state.programs[5].codes["LOY5-0000"].profiles == ["p-2"]
    empty = FakeAltcraft(rate_limit=None, demo=False)
    client = AltcraftClient.connect(
        "http://a.test",
        SANDBOX_TOKEN,
        5,
        db_id=1,
        response_format=altcraft.response_format,
        transport=SandboxTransport(empty),
        **fast(SleepRecorder()),
    )
    with pytest.raises(errors.NotFoundError, match="No free promocodes"):
        await client.attach(profile_id="p-3")
    await client.aclose()


async def test_universal_codes_attach_to_many_profiles(
    altcraft: AltcraftClient, altcraft_fake: FakeAltcraft
) -> None:
    for profile in ("p-1", "p-2", "p-3"):
        await altcraft.attach(code="UNIV8-001", profile_id=profile, loyalty_id=UNIVERSAL)
    record = await altcraft.get("UNIV8-001", loyalty_id=UNIVERSAL)
    assert record.status is CodeStatus.ATTACHED and record.profile_id == "p-3"
    # Detach is refused for a code held by several profiles, in any program.
    with pytest.raises(errors.VendorValidationError, match="several profiles"):
        await altcraft.detach("UNIV8-001", profile_id="p-2", loyalty_id=UNIVERSAL)
    assert altcraft_fake.state.programs[UNIVERSAL].codes["UNIV8-001"].profiles == [
        "p-1",
        "p-2",
        "p-3",
    ]
    await altcraft.attach(code="UNIV8-002", profile_id="p-1", loyalty_id=UNIVERSAL)
    await altcraft.detach("UNIV8-002", profile_id="p-1", loyalty_id=UNIVERSAL)
    assert altcraft_fake.state.programs[UNIVERSAL].codes["UNIV8-002"].profiles == []


async def test_export_all_sends_dates_only_when_set(altcraft: AltcraftClient) -> None:
    await altcraft.attach(code="LOY5-0020", profile_id="p-1")
    await altcraft.activate("LOY5-0020")
    await altcraft.attach(code="LOY5-0021", profile_id="p-2")
    records = {r.code: r for r in await altcraft.export_all()}
    assert len(records) == 40
    assert records["LOY5-0020"].status is CodeStatus.ACTIVATED
    assert records["LOY5-0021"].status is CodeStatus.ATTACHED
    assert (
        records["LOY5-0022"].status is CodeStatus.AVAILABLE and records["LOY5-0022"].attached == ""
    )
    assert len(await altcraft.export_all(loyalty_id=UNIVERSAL)) == 10


async def test_client_side_checks(altcraft: AltcraftClient) -> None:
    with pytest.raises(ValueError, match="matching must be"):
        await altcraft.attach(code="X", matching="fax")
    with pytest.raises(ValueError, match="needs its value"):
        await altcraft.attach(code="X", matching="email")
    with pytest.raises(ValueError, match="response_format"):
        AltcraftClient(altcraft.http, "t", 5, response_format="yaml")


async def test_bad_token_is_an_auth_error_even_with_http_200(altcraft_fake: FakeAltcraft) -> None:
    for response_format in ("json", "xml"):
        client = AltcraftClient.connect(
            "http://a.test",
            "wrong-token",
            5,
            db_id=1,
            response_format=response_format,
            transport=SandboxTransport(altcraft_fake),
            **fast(SleepRecorder()),
        )
        with pytest.raises(errors.AuthError, match="token was refused") as caught:
            await client.ping()
        assert caught.value.status == 401 and "wrong-token" not in caught.value.details
        await client.aclose()


async def test_bearer_token_and_xml_requests_are_understood(altcraft_fake: FakeAltcraft) -> None:
    async with httpx.AsyncClient(
        transport=SandboxTransport(altcraft_fake), base_url="http://a.test"
    ) as raw:
        answer = await raw.post(
            METHODS["get"].path,
            json={"code": "LOY5-0001", "loyalty_id": 5},
            headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
        )
        assert answer.status_code == 200 and answer.json()["data"]["code"] == "LOY5-0001"
        body = _to_xml(
            {"token": SANDBOX_TOKEN, "format": "xml", "loyalty_id": 5, "codes": ["X<1>", "X&2"]}
        )
        answer = await raw.post(
            METHODS["import"].path, content=body, headers={"Content-Type": "application/xml"}
        )
        assert b"<inserted>2</inserted>" in answer.content
        assert {"X<1>", "X&2"} <= set(altcraft_fake.state.programs[5].codes)
        broken = await raw.post(
            METHODS["get"].path,
            content=b"<xml><token>",
            headers={"Content-Type": "application/xml"},
        )
        assert broken.status_code == 200 and broken.json()["error"] == 400


async def test_a_lost_import_answer_never_duplicates(
    altcraft: AltcraftClient, altcraft_fake: FakeAltcraft
) -> None:
    altcraft_fake.faults.slow_seconds = 2.0
    altcraft.http.total_timeout = 0.2
    altcraft_fake.faults.script.extend(["lost", None, "drop-after"])
    summary = await altcraft.import_codes(["ONCE-1", "ONCE-2", "ONCE-3", "ONCE-4", "ONCE-5"])
    assert summary.inserted == 5 and summary.duplicated == 0
    assert sorted(c for c in altcraft_fake.state.programs[5].codes if c.startswith("ONCE")) == [
        "ONCE-1",
        "ONCE-2",
        "ONCE-3",
        "ONCE-4",
        "ONCE-5",
    ]
    assert altcraft_fake.faults.injected == {"lost": 1, "drop-after": 1}


async def test_a_lost_attach_answer_attaches_once(
    altcraft: AltcraftClient, altcraft_fake: FakeAltcraft
) -> None:
    altcraft_fake.faults.script.append("drop-after")
    assert await altcraft.attach(code="LOY5-0030", profile_id="p-9") == "LOY5-0030"
    assert altcraft_fake.state.programs[5].codes["LOY5-0030"].profiles == ["p-9"]
    altcraft_fake.faults.script.append("drop-after")
    await altcraft.detach("LOY5-0030", profile_id="p-9")
    assert altcraft_fake.state.programs[5].codes["LOY5-0030"].profiles == []
    assert altcraft_fake.faults.injected == {"drop-after": 2}


async def test_rate_limit_answer_is_retried(
    altcraft_fake: FakeAltcraft, sleeps: SleepRecorder
) -> None:
    limited = FakeAltcraft(rate_limit=(2, 60.0))
    client = AltcraftClient.connect(
        "http://a.test",
        SANDBOX_TOKEN,
        5,
        db_id=1,
        transport=SandboxTransport(limited),
        **fast(
            sleeps,
            retry=__import__("promodesk.vendors.http", fromlist=["x"]).RetryPolicy(
                attempts=2, base_delay=0.01, max_delay=0.01, jitter=0.0
            ),
        ),
    )
    await client.get("LOY5-0001")
    await client.get("LOY5-0001")
    with pytest.raises(errors.RateLimitedError) as caught:
        await client.get("LOY5-0001")
    assert caught.value.retry_after == 1 and sleeps.delays == [1.0]
    await client.aclose()


# -- matching (vendor-apis.md 1.10: email_profile, email by default) ----------------------------


async def test_email_profile_finds_the_profile_by_its_email(
    altcraft: AltcraftClient, altcraft_fake: FakeAltcraft
) -> None:
    await altcraft.attach(code="LOY5-0011", matching="email_profile", email="eve@example.com")
    by_profile_email = altcraft_fake.state.programs[5].codes["LOY5-0011"].profiles
    await altcraft.attach(code="LOY5-0012", email="eve@example.com")
    assert altcraft_fake.state.programs[5].codes["LOY5-0012"].profiles == by_profile_email
    await altcraft.detach("LOY5-0011", matching="email_profile", email="eve@example.com")
    assert altcraft_fake.state.programs[5].codes["LOY5-0011"].profiles == []
    with pytest.raises(ValueError, match="email_profile needs its value"):
        await altcraft.attach(code="LOY5-0013", matching="email_profile", profile_id="p-1")


async def test_the_fake_matches_by_email_when_matching_is_left_out(
    altcraft_fake: FakeAltcraft,
) -> None:
    async with httpx.AsyncClient(
        transport=SandboxTransport(altcraft_fake), base_url="http://a.test"
    ) as raw:
        common = {"token": SANDBOX_TOKEN, "loyalty_id": 5, "db_id": 1}
        answer = await raw.post(
            METHODS["attach"].path, json={**common, "code": "LOY5-0014", "email": "x@example.com"}
        )
        assert answer.json()["error"] == 0
        by_email = altcraft_fake.state.profile(1, "email", "x@example.com")
        assert altcraft_fake.state.programs[5].codes["LOY5-0014"].profiles == [by_email]
        answer = await raw.post(
            METHODS["attach"].path, json={**common, "code": "LOY5-0015", "profile_id": "p-7"}
        )
        assert answer.json()["error"] == 400 and "email" in answer.json()["error_text"]


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ({"profile_id": "p-1"}, "profile_id"),
        ({"email": "a@example.com"}, "email"),
        ({"phone": "+15550101"}, "phone"),
        ({"field_name": "card", "field_value": "C-1"}, "custom"),
        ({"email": "a@example.com", "profile_id": "p-1"}, "email"),  # Altcraft's own default
    ],
)
async def test_the_client_always_says_how_it_matches(
    altcraft_fake: FakeAltcraft, given: dict[str, str], sent: str
) -> None:
    transport = RecordingTransport(altcraft_fake)
    client = AltcraftClient.connect(
        "http://a.test", SANDBOX_TOKEN, 5, db_id=1, transport=transport, **fast(SleepRecorder())
    )
    await client.attach(code="LOY5-0016", **given)
    assert json.loads(transport.requests[-1].content)["matching"] == sent
    await client.aclose()


async def test_an_ambiguous_or_missing_profile_is_refused_before_sending(
    altcraft: AltcraftClient,
) -> None:
    with pytest.raises(ValueError, match="several ways to find the profile"):
        await altcraft.attach(code="X", profile_id="p-1", phone="+1555")
    with pytest.raises(ValueError, match="say how to find the profile"):
        await altcraft.attach(code="X")
    with pytest.raises(ValueError, match="say how to find the profile"):
        await altcraft.detach("X")


# -- the program's "allow new codes" setting, import answers -------------------------------------


async def test_attach_imports_an_unknown_code_only_when_the_program_allows_it(
    altcraft: AltcraftClient, altcraft_fake: FakeAltcraft
) -> None:
    assert altcraft_fake.state.programs[5].allow_new_codes
    assert await altcraft.attach(code="NEW-ON-ATTACH", profile_id="p-1") == "NEW-ON-ATTACH"
    assert not altcraft_fake.state.programs[UNIVERSAL].allow_new_codes
    with pytest.raises(errors.NotFoundError, match="does not allow new codes"):
        await altcraft.attach(code="NEW-REFUSED", profile_id="p-1", loyalty_id=UNIVERSAL)
    assert "NEW-REFUSED" not in altcraft_fake.state.programs[UNIVERSAL].codes
    altcraft_fake.state.programs[UNIVERSAL].allow_new_codes = True
    await altcraft.attach(code="NEW-REFUSED", profile_id="p-1", loyalty_id=UNIVERSAL)
    assert altcraft_fake.state.programs[UNIVERSAL].codes["NEW-REFUSED"].profiles == ["p-1"]


async def test_each_imported_code_reports_an_empty_error_text(altcraft_fake: FakeAltcraft) -> None:
    async with httpx.AsyncClient(
        transport=SandboxTransport(altcraft_fake), base_url="http://a.test"
    ) as raw:
        answer = await raw.post(
            METHODS["import"].path,
            json={"token": SANDBOX_TOKEN, "loyalty_id": 5, "codes": ["FRESH-1", "LOY5-0001"]},
        )
    assert answer.json()["data"] == [
        {"code": "FRESH-1", "error": 0, "error_text": ""},
        {"code": "LOY5-0001", "error": 500, "error_text": "Promocode duplicated"},
    ]


# -- universal codes after an unknown outcome (issue 14, item 5) ---------------------------------


def universal_client(fake: FakeAltcraft, response_format: str = "json", **options: Any) -> Any:
    return AltcraftClient.connect(
        "http://a.test",
        SANDBOX_TOKEN,
        UNIVERSAL,
        db_id=1,
        response_format=response_format,
        transport=options.pop("transport", None) or SandboxTransport(fake),
        **fast(SleepRecorder(), **options),
    )


HOLDERS = pytest.mark.parametrize("report_holders", [True, False], ids=["holders", "latest-only"])
FORMATS = pytest.mark.parametrize("response_format", ["json", "xml"])


@FORMATS
@HOLDERS
@pytest.mark.parametrize("fault", ["500", "drop-before", "drop-after", "lost", "malformed"])
async def test_attach_after_an_unknown_outcome_looks_at_this_profile(
    fault: str, report_holders: bool, response_format: str
) -> None:
    """The code is already held by someone else: seeing it attached proves nothing about
    this profile. Whether or not the first try landed, this profile ends up holding it once."""
    fake = FakeAltcraft(rate_limit=None, report_holders=report_holders)
    fake.faults.slow_seconds = 0.5
    client = universal_client(fake, response_format, total_timeout=0.1)
    await client.attach(code="UNIV8-004", profile_id="p-other")
    fake.faults.script.append(fault)
    assert await client.attach(code="UNIV8-004", profile_id="p-mine") == "UNIV8-004"
    assert fake.state.programs[UNIVERSAL].codes["UNIV8-004"].profiles == ["p-other", "p-mine"]
    assert fake.faults.injected == {fault: 1}
    await client.aclose()


@HOLDERS
@pytest.mark.parametrize("fault", ["500", "drop-after"])
async def test_attach_by_email_after_an_unknown_outcome_compares_with_before(
    fault: str, report_holders: bool
) -> None:
    fake = FakeAltcraft(rate_limit=None, report_holders=report_holders)
    client = universal_client(fake)
    await client.attach(code="UNIV8-005", profile_id="p-other")
    fake.faults.script.extend([None, fault])  # the look before, then the attach itself
    await client.attach(code="UNIV8-005", email="mine@example.com")
    mine = fake.state.profile(1, "email", "mine@example.com")
    assert fake.state.programs[UNIVERSAL].codes["UNIV8-005"].profiles == ["p-other", mine]
    await client.aclose()


@FORMATS
@HOLDERS
@pytest.mark.parametrize("fault", ["500", "drop-after", "lost", "truncate"])
@pytest.mark.parametrize("who", [{"profile_id": "p-mine"}, {"email": "mine@example.com"}])
async def test_detach_after_an_unknown_outcome_ends_detached_once(
    fault: str, report_holders: bool, response_format: str, who: dict[str, str]
) -> None:
    fake = FakeAltcraft(rate_limit=None, report_holders=report_holders)
    fake.faults.slow_seconds = 0.5
    client = universal_client(fake, response_format, total_timeout=0.1)
    await client.attach(code="UNIV8-006", **who)
    fake.faults.script.extend([fault] if "profile_id" in who else [None, fault])
    await client.detach("UNIV8-006", **who)
    assert fake.state.programs[UNIVERSAL].codes["UNIV8-006"].profiles == []
    assert fake.faults.injected == {fault: 1}
    await client.aclose()


class LateDelivery(SandboxTransport):
    """The network as it sometimes is: the first request to `path` times out at the client,
    but reaches the vendor late, just before the next request to the same path."""

    def __init__(self, app: Any, path: str) -> None:
        super().__init__(app)
        self.path = path
        self.held: httpx.Request | None = None
        self.delivered_late = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == self.path:
            if self.held is None and not self.delivered_late:
                await request.aread()
                self.held = request
                raise httpx.ReadTimeout("no answer", request=request)
            if self.held is not None:
                late, self.held, self.delivered_late = self.held, None, True
                await super().handle_async_request(late)  # its answer goes nowhere
        return await super().handle_async_request(request)


@FORMATS
async def test_a_repeated_detach_refused_because_the_first_landed_is_success(
    response_format: str,
) -> None:
    fake = FakeAltcraft(rate_limit=None)
    transport = LateDelivery(fake, METHODS["detach"].path)
    client = universal_client(fake, response_format, transport=transport)
    await client.attach(code="UNIV8-007", profile_id="p-mine")
    # Try 1 times out unseen; the look finds the code still held; try 2 is refused ("not
    # attached to this profile") because try 1 arrived just before it: the goal is reached.
    await client.detach("UNIV8-007", profile_id="p-mine")
    assert transport.delivered_late
    assert fake.state.programs[UNIVERSAL].codes["UNIV8-007"].profiles == []
    await client.aclose()
