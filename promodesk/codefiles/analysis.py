"""One line of a code file: what is wrong with it, and the code it holds once cleaned.

Most lines of most files are plain codes (letters, digits, `-`, `_`, `.`, `~`), and a chunk made
only of such lines is recognised with a few C-speed string operations (`dirty_lines`); only the
other lines go through `analyse`, one by one, and the clean ones between them are taken whole.
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
from promodesk.domain.codes import fold_code, is_invisible

# Characters that stay themselves in a link (RFC 3986 "unreserved"). Every other ASCII
# character is escaped, cut off or reinterpreted somewhere: `%` starts an escape, `/` a path,
# `?` a query, `#` a fragment, `&`/`=` split parameters, `+` becomes a space.
URL_SAFE_ASCII = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DIRTY_CHARACTER = re.compile(r"[^A-Za-z0-9._~\n-]")
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9._~-]")
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # (a tab separates columns)
# Excel shows long numbers as 1.23457E+11 and saves them that way: the code is lost. (It writes
# E- only for tiny fractions, which are no codes; "1.5E-3" may well be a real code.) The `+`
# makes such a line dirty, so plain chunks need no look for it.
_SCIENTIFIC = re.compile(r"[0-9](?:[.,][0-9]+)?[eE]\+[0-9]{1,3}")
_SEPARATORS = (",", ";", "\t")
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


def dirty_lines(text: str, lines: list[str], max_length: int) -> list[int]:
    """Indexes (ascending) of the lines that are not plain codes of an allowed length: a C
    search jumps from one such line to the next; plain lines cost no Python at all."""
    dirty: set[int] = set()
    position = index = 0
    while match := _DIRTY_CHARACTER.search(text, position):
        start = match.start()
        index += text.count("\n", position, start)
        dirty.add(index)
        position = text.find("\n", start)
        if position < 0:
            break
    position = index = 0
    while (gap := text.find("\n\n", position)) >= 0:
        index += text.count("\n", position, gap) + 1
        dirty.add(index)
        position = gap + 1
    if not lines[0]:
        dirty.add(0)
    if not lines[-1]:
        dirty.add(len(lines) - 1)
    if max(map(len, lines)) > max_length:
        dirty.update(number for number, line in enumerate(lines) if len(line) > max_length)
    return sorted(dirty)


def analyse(raw: str, line: int, rules: CodeRules) -> tuple[str | None, list[Problem]]:
    """The code on one line (None when the line holds none to keep) and its problems."""
    if line > 1:  # (line 1 may be a header)
        quick = _padded_or_quoted(raw, line, rules.max_code_length)
        if quick is not None:
            return quick
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
    ascii_only = text.isascii()  # most lines: regular expressions instead of loops
    if ascii_only:
        invisible = _ASCII_CONTROL.findall(text)
    else:
        invisible = [character for character in text if is_invisible(character)]
    if invisible:
        text = "".join(character for character in text if not is_invisible(character))
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
            note(ProblemKind.QUOTED, _QUOTED_DETAIL)
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
    unsafe = _url_unsafe(text, ascii_only)
    if unsafe:
        note(
            ProblemKind.URL_UNSAFE,
            f"contains {unsafe}: characters that change or break the code in a link",
            Effect.REFUSED,
        )
        refused = True
    lookalike = "" if ascii_only else _mixed_scripts(text)
    if lookalike:
        note(ProblemKind.LOOKALIKE, lookalike, Effect.REFUSED)
        refused = True
    return (None if refused else text), problems


def _describe(character: str) -> str:
    name = unicodedata.name(character, "")
    if not name:
        name = {"\r": "carriage return", "\x1a": "end-of-file mark (Ctrl+Z)"}.get(
            character, "control character"
        )
    return f"{name.lower()} (U+{ord(character):04X})"


def _spaces_detail(special: bool, where: str = "") -> str:
    kind_of_space = "non-breaking or other special spaces" if special else "spaces"
    return f"{kind_of_space} {where}around the code (removed)"


_QUOTED_DETAIL = "the code is in quotes (removed)"
_SPACES_DETAIL = _spaces_detail(False)
_PLAIN_CODE = re.compile(r"[A-Za-z0-9._~-]+")


def _padded_or_quoted(raw: str, line: int, max_length: int) -> tuple[str, list[Problem]] | None:
    """The two ways whole files get damaged (every code padded with spaces, or quoted), in
    a few C calls; None for anything else. Same verdicts as the long way."""
    core = raw.strip(" \t")
    problems = []
    if core != raw:
        problems.append(Problem(line, ProblemKind.WHITESPACE, _SPACES_DETAIL, raw, Effect.REPAIRED))
    if len(core) > 2 and core[0] == '"' and core[-1] == '"':
        core = core[1:-1]
        problems.append(Problem(line, ProblemKind.QUOTED, _QUOTED_DETAIL, raw, Effect.REPAIRED))
    if problems and len(core) <= max_length and _PLAIN_CODE.fullmatch(core):
        return core, problems
    return None


def _trimmed(text: str, where: str, note: _Note) -> str:
    stripped = text.strip()
    if stripped != text:
        special = not text.isascii() and any(
            character.isspace() and character not in " \t" for character in text
        )
        note(ProblemKind.WHITESPACE, _spaces_detail(special, where))
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


def _url_unsafe(text: str, ascii_only: bool) -> str:
    if ascii_only:
        found = list(dict.fromkeys(_ASCII_UNSAFE.findall(text)))
    else:
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


def codes_in(chunk: LineChunk, rules: CodeRules) -> tuple[Sequence[int], list[str], list[Problem]]:
    """The codes a chunk of lines holds, cleaned, with their line numbers, and the problems of
    its lines. Plain lines are taken a run at a time (list slices, in C)."""
    lines, start, text = chunk.lines, chunk.first_line, chunk.text
    dirty = dirty_lines(text, lines, rules.max_code_length)
    if start == 1 and (not dirty or dirty[0] != 0):
        dirty.insert(0, 0)  # the first line may be a header: always look at it closely
    if not dirty:
        return range(start, start + len(lines)), lines, []
    problems: list[Problem] = []
    keys: list[int] = []
    codes: list[str] = []
    taken = 0
    for index in dirty:
        if index > taken:
            codes.extend(lines[taken:index])
            keys.extend(range(start + taken, start + index))
        code, found = analyse(lines[index], start + index, rules)
        problems.extend(found)
        if code is not None:
            codes.append(code)
            keys.append(start + index)
        taken = index + 1
    codes.extend(lines[taken:])
    keys.extend(range(start + taken, start + len(lines)))
    return keys, codes, problems
