"""Tell what a dropped file is from its content (the extension is only a hint for messages)."""

from __future__ import annotations

import codecs
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from promodesk.domain.records import ALLOCATION_COLUMNS
from promodesk.store.db import is_sqlite_file
from promodesk.store.importers.base import ImportFileError, ImportKind, open_regular

HEAD_BYTES = 64 * 1024

_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (
        b"PK\x03\x04",
        "an Excel workbook or ZIP archive: save the sheet as CSV (UTF-8) and import that",
    ),
    (
        b"\xd0\xcf\x11\xe0",
        "an old Excel/Office document: save the sheet as CSV (UTF-8) and import that",
    ),
    (b"\x1f\x8b", "a compressed (.gz) file: unpack it first"),
    (b"%PDF", "a PDF document, not a data export"),
    (b"\x89PNG", "a PNG image, not a data export"),
    (b"\xff\xd8\xff", "a JPEG image, not a data export"),
    (b"GIF8", "a GIF image, not a data export"),
)

_XML_ROOT = re.compile(r"<([A-Za-z_][\w.\-]*)")
_JSON_IMPACT = re.compile(r'"(PromoCodes|@numpages|@page)"\s*:')
_JSON_ALTCRAFT = re.compile(r'"(data|error_text)"\s*:')
_JSON_KEY = re.compile(r'"([^"\\]{1,40})"\s*:')

_IMPACT_ROOT = "ImpactRadiusResponse"
_ALTCRAFT_ROOT = "xml"


@dataclass(frozen=True)
class Detected:
    kind: ImportKind
    encoding: str = "utf-8"
    delimiter: str = ","


def detect(path: Path) -> Detected:
    path = Path(path)
    with open_regular(path) as handle:  # a folder, a FIFO or a device is refused unopened
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(HEAD_BYTES)
    if size == 0:
        raise ImportFileError(path, "the file is empty (0 bytes)")
    if is_sqlite_file(head):
        return Detected(ImportKind.WORKSPACE)
    for signature, what in _BINARY_SIGNATURES:
        if head.startswith(signature):
            raise ImportFileError(path, f"this is {what}")

    encoding = "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif b"\x00" in head:
        raise ImportFileError(
            path,
            "this is a binary file, not a text export",
            line=_line_of(head, head.index(b"\x00")),
        )
    text = _decode_head(path, head, encoding, complete=len(head) == size)
    stripped = text.lstrip()
    if not stripped:
        raise ImportFileError(path, "the file contains only blank space")
    if stripped[0] in "{[":
        return _detect_json(path, stripped, encoding)
    if stripped[0] == "<":
        return _detect_xml(path, stripped, encoding)
    if len(head) < size and "\n" not in text and "\r" not in text:
        raise ImportFileError(
            path,
            f"the first line is longer than {HEAD_BYTES // 1024} KB: this is not an export "
            "promodesk reads (an allocation export starts with its column names, a code file "
            "with a code)",
            line=1,
        )
    return _detect_text(path, text, encoding)


