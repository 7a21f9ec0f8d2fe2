"""Text that came from outside (files, vendors, file names): control characters refused in
data, and shown safely, so that a terminal never receives an escape sequence, a carriage
return or a line break that came from a file."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath

# C0 controls, DEL and C1 controls: Unicode's "Cc" category.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_TAB = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")

# Shown escaped besides the controls: characters that reorder or break the line around them
# (bidirectional overrides, line and paragraph separators) and undecodable bytes of a file
# name (Python keeps them as lone surrogates U+DC80..U+DCFF).
_SHOWN_ESCAPED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def control_character_at(text: str, *, allow_tab: bool = False) -> int:
    """The position of the first control character in `text`, or -1 when there is none."""
    if text.isprintable():  # C speed, and true for almost all data
        return -1
    found = (_CONTROL_BUT_TAB if allow_tab else _CONTROL).search(text)
    return found.start() if found else -1


def describe_control_character(text: str, position: int) -> str:
    character = text[position]
    name = {"\x00": "NUL", "\t": "tab", "\n": "line break", "\r": "carriage return"}.get(
        character, "ESC" if character == "\x1b" else ""
    )
    label = f"U+{ord(character):04X}" + (f", {name}" if name else "")
    return f"an invisible control character ({label}) at position {position + 1}"


def refuse_control_characters(text: str, *, allow_tab: bool = False) -> str:
    """`text` unchanged, or ValueError naming the first control character in it."""
    position = control_character_at(text, allow_tab=allow_tab)
    if position >= 0:
        raise ValueError(f"contains {describe_control_character(text, position)}")
    return text


def printable(text: str) -> str:
    """`text` with every character a terminal or a log would act on shown as an escape
    (ESC as \\x1b, a line break as \\n, an undecodable byte of a file name as \\xff)."""
    if text.isprintable():
        return text
    return "".join(_escaped(character) for character in text)


def _escaped(character: str) -> str:
    if character in _SHOWN_ESCAPED:
        return _SHOWN_ESCAPED[character]
    code = ord(character)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if character.isprintable() or unicodedata.category(character) == "Zs":
        return character
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def file_label(path: PurePath | str) -> str:
    """A file's name as text that can be stored and shown: bytes that are not UTF-8 (a name
    from an old archive or another system) become \\xNN instead of breaking the text."""
    return storable(PurePath(path).name)


def storable(text: str) -> str:
    """`text` as valid UTF-8 text: a file name's undecodable bytes (which Python keeps as
    lone surrogates) become \\xNN; SQLite and Qt refuse lone surrogates."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
        return raw.decode("utf-8", "backslashreplace")
    return text
