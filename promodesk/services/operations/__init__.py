"""Every vendor operation, declared once per vendor (see base.Operation), and the executor
that runs any of them. The window's menus and forms, the bulk runner, `promodesk do` and the
tests are all built from `OPERATIONS`."""

from __future__ import annotations

from promodesk.domain.vendors import Vendor
from promodesk.services.operations import altcraft, impact, optimove
from promodesk.services.operations.base import Operation

OPERATIONS: dict[Vendor, dict[str, Operation]] = {
    vendor: {operation.name: operation for operation in table}
    for vendor, table in (
        (Vendor.OPTIMOVE, optimove.OPERATIONS),
        (Vendor.ALTCRAFT, altcraft.OPERATIONS),
        (Vendor.IMPACT, impact.OPERATIONS),
    )
}


def operation(vendor: Vendor, name: str) -> Operation:
    """The operation `name` of `vendor`; KeyError names the ones there are."""
    table = OPERATIONS[vendor]
    if name not in table:
        raise KeyError(
            f"{vendor.display_name} has no operation {name!r} (there are: "
            f"{', '.join(sorted(table))})"
        )
    return table[name]