def _decode_head(path: Path, head: bytes, encoding: str, *, complete: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        return decoder.decode(head, final=complete)
    except UnicodeDecodeError as error:
        raise bad_encoding(path, head, error.start) from None


def bad_encoding(path: Path, data: bytes, offset: int, *, lines_before: int = 0) -> ImportFileError:
    """An error that names the line of the first byte that is not UTF-8.

    `data` holds the text around `offset`; `lines_before` counts lines that precede `data`.
    """
    line = lines_before + _line_of(data, offset)
    line_start = data.rfind(b"\n", 0, offset) + 1
    line_end = data.find(b"\n", offset)
    column = offset - line_start + 1
    hint = ""
    try:
        data[line_start : line_end if line_end >= 0 else None].decode("cp1252")
        hint = " It looks like Windows-1252 (Excel's plain 'CSV'); save it as 'CSV UTF-8' instead."
    except UnicodeDecodeError:
        pass
    return ImportFileError(
        path,
        f"the text is not valid UTF-8 (byte 0x{data[offset]:02X} at column {column}).{hint}",
        line=line,
    )


def bad_encoding_at(path: Path, offset: int) -> ImportFileError:
    """`bad_encoding` for a byte anywhere in a file, counting lines without loading it all."""
    window_start = max(0, offset - (1 << 16))
    lines_before = 0
    with Path(path).open("rb") as handle:
        position = 0
        while position < window_start:
            chunk = handle.read(min(1 << 20, window_start - position))
            lines_before += chunk.count(b"\n")
            position += len(chunk)
        window = handle.read(offset - window_start + (1 << 12))
    return bad_encoding(path, window, offset - window_start, lines_before=lines_before)


def locate_bad_bytes(path: Path) -> ImportFileError:
    """The exact line of the first byte that is not UTF-8 (read again, on the error path)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open_regular(path) as handle:
        while chunk := handle.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                # The decoder prepends bytes it held back from the previous chunk.
                held_back = len(error.object) - len(chunk)
                return bad_encoding_at(path, offset - held_back + error.start)
            offset += len(chunk)
    return bad_encoding_at(path, max(0, offset - 1))


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _detect_json(path: Path, text: str, encoding: str) -> Detected:
    if encoding == "utf-16":
        raise ImportFileError(path, "JSON must be UTF-8; this file is UTF-16")
    if _JSON_IMPACT.search(text):
        return Detected(ImportKind.IMPACT_JSON, encoding)
    if _JSON_ALTCRAFT.search(text):
        return Detected(ImportKind.ALTCRAFT_JSON, encoding)
    keys = ", ".join(dict.fromkeys(_JSON_KEY.findall(text[:4000])).keys()) or "none"
    raise ImportFileError(
        path,
        "this JSON is not an Altcraft or impact.com promo-code export "
        f"(expected a 'data' or 'PromoCodes' list; top keys found: {keys[:200]})",
        line=1,
    )


def _detect_xml(path: Path, text: str, encoding: str) -> Detected:
    position = 0
    while True:
        match = _XML_ROOT.search(text, position)
        if match is None:
            raise ImportFileError(path, "this XML has no root element", line=1)
        before = text[max(0, match.start() - 1) : match.start() + 1]
        if not before.startswith(("?", "!")):
            break
        position = match.end()
    root = match.group(1)
    if root == _IMPACT_ROOT:
        return Detected(ImportKind.IMPACT_XML, encoding)
    if root == _ALTCRAFT_ROOT:
        return Detected(ImportKind.ALTCRAFT_XML, encoding)
    raise ImportFileError(
        path,
        f"this XML's root element is <{root}>: not an Altcraft (<xml>) or impact.com "
        f"(<{_IMPACT_ROOT}>) response",
        line=text.count("\n", 0, match.start()) + 1,
    )


def _detect_text(path: Path, text: str, encoding: str) -> Detected:
    first_line = text.splitlines()[0] if text.splitlines() else ""
    delimiter = max((",", ";", "\t"), key=first_line.count)
    if first_line.count(delimiter) == 0:
        return Detected(ImportKind.OPTIMOVE_UNIQUE_CODES, encoding, delimiter="")
    found = [cell.strip().strip('"').strip() for cell in first_line.split(delimiter)]
    check_allocation_header(path, found)
    return Detected(ImportKind.OPTIMOVE_ALLOCATIONS, encoding, delimiter)


def check_allocation_header(path: Path, found: list[str]) -> None:
    wanted = {name.lower(): name for name in ALLOCATION_COLUMNS}
    lowered = [name.lower() for name in found]
    present = set(lowered)
    missing = [name for key, name in wanted.items() if key not in present]
    if len(missing) == len(ALLOCATION_COLUMNS):
        raise ImportFileError(
            path,
            f"a table with the columns {_listed(found)}: not an Optimove allocation "
            f"export (its columns are {', '.join(ALLOCATION_COLUMNS)}) nor a unique-code file "
            "(one code per line, no header)",
            line=1,
        )
    if missing:
        raise ImportFileError(
            path,
            f"the Optimove allocation export is missing the column(s) {', '.join(missing)}",
            line=1,
        )
    extra = [name for name in found if name.lower() not in wanted]
    if extra:
        raise ImportFileError(
            path, f"unexpected column(s) {_listed(extra)} in an Optimove allocation export", line=1
        )
    duplicates = sorted(name for name, times in Counter(lowered).items() if times > 1)
    if duplicates:
        raise ImportFileError(path, f"the column(s) {', '.join(duplicates)} appear twice", line=1)


def _listed(names: list[str], most: int = 12) -> str:
    """Names for a message: the first few, shortened, and how many more there are."""
    shown = ", ".join(name[:40] if name.isprintable() else repr(name[:40]) for name in names[:most])
    return shown + (f" and {len(names) - most:,} more" if len(names) > most else "")
