"""accounts.json as a user's disk may hold it: damaged in every way a file can be. Whatever it
holds, the sandbox accounts are listed, the damaged file is kept aside (never overwritten)
with a message naming the file, the line and the problem, and saving starts a good file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promodesk.domain.vendors import Vendor
from promodesk.services.accounts import Account, AccountStore

GOOD = {"accounts": [{"id": "a1", "vendor": "optimove", "name": "Casino", "settings": {}}]}
SANDBOXES = [f"sandbox-{vendor.value}" for vendor in Vendor]


def test_a_good_file_lists_the_sandboxes_then_the_users_accounts(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps(GOOD), encoding="utf-8")
    store = AccountStore(path)
    assert [account.id for account in store.all()] == [*SANDBOXES, "a1"]
    assert store.notice == ""


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"accounts": [\n{"id": "a1", "vendor": "optimove", "name": "Caf\xe9"}]}', "line 2:"),
        (b"\xff\xfe{\x00}\x00", "line 1: byte 0xFF is not UTF-8 text"),
        (b'{"accounts": [{"vendor": "optimove",\n "settings": {]}', "line 2:"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"accounts": [{"vendor": "myspace", "name": "x"}]}', "vendor"),
    ],
)
def test_a_damaged_file_is_kept_aside_and_the_sandboxes_are_still_listed(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "accounts.json"
    path.write_bytes(content)
    store = AccountStore(path)
    assert [account.id for account in store.all()] == SANDBOXES
    assert f"{path} could not be read (" in store.notice and problem in store.notice
    kept = list(tmp_path.glob("accounts.damaged-*.json"))
    assert len(kept) == 1 and kept[0].read_bytes() == content
    assert kept[0].name in store.notice
    store.put(Account(vendor=Vendor.IMPACT, name="New", id="n1"))
    assert [account.id for account in AccountStore(path).all()] == [*SANDBOXES, "n1"]


def test_a_folder_where_the_file_should_be_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    path.mkdir()
    (path / "inside.txt").write_text("the user's")
    store = AccountStore(path)
    assert [account.id for account in store.all()] == SANDBOXES
    assert "a folder or a special file" in store.notice
    kept = list(tmp_path.glob("accounts.damaged-*.json"))
    assert len(kept) == 1 and (kept[0] / "inside.txt").read_text() == "the user's"
    store.put(Account(vendor=Vendor.IMPACT, name="New", id="n1"))
    assert [account.id for account in AccountStore(path).all()] == [*SANDBOXES, "n1"]


def test_a_second_damage_never_overwrites_the_first_kept_copy(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    for content in (b"{broken one", b"{broken two", b"{broken three"):
        path.write_bytes(content)
        assert [account.id for account in AccountStore(path).all()] == SANDBOXES
    kept = sorted(copy.read_bytes() for copy in tmp_path.glob("accounts.damaged-*.json"))
    assert kept == [b"{broken one", b"{broken three", b"{broken two"]
