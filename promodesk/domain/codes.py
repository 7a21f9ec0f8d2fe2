"""What makes two promo codes the same code, for every layer that compares them.

Customers type codes; most shops and vendors match them without regard to case, so `SUMMER10`
and `summer10` are one code as far as a duplicate check is concerned. The checker (codefiles),
the workspace look-up (store, in SQL) and the generator all fold codes with this one function.
"""

from __future__ import annotations

from collections.abc import Callable

# The case-insensitive form of a code: str.lower (Unicode-aware, unlike SQLite's lower()). The
# method itself, not a function around it, so that map(fold_code, codes) runs in C.
fold_code: Callable[[str], str] = str.lower
