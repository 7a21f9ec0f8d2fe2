"""The live-work commands as a script would use them: against `promodesk sandbox serve` over
loopback, in real processes, with the secret from PROMODESK_SECRET (no keychain)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from promodesk.store.db import connect, transaction

NO_QT = (
    "import sys; from promodesk.app import main; code = main(sys.argv[1:]); "
    "assert not [m for m in sys.modules if m.startswith(('PySide6', 'qasync'))], 'Qt was loaded'; "
    "sys.exit(code)"
)


def command(*args: str) -> list[str]:
    return [sys.executable, "-c", NO_QT, *args]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[dict[str, dict[str, str]]]:
    """The three fakes served over loopback by the real command, for every test here."""
    with subprocess.Popen(
        command("sandbox", "serve", "--json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    ) as server:
        assert server.stdout is not None
        description = json.loads(server.stdout.readline())
        try:
            yield description
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
            server.stdout.close()


def sandbox_state(base_url: str) -> dict:
    with urllib.request.urlopen(f"{base_url}/_sandbox/state", timeout=10) as answer:  # noqa: S310
        return json.loads(answer.read())


def sandbox_reset(base_url: str) -> None:
    request = urllib.request.Request(f"{base_url}/_sandbox/reset", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass


class Cli:
    def __init__(self, home: Path, workspace: Path, secret: str) -> None:
        self.workspace = workspace
        self.env = {
            **os.environ,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PROMODESK_SECRET": secret,
        }

    def __call__(self, *args: str, workspace: bool = True) -> subprocess.CompletedProcess[str]:
        extra = ["--workspace", str(self.workspace)] if workspace else []
        return subprocess.run(
            command(*args, *extra), capture_output=True, text=True, timeout=120, env=self.env
        )


@pytest.fixture
def impact_cli(sandbox, tmp_path: Path, isolated_user_dirs: Path) -> Cli:
    impact = sandbox["impact"]
    sandbox_reset(impact["base_url"])
    cli = Cli(isolated_user_dirs, tmp_path / "shop.promodesk", impact["auth_token"])
    added = cli(
        "accounts",
        "add",
        "impact",
        "Shop impact",
        "--base-url",
        impact["base_url"],
        "--account-sid",
        impact["account_sid"],
        workspace=False,
    )
    assert added.returncode == 0, added.stderr
    return cli


def test_accounts_are_listed_and_no_secret_reaches_a_file(
    impact_cli: Cli, isolated_user_dirs: Path
) -> None:
    listed = impact_cli("accounts", "list", "--json", workspace=False)
    assert listed.returncode == 0, listed.stderr
    accounts = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [a["id"] for a in accounts[:3]] == [
        "sandbox-optimove",
        "sandbox-altcraft",
        "sandbox-impact",
    ]
    [mine] = [a for a in accounts if not a["sandbox"]]
    assert mine["name"] == "Shop impact" and mine["vendor"] == "impact"
    secret = impact_cli.env["PROMODESK_SECRET"]
    for path in isolated_user_dirs.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_do_lists_runs_and_reports_with_exit_codes(impact_cli: Cli, sandbox) -> None:
    listing = impact_cli("do", "Shop impact", "--list", workspace=False)
    assert listing.returncode == 0
    assert "expire" in listing.stdout and "--promo-code-id" in listing.stdout
    # Labels without the menus' "…"; the values a field takes.
    assert "…" not in listing.stdout
    assert "State (optional; one of ACTIVE, INACTIVE)" in listing.stdout

    found = impact_cli("do", "Shop impact", "list_all", "--state", "ACTIVE", "--json")
    assert found.returncode == 0, found.stderr
    answer = json.loads(found.stdout)
    assert answer["ok"] and len(answer["result"]) == 25

    expired = impact_cli("do", "Shop impact", "expire", "--promo-code-id", "7000001")
    assert expired.returncode == 0, expired.stderr
    assert "starts afresh" not in expired.stderr  # (a sandbox served apart lasts)
    built_in = impact_cli("do", "sandbox-impact", "expire", "--promo-code-id", "7000001")
    assert built_in.returncode == 0, built_in.stderr
    assert "the built-in sandbox starts afresh with each command" in built_in.stderr
    state = sandbox_state(sandbox["impact"]["base_url"])
    [record] = [r for r in state["codes"] if str(r["Id"]) == "7000001"]
    assert record["State"] == "INACTIVE"

    again = impact_cli("do", "Shop impact", "expire", "--promo-code-id", "7000001")
    assert again.returncode == 1 and "already expired" in again.stderr
    missing = impact_cli("do", "Shop impact", "get", "--promo-code-id", "999")
    assert missing.returncode == 1 and "not found" in missing.stderr
    # The details under the error, a line each (they printed as one, with "\\n" in it).
    assert "\\n" not in missing.stderr
    assert "  status: 404" in missing.stderr.splitlines()
    bad = impact_cli("do", "Shop impact", "expire", "--promo-code-id", "seven")
    assert bad.returncode == 2 and "--promo-code-id" in bad.stderr
    unknown_field = impact_cli("do", "Shop impact", "expire", "--colour", "red")
    assert unknown_field.returncode == 2
    nobody = impact_cli("do", "Nobody", "expire", "--promo-code-id", "1")
    assert nobody.returncode == 2 and "no account called" in nobody.stderr


def test_a_create_repeated_after_a_lost_answer_makes_one_code(impact_cli: Cli, sandbox) -> None:
    base = sandbox["impact"]["base_url"]
    request = urllib.request.Request(  # noqa: S310
        f"{base}/_sandbox/faults",
        data=json.dumps({"script": ["drop-after"]}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass
    args = (
        "do",
        "Shop impact",
        "create",
        "--partner-id",
        "2552842",
        "--campaign-id",
        "1000",
        "--code",
        "LOOPBACK-1",
    )
    first = impact_cli(*args)
    second = impact_cli(*args)  # a script that retries on its own
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    codes = [r["Code"] for r in sandbox_state(base)["codes"]]
    assert codes.count("LOOPBACK-1") == 1


def test_sync_then_history_as_csv(impact_cli: Cli, tmp_path: Path) -> None:
    synced = impact_cli("sync", "Shop impact")
    assert synced.returncode == 0, synced.stderr
    assert "25 read" in synced.stderr
    impact_cli("do", "Shop impact", "expire", "--promo-code-id", "7000002")
    out = tmp_path / "history.csv"
    history = impact_cli("history", "--csv", "-o", str(out))
    assert history.returncode == 0, history.stderr
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["operation"], r["target"], r["outcome"]) for r in rows] == [
        ("expire", "code 7000002", "ok")
    ]
    printed = impact_cli("history", "--operation", "expire")
    assert "code 7000002" in printed.stdout
    conn = connect(impact_cli.workspace, readonly=True)
    try:
        assert conn.execute("SELECT count(*) FROM impact_codes").fetchone() == (25,)
        assert conn.execute("SELECT kind FROM accounts WHERE name = 'Shop impact'").fetchone() == (
            "live",
        )
    finally:
        conn.close()


@pytest.mark.slow
def test_a_killed_bulk_run_resumes_without_repeating_what_succeeded(
    impact_cli: Cli, sandbox, tmp_path: Path
) -> None:
    base = sandbox["impact"]["base_url"]
    assert impact_cli("sync", "Shop impact").returncode == 0
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(str(7_000_001 + n) for n in range(20)) + "\n")
    # Each answer is a little slow, so the run is still going when it is killed.
    request = urllib.request.Request(  # noqa: S310
        f"{base}/_sandbox/faults",
        data=json.dumps({"probability": 1.0, "kinds": ["slow"], "slow_seconds": 0.1}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass
    with subprocess.Popen(
        command(
            "bulk",
            "Shop impact",
            "expire",
            "--from",
            str(ids),
            "--concurrency",
            "2",
            "--workspace",
            str(impact_cli.workspace),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=impact_cli.env,
    ) as run:
        assert run.stdout is not None
        done_before_kill = [run.stdout.readline() for _ in range(5)]  # five items reported
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
        run.stdout.close()
    assert all("\tok\t" in line for line in done_before_kill)
    conn = connect(impact_cli.workspace, readonly=True)
    try:
        left = conn.execute("SELECT count(*) FROM journal WHERE status = 'pending'").fetchone()[0]
    finally:
        conn.close()
    assert left > 0
    # Killed, it said nothing: for a minute it may still be going on somewhere, so a resume
    # is refused and sends nothing.
    refused = impact_cli("bulk", "--resume")
    assert refused.returncode == 1
    assert "already going on" in refused.stderr and "Nothing was sent" in refused.stderr
    conn = connect(impact_cli.workspace)
    try:
        assert conn.execute("SELECT count(*) FROM journal WHERE status = 'pending'").fetchone() == (
            left,
        )
        # A minute on (its heartbeat aged, rather than waiting): it is taken over.
        with transaction(conn):
            conn.execute("UPDATE runs SET heartbeat = '2026-01-01T00:00:00Z' WHERE kind = 'bulk'")
    finally:
        conn.close()

    resumed = impact_cli("bulk", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    conn = connect(impact_cli.workspace, readonly=True)
    try:
        journal = conn.execute("SELECT status, attempts FROM journal ORDER BY position").fetchall()
        audited = conn.execute(
            "SELECT target, count(*) FROM audit_log WHERE outcome = 'ok' GROUP BY target"
        ).fetchall()
    finally:
        conn.close()
    assert [status for status, _ in journal] == ["ok"] * 20
    # What was done before the kill was not sent again: one attempt, one audit entry each.
    assert all(attempts == 1 for _, attempts in journal)
    assert len(audited) == 20 and all(count == 1 for _, count in audited)
    states = {str(r["Id"]): r["State"] for r in sandbox_state(base)["codes"]}
    assert all(states[str(7_000_001 + n)] == "INACTIVE" for n in range(20))


def test_a_bulk_plan_that_is_no_plan_is_refused_with_its_line(
    impact_cli: Cli, tmp_path: Path
) -> None:
    from promodesk.store.workspace import create_workspace

    create_workspace(impact_cli.workspace, label="shop")
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"7000001\n70000\xe902\n")
    escape = tmp_path / "escape.txt"
    escape.write_text("7000001\n7000002\x1b[2J\n", encoding="utf-8")
    for plan, words in (
        (latin, "latin.txt: line 2: the text is not UTF-8 (byte 0xE9)"),
        (escape, "escape.txt: line 2: an invisible control character (U+001B, ESC)"),
        (Path("/dev/zero"), "zero: this is a device, not a saved file"),
    ):
        done = impact_cli("bulk", "Shop impact", "expire", "--from", str(plan))
        assert done.returncode == 2, done.stderr
        assert words in done.stderr, done.stderr
        assert "\x1b" not in done.stderr
    fifo = tmp_path / "plan.txt"
    os.mkfifo(fifo)
    done = impact_cli("bulk", "Shop impact", "expire", "--from", str(fifo))
    assert done.returncode == 2 and "plan.txt: this is a named pipe (FIFO)" in done.stderr


def test_an_export_imported_for_an_account_and_its_sync_are_the_same_rows(
    impact_cli: Cli, sandbox, tmp_path: Path
) -> None:
    impact = sandbox["impact"]
    request = urllib.request.Request(  # noqa: S310
        f"{impact['base_url']}/Advertisers/{impact['account_sid']}/PromoCodes?PageSize=1000",
        headers={
            "Accept": "application/json",
            "Authorization": "Basic "
            + __import__("base64")
            .b64encode(f"{impact['account_sid']}:{impact['auth_token']}".encode())
            .decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        saved = tmp_path / "impact_export.json"
        saved.write_bytes(answer.read())
    imported = impact_cli("import", str(saved), "--account", "Shop impact")
    assert imported.returncode == 0, imported.stderr
    synced = impact_cli("sync", "Shop impact")
    assert synced.returncode == 0, synced.stderr
    assert "nothing changed" in synced.stderr
    conn = connect(impact_cli.workspace, readonly=True)
    try:
        sources = conn.execute(
            "SELECT a.name, count(*) FROM impact_codes c JOIN accounts a ON a.id = c.account_id "
            "GROUP BY a.name"
        ).fetchall()
    finally:
        conn.close()
    assert sources == [("Shop impact", 25)]
    unknown = impact_cli("import", str(saved), "--account", "Nobody")
    assert unknown.returncode == 2 and "no account called" in unknown.stderr


def test_a_fields_values_are_listed_whether_its_literal_is_optional_or_not() -> None:
    from typing import Literal

    from pydantic import BaseModel

    from promodesk.cli.live import _choices_of

    class Inputs(BaseModel):
        bare: Literal["LI", "RE"] = "LI"
        optional: Literal["ACTIVE", "INACTIVE"] | None = None
        free: str = ""

    fields = Inputs.model_fields
    assert list(_choices_of(fields["bare"])) == ["LI", "RE"]
    assert list(_choices_of(fields["optional"])) == ["ACTIVE", "INACTIVE"]
    assert _choices_of(fields["free"]) == {}
