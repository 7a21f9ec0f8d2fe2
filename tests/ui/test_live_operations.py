"""Every vendor operation through the window, as a user does it: the panel on the sandbox, a
row selected, the action, its form filled, its button pressed (its confirmation answered);
then the fake vendor's state and the tables are checked.

The scenarios are keyed by the operation tables: an operation added to a table without a
scenario here fails `test_every_operation_has_a_window_scenario`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from promodesk.domain.vendors import Vendor
from promodesk.qt import QApplication, QLabel
from promodesk.services.operations import OPERATIONS
from tests.ui.live_driver import LiveDriver

Scenario = Callable[[LiveDriver], None]
SCENARIOS: dict[tuple[Vendor, str], Scenario] = {}
O, A, I = Vendor.OPTIMOVE, Vendor.ALTCRAFT, Vendor.IMPACT  # noqa: E741


def scenario(vendor: Vendor, name: str) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        SCENARIOS[(vendor, name)] = function
        return function

    return register


def ok(job: Any) -> Any:
    assert job is not None
    assert job.error is None, job.error
    assert not job.cancelled
    outcome = job.result
    assert getattr(outcome, "status", None) == "ok", outcome
    return outcome


# -- Optimove promotions -----------------------------------------------------------------------


def promotions(live: LiveDriver) -> Any:
    return live.panel(O).promotions


def promocodes(live: LiveDriver) -> Any:
    return live.panel(O).promocodes


def fake_promotion(live: LiveDriver, promotion_id: str) -> dict[str, Any]:
    return live.fakes[O].state.promotions[promotion_id]


def fake_promocode(live: LiveDriver, promocode_id: str) -> Any:
    return live.fakes[O].state.promocodes[promocode_id]


def new_promotion(live: LiveDriver, promotion_id: str = "summer-26") -> None:
    ok(
        live.run(
            O,
            "create_promotion",
            {"name": "Summer", "code": "SUMMER26", "promotion_id": promotion_id},
        )
    )
    live.select(promotions(live), "promotion_id", promotion_id)


def track_promotion(live: LiveDriver, promotion_id: str = "spring-welcome-2026") -> None:
    ok(live.run(O, "get_promotion", {"promotion_id": promotion_id}, track=True))
    live.select(promotions(live), "promotion_id", promotion_id)


def track_promocode(live: LiveDriver, promocode_id: str) -> None:
    ok(live.run(O, "get_promocode", {"promocode_id": promocode_id}, track=True))
    live.select(promocodes(live), "promocode_id", promocode_id)


@scenario(O, "create_promotion")
def _create_promotion(live: LiveDriver) -> None:
    new_promotion(live)
    assert fake_promotion(live, "summer-26")["code"] == "SUMMER26"
    assert live.rows(promotions(live), "state") == ["draft"]
    assert "Created promotion Summer (summer-26)" in live.message(O)


@scenario(O, "get_promotion")
def _get_promotion(live: LiveDriver) -> None:
    dialog = live.trigger(O, "get_promotion", track=True)
    texts = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert "The sandbox has: spring-welcome-2026" in texts  # something to try it with
    dialog.reject()
    track_promotion(live)
    assert live.rows(promotions(live), "state") == ["active"]
    # On a row, the same operation reads it again.
    live.fakes[O].state.promotions["spring-welcome-2026"]["name"] = "Renamed in Optimove"
    ok(live.run(O, "get_promotion"))
    live.wait_for(lambda: live.rows(promotions(live), "name") == ["Renamed in Optimove"])


@scenario(O, "set_metadata")
def _set_metadata(live: LiveDriver) -> None:
    new_promotion(live)
    dialog = live.trigger(O, "set_metadata")
    assert dialog.form.editors["name"].value() == "Summer"  # filled from the row
    dialog.reject()
    ok(live.run(O, "set_metadata", {"name": "Summer sale"}))
    assert fake_promotion(live, "summer-26")["name"] == "Summer sale"
    live.wait_for(lambda: live.rows(promotions(live), "name") == ["Summer sale"])


@scenario(O, "set_properties")
def _set_properties(live: LiveDriver) -> None:
    new_promotion(live)

    def properties(dialog: Any) -> None:
        editor = dialog.form.editors["properties"]
        editor.add_row({"name": "channel", "value": "email"})
        editor.add_row({"name": "weight", "value": "3"})

    ok(live.run(O, "set_properties", fill=properties))
    assert fake_promotion(live, "summer-26")["properties"] == {"channel": "email", "weight": 3}
    ok(live.run(O, "activate"))
    live.wait_for(lambda: not live.action(O, "set_properties").isEnabled())
    assert "draft or deactivated" in live.action(O, "set_properties").toolTip()


TIERS = [
    {
        "id": "gold",
        "name": "Gold",
        "benefits": [{"rewardType": "discount", "percent": 20}],
        "conditions": [
            {"attribute": "LTV", "operator": ">", "value": 500},
            {"parent": 0, "attribute": "Country", "value": "DE"},
        ],
    },
    {"id": "everyone", "name": "Everyone", "benefits": [{"rewardType": "discount", "percent": 5}]},
]


@scenario(O, "set_tiers")
def _set_tiers(live: LiveDriver) -> None:
    new_promotion(live)

    def tiers(dialog: Any) -> None:
        editor = dialog.form.editors["tiers"]
        editor.add_tier()
        editor.tier_id.setText("everyone")
        editor.benefits.setPlainText('[{"rewardType": "discount", "percent": 5}]')
        editor.add_tier()
        editor.tier_id.setText("gold")
        editor.tier_name.setText("Gold")
        editor.benefits.setPlainText('[{"rewardType": "discount", "percent": 20}]')
        editor.add_condition({"attribute": "LTV", "operator": ">", "value": 500})
        editor.add_condition({"parent": 0, "attribute": "Country", "value": "DE"})
        editor.move(-1)  # gold first: the first tier a customer qualifies for applies

    ok(live.run(O, "set_tiers", fill=tiers))
    sent = fake_promotion(live, "summer-26")["promotionTiers"]
    assert [tier["id"] for tier in sent] == ["gold", "everyone"]
    assert sent[0]["conditions"] == TIERS[0]["conditions"]
    # The editor opens on the tiers the promotion has.
    dialog = live.trigger(O, "set_tiers")
    assert [tier["id"] for tier in dialog.form.editors["tiers"].value()] == ["gold", "everyone"]
    dialog.reject()
    ok(live.run(O, "activate"))
    ok(live.run(O, "deactivate"))
    live.wait_for(lambda: not live.action(O, "set_tiers").isEnabled())
    assert "ever been active" in live.action(O, "set_tiers").toolTip()


@scenario(O, "set_budgets")
def _set_budgets(live: LiveDriver) -> None:
    new_promotion(live)

    def budgets(dialog: Any) -> None:
        cap = dialog.form.editors["audience_cap"]
        cap.group.setChecked(True)
        live.fill(cap.inner, {"limit": 5000, "timeframe": "Daily"})

    ok(live.run(O, "set_budgets", fill=budgets))
    assert fake_promotion(live, "summer-26")["publishingBudgets"] == {
        "audienceCap": {"limit": 5000, "timeframe": "Daily"}
    }


@scenario(O, "set_constraints")
def _set_constraints(live: LiveDriver) -> None:
    new_promotion(live)

    def constraints(dialog: Any) -> None:
        editor = dialog.form.editors["constraints"]
        editor.paste_text("discount\tdaily\t100")

    ok(live.run(O, "set_constraints", fill=constraints))
    assert fake_promotion(live, "summer-26")["rewardConstraints"] == [
        {"rewardType": "discount", "period": "daily", "limit": 100}
    ]


@scenario(O, "activate")
def _activate(live: LiveDriver) -> None:
    new_promotion(live)
    ok(live.run(O, "activate"))
    assert fake_promotion(live, "summer-26")["state"] == "active"
    live.wait_for(lambda: live.rows(promotions(live), "state") == ["active"])
    live.wait_for(lambda: not live.action(O, "activate").isEnabled())
    assert "Only a draft or deactivated" in live.action(O, "activate").toolTip()


@scenario(O, "deactivate")
def _deactivate(live: LiveDriver) -> None:
    track_promotion(live)
    assert live.run(O, "deactivate", confirm=False) is None  # "Cancel" at the question
    assert fake_promotion(live, "spring-welcome-2026")["state"] == "active"
    ok(live.run(O, "deactivate"))
    assert fake_promotion(live, "spring-welcome-2026")["state"] == "deactivated"


@scenario(O, "archive")
def _archive(live: LiveDriver) -> None:
    new_promotion(live)
    box = live.trigger(O, "archive")
    assert "final" in box.informativeText()
    box.reject()
    assert fake_promotion(live, "summer-26")["state"] == "draft"
    ok(live.run(O, "archive"))
    assert fake_promotion(live, "summer-26")["state"] == "archived"
    live.wait_for(lambda: not live.action(O, "activate").isEnabled())
    assert "only be duplicated" in live.action(O, "activate").toolTip()


@scenario(O, "duplicate")
def _duplicate(live: LiveDriver) -> None:
    new_promotion(live)
    dialog = live.trigger(O, "duplicate")
    assert "new_code" in dialog.form.editors  # it asks for the copy's code
    live.qtbot.mouseClick(dialog.run_button, _left())
    assert dialog.form.problem_text("new_code") == "Required."
    dialog.reject()
    ok(live.run(O, "duplicate", {"new_code": "SUMMER27", "new_promotion_id": "summer-27"}))
    assert fake_promotion(live, "summer-27")["code"] == "SUMMER27"
    live.wait_for(lambda: "summer-27" in live.rows(promotions(live), "promotion_id"))


@scenario(O, "validate_promotion")
def _validate_promotion(live: LiveDriver) -> None:
    live.panel(O)
    dialog = live.trigger(O, "validate_promotion")
    live.fill(dialog, {"promo_code": "SPRING26"})
    dialog.form.editors["customer_ids"].box.setPlainText("c1\nc2\n\nc1")
    assert dialog.form.editors["customer_ids"].count.text() == "3 customer IDs"
    live.qtbot.mouseClick(dialog.run_button, _left())
    live.wait_for(lambda: dialog.results.isVisible())
    model = dialog.results_model
    assert [model.data(model.index(r, 0)) for r in range(model.rowCount())] == ["c1", "c2"]
    assert model.headerData(2, _horizontal()) == "Tier"
    assert "qualify" in dialog.outcome.text()
    dialog.reject()


@scenario(O, "promotion_transaction")
def _promotion_transaction(live: LiveDriver) -> None:
    new_promotion(live)

    def changes(dialog: Any) -> None:
        editor = dialog.form.editors["commands"]
        kinds = {kind.name: kind for kind in editor.kinds}
        form = editor.add(kinds["setMetadata"])
        live.fill(form, {"name": "Summer final"})
        editor.add(kinds["activate"])

    ok(live.run(O, "promotion_transaction", fill=changes))
    promotion = fake_promotion(live, "summer-26")
    assert (promotion["name"], promotion["state"]) == ("Summer final", "active")
    live.wait_for(lambda: live.rows(promotions(live), "state") == ["active"])


# -- Optimove promocodes -----------------------------------------------------------------------


@scenario(O, "create_promocode")
def _create_promocode(live: LiveDriver) -> None:
    track_promotion(live)
    dialog = live.trigger(O, "create_promocode")
    # The selected promotion is the one it belongs to; its own id is not taken from a row.
    assert dialog.form.editors["promotion_id"].value() == "spring-welcome-2026"
    assert dialog.form.editors["promocode_id"].box.text() == ""
    dialog.reject()
    ok(
        live.run(
            O,
            "create_promocode",
            {
                "promocode_type": "unique",
                "promocode_id": "pc-new",
                "default_code": "FALLBACK-1",
                "allocation_method": "Varying",
            },
        )
    )
    created = fake_promocode(live, "pc-new")
    assert (created.type, created.default_code, created.allocation_method) == (
        "unique",
        "FALLBACK-1",
        "Varying",
    )
    live.wait_for(lambda: "pc-new" in live.rows(promocodes(live), "promocode_id"))


@scenario(O, "get_promocode")
def _get_promocode(live: LiveDriver) -> None:
    track_promocode(live, "pc-spring-welcome")
    assert live.rows(promocodes(live), "pool_size") == [500]


@scenario(O, "assign")
def _assign(live: LiveDriver) -> None:
    new_promotion(live)
    ok(live.run(O, "create_promocode", {"promocode_type": "unique", "promocode_id": "pc-loose"}))
    live.panel(O).promotions.clear_selection()
    live.select(promocodes(live), "promocode_id", "pc-loose")
    ok(live.run(O, "assign", {"promotion_id": "summer-26"}))
    assert fake_promocode(live, "pc-loose").promotion_id == "summer-26"


@scenario(O, "unassign")
def _unassign(live: LiveDriver) -> None:
    track_promocode(live, "pc-spring-welcome")
    ok(live.run(O, "unassign"))
    assert fake_promocode(live, "pc-spring-welcome").promotion_id is None
    live.wait_for(lambda: not live.action(O, "unassign").isEnabled())
    assert "not assigned" in live.action(O, "unassign").toolTip()


@scenario(O, "hide")
def _hide(live: LiveDriver) -> None:
    track_promocode(live, "pc-spring-welcome")
    ok(live.run(O, "hide"))
    assert fake_promocode(live, "pc-spring-welcome").hidden
    live.wait_for(lambda: live.rows(promocodes(live), "hidden") == [1])
    live.wait_for(lambda: not live.action(O, "hide").isEnabled())


@scenario(O, "show")
def _show(live: LiveDriver) -> None:
    track_promocode(live, "pc-spring-welcome")
    ok(live.run(O, "hide"))
    live.wait_for(lambda: live.action(O, "show").isEnabled())
    ok(live.run(O, "show"))
    assert not fake_promocode(live, "pc-spring-welcome").hidden


@scenario(O, "link_campaign")
def _link(live: LiveDriver) -> None:
    track_promocode(live, "pc-welcome-2025")
    ok(live.run(O, "link_campaign", {"campaign_id": "77"}))
    assert fake_promocode(live, "pc-welcome-2025").campaigns == ["77"]


@scenario(O, "unlink_campaign")
def _unlink(live: LiveDriver) -> None:
    track_promocode(live, "pc-welcome-2025")
    ok(live.run(O, "link_campaign", {"campaign_id": "77"}))
    ok(live.run(O, "unlink_campaign", {"campaign_id": "77"}))
    assert fake_promocode(live, "pc-welcome-2025").campaigns == []


@scenario(O, "validate_customers")
def _validate_customers(live: LiveDriver) -> None:
    track_promocode(live, "pc-spring-welcome")
    dialog = live.trigger(O, "validate_customers")
    dialog.form.editors["customer_ids"].box.setPlainText("c9")
    live.qtbot.mouseClick(dialog.run_button, _left())
    live.wait_for(lambda: dialog.results.isVisible())
    assert dialog.results_model.rows[0]["customer_id"] == "c9"
    dialog.reject()


@scenario(O, "promocode_transaction")
def _promocode_transaction(live: LiveDriver) -> None:
    track_promocode(live, "pc-welcome-2025")

    def changes(dialog: Any) -> None:
        editor = dialog.form.editors["commands"]
        kinds = {kind.name: kind for kind in editor.kinds}
        editor.add(kinds["hide"])
        live.fill(editor.add(kinds["linkCampaign"]), {"campaign_id": "5"})

    ok(live.run(O, "promocode_transaction", fill=changes))
    promocode = fake_promocode(live, "pc-welcome-2025")
    assert (promocode.hidden, promocode.campaigns) == (True, ["5"])


@scenario(O, "list_files")
def _list_files(live: LiveDriver) -> None:
    track_promocode(live, "pc-spring-welcome")
    ok(live.run(O, "list_files"))
    files = live.panel(O).code_files
    live.wait_for(lambda: live.rows(files, "file_name") == ["spring_batch1.csv"])


@scenario(O, "upload_code_file")
def _upload(live: LiveDriver) -> None:
    codes = live.workspace.parent / "batch2.csv"
    codes.write_text("\n".join(f"NEW-{n:05d}" for n in range(200)) + "\n")
    track_promocode(live, "pc-spring-welcome")
    ok(live.run(O, "upload_code_file", {"path": str(codes)}))
    assert len(fake_promocode(live, "pc-spring-welcome").files) == 2
    live.wait_for(lambda: live.rows(promocodes(live), "pool_size") == [700])


@scenario(O, "export_allocations")
def _export(live: LiveDriver) -> None:
    fake = live.fakes[O]
    for number in range(30):
        fake.state.allocate(fake.state.promocodes["pc-spring-welcome"], f"cust{number}", 42)
    track_promocode(live, "pc-spring-welcome")
    target = live.workspace.parent / "alloc.csv"
    outcome = ok(live.run(O, "export_allocations", {"target": str(target)}))
    assert outcome.result == 30
    assert target.read_text().splitlines()[0].startswith("customerId,promocodeId")


# -- the legacy API view -------------------------------------------------------------------------


def legacy_codes(live: LiveDriver) -> list[Any]:
    return sorted(live.rows(live.panel(O).legacy_codes, "promo_code"))


@scenario(O, "get_promo_codes")
def _legacy_by_date(live: LiveDriver) -> None:
    ok(live.run(O, "get_promo_codes", {"date": "2026-11-20"}))
    live.wait_for(lambda: legacy_codes(live) == ["SUMMER10", "VIP20"])


@scenario(O, "get_promo_codes_by_campaign")
def _legacy_by_campaign(live: LiveDriver) -> None:
    ok(live.run(O, "get_promo_codes_by_campaign", {"campaign_id": 901}))
    live.wait_for(lambda: legacy_codes(live) == ["SUMMER10"])


@scenario(O, "get_promo_codes_by_target_group")
def _legacy_by_target_group(live: LiveDriver) -> None:
    ok(
        live.run(
            O, "get_promo_codes_by_target_group", {"target_group_id": 12, "date": "2026-11-20"}
        )
    )
    live.wait_for(lambda: legacy_codes(live) == ["VIP20"])


def legacy_promotions(live: LiveDriver) -> list[Any]:
    return sorted(live.rows(live.panel(O).legacy_promotions, "promo_code"))


@scenario(O, "get_promotions")
def _legacy_promotions(live: LiveDriver) -> None:
    ok(live.run(O, "get_promotions"))
    live.wait_for(lambda: legacy_promotions(live) == ["SUMMER10", "VIP20"])


@scenario(O, "add_promotions")
def _legacy_add(live: LiveDriver) -> None:
    def rows(dialog: Any) -> None:
        dialog.form.editors["promotions"].paste_text("XMAS\tChristmas\n0042\tAnswer")

    ok(live.run(O, "add_promotions", fill=rows))
    state = live.fakes[O].state.legacy_promotions
    assert (state["XMAS"], state["0042"]) == ("Christmas", "Answer")  # a code stays text
    live.wait_for(lambda: legacy_promotions(live) == ["0042", "XMAS"])


@scenario(O, "delete_promotions")
def _legacy_delete(live: LiveDriver) -> None:
    ok(live.run(O, "get_promotions"))
    browser = live.panel(O).legacy_promotions
    live.select(browser, "promo_code", "VIP20")
    dialog = live.trigger(O, "delete_promotions")
    assert dialog.form.editors["promo_codes"].value() == ["VIP20"]  # the selected rows
    live.qtbot.mouseClick(dialog.run_button, _left())
    assert "removes these promo codes" in dialog.confirm_box.informativeText()
    live.qtbot.mouseClick(dialog.confirm_box.findChild(object, "confirmYes"), _left())
    live.wait_idle(O)
    assert "VIP20" not in live.fakes[O].state.legacy_promotions


# -- Altcraft -------------------------------------------------------------------------------------


def program(live: LiveDriver) -> Any:
    return live.fakes[A].state.programs[5]


def altcraft_codes(live: LiveDriver) -> Any:
    return live.panel(A).codes


def status_of(live: LiveDriver, code: str) -> Any:
    browser = altcraft_codes(live)
    codes = live.rows(browser, "code")
    return live.rows(browser, "status")[codes.index(code)] if code in codes else None


@scenario(A, "import_codes")
def _altcraft_import(live: LiveDriver) -> None:
    live.panel(A)
    dialog = live.trigger(A, "import_codes")
    dialog.form.editors["codes"].box.setPlainText("NEW-1\n NEW-2 \nLOY5-0001")
    live.qtbot.mouseClick(dialog.run_button, _left())
    live.wait_idle(A)
    assert {"NEW-1", "NEW-2", "LOY5-0001"} <= set(program(live).codes)
    live.wait_for(
        lambda: sorted(live.rows(altcraft_codes(live), "code")) == ["LOY5-0001", "NEW-1", "NEW-2"]
    )


@scenario(A, "get")
def _altcraft_get(live: LiveDriver) -> None:
    live.sync(A)
    live.select(altcraft_codes(live), "code", "LOY5-0007")
    code = program(live).codes["LOY5-0007"]  # attached in Altcraft's own UI meanwhile
    code.profiles.append("p-out")
    code.attached = code.created
    ok(live.run(A, "get"))
    live.wait_for(lambda: status_of(live, "LOY5-0007") == "attached")


@scenario(A, "activate")
def _altcraft_activate(live: LiveDriver) -> None:
    live.sync(A)
    live.select(altcraft_codes(live), "code", "LOY5-0004")
    assert not live.action(A, "activate").isEnabled()
    assert "attached to a profile" in live.action(A, "activate").toolTip()
    ok(live.run(A, "attach", {"email": "bo@example.com"}))
    live.wait_for(lambda: live.action(A, "activate").isEnabled())
    ok(live.run(A, "activate"))
    assert program(live).codes["LOY5-0004"].activated
    live.wait_for(lambda: status_of(live, "LOY5-0004") == "activated")


@scenario(A, "update")
def _altcraft_update(live: LiveDriver) -> None:
    live.sync(A)
    live.select(altcraft_codes(live), "code", "LOY5-0005")
    dialog = live.trigger(A, "update")
    zone = dialog.form.editors["expire_date"].zone.text()
    assert "UTC" in zone  # the time zone the date is typed in is shown
    live.qtbot.mouseClick(dialog.run_button, _left())
    assert "Change the activation, the expiry date, or both" in dialog.form.top_problem.text()
    moment = datetime(2027, 1, 31, 23, 0).astimezone()
    live.fill(dialog, {"expire_date": moment})
    live.qtbot.mouseClick(dialog.run_button, _left())
    live.wait_idle(A)
    assert program(live).codes["LOY5-0005"].expire_date.startswith("2027-01-31T23:00:00")


@scenario(A, "attach")
def _altcraft_attach(live: LiveDriver) -> None:
    live.sync(A)
    live.select(altcraft_codes(live), "code", "LOY5-0003")
    dialog = live.trigger(A, "attach")
    editors = dialog.form.editors
    # Any one of the ways to find the profile: each box says so, none claims to be optional.
    assert {editors[name].box.placeholderText() for name in ("email", "phone", "profile_id")} == {
        "This or another way to find the profile"
    }
    assert editors["db_id"].box.placeholderText() == "Optional"
    dialog.reject()
    ok(live.run(A, "attach", {"matching": "email", "email": "ann@example.com"}))
    assert program(live).codes["LOY5-0003"].profiles
    live.wait_for(lambda: status_of(live, "LOY5-0003") == "attached")


@scenario(A, "detach")
def _altcraft_detach(live: LiveDriver) -> None:
    live.sync(A)
    live.select(altcraft_codes(live), "code", "LOY5-0006")
    ok(live.run(A, "attach", {"email": "cy@example.com"}))
    live.wait_for(lambda: status_of(live, "LOY5-0006") == "attached")
    dialog = live.trigger(A, "detach")
    assert dialog.form.editors["profile_id"].value()  # the profile the code is attached to
    dialog.reject()
    ok(live.run(A, "detach"))
    assert not program(live).codes["LOY5-0006"].profiles
    live.wait_for(lambda: status_of(live, "LOY5-0006") == "available")


@scenario(A, "export_all")
def _altcraft_export(live: LiveDriver) -> None:
    live.panel(A)
    ok(live.run(A, "export_all"))
    live.wait_for(lambda: len(live.rows(altcraft_codes(live), "code")) == len(program(live).codes))


# -- impact.com -----------------------------------------------------------------------------------


def impact_codes(live: LiveDriver) -> Any:
    return live.panel(I).codes


@scenario(I, "list_all")
def _impact_list(live: LiveDriver) -> None:
    wanted = [r for r in live.fakes[I].state.codes.values() if r["CampaignId"] == "1000"]
    ok(live.run(I, "list_all", {"campaign_id": 1000, "state": "ACTIVE"}))
    live.wait_for(lambda: len(live.rows(impact_codes(live), "code")) == len(wanted))


@scenario(I, "create")
def _impact_create(live: LiveDriver) -> None:
    live.panel(I)
    starts = datetime.now().astimezone() + timedelta(days=1)
    ok(
        live.run(
            I,
            "create",
            {
                "partner_id": 2552842,
                "campaign_id": 1000,
                "code": "FRESH-10",
                "credit_policy": "WINNER",
                "type_": "LI",
                "start_date": starts,
            },
        )
    )
    made = [r for r in live.fakes[I].state.codes.values() if r["Code"] == "FRESH-10"]
    assert len(made) == 1 and made[0]["CreditPolicy"] == "WINNER"
    live.wait_for(lambda: "FRESH-10" in live.rows(impact_codes(live), "code"))


@scenario(I, "get")
def _impact_get(live: LiveDriver) -> None:
    live.sync(I)
    live.select(impact_codes(live), "promo_code_id", 7_000_003)
    live.fakes[I].state.codes[7_000_003]["State"] = "INACTIVE"  # expired in impact.com's UI
    ok(live.run(I, "get"))
    live.wait_for(
        lambda: (
            live.one("SELECT status FROM impact_codes WHERE promo_code_id = 7000003") == "inactive"
        )
    )


@scenario(I, "expire")
def _impact_expire(live: LiveDriver) -> None:
    live.sync(I)
    codes = impact_codes(live)
    position = live.select(codes, "promo_code_id", 7_000_002)
    ok(live.run(I, "expire"))
    assert live.fakes[I].state.codes[7_000_002]["State"] == "INACTIVE"
    # Changed in place: the same row, still selected, shows the new state.
    live.wait_for(lambda: live.rows(codes, "status")[position] == "inactive")
    assert codes.view.currentIndex().row() == position
    live.wait_for(lambda: not live.action(I, "expire").isEnabled())
    assert "already expired" in live.action(I, "expire").toolTip()


def _left() -> Any:
    from promodesk.qt import Qt

    return Qt.MouseButton.LeftButton


def _horizontal() -> Any:
    from promodesk.qt import Qt

    return Qt.Orientation.Horizontal


# -- the tests ------------------------------------------------------------------------------------


def test_every_operation_has_a_window_scenario() -> None:
    declared = {(vendor, name) for vendor, table in OPERATIONS.items() for name in table}
    assert declared - set(SCENARIOS) == set()


@pytest.mark.parametrize(
    "key", sorted(SCENARIOS, key=str), ids=lambda key: f"{key[0].value}-{key[1]}"
)
def test_operation_through_the_window(live_window: LiveDriver, key: tuple[Vendor, str]) -> None:
    SCENARIOS[key](live_window)
    QApplication.processEvents()
    # Whatever ran, the workspace is whole.
    assert live_window.one("PRAGMA integrity_check") == "ok"


def test_a_changed_row_is_on_record_in_the_history(live_window: LiveDriver, tmp_path: Path) -> None:
    _impact_expire(live_window)
    entries = live_window.one("SELECT operation, target, outcome FROM audit_log")
    assert entries == ("expire", "code 7000002", "ok")
