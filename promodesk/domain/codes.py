"""What makes two promo codes the same code, for every layer that compares them.

Customers type codes; most shops and vendors match them without regard to case, so `SUMMER10`
and `summer10` are one code as far as a duplicate check is concerned. The checker (codefiles),
the workspace look-up (store, in SQL) and the generator all fold codes with this one function.

Three stronger sameness tests build on it:
- a code's *skeleton*: folded, with 0/O, 1/l/I and Cyrillic/Greek letters drawn like Latin
  ones mapped to one character (the code-file checker's look-alike test);
- its *match key* (`match_key`): folded, without invisible characters and the whitespace
  around it, which is how a redemption typed into a shop's checkout is matched with the code
  that was handed out;
- its *collision key* (`collision_key`): the skeleton of the code without invisible
  characters and with compatibility forms (fullwidth Ａ, ligatures) replaced by the plain
  ones: two live codes with the same collision key are one code to a customer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence

# The case-insensitive form of a code: str.lower (Unicode-aware, unlike SQLite's lower()). The
# method itself, not a function around it, so that map(fold_code, codes) runs in C.
fold_code: Callable[[str], str] = str.lower

# Characters drawn like others, after folding: each maps to the one it is mistaken for.
LOOKALIKES = str.maketrans(
    {
        "o": "0",
        "l": "1",
        "i": "1",
        # Cyrillic and Greek lower-case letters drawn like Latin ones (codes are folded first).
        "а": "a",
        "в": "b",
        "е": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "0",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "1",
        "α": "a",
        "β": "b",
        "ε": "e",
        "ι": "1",
        "κ": "k",
        "μ": "m",
        "ν": "v",
        "ο": "0",
        "ρ": "p",
        "τ": "t",
        "χ": "x",
    }
)
# The ASCII part of LOOKALIKES, for SQL that handles plain codes without a Python call.
ASCII_LOOKALIKES: tuple[tuple[str, str], ...] = (("o", "0"), ("l", "1"), ("i", "1"))

# Characters that show as nothing (or as blank) but are not whitespace to str.strip().
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def is_invisible(character: str) -> bool:
    """A character that shows as nothing: format and control characters (zero-width space,
    BOM, soft hyphen, CR...) and the few letters drawn blank. A tab is not one: it separates
    columns, and is dealt with as such."""
    if character == "\t":
        return False
    if character in _BLANK_LOOKING:
        return True
    return unicodedata.category(character) in ("Cf", "Cc")


def skeletons(codes: Sequence[str]) -> list[str]:
    """One string operation over the whole batch (C speed), not a Python call per code."""
    if not codes:
        return []
    return fold_code("\n".join(codes)).translate(LOOKALIKES).split("\n")


def _visible(code: str) -> str:
    if code.isascii() and code.isprintable():
        return code
    return "".join(character for character in code if not is_invisible(character))


def match_key(code: str) -> str:
    """The code as a shop compares it: case, the whitespace around it and invisible
    characters ignored."""
    return fold_code(_visible(code).strip())


def collision_key(code: str) -> str:
    """The code as a customer sees it: two codes with one key are mistaken for each other."""
    text = "".join(_visible(code).split())
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return fold_code(text).translate(LOOKALIKES)
