"""One line of a code file: what is wrong with it, and the code it holds once cleaned.

Most lines of most files are plain codes (letters, digits, `-`, `_`, `.`, `~`), and a chunk made
only of such lines is recognised with a few C-speed string operations (`chunk_is_clean`). Only
the other lines go through `analyse`, one by one.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Sequence
from typing import Protocol

from promodesk.codefiles.problems import Effect, Problem, ProblemKind
from promodesk.codefiles.reading import LONGEST_LINE, LineChunk
from promodesk.codefiles.rules import CodeRules
from promodesk.domain.codes import fold_code

# Characters that stay themselves in a link (RFC 3986 "unreserved"). Every other ASCII
# character is escaped, cut off or reinterpreted somewhere: `%` starts an escape, `/` a path,
# `?` a query, `#` a fragment, `&`/`=` split parameters, `+` becomes a space.
URL_SAFE_ASCII = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DIRTY_CHARACTER = re.compile(r"[^A-Za-z0-9._~\n-]")
# Excel shows long numbers as 1.23457E+11 and saves them that way: the code is lost.
_SCIENTIFIC = re.compile(r"[0-9](?:[.,][0-9]+)?[eE][+-][0-9]{1,3}")
_SCIENTIFIC_LINE = re.compile(r"^[0-9](?:\.[0-9]+)?[eE][+-][0-9]{1,3}$", re.MULTILINE)
_SEPARATORS = (",", ";", "\t")
# Characters that show as nothing (or as blank) but are not whitespace to str.strip().
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# A first line like these is a column title, not a code.
HEADER_WORDS = frozenset(
    {
        "code",
        "codes",
        "promocode",
        "promocodes",
        "couponcode",
        "couponcodes",
        "coupon",
        "coupons",
        "voucher",
        "vouchers",
        "vouchercode",
        "vouchercodes",
        "uniquecode",
        "uniquecodes",
        "discountcode",
        "discountcodes",
        "promotioncode",
        "promotioncodes",
        "промокод",
        "промокоды",
        "код",
        "коды",
    }
)
_HEADER_NOISE = re.compile(r"[\s_\-.]")
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def chunk_is_clean(text: str, lines: list[str], max_length: int) -> bool:
    """True when every line is a plain code of an allowed length (no per-line Python)."""
    return not (
        _DIRTY_CHARACTER.search(text)
        or "\n\n" in text
        or not lines[0]
        or not lines[-1]
        or _SCIENTIFIC_LINE.search(text)
        or max(map(len, lines)) > max_length
    )


def analyse(raw: str, line: int, rules: CodeRules) -> tuple[str | None, list[Problem]]:
    """The code on one line (None when the line holds none to keep) and its problems."""
    problems: list[Problem] = []

    def note(kind: ProblemKind, detail: str, effect: Effect = Effect.REPAIRED) -> None:
        problems.append(Problem(line, kind, detail, raw, effect))

    if "\ufffd" in raw:
        note(
            ProblemKind.ENCODING,
            "bytes on this line are not text in the file's encoding: the code cannot be read",
            Effect.REFUSED,
        )
        return None, problems
    text = raw
    invisible = [character for character in text if _is_invisible(character)]
    if invisible:
        text = "".join(character for character in text if not _is_invisible(character))
        note(
            ProblemKind.INVISIBLE,
            f"invisible character{'s' if len(invisible) > 1 else ''} removed: "
            + ", ".join(dict.fromkeys(_describe(character) for character in invisible)),
        )
    if not text.strip():
        held = " (it holds only invisible characters)" if invisible else ""
        held = held or (" (it holds only spaces)" if raw else "")
        return None, [
            Problem(line, ProblemKind.EMPTY_LINE, f"the line is empty{held}", raw, Effect.DROPPED)
        ]
    text = _trimmed(text, "", note)
    if _SCIENTIFIC.fullmatch(text):
        return None, _scientific(text, problems, note)
    if text.startswith(("'", '"')) or any(separator in text for separator in _SEPARATORS):
        cells = _cells(text)
        if cells is None:
            note(ProblemKind.QUOTED, "an opening quote is never closed", Effect.REFUSED)
            return None, problems
        extra = [cell for cell in cells[1:] if cell.strip()]
        if extra:
            shown = ", ".join(repr(cell[:20]) for cell in extra[:3])
            note(
                ProblemKind.EXTRA_COLUMNS,
                f"{len(cells)} columns (more after the code: {shown}); a code list has one code "
                "per line",
                Effect.REFUSED,
            )
            return None, problems
        if len(cells) > 1:
            note(ProblemKind.EXTRA_COLUMNS, "empty extra columns after the code (removed)")
        first = cells[0]
        if _is_quoted(text):
            note(ProblemKind.QUOTED, "the code is in quotes (removed)")
            first = first[1:-1] if first[:1] == "'" else first
        text = _trimmed(first, "inside the quotes ", note)
        if not text:
            note(ProblemKind.EMPTY_LINE, "the line holds no code", Effect.DROPPED)
            return None, problems
        if _SCIENTIFIC.fullmatch(text):
            return None, _scientific(text, problems, note)
    if line == 1 and not rules.header_allowed and _is_header(text):
        note(
            ProblemKind.HEADER,
            f"a header row ({text[:40]!r}): {rules.name} code lists have no header, so it "
            "would be taken for a code",
            Effect.REFUSED,
        )
        return None, problems
    refused = False
    if len(text) > rules.max_code_length:
        shown = f"{len(text):,}+" if len(raw) >= LONGEST_LINE else f"{len(text):,}"
        note(
            ProblemKind.TOO_LONG,
            f"{shown} characters; {rules.name} takes at most {rules.max_code_length}",
            Effect.REFUSED,
        )
        refused = True
    unsafe = _url_unsafe(text)
    if unsafe:
        note(
            ProblemKind.URL_UNSAFE,
            f"contains {unsafe}: characters that change or break the code in a link",
            Effect.REFUSED,
        )
        refused = True
    lookalike = _mixed_scripts(text)
    if lookalike:
        note(ProblemKind.LOOKALIKE, lookalike, Effect.REFUSED)
        refused = True
    return (None if refused else text), problems


def _is_invisible(character: str) -> bool:
    if character == "\t":
        return False  # a column separator, dealt with as such
    if character in _BLANK_LOOKING:
        return True
    return unicodedata.category(character) in ("Cf", "Cc")


def _describe(character: str) -> str:
    name = unicodedata.name(character, "")
    if not name:
        name = {"\r": "carriage return", "\x1a": "end-of-file mark (Ctrl+Z)"}.get(
            character, "control character"
        )
    return f"{name.lower()} (U+{ord(character):04X})"


def _trimmed(text: str, where: str, note: _Note) -> str:
    stripped = text.strip()
    if stripped != text:
        odd = {character for character in text if character.isspace() and character not in " \t"}
        kind_of_space = "non-breaking or other special spaces" if odd else "spaces"
        note(ProblemKind.WHITESPACE, f"{kind_of_space} {where}around the code (removed)")
    return stripped


def _scientific(text: str, problems: list[Problem], note: _Note) -> list[Problem]:
    note(
        ProblemKind.SCIENTIFIC_NOTATION,
        f"{text} is a number a spreadsheet turned into scientific notation: the real code is "
        "lost; format the column as Text before typing or pasting the codes",
        Effect.REFUSED,
    )
    return problems


def _cells(text: str) -> list[str] | None:
    delimiter = max(_SEPARATORS, key=text.count)
    if text.count(delimiter) == 0:
        delimiter = ","
    if text.startswith('"') and text.count('"') % 2:
        return None
    if text.startswith("'") and len(text) > 1 and text.endswith("'"):
        cells = [text]  # 'CODE': quoted the spreadsheet way; nothing to split
    else:
        cells = next(csv.reader([text], delimiter=delimiter, skipinitialspace=True), [""])
    return cells or [""]


def _is_quoted(text: str) -> bool:
    return (text.startswith('"') and text.count('"') >= 2) or (
        len(text) > 1 and text.startswith("'") and text.endswith("'")
    )


def _is_header(text: str) -> bool:
    return _HEADER_NOISE.sub("", fold_code(text)) in HEADER_WORDS


def _url_unsafe(text: str) -> str:
    found = [
        character
        for character in dict.fromkeys(text)
        if (character.isascii() and character not in URL_SAFE_ASCII) or character.isspace()
    ]
    if not found:
        return ""
    named = [
        "a space"
        if character == " "
        else f"a special space ({_describe(character)})"
        if character.isspace()
        else repr(character)
        for character in found[:4]
    ]
    return ", ".join(named) + (" and more" if len(found) > 4 else "")


def _mixed_scripts(text: str) -> str:
    """Letters from two scripts that share shapes (Latin C and Cyrillic С), or compatibility
    forms (fullwidth Ａ, ligatures) that only look like the plain characters."""
    scripts: dict[str, str] = {}
    for character in text:
        if character.isascii():
            if character.isalpha():
                scripts.setdefault("LATIN", character)
            continue
        plain = unicodedata.normalize("NFKC", character)
        if plain != character and plain.isascii() and not character.isspace():
            return (
                f"{character!r} ({_describe(character)}) looks like {plain!r} but is another "
                "character: customers typing the code will not match it"
            )
        if character.isalpha():
            script = unicodedata.name(character, "").split(" ")[0]
            if script in _SCRIPTS:
                scripts.setdefault(script, character)
    if len(scripts) < 2:
        return ""
    minority = next(script for script in scripts if script != "LATIN") if "LATIN" in scripts else ""
    names = " and ".join(script.title() for script in scripts)
    example = scripts[minority] if minority else next(iter(scripts.values()))
    return (
        f"mixes {names} letters, which look alike but differ ({example!r} is "
        f"{unicodedata.name(example, '?').title()}): customers typing the code will not match it"
    )


class _Note(Protocol):
    """The shape of `analyse`'s local `note` (for the helpers' signatures)."""

    def __call__(
        self, kind: ProblemKind, detail: str, effect: Effect = Effect.REPAIRED
    ) -> None: ...


_CLEAN_LINE = re.compile(r"[A-Za-z0-9._~-]+")


def codes_in(chunk: LineChunk, rules: CodeRules) -> tuple[Sequence[int], list[str], list[Problem]]:
    """The codes a chunk of lines holds, cleaned, with their line numbers, and the problems of
    its lines. A chunk of plain codes costs no Python per line."""
    lines, start, text = chunk.lines, chunk.first_line, chunk.text
    problems: list[Problem] = []
    keys: list[int] = []
    codes: list[str] = []
    if start == 1:  # the first line may be a header: always look at it closely
        code, found = analyse(lines[0], 1, rules)
        problems.extend(found)
        if code is not None:
            keys.append(1)
            codes.append(code)
        lines, start, text = lines[1:], 2, text[len(lines[0]) + 1 :]
        if not lines:
            return keys, codes, problems
    if chunk_is_clean(text, lines, rules.max_code_length):
        if not codes:
            return range(start, start + len(lines)), lines, problems
        return [*keys, *range(start, start + len(lines))], [*codes, *lines], problems
    limit = rules.max_code_length
    for line, raw in enumerate(lines, start):
        if len(raw) <= limit and _CLEAN_LINE.fullmatch(raw) and not _SCIENTIFIC.fullmatch(raw):
            keys.append(line)
            codes.append(raw)
            continue
        code, found = analyse(raw, line, rules)
        problems.extend(found)
        if code is not None:
            keys.append(line)
            codes.append(code)
    return keys, codes, problems
