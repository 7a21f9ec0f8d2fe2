"""What each workspace table holds, in one place: columns, labels, sorting, search, filters.

The SQL builder, the derived-index builder and the UI's table models all read these specs, so a
column added here is sortable, searchable and shown without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from promodesk.store.code_keys import allocation_key_sql

ColumnKind = Literal["text", "int", "count", "datetime", "flag"]  # how to show it


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: ColumnKind = "text"
    sortable: bool = True
    visible: bool = True
    nullable: bool = False  # NULL means "unknown" (shown blank), not 0
    # An expiry: one given as a date without a time is flagged with when it really ends.
    expiry: bool = False


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    # Substring search ("contains"). With `fts` they are served by a trigram index built in
    # the background; otherwise (small tables) by a plain scan.
    search_columns: tuple[str, ...] = ()
    # Searched by "starts with" through the column's sort index (ids people paste whole).
    prefix_search_columns: tuple[str, ...] = ()
    filter_columns: tuple[str, ...] = ()
    default_sort: str = "id"
    default_descending: bool = False
    fts: bool = False
    # Columns that identify a row for humans (copy, details title).
    key_columns: tuple[str, ...] = field(default=())
    # A column holding hashed promo codes (the audit log's target): a search also finds the
    # rows that name the hash of the text typed (store.audit.hash_code).
    hashed_search: str = ""
    # Filters served in the default order by an index of their own (filter, default sort):
    # the first page of a filter whose rows cluster somewhere in that order (a vendor's codes
    # share a prefix) is then one index range, not a walk past the other rows.
    sorted_filters: tuple[str, ...] = ()
    # The same for other orders: (filter, sort column) pairs with an index of their own. A
    # status under a sort by date otherwise walks past every code without that date (they
    # all sort first), or sorts every matching code.
    filters_by: tuple[tuple[str, str], ...] = ()
    # Indexes for look-ups other than sorting and filtering: (name, columns). The columns after
    # the first are the ones the look-up reads, so it never visits the table's rows.
    lookup_indexes: tuple[tuple[str, str], ...] = ()

    def indexed_filters(self, sort: str) -> set[str]:
        """Filters with an index of their own in the order of `sort`."""
        found = set(self.sorted_filters) if sort == self.default_sort else set()
        return found | {name for name, order in self.filters_by if order == sort}

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def fts_table(self) -> str:
        return f"fts_{self.name}"

    def derived_indexes(self) -> dict[str, str]:
        """Index name -> column(s), for every sortable or filterable column (and look-up).

        Built after the data lands (see store.indexer) so that a million-row import does not pay
        for them row by row; SQLite keeps them current afterwards.
        """
        wanted: list[str] = []
        for column in self.columns:
            if column.sortable and column.name != "id":
                wanted.append(column.name)
        for name in (*self.filter_columns, *self.prefix_search_columns):
            # (a filter with an index of its own in the default order needs no other one)
            if name not in wanted and name not in self.sorted_filters:
                wanted.append(name)
        indexes = {f"ix_{self.name}__{name}": name for name in wanted}
        for name in self.sorted_filters:
            indexes[f"ix_{self.name}__{name}__{self.default_sort}"] = f"{name}, {self.default_sort}"
        for name, order in self.filters_by:
            indexes[f"ix_{self.name}__{name}__{order}"] = f"{name}, {order}"
        for name, columns in self.lookup_indexes:
            indexes[f"ix_{self.name}__{name}"] = columns
        return indexes


def _count(name: str, label: str) -> Column:
    return Column(name, label, "count")


ID = Column("id", "#", "int", visible=False)
ACCOUNT = Column("account_id", "Source", "int", sortable=False, visible=False)

OPTIMOVE_PROMOTIONS = TableSpec(
    name="optimove_promotions",
    columns=(
        ID,
        ACCOUNT,
        Column("promotion_id", "Promotion ID"),
        Column("name", "Name"),
        Column("code", "Promotion code"),
        Column("state", "State"),
        _count("promocode_count", "Promocodes"),
        _count("allocation_count", "Allocations"),
        Column("updated_at", "Updated", "datetime"),
        Column("description", "Description", visible=False),
        Column("as_of", "As of", "datetime", visible=False),
    ),
    search_columns=("promotion_id", "name", "code"),
    filter_columns=("account_id", "state"),
    default_sort="promotion_id",
    key_columns=("promotion_id",),
)

OPTIMOVE_PROMOCODES = TableSpec(
    name="optimove_promocodes",
    columns=(
        ID,
        ACCOUNT,
        Column("promocode_id", "Promocode ID"),
        Column("promotion_id", "Promotion"),
        Column("code_type", "Type"),
        Column("global_code", "Global code"),
        Column("default_code", "Default code"),
        Column("allocation_method", "Allocation"),
        Column("hidden", "Hidden", "flag"),
        _count("file_count", "Files"),
        Column("pool_size", "Pool", "count", nullable=True),
        Column("available", "Left", "count", nullable=True),
        _count("allocation_count", "Allocated"),
        Column("campaigns", "Campaigns", visible=False),
        Column("state", "State", visible=False),
        Column("as_of", "As of", "datetime", visible=False),
    ),
    search_columns=("promocode_id", "global_code"),
    filter_columns=("account_id", "promotion_id"),
    default_sort="promocode_id",
    key_columns=("promocode_id",),
)

OPTIMOVE_CODE_FILES = TableSpec(
    name="optimove_code_files",
    columns=(
        ID,
        ACCOUNT,
        Column("file_id", "File ID"),
        Column("file_name", "File name"),
        Column("promocode_id", "Promocode"),
        Column("code_count", "Codes", "count", nullable=True),
        _count("allocation_count", "Allocated"),
        Column("uploaded_at", "Uploaded", "datetime"),
        Column("as_of", "As of", "datetime", visible=False),
    ),
    search_columns=("file_id", "file_name"),
    filter_columns=("account_id", "promocode_id"),
    default_sort="file_id",
    key_columns=("file_id",),
)

OPTIMOVE_POOL_CODES = TableSpec(
    name="optimove_pool_codes",
    columns=(
        ID,
        ACCOUNT,
        Column("code", "Code"),
        Column("file_id", "File"),
    ),
    search_columns=("code",),
    filter_columns=("account_id", "file_id"),
    default_sort="code",
    fts=True,
    key_columns=("code",),
)


def allocation_group_sql(alias: str = "") -> str:
    """An allocation's account, promocode and file as one text: what its counts are kept by
    (optimove_allocation_counts), for reconciliation to count redeemed allocations by as they
    go by, one text being cheaper to compare than three. (No id holds a char(31): every
    import refuses control characters.)"""
    table = f"{alias}." if alias else ""
    return f"{table}account_id || char(31) || {table}promocode_id || char(31) || {table}file_id"


OPTIMOVE_ALLOCATIONS = TableSpec(
    name="optimove_allocations",
    columns=(
        ID,
        ACCOUNT,
        Column("unique_code", "Code"),
        Column("customer_id", "Customer ID"),
        Column("allocated_at", "Allocated", "datetime"),
        Column("file_id", "File"),
        Column("promocode_id", "Promocode"),
        Column("promotion_id", "Promotion"),
        Column("occurence_id", "Occurrence", "int"),
        Column("series_id", "Series", "int"),
        Column("action_id", "Action", "int"),
    ),
    search_columns=("unique_code",),
    prefix_search_columns=("customer_id",),
    filter_columns=("account_id", "promocode_id", "file_id"),
    default_sort="allocated_at",
    default_descending=True,  # newest allocations first
    fts=True,
    key_columns=("unique_code", "customer_id"),
    # Reconciliation (store/reconcile.py): the allocations of a redeemed code, by its match key
    # (schema version 4), with all that matching reads of them, its group worked out once
    # here (SQLite reads an indexed expression from the index, if the expression's columns
    # are in it too).
    lookup_indexes=(
        (
            "match_key",
            f"{allocation_key_sql()}, customer_id, allocated_at, {allocation_group_sql()}, "
            "promotion_id, code_key, unique_code, account_id, promocode_id, file_id",
        ),
    ),
)

OPTIMOVE_LEGACY_PROMOTIONS = TableSpec(
    name="optimove_legacy_promotions",
    columns=(
        ID,
        ACCOUNT,
        Column("promo_code", "Promo code"),
        Column("promotion_name", "Promotion"),
        Column("state", "State", visible=False),
        Column("as_of", "As of", "datetime", visible=False),
    ),
    search_columns=("promo_code", "promotion_name"),
    filter_columns=("account_id",),
    default_sort="promo_code",
    key_columns=("promo_code",),
)

OPTIMOVE_LEGACY_CODES = TableSpec(
    name="optimove_legacy_codes",
    columns=(
        ID,
        ACCOUNT,
        Column("promo_code", "Promo code"),
        Column("for_date", "Date"),
        Column("campaign_id", "Campaign", "int"),
        Column("target_group_id", "Target group", "int"),
        Column("recipient_group_id", "Recipient group", "int"),
        Column("action_id", "Action", "int"),
        Column("as_of", "As of", "datetime", visible=False),
    ),
    search_columns=("promo_code",),
    filter_columns=("account_id", "for_date", "campaign_id", "target_group_id"),
    default_sort="promo_code",
    key_columns=("promo_code",),
)

ALTCRAFT_PROGRAMS = TableSpec(
    name="altcraft_programs",
    columns=(
        ID,
        ACCOUNT,
        Column("loyalty_id", "Loyalty ID"),
        # Altcraft has no API that names loyalty programs, so there is nothing to show yet.
        Column("name", "Program", visible=False),
        _count("code_count", "Codes"),
        _count("available_count", "Available"),
        _count("attached_count", "Attached"),
        _count("activated_count", "Activated"),
        _count("expired_count", "Expired"),
        Column("as_of", "As of", "datetime", visible=False),
    ),
    search_columns=("loyalty_id", "name"),
    filter_columns=("account_id",),
    default_sort="loyalty_id",
    key_columns=("loyalty_id",),
)

ALTCRAFT_CODES = TableSpec(
    name="altcraft_codes",
    columns=(
        ID,
        ACCOUNT,
        Column("code", "Code"),
        Column("status", "Status"),
        Column("loyalty_id", "Loyalty ID"),
        Column("created", "Created", "datetime"),
        Column("attached", "Attached", "datetime"),
        Column("activated", "Activated", "datetime"),
        Column("expire_date", "Expires", "datetime", expiry=True),
        Column("expired", "Expired", "datetime"),
        Column("profile_id", "Profile"),
        Column("database_id", "Database", "int"),
        Column("as_of", "As of", "datetime", visible=False),
    ),
    search_columns=("code",),
    prefix_search_columns=("profile_id",),
    filter_columns=("account_id", "loyalty_id", "status"),
    default_sort="code",
    fts=True,
    key_columns=("code",),
)

IMPACT_PROGRAMS = TableSpec(
    name="impact_programs",
    columns=(
        ID,
        ACCOUNT,
        Column("campaign_id", "Program ID"),
        Column("name", "Program"),
        _count("code_count", "Codes"),
        _count("active_count", "Active"),
        _count("partner_count", "Partners"),
        Column("as_of", "As of", "datetime", visible=False),
    ),
    search_columns=("campaign_id", "name"),
    filter_columns=("account_id",),
    default_sort="name",
    key_columns=("campaign_id",),
)

IMPACT_CODES = TableSpec(
    name="impact_codes",
    columns=(
        ID,
        ACCOUNT,
        Column("code", "Code"),
        Column("status", "State"),
        Column("partner_name", "Partner"),
        Column("partner_id", "Partner ID"),
        Column("campaign_name", "Program"),
        Column("credit_policy", "Credit policy"),
        Column("code_type", "Match"),
        Column("start_date", "Starts", "datetime"),
        Column("end_date", "Ends", "datetime", expiry=True),
        Column("created_date", "Created", "datetime"),
        Column("deal_name", "Deal"),
        Column("promo_code_id", "impact ID", "int"),
        Column("campaign_id", "Program ID", visible=False),
        Column("as_of", "As of", "datetime", visible=False),
    ),
    search_columns=("code",),
    prefix_search_columns=("partner_name", "partner_id"),
    filter_columns=("account_id", "campaign_id", "status"),
    default_sort="code",
    fts=True,
    key_columns=("code",),
)

# The audit log (store.audit): every change made through promodesk, newest first. Not one of
# the vendor tables (ALL_TABLES: merged, indexed), but it pages, sorts and filters the same way.
AUDIT_LOG = TableSpec(
    name="audit_log",
    columns=(
        ID,
        Column("account_id", "Source", "int", sortable=False, visible=False),
        Column("at", "When", "datetime"),
        Column("vendor", "Vendor"),
        Column("account", "Account"),
        Column("operation", "Change"),
        Column("target", "Of"),
        Column("outcome", "Outcome"),
        Column("message", "What happened"),
        Column("inputs", "Inputs", sortable=False),
    ),
    search_columns=("target",),
    filter_columns=("account", "operation", "vendor", "outcome"),
    default_sort="id",
    default_descending=True,
    key_columns=("at", "operation", "target"),
    hashed_search="target",
)

ALL_TABLES: tuple[TableSpec, ...] = (
    OPTIMOVE_PROMOTIONS,
    OPTIMOVE_PROMOCODES,
    OPTIMOVE_CODE_FILES,
    OPTIMOVE_POOL_CODES,
    OPTIMOVE_ALLOCATIONS,
    OPTIMOVE_LEGACY_PROMOTIONS,
    OPTIMOVE_LEGACY_CODES,
    ALTCRAFT_PROGRAMS,
    ALTCRAFT_CODES,
    IMPACT_PROGRAMS,
    IMPACT_CODES,
)

# Every code of every vendor and account in one table (All codes), derived from the tables
# above by store/inventory.py. Not a vendor table: merges and imports never write it.
# Its search goes through the vendor tables' own trigram indexes (query.py), so the codes are
# not indexed twice.
CODE_INVENTORY = TableSpec(
    name="code_inventory",
    columns=(
        ID,
        Column("account_id", "Account", "text", sortable=False),  # (shown by its name)
        Column("vendor", "Vendor"),
        Column("code", "Code"),
        Column("status", "Status"),
        Column("vendor_state", "Vendor's state", sortable=False),
        Column("program", "Promotion / program"),
        Column("pool", "Pool"),
        Column("holder", "Customer / partner"),
        Column("given_at", "Given", "datetime"),
        Column("used_at", "Used", "datetime", sortable=False),
        Column("expires_at", "Expires", "datetime", expiry=True),
        Column("source", "Table", "int", sortable=False, visible=False),
        Column("source_id", "Row", "int", sortable=False, visible=False),
        Column("code_key", "Same as", sortable=False, visible=False),
    ),
    search_columns=("code",),
    prefix_search_columns=("holder",),
    filter_columns=("account_id", "vendor", "status", "program", "pool", "code_key"),
    default_sort="code",
    key_columns=("code",),
    sorted_filters=("account_id", "vendor", "status"),
    filters_by=(
        ("status", "given_at"),
        ("status", "expires_at"),
        ("vendor", "given_at"),
        ("vendor", "expires_at"),
    ),
)

# Tables derived from the vendor tables: the index builder keeps them and their indexes.
DERIVED_TABLES: tuple[TableSpec, ...] = (CODE_INVENTORY,)
INDEXED_TABLES: tuple[TableSpec, ...] = ALL_TABLES + DERIVED_TABLES

TABLES_BY_NAME = {spec.name: spec for spec in INDEXED_TABLES}
