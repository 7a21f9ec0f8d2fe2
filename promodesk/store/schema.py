"""The workspace file: one SQLite database with a versioned schema.

A workspace is marked with its own `application_id`, so a random SQLite file is never taken
for one, and carries its schema version in `user_version`. Each migration moves it one version
up inside one transaction. Sortable text columns are NOT NULL DEFAULT '' because keyset
pagination compares (value, id) pairs; the few columns where "unknown" differs from 0 are
nullable and declared so in store.tables, which makes the comparison NULL-aware for them.
"""

from __future__ import annotations

import sqlite3

from promodesk.store.code_keys import (
    needs_python_sql,
    python_match_key_sql,
    register_key_functions,
)

APPLICATION_ID = 0x50444B31  # "PDK1"

_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE accounts (
    id     INTEGER PRIMARY KEY,
    vendor TEXT NOT NULL,
    key    TEXT NOT NULL,             -- 'imported', 'sandbox' or an account id from settings
    name   TEXT NOT NULL,
    kind   TEXT NOT NULL,             -- imported | sandbox | live
    as_of  TEXT NOT NULL DEFAULT '',  -- newest data from this source
    UNIQUE (vendor, key)
);

CREATE TABLE import_history (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER REFERENCES accounts(id),   -- NULL for a merged workspace (many sources)
    kind        TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    file_path   TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    rows_read   INTEGER NOT NULL,
    rows_added  INTEGER NOT NULL,
    as_of       TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE INDEX ix_import_history_sha ON import_history(sha256);

CREATE TABLE search_index_state (
    table_name    TEXT PRIMARY KEY,
    indexed_upto  INTEGER NOT NULL DEFAULT 0   -- rows with id <= this are in the trigram index
);

-- Optimove -----------------------------------------------------------------------------------
CREATE TABLE optimove_promotions (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    promotion_id     TEXT NOT NULL,
    name             TEXT NOT NULL DEFAULT '',
    description      TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL DEFAULT '',
    updated_at       TEXT NOT NULL DEFAULT '',
    promocode_count  INTEGER NOT NULL DEFAULT 0,
    allocation_count INTEGER NOT NULL DEFAULT 0,
    details          TEXT NOT NULL DEFAULT '{}',
    as_of            TEXT NOT NULL DEFAULT '',
    UNIQUE (account_id, promotion_id)
);

CREATE TABLE optimove_promocodes (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts(id),
    promocode_id      TEXT NOT NULL,
    promotion_id      TEXT NOT NULL DEFAULT '',
    code_type         TEXT NOT NULL DEFAULT '',
    global_code       TEXT NOT NULL DEFAULT '',
    default_code      TEXT NOT NULL DEFAULT '',
    allocation_method TEXT NOT NULL DEFAULT '',
    hidden            INTEGER NOT NULL DEFAULT 0,
    file_count        INTEGER NOT NULL DEFAULT 0,
    pool_size         INTEGER,                   -- NULL: unknown offline
    allocation_count  INTEGER NOT NULL DEFAULT 0,
    details           TEXT NOT NULL DEFAULT '{}',
    as_of             TEXT NOT NULL DEFAULT '',
    UNIQUE (account_id, promocode_id)
);

CREATE TABLE optimove_code_files (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    file_id          TEXT NOT NULL,
    file_name        TEXT NOT NULL DEFAULT '',
    promocode_id     TEXT NOT NULL DEFAULT '',   -- '' for a local file not uploaded anywhere
    code_count       INTEGER,                    -- NULL: unknown (seen only in an export)
    allocation_count INTEGER NOT NULL DEFAULT 0,
    uploaded_at      TEXT NOT NULL DEFAULT '',
    as_of            TEXT NOT NULL DEFAULT '',
    UNIQUE (account_id, file_id)
);

CREATE TABLE optimove_pool_codes (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    file_id    TEXT NOT NULL,
    code       TEXT NOT NULL
);
CREATE UNIQUE INDEX ux_optimove_pool_codes ON optimove_pool_codes(account_id, file_id, code);

-- customer_id and unique_code keep TEXT affinity (leading zeros matter); the audit ids get
-- INTEGER affinity so SQLite stores numeric ones as numbers and they sort as numbers.
CREATE TABLE optimove_allocations (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    customer_id  TEXT NOT NULL,
    promocode_id TEXT NOT NULL,
    promotion_id TEXT NOT NULL,
    file_id      TEXT NOT NULL DEFAULT '',
    unique_code  TEXT NOT NULL,
    allocated_at TEXT NOT NULL,
    occurence_id INTEGER NOT NULL DEFAULT '',
    series_id    INTEGER NOT NULL DEFAULT '',
    action_id    INTEGER NOT NULL DEFAULT ''
);
-- The dedupe key: the same allocation imported twice (same file, or overlapping exports by
-- file and by promocode) is one row. The code leads: keys that differ early sort fast, which
-- is most of a bulk import's index-building time.
CREATE UNIQUE INDEX ux_optimove_allocations ON optimove_allocations(
    unique_code, customer_id, allocated_at, promocode_id, file_id, account_id);

-- Allocations per promocode and file, kept up to date from each import's new rows, so counts
-- never need a pass over millions of allocations.
CREATE TABLE optimove_allocation_counts (
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    promocode_id TEXT NOT NULL,
    file_id      TEXT NOT NULL,
    promotion_id TEXT NOT NULL,
    allocations  INTEGER NOT NULL,
    PRIMARY KEY (account_id, promocode_id, file_id)
) WITHOUT ROWID;

-- Altcraft -----------------------------------------------------------------------------------
CREATE TABLE altcraft_programs (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    loyalty_id      TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    code_count      INTEGER NOT NULL DEFAULT 0,
    available_count INTEGER NOT NULL DEFAULT 0,
    attached_count  INTEGER NOT NULL DEFAULT 0,
    activated_count INTEGER NOT NULL DEFAULT 0,
    expired_count   INTEGER NOT NULL DEFAULT 0,
    as_of           TEXT NOT NULL DEFAULT '',
    UNIQUE (account_id, loyalty_id)
);

CREATE TABLE altcraft_codes (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    loyalty_id  TEXT NOT NULL,
    code        TEXT NOT NULL,
    status      TEXT NOT NULL,
    created     TEXT NOT NULL DEFAULT '',
    attached    TEXT NOT NULL DEFAULT '',
    activated   TEXT NOT NULL DEFAULT '',
    expired     TEXT NOT NULL DEFAULT '',
    expire_date TEXT NOT NULL DEFAULT '',
    profile_id  TEXT NOT NULL DEFAULT '',
    database_id INTEGER NOT NULL DEFAULT '',
    as_of       TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX ux_altcraft_codes ON altcraft_codes(account_id, loyalty_id, code);

-- impact.com ---------------------------------------------------------------------------------
CREATE TABLE impact_programs (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    campaign_id   TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    code_count    INTEGER NOT NULL DEFAULT 0,
    active_count  INTEGER NOT NULL DEFAULT 0,
    partner_count INTEGER NOT NULL DEFAULT 0,
    as_of         TEXT NOT NULL DEFAULT '',
    UNIQUE (account_id, campaign_id)
);

CREATE TABLE impact_codes (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    promo_code_id INTEGER NOT NULL,
    code          TEXT NOT NULL,
    status        TEXT NOT NULL,
    campaign_id   TEXT NOT NULL DEFAULT '',
    campaign_name TEXT NOT NULL DEFAULT '',
    partner_id    TEXT NOT NULL DEFAULT '',
    partner_name  TEXT NOT NULL DEFAULT '',
    credit_policy TEXT NOT NULL DEFAULT '',
    code_type     TEXT NOT NULL DEFAULT '',
    created_date  TEXT NOT NULL DEFAULT '',
    start_date    TEXT NOT NULL DEFAULT '',
    end_date      TEXT NOT NULL DEFAULT '',
    deal_id       TEXT NOT NULL DEFAULT '',
    deal_name     TEXT NOT NULL DEFAULT '',
    details       TEXT NOT NULL DEFAULT '{}',
    as_of         TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX ux_impact_codes ON impact_codes(account_id, promo_code_id);

-- Trigram indexes for "contains" search over code values. detail='none' keeps them small;
-- SQLite re-checks each candidate against the table, so LIKE results stay exact. They are fed
-- in id order up to search_index_state.indexed_upto, and the only rows ever deleted (dedupe
-- after a bulk load) have ids above it, so a reused id cannot hide a row from search; a stale
-- entry at worst proposes a candidate that the exact re-check then drops. (AUTOINCREMENT
-- would also rule out reuse, at 20% of a bulk load's time.)
CREATE VIRTUAL TABLE fts_optimove_pool_codes USING fts5(
    code, content='optimove_pool_codes', content_rowid='id', tokenize='trigram', detail='none');
CREATE VIRTUAL TABLE fts_optimove_allocations USING fts5(
    unique_code, content='optimove_allocations', content_rowid='id', tokenize='trigram',
    detail='none');
CREATE VIRTUAL TABLE fts_altcraft_codes USING fts5(
    code, content='altcraft_codes', content_rowid='id', tokenize='trigram', detail='none');
CREATE VIRTUAL TABLE fts_impact_codes USING fts5(
    code, content='impact_codes', content_rowid='id', tokenize='trigram', detail='none');
"""

# Version 2: the write side. Every import, sync, operation and bulk job is a run; each row
# knows the run that added it (so an import can be removed with its rows) and, for rows the
# vendors keep a state for, each change of state is an event (so "what changed" can be
# derived from any two runs without snapshots of every row). The audit log and the bulk
# journal live here too.
_V2 = """
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: events point at runs
    kind        TEXT NOT NULL,                       -- import | sync | operation | bulk | merge
    account_id  INTEGER REFERENCES accounts(id),
    title       TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'running',     -- running | done | failed | cancelled
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT '',
    as_of       TEXT NOT NULL DEFAULT '',
    added       INTEGER NOT NULL DEFAULT 0,
    changed     INTEGER NOT NULL DEFAULT 0,
    gone        INTEGER NOT NULL DEFAULT 0,
    message     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ix_runs_account ON runs(account_id, id);

ALTER TABLE import_history ADD COLUMN run_id INTEGER REFERENCES runs(id);

-- added_run: the run that first brought the row (0: before runs were kept). gone_run: the
-- sync that found the vendor no longer has it (0: present); its state is then 'gone'.
ALTER TABLE optimove_promotions ADD COLUMN code TEXT NOT NULL DEFAULT '';
ALTER TABLE optimove_promotions ADD COLUMN ever_active INTEGER NOT NULL DEFAULT 0;
ALTER TABLE optimove_promotions ADD COLUMN added_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE optimove_promotions ADD COLUMN gone_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE optimove_promocodes ADD COLUMN available INTEGER;
ALTER TABLE optimove_promocodes ADD COLUMN campaigns TEXT NOT NULL DEFAULT '';
ALTER TABLE optimove_promocodes ADD COLUMN state TEXT NOT NULL DEFAULT '';
ALTER TABLE optimove_promocodes ADD COLUMN added_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE optimove_promocodes ADD COLUMN gone_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE optimove_code_files ADD COLUMN added_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE optimove_code_files ADD COLUMN gone_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE optimove_pool_codes ADD COLUMN added_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE optimove_allocations ADD COLUMN added_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE altcraft_programs ADD COLUMN added_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE altcraft_codes ADD COLUMN added_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE altcraft_codes ADD COLUMN gone_run INTEGER NOT NULL DEFAULT 0;
-- What the vendor last sent for the code, hashed: a sync skips validating what is the same.
ALTER TABLE altcraft_codes ADD COLUMN fingerprint INTEGER NOT NULL DEFAULT 0;
ALTER TABLE impact_programs ADD COLUMN added_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE impact_codes ADD COLUMN added_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE impact_codes ADD COLUMN gone_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE impact_codes ADD COLUMN fingerprint INTEGER NOT NULL DEFAULT 0;

-- A row's state changes (old -> new) per run; additions are known from added_run.
CREATE TABLE state_events (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    table_name TEXT NOT NULL,
    row_id     INTEGER NOT NULL,
    old_state  TEXT NOT NULL,
    new_state  TEXT NOT NULL
);
CREATE INDEX ix_state_events_run ON state_events(run_id);
CREATE INDEX ix_state_events_row ON state_events(table_name, row_id, run_id);

-- Partners per impact.com program, counted so that the program's partner count stays
-- right when one code changes without a pass over the program's codes.
CREATE TABLE impact_program_partners (
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    campaign_id TEXT NOT NULL,
    partner_id  TEXT NOT NULL,
    codes       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, campaign_id, partner_id)
) WITHOUT ROWID;
INSERT INTO impact_program_partners(account_id, campaign_id, partner_id, codes)
    SELECT account_id, campaign_id, partner_id, count(*) FROM impact_codes
    WHERE partner_id != '' GROUP BY account_id, campaign_id, partner_id;

-- The legacy Optimove function API: its promotions list (GetPromotions) and promo codes
-- found by date, campaign or target group.
CREATE TABLE optimove_legacy_promotions (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts(id),
    promo_code     TEXT NOT NULL,
    promotion_name TEXT NOT NULL DEFAULT '',
    state          TEXT NOT NULL DEFAULT 'listed',
    as_of          TEXT NOT NULL DEFAULT '',
    added_run      INTEGER NOT NULL DEFAULT 0,
    gone_run       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, promo_code)
);
CREATE TABLE optimove_legacy_codes (
    id                 INTEGER PRIMARY KEY,
    account_id         INTEGER NOT NULL REFERENCES accounts(id),
    promo_code         TEXT NOT NULL,
    action_id          INTEGER NOT NULL DEFAULT '',
    recipient_group_id INTEGER NOT NULL DEFAULT '',
    target_group_id    INTEGER NOT NULL DEFAULT '',
    campaign_id        INTEGER NOT NULL DEFAULT '',
    for_date           TEXT NOT NULL DEFAULT '',
    as_of              TEXT NOT NULL DEFAULT '',
    added_run          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, promo_code, action_id, recipient_group_id, for_date)
);

-- Every change made through promodesk. Code values are hashed (keyed by meta.audit_salt);
-- no secret ever enters it.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    run_id     INTEGER REFERENCES runs(id),
    account_id INTEGER REFERENCES accounts(id),
    vendor     TEXT NOT NULL,
    account    TEXT NOT NULL,
    operation  TEXT NOT NULL,
    target     TEXT NOT NULL,
    inputs     TEXT NOT NULL DEFAULT '{}',
    outcome    TEXT NOT NULL,                 -- ok | failed | unknown | cancelled
    message    TEXT NOT NULL DEFAULT '',
    result     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX ix_audit_log_at ON audit_log(at);
CREATE INDEX ix_audit_log_target ON audit_log(target);

-- Bulk runs and uploads, one row per item, so that an interrupted run resumes without
-- repeating what succeeded.
CREATE TABLE journal (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    position   INTEGER NOT NULL,
    operation  TEXT NOT NULL,
    target     TEXT NOT NULL,
    inputs     TEXT NOT NULL DEFAULT '{}',
    status     TEXT NOT NULL DEFAULT 'pending',   -- pending | ok | failed | unknown | skipped
    attempts   INTEGER NOT NULL DEFAULT 0,
    message    TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL DEFAULT '',
    UNIQUE (run_id, position)
);
CREATE INDEX ix_journal_status ON journal(run_id, status);

INSERT INTO meta(key, value) VALUES ('audit_salt', lower(hex(randomblob(16))))
    ON CONFLICT(key) DO NOTHING;
"""

# Version 3: what the marketer's questions across vendors need.
# - code_inventory: every code of every vendor and account in one table (All codes), derived
#   from the vendor tables by store/inventory.py: new rows are fed in by the background index
#   builder (by watermark, like the search index), changed and removed rows are kept exact by
#   the one writer in the same transaction. Its sort indexes are derived ones (tables.py).
# - redemptions from the user's own shop or CRM, and each source's column mapping, for
#   matching allocations with redemptions (store/reconcile.py).
_V3 = """
CREATE TABLE code_inventory (
    id           INTEGER PRIMARY KEY,
    source       INTEGER NOT NULL,   -- which table (and which of its codes): store/inventory.py
    source_id    INTEGER NOT NULL,   -- the row there
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    vendor       TEXT NOT NULL,
    code         TEXT NOT NULL,
    code_key     TEXT NOT NULL,      -- domain.codes.collision_key(code)
    status       TEXT NOT NULL,      -- domain.status.Status
    vendor_state TEXT NOT NULL,
    program      TEXT NOT NULL DEFAULT '',   -- promotion / loyalty program / impact program
    pool         TEXT NOT NULL DEFAULT '',   -- promocode / code file / program the code is in
    holder       TEXT NOT NULL DEFAULT '',   -- customer / profile / partner
    given_at     TEXT NOT NULL DEFAULT '',
    used_at      TEXT NOT NULL DEFAULT '',
    expires_at   TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX ux_code_inventory ON code_inventory(source, source_id);

-- Codes per account, vendor and status, moved by every inventory write: the counts at the
-- top of All codes and the count of a filtered page never need a pass over the codes.
CREATE TABLE code_inventory_counts (
    account_id INTEGER NOT NULL,
    vendor     TEXT NOT NULL,
    status     TEXT NOT NULL,
    codes      INTEGER NOT NULL,
    PRIMARY KEY (account_id, vendor, status)
) WITHOUT ROWID;

-- Rows of each vendor table with id <= fed_upto are in the inventory.
CREATE TABLE inventory_state (
    table_name TEXT PRIMARY KEY,
    fed_upto   INTEGER NOT NULL DEFAULT 0
);

-- A shop's or CRM's redemption export: which columns hold what, so its next file needs no
-- mapping. `header` is the file's header row (lower case, tab-separated): a file with the
-- same header is the same source.
CREATE TABLE redemption_sources (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    header          TEXT NOT NULL DEFAULT '',
    code_column     TEXT NOT NULL,
    customer_column TEXT NOT NULL DEFAULT '',
    time_column     TEXT NOT NULL DEFAULT '',
    time_zone       TEXT NOT NULL DEFAULT 'UTC',   -- for times written without an offset
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX ix_redemption_sources_header ON redemption_sources(header);

-- code_key / customer_key: domain.codes.match_key of the code, and the customer id trimmed
-- and folded; the same redemption imported twice is one row.
CREATE TABLE redemptions (
    id           INTEGER PRIMARY KEY,
    source_id    INTEGER NOT NULL REFERENCES redemption_sources(id),
    added_run    INTEGER NOT NULL DEFAULT 0,
    code         TEXT NOT NULL,
    code_key     TEXT NOT NULL,
    customer_id  TEXT NOT NULL DEFAULT '',
    customer_key TEXT NOT NULL DEFAULT '',
    redeemed_at  TEXT NOT NULL DEFAULT '',
    line         INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX ux_redemptions ON redemptions(code_key, customer_key, redeemed_at, source_id);
CREATE INDEX ix_redemptions_run ON redemptions(added_run);
"""

# Version 4: the match key of each allocation's code (how a shop's checkout compares it:
# `domain.codes.match_key`) where only Python works it out, a code with a non-ASCII character;
# NULL elsewhere, where SQL works it out (store/code_keys.py, allocation_key_sql). A derived
# index on that key (tables.OPTIMOVE_ALLOCATIONS, built in the background) is what
# reconciliation looks allocations up by. The allocation import stores the key; a merge copies
# it. (The Python function is registered by check_and_migrate. A change to the match key needs
# a migration of its own that keys the stored rows again.)
_V4 = f"""
ALTER TABLE optimove_allocations ADD COLUMN code_key TEXT;
UPDATE optimove_allocations SET code_key = {python_match_key_sql("unique_code")}
    WHERE {needs_python_sql("unique_code")};
"""

# Version 5: who runs a run going on and when it was last heard of (store/runs.py
# `claim_run`): a bulk run is run by one window or command at a time, and one not heard of for
# a minute was stopped without a word (a crash) and may be taken over. '' for runs before.
_V5 = """
ALTER TABLE runs ADD COLUMN heartbeat TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
"""

# Version 6: the rows an import had that an earlier import had brought (a later export of the
# same codes): removing the earlier import hands them to the later one instead of deleting
# them (store/imports.py). Written by the record writer's merge (store/writes.py) and by bulk
# loads (store/bulk.py). Tables by number (SHARED_TABLES), and no index by run: a million
# shared rows take 12 MB rather than 70 (a name and an index by run); listing a removed
# import's rows reads them all, once, when it is removed.
_V6 = """
CREATE TABLE import_shares (
    table_no INTEGER NOT NULL,
    row_id   INTEGER NOT NULL,
    run_id   INTEGER NOT NULL,
    PRIMARY KEY (table_no, row_id, run_id)
) WITHOUT ROWID;
"""
# import_shares.table_no: stored in workspaces, so never renumbered; a new table takes the next.
SHARED_TABLES: dict[str, int] = {
    "altcraft_codes": 1,
    "impact_codes": 2,
    "optimove_promotions": 3,
    "optimove_promocodes": 4,
    "optimove_code_files": 5,
    "optimove_legacy_promotions": 6,
    "optimove_legacy_codes": 7,
    "optimove_allocations": 8,
    "optimove_pool_codes": 9,
    "redemptions": 10,
}

# Each entry moves the schema from version N-1 to N. Never edit a released entry: add one.
MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6)
SCHEMA_VERSION = len(MIGRATIONS)


class WorkspaceFormatError(Exception):
    """The file is not a workspace this version of promodesk can open."""


def check_and_migrate(conn: sqlite3.Connection, *, create: bool) -> None:
    """Bring an open database to the current schema, or refuse it with a clear reason."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    if app_id == 0 and version == 0 and not has_tables:
        if not create:
            raise WorkspaceFormatError("the file is empty, not a promodesk workspace")
    else:
        problem = schema_problem(conn)
        if problem:
            raise WorkspaceFormatError(problem)
    if version < SCHEMA_VERSION:
        register_key_functions(conn)
    for target in range(version + 1, SCHEMA_VERSION + 1):
        _apply(conn, target)


def schema_problem(conn: sqlite3.Connection) -> str:
    """Why an existing database cannot be used (or migrated) as a workspace, or ""."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app_id != APPLICATION_ID:
        return "this SQLite database is not a promodesk workspace"
    if version > SCHEMA_VERSION:
        return (
            f"this workspace was saved by a newer promodesk (format {version}; "
            f"this version reads up to {SCHEMA_VERSION}); update promodesk to open it"
        )
    if version == 0:
        # Marked as a workspace but with no format version: every workspace gets both at
        # once, so another program changed it (a "user_version" reset, a partial copy).
        return (
            "this workspace file has lost its format version (another program changed it), "
            "so promodesk cannot tell how to read it safely"
        )
    return ""


def _apply(conn: sqlite3.Connection, target: int) -> None:
    # executescript() commits first and runs outside our transaction; run statement by
    # statement instead so a failed migration leaves the file at the previous version.
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _statements(MIGRATIONS[target - 1]):
            conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {target}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending[:60]!r}")
    return statements
