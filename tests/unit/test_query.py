"""Paging, sorting, filtering and searching in SQL, checked against a plain-Python reference."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promodesk.domain.jobs import CancelToken, JobCancelled, Progress
from promodesk.store.db import connect, transaction
from promodesk.store.importers.dispatch import import_file
from promodesk.store.indexer import build_indexes, pending_work
from promodesk.store.query import Pager, RowQuery, fetch_row, fetch_rows_by_id, stream_rows
from promodesk.store.tables import (
    ALL_TABLES,
    CODE_INVENTORY,
    OPTIMOVE_ALLOCATIONS,
    OPTIMOVE_CODE_FILES,
)
from promodesk.store.workspace import as_of_by_vendor, read_label, save_copy, set_label
from tests.helpers import allocation_rows, new_workspace, write_allocations

CODES = ["AB_12", "ab-34", "XYZ99", "abc_1", "QQQ", "A%B", "zz_top", "Abc_2"]


@pytest.fixture(scope="module")
def allocations_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """500 allocations with many duplicate sort values, codes with _ and % in them."""
    folder = tmp_path_factory.mktemp("query")
    path, conn = new_workspace(folder)
    rows = []
    for n in range(500):
        rows.append(
            [
                f"C{n % 37:04d}",
                f"pc-{n % 3}",
                "promo",
                f"f-{n % 4}",
                f"{CODES[n % len(CODES)]}-{n}",
                f"2026-09-{1 + n % 9:02d}T00:00:00Z",
                str(n % 11),
                str(n % 2),
                "" if n % 5 == 0 else str(n % 13),
            ]
        )
    import_file(conn, write_allocations(folder / "a.csv", rows))
    conn.close()
    return path


def reference(conn: sqlite3.Connection, query: RowQuery) -> list[tuple]:
    """What the query should return, computed in Python from all rows."""
    spec = query.spec
    names = spec.column_names
    rows = conn.execute(f"SELECT {', '.join(names)} FROM {spec.name}").fetchall()
    for column, value in query.equals:
        rows = [row for row in rows if row[names.index(column)] == value]
    for column, low, high in query.ranges:
        at = names.index(column)
        rows = [
            row
            for row in rows
            if (low is None or row[at] >= low) and (high is None or row[at] < high)
        ]
    text = query.search.strip().lower()
    if text:

        def hit(row: tuple) -> bool:
            if any(text in str(row[names.index(c)]).lower() for c in spec.search_columns):
                return True
            return any(
                str(row[names.index(c)]).startswith(query.search.strip())
                for c in spec.prefix_search_columns
            )

        rows = [row for row in rows if hit(row)]
    sort_at = names.index(query.sort_column)
    id_at = names.index("id")

    def key(row: tuple):
        value = row[sort_at]
        # SQLite's order: NULL < numbers < text.
        rank = 0 if value is None else (1 if isinstance(value, int | float) else 2)
        return (rank, value if value is not None else 0, row[id_at])

    return sorted(rows, key=key, reverse=query.descending)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sort=st.sampled_from(
        ["id", "unique_code", "customer_id", "allocated_at", "occurence_id", "action_id", "file_id"]
    ),
    descending=st.booleans(),
    promocode=st.sampled_from([None, "pc-0", "pc-2"]),
    search=st.sampled_from(["", "ab", "AB_", "_1", "a%b", "C001", "zz_top", "nothing"]),
    windows=st.lists(st.tuples(st.integers(0, 520), st.integers(1, 60)), min_size=1, max_size=8),
    indexed=st.booleans(),
    since=st.sampled_from([None, "2026-09-03T00:00:00Z"]),
    until=st.sampled_from([None, "2026-09-07T00:00:00Z"]),
)
def test_any_window_matches_the_reference(
    allocations_db: Path, sort, descending, promocode, search, windows, indexed, since, until
) -> None:
    conn = connect(allocations_db)
    try:
        if indexed:
            build_indexes(conn)
        query = RowQuery(OPTIMOVE_ALLOCATIONS, search=search, sort=sort, descending=descending)
        query = query.filtered("promocode_id", promocode).between("allocated_at", since, until)
        expected = reference(conn, query)
        pager = Pager(query)
        assert pager.count(conn) == len(expected)
        for start, limit in windows:
            assert pager.fetch(conn, start, limit) == expected[start : start + limit]
    finally:
        conn.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sort=st.sampled_from(["id", "unique_code", "customer_id", "allocated_at", "action_id"]),
    descending=st.booleans(),
    search=st.sampled_from(["", "ab", "_1", "C001"]),
    cuts=st.lists(st.integers(0, 520), max_size=10),
    chunk=st.sampled_from([1, 7, 5000]),
)
def test_streamed_spans_match_the_reference(
    allocations_db: Path, sort, descending, search, cuts, chunk
) -> None:
    """Copy and export read selections span by span, in SQL: the same rows as the pager."""
    conn = connect(allocations_db)
    try:
        query = RowQuery(OPTIMOVE_ALLOCATIONS, search=search, sort=sort, descending=descending)
        expected = reference(conn, query)
        edges = sorted(set(cuts))
        spans = list(zip(edges[::2], edges[1::2], strict=False))
        streamed = [row for rows in stream_rows(conn, query, spans, chunk=chunk) for row in rows]
        assert streamed == [row for start, end in spans for row in expected[start:end]]
        everything = stream_rows(conn, query, [(0, 10**9)], select=["unique_code"])
        assert [row for rows in everything for row in rows] == [
            (row[query.spec.column_names.index("unique_code")],) for row in expected
        ]
    finally:
        conn.close()


def test_scrolling_forward_backward_and_jumping(allocations_db: Path) -> None:
    conn = connect(allocations_db)
    query = RowQuery(OPTIMOVE_ALLOCATIONS, sort="customer_id")
    expected = reference(conn, query)
    pager = Pager(query)
    for start in [*range(0, 500, 64), 499, 450, *range(300, 0, -50), 250]:
        assert pager.fetch(conn, start, 64) == expected[start : start + 64]
    conn.close()


def test_nullable_columns_sort_unknown_first(tmp_path: Path) -> None:
    _path, conn = new_workspace(tmp_path)
    with transaction(conn):
        conn.execute(
            "INSERT INTO accounts(vendor, key, name, kind) VALUES ('optimove', 'k', 'n', 'imported')"
        )
        conn.executemany(
            "INSERT INTO optimove_code_files(account_id, file_id, code_count) VALUES (1, ?, ?)",
            [(f"f{n}", None if n % 3 == 0 else n % 4) for n in range(40)],
        )
    for descending in (False, True):
        query = RowQuery(OPTIMOVE_CODE_FILES, sort="code_count", descending=descending)
        expected = reference(conn, query)
        pager = Pager(query)
        for start in (0, 7, 30, 13, 0, 35):
            assert pager.fetch(conn, start, 5) == expected[start : start + 5]
    conn.close()


def test_every_table_is_queryable_with_every_sort(allocations_db: Path) -> None:
    conn = connect(allocations_db)
    for spec in ALL_TABLES:
        for column in spec.columns:
            if column.sortable:
                Pager(RowQuery(spec, sort=column.name, search="x")).fetch(conn, 0, 10)
    conn.close()


def test_unknown_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="no column"):
        RowQuery(OPTIMOVE_ALLOCATIONS, sort="customer_id; DROP TABLE accounts")
    with pytest.raises(ValueError, match="no column"):
        RowQuery(OPTIMOVE_ALLOCATIONS, equals=(("nope", 1),))


def test_row_details_and_rows_by_id(allocations_db: Path) -> None:
    conn = connect(allocations_db)
    row = fetch_row(conn, OPTIMOVE_ALLOCATIONS, 3)
    assert row is not None and row["id"] == 3 and "unique_code" in row
    assert fetch_row(conn, OPTIMOVE_ALLOCATIONS, 10**9) is None
    rows = fetch_rows_by_id(conn, OPTIMOVE_ALLOCATIONS, [5, 2, 999_999, 4])
    assert [r[0] for r in rows] == [5, 2, 4]
    conn.close()


def test_index_builder_finishes_resumes_and_cancels(tmp_path: Path) -> None:
    _path, conn = new_workspace(tmp_path)
    import_file(conn, write_allocations(tmp_path / "a.csv", allocation_rows(60_000)))
    work = pending_work(conn)
    assert work.missing_indexes and work.fts_backlog
    token = CancelToken()
    updates: list[Progress] = []

    def stop_after_some(update: Progress) -> None:
        updates.append(update)
        if len(updates) == 4:
            token.cancel()

    with pytest.raises(JobCancelled):
        build_indexes(conn, cancel=token, progress=stop_after_some)
    partial = pending_work(conn)
    assert not partial.empty and partial.units < work.units
    build_indexes(conn)
    assert pending_work(conn).empty
    upto = conn.execute(
        "SELECT indexed_upto FROM search_index_state WHERE table_name='optimove_allocations'"
    ).fetchone()[0]
    assert upto == 60_000
    # The trigram index answers the search, and agrees with a plain scan.
    query = RowQuery(OPTIMOVE_ALLOCATIONS, search="e005999")
    plan = " ".join(
        str(r)
        for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT rowid FROM fts_optimove_allocations WHERE unique_code LIKE '%e005999%'"
        )
    )
    assert "VIRTUAL TABLE" in plan
    found = sorted(r[2] for r in Pager(query).fetch(conn, 0, 50))
    assert found == [f"CODE{n:07d}" for n in range(59990, 60000)]
    # Sorting by a column uses its index now.
    plan = " ".join(
        str(r)
        for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM optimove_allocations ORDER BY customer_id, id LIMIT 10"
        )
    )
    assert "ix_optimove_allocations__customer_id" in plan
    conn.close()


def test_save_copy_is_one_complete_file_and_cancel_keeps_the_old_one(
    tmp_path: Path, demo_dir: Path
) -> None:
    _path, conn = new_workspace(tmp_path)
    set_label(conn, "Client X")
    for file in sorted(demo_dir.iterdir()):
        import_file(conn, file)
    target = tmp_path / "saved" / "copy.promodesk"
    save_copy(conn, target)
    assert not list(target.parent.glob("*.tmp"))
    assert not Path(f"{target}-wal").exists()
    copy = connect(target)
    assert read_label(copy) == "Client X"
    assert copy.execute("SELECT count(*) FROM optimove_allocations").fetchone()[0] == 20_000
    assert as_of_by_vendor(copy) == as_of_by_vendor(conn)
    copy.close()

    before = target.read_bytes()
    token = CancelToken()
    token.cancel()
    with pytest.raises(JobCancelled):
        save_copy(conn, target, cancel=token)
    assert target.read_bytes() == before
    assert not list(target.parent.glob("*.tmp"))
    conn.close()


def test_table_specs_are_consistent_with_the_schema(tmp_path: Path) -> None:
    _path, conn = new_workspace(tmp_path)
    for spec in ALL_TABLES:
        columns = {row[1]: row for row in conn.execute(f"PRAGMA table_info({spec.name})")}
        for column in spec.columns:
            assert column.name in columns, (spec.name, column.name)
            not_null = columns[column.name][3] == 1 or column.name == "id"
            assert not_null != column.nullable, (spec.name, column.name)
        for name in (
            *spec.search_columns,
            *spec.prefix_search_columns,
            *spec.filter_columns,
            spec.default_sort,
        ):
            assert name in spec.column_names
    conn.close()


def test_kept_allocation_counts_agree_with_counting(allocations_db: Path) -> None:
    conn = connect(allocations_db)
    for promocode in (None, "pc-0", "pc-1", "nope"):
        for file_id in (None, "f-2"):
            query = (
                RowQuery(OPTIMOVE_ALLOCATIONS)
                .filtered("promocode_id", promocode)
                .filtered("file_id", file_id)
            )
            where = (
                " AND ".join(
                    f"{c} = '{v}'"
                    for c, v in (("promocode_id", promocode), ("file_id", file_id))
                    if v
                )
                or "1"
            )
            counted = conn.execute(
                f"SELECT count(*) FROM optimove_allocations WHERE {where}"
            ).fetchone()[0]
            assert Pager(query).count(conn) == counted
    conn.close()


def _inventory_with(tmp_path: Path, rows: list[tuple[int, str, str, str]]) -> sqlite3.Connection:
    """All codes holding (account_id, vendor, status, given_at) rows (an expiry the same as
    the date given), with its kept counts and indexes."""
    from promodesk.store.inventory import COLUMNS

    _path, conn = new_workspace(tmp_path)
    with transaction(conn):
        values = [
            (
                *(6, n, account, vendor, f"C{n:06d}", f"c{n:06d}", status, status),
                *("", "", "", given, "", given),
            )
            for n, (account, vendor, status, given) in enumerate(rows, start=1)
        ]
        conn.executemany(
            f"INSERT INTO code_inventory({', '.join(COLUMNS)}) VALUES "
            f"({', '.join('?' * len(COLUMNS))})",
            values,
        )
        conn.execute(
            "INSERT INTO code_inventory_counts(account_id, vendor, status, codes) "
            "SELECT account_id, vendor, status, count(*) FROM code_inventory GROUP BY 1, 2, 3"
        )
    build_indexes(conn)
    return conn


def _statements(conn: sqlite3.Connection, read) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        read()
    finally:
        conn.set_trace_callback(None)
    return [sql for sql in seen if sql.lstrip().startswith("SELECT") and "LIMIT" in sql]


def test_a_walk_that_runs_long_gives_way_to_sorting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many codes of account 2, but every one of them sorts after all the others (codes
    # without a date sort first): walking the date index would read the whole table for one
    # page (no index has both the account and the date).
    from promodesk.store import query as query_module

    monkeypatch.setattr(query_module, "WALK_STEP_BUDGET", 20_000)
    monkeypatch.setattr(query_module, "_STEPS_PER_CALL", 1_000)
    rows = [(1, "altcraft", "available", "")] * 8_000 + [
        (2, "impact", "allocated", f"2026-10-{1 + n % 28:02d}T{n % 24:02d}:00:00Z")
        for n in range(2_000)
    ]
    conn = _inventory_with(tmp_path, rows)
    query = RowQuery(CODE_INVENTORY, equals=(("account_id", 2),), sort="given_at")
    pager = Pager(query)
    assert pager.walks(conn, 200)  # what the counts alone say
    page: list[tuple] = []
    statements = _statements(conn, lambda: page.extend(pager.fetch(conn, 0, 200)))
    assert page == reference(conn, query)[:200]
    assert "+account_id" in statements[0]  # it walked first,
    assert "+account_id" not in statements[-1]  # then sorted the account's codes
    assert not pager.walks(conn, 200)  # and keeps to that for the next pages
    assert pager.fetch(conn, 1_900, 200) == reference(conn, query)[1_900:2_000]


def test_a_walk_through_spread_rows_stays_a_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promodesk.store import query as query_module

    monkeypatch.setattr(query_module, "WALK_STEP_BUDGET", 20_000)
    monkeypatch.setattr(query_module, "_STEPS_PER_CALL", 1_000)
    rows = [
        (1 + n % 4, "altcraft", "available", f"2026-10-01T00:00:{n % 60:02d}Z")
        for n in range(10_000)
    ]
    conn = _inventory_with(tmp_path, rows)
    query = RowQuery(CODE_INVENTORY, equals=(("account_id", 2),), sort="given_at")
    pager = Pager(query)
    page: list[tuple] = []
    statements = _statements(conn, lambda: page.extend(pager.fetch(conn, 0, 200)))
    assert page == reference(conn, query)[:200]
    assert len(statements) == 1 and "+account_id" in statements[0]


def test_a_status_under_a_sort_by_date_is_one_index_range(tmp_path: Path) -> None:
    # The used codes all sort after the ones without a date, but an index of status and date
    # goes straight to them, in order.
    rows = [(1, "altcraft", "available", "")] * 3_000 + [
        (1, "altcraft", "used", f"2026-10-{1 + n % 28:02d}T00:00:00Z") for n in range(500)
    ]
    conn = _inventory_with(tmp_path, rows)
    for sort in ("given_at", "expires_at"):
        query = RowQuery(CODE_INVENTORY, equals=(("status", "used"),), sort=sort)
        pager = Pager(query)
        page: list[tuple] = []
        statements = _statements(conn, lambda p=pager, out=page: out.extend(p.fetch(conn, 0, 50)))
        assert page == reference(conn, query)[:50]
        assert len(statements) == 1 and "+status" not in statements[0]
        plan = " ".join(
            str(step[-1]) for step in conn.execute("EXPLAIN QUERY PLAN " + statements[0])
        )
        assert f"ix_code_inventory__status__{sort}" in plan and "TEMP B-TREE" not in plan
