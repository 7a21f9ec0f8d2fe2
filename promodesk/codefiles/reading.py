"""Reading code files in whatever encoding they come in, a chunk of whole lines at a time.

`sniff()` decides how a file is read before any line is looked at: byte order marks, UTF-16
without one, binary content (workbooks, archives, NUL bytes), and, for text that is not valid
UTF-8, which legacy encoding explains it. The guess is a short fallback order, not a detector
library: code files are short ASCII-like lines, and the only legacy encodings they turn up in are
Excel's "CSV" defaults, Windows-1252 (Western) and Windows-1251 (Cyrillic, Altcraft's home
market). Those two decode any byte, so they are told apart by how non-ASCII bytes cluster:
Cyrillic words are whole runs of them, Western text has lone accented letters among ASCII.

`read_lines()` then yields lists of lines (line breaks removed, CR LF counted) with the number
of the first, so callers can run C-speed string operations over a whole chunk. Memory stays
bounded: a chunk is about 1 MiB, and a line longer than LONGEST_LINE characters is cut there.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from promodesk.codefiles.problems import Effect, Problem, ProblemKind
from promodesk.domain.jobs import CancelToken

CHUNK_BYTES = 1 << 20
HEAD_BYTES = 64 * 1024
# A line longer than this is no code: the rest of it is skipped (and the line refused).
LONGEST_LINE = 64 * 1024


@dataclass(frozen=True)
class Encoding:
    codec: str  # Python codec that reads the file
    label: str  # what a marketer is told
    errors: str = "strict"  # "replace" when some bytes fit no encoding (those lines are refused)

    @property
    def is_utf8(self) -> bool:
        return self.codec in ("utf-8", "utf-8-sig")


UTF8 = Encoding("utf-8", "UTF-8")
UTF8_BOM = Encoding("utf-8-sig", "UTF-8 with a byte order mark")

# Legacy single-byte encodings, in the order they are considered.
CP1252 = Encoding("cp1252", "Windows-1252 (Western European, Excel's plain CSV)")
CP1251 = Encoding("cp1251", "Windows-1251 (Cyrillic, Excel's plain CSV in Russian)")
LATIN1 = Encoding("latin-1", "ISO-8859-1 (Latin-1)")

_NAMED = {
    "utf-8": UTF8,
    "utf8": UTF8,
    "utf-8-sig": UTF8_BOM,
    "cp1252": CP1252,
    "windows-1252": CP1252,
    "cp1251": CP1251,
    "windows-1251": CP1251,
    "latin-1": LATIN1,
    "iso-8859-1": LATIN1,
}

_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "an Excel workbook or a ZIP archive: save the sheet as CSV UTF-8 first"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office document: save the sheet as CSV UTF-8 first"),
    (b"\x1f\x8b", "a compressed (.gz) file: unpack it first"),
    (b"%PDF", "a PDF document, not a list of codes"),
    (b"\x89PNG", "a PNG image, not a list of codes"),
    (b"\xff\xd8\xff", "a JPEG image, not a list of codes"),
    (b"GIF8", "a GIF image, not a list of codes"),
    (b"SQLite format 3\x00", "a database (a promodesk workspace?), not a list of codes"),
)

_UTF32_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"))
_UTF16_BOMS = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_HIGH_RUNS = re.compile(rb"[\x80-\xff]+")


@dataclass
class Sniffed:
    path: Path
    size: int = 0
    encoding: Encoding | None = None  # None: the file cannot be read as text
    newline: str = "\n"  # "\r" for old Mac files
    problems: list[Problem] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.encoding is not None


def encoding_named(name: str) -> Encoding:
    """An encoding the user asked for by name (`--encoding`)."""
    known = _NAMED.get(name.strip().lower())
    if known is not None:
        return known
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise ValueError(f"unknown encoding {name!r}") from None
    return Encoding(info.name, info.name)


def sniff(
    path: Path,
    *,
    max_file_bytes: int | None = None,
    encoding: Encoding | None = None,
    cancel: CancelToken | None = None,
) -> Sniffed:
    """How to read `path`, and the problems of the file as a whole."""
    token = cancel or CancelToken()
    found = Sniffed(Path(path))
    try:
        found.size = found.path.stat().st_size
        with found.path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except IsADirectoryError:
        return _unreadable(found, "this is a folder, not a file")
    except FileNotFoundError:
        return _unreadable(found, "the file does not exist (moved or deleted?)")
    except PermissionError:
        return _unreadable(found, "promodesk is not allowed to read this file")
    except OSError as error:
        return _unreadable(found, f"the file cannot be read ({error.strerror or error})")
    for signature, what in _BINARY_SIGNATURES:
        if head.startswith(signature):
            found.problems.append(Problem(1, ProblemKind.BINARY, f"this is {what}"))
            return found

    chosen, bom_problem = _by_byte_order_mark(head)
    explicit = chosen is None and encoding is not None
    if explicit and encoding is not None:
        # What the user names is trusted, but bytes it cannot explain are not guessed at.
        chosen = Encoding(encoding.codec, encoding.label, "replace")
    if chosen is None and b"\x00" in head:
        chosen = _utf16_without_bom(head)
        if chosen is None:
            return _binary(found, _line_of(head, head.index(b"\x00")))
    if chosen is None or _ascii_compatible(chosen):
        scan = _scan_ascii_compatible(found.path, max_file_bytes, token)
        if scan.nul_line:
            return _binary(found, scan.nul_line)
        cap_line = scan.cap_line
        if chosen is None and scan.bad_offset < 0:
            chosen = UTF8
        elif chosen is None:
            chosen = _guess_legacy(scan.sample)
            if not chosen.is_utf8:
                found.problems.append(
                    _converted(
                        scan.bad_line,
                        f"the file is not UTF-8 (byte 0x{scan.bad_byte:02X} on this line); "
                        f"it reads as {chosen.label}",
                    )
                )
        elif chosen.is_utf8 and scan.bad_offset >= 0:
            chosen = Encoding(
                chosen.codec, f"{chosen.label}, with bytes that are not UTF-8", "replace"
            )
    else:
        cap_line = _cap_line_by_decoding(found.path, chosen, max_file_bytes)
        if not explicit:
            found.problems.append(_converted(1, f"the file is {chosen.label}, not UTF-8"))
    if explicit and not chosen.is_utf8:
        found.problems.append(_converted(1, f"read as {chosen.label}, as asked"))
    if bom_problem is not None:
        found.problems.append(bom_problem)
    found.encoding = chosen
    found.newline = _newline_of(head, chosen)
    if found.newline == "\r":
        found.problems.append(
            _file_problem(
                1,
                ProblemKind.CRLF,
                "the lines end with old Mac line breaks (CR only), which most tools read as one "
                "long line; the fixed file uses LF",
            )
        )
    if max_file_bytes is not None and found.size > max_file_bytes:
        found.problems.append(
            _file_problem(
                cap_line,
                ProblemKind.OVER_CAP,
                f"the file is {size_text(found.size)}; at most {size_text(max_file_bytes)} go in "
                "one file (this line is the first past the limit): the fixed file is split",
            )
        )
    return found


def size_text(size: int) -> str:
    """10000000 -> "10 MB", 10_450_000 -> "10.4 MB", 48 -> "48 bytes" (decimal, as vendors say)."""
    if size < 1_000_000:
        return f"{size:,} bytes"
    return f"{size / 1e6:,.1f}".removesuffix(".0") + " MB"


def _file_problem(line: int, kind: ProblemKind, detail: str) -> Problem:
    return Problem(line, kind, detail, effect=Effect.REPAIRED)


def _converted(line: int, what: str) -> Problem:
    return _file_problem(
        line, ProblemKind.ENCODING, f"{what}; the fixed file is converted to UTF-8"
    )


def _ascii_compatible(encoding: Encoding) -> bool:
    return not encoding.codec.startswith(("utf-16", "utf-32"))


def _unreadable(found: Sniffed, detail: str) -> Sniffed:
    found.problems.append(Problem(1, ProblemKind.UNREADABLE, detail))
    return found


def _binary(found: Sniffed, line: int) -> Sniffed:
    found.problems.append(
        Problem(line, ProblemKind.BINARY, "binary content (a NUL byte): this is not a text file")
    )
    return found


def _by_byte_order_mark(head: bytes) -> tuple[Encoding | None, Problem | None]:
    for bom, codec in _UTF32_BOMS:
        if head.startswith(bom):
            # The codec without an endianness reads (and drops) the mark itself.
            endian = "little" if codec.endswith("le") else "big"
            return Encoding("utf-32", f"UTF-32 ({endian} endian)"), None
    for bom, codec in _UTF16_BOMS:
        if head.startswith(bom):
            endian = "little" if codec.endswith("le") else "big"
            return Encoding("utf-16", f"UTF-16 ({endian} endian, Excel's 'Unicode text')"), None
    if head.startswith(codecs.BOM_UTF8):
        return UTF8_BOM, _file_problem(
            1,
            ProblemKind.BOM,
            "the file starts with a byte order mark (BOM), which can end up in the first code; "
            "the fixed file has none",
        )
    return None, None


def _utf16_without_bom(head: bytes) -> Encoding | None:
    """ASCII text in UTF-16 has a NUL in every other byte; anything else with NULs is binary."""
    even, odd = head[0::2], head[1::2]
    if len(head) < 4:
        return None
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return Encoding("utf-16-le", "UTF-16 (little endian, without a byte order mark)")
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return Encoding("utf-16-be", "UTF-16 (big endian, without a byte order mark)")
    return None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _newline_of(head: bytes, encoding: Encoding) -> str:
    text = head.decode(encoding.codec, "replace")
    return "\r" if "\r" in text and "\n" not in text else "\n"


@dataclass
class _Scan:
    nul_line: int = 0
    bad_offset: int = -1  # first byte that is not UTF-8
    bad_line: int = 0
    bad_byte: int = 0
    sample: bytes = b""  # the chunk around it, to guess the encoding from
    cap_line: int = 1


def _scan_ascii_compatible(path: Path, max_file_bytes: int | None, token: CancelToken) -> _Scan:
    """One pass over the raw bytes: NUL bytes, the first byte that is not UTF-8, and the line
    that crosses the file cap. Chunks end after a newline byte, so no UTF-8 sequence is cut."""
    scan = _Scan()
    newlines = 0
    position = 0
    carry = b""
    with path.open("rb") as handle:
        while True:
            token.raise_if_cancelled()
            raw = handle.read(CHUNK_BYTES)
            data = carry + raw
            if raw:
                cut = data.rfind(b"\n") + 1
                if cut == 0 and len(data) < 4 * CHUNK_BYTES:
                    carry = data
                    continue
                if cut == 0:  # a huge line: cut it, but not inside a UTF-8 sequence
                    cut = len(data)
                    while cut > len(data) - 4 and data[cut - 1] & 0xC0 == 0x80:
                        cut -= 1
                    if data[cut - 1] >= 0xC0:  # a lead byte whose sequence goes on
                        cut -= 1
                chunk, carry = data[:cut], data[cut:]
            else:
                chunk, carry = data, b""
            if b"\x00" in chunk:
                scan.nul_line = newlines + _line_of(chunk, chunk.index(b"\x00"))
                return scan
            if scan.bad_offset < 0:
                try:
                    chunk.decode("utf-8")
                except UnicodeDecodeError as error:
                    scan.bad_offset = position + error.start
                    scan.bad_line = newlines + _line_of(chunk, error.start)
                    scan.bad_byte = chunk[error.start]
                    scan.sample = chunk
            if max_file_bytes is not None and position <= max_file_bytes < position + len(chunk):
                scan.cap_line = newlines + _line_of(chunk, max_file_bytes - position)
            newlines += chunk.count(b"\n")
            position += len(chunk)
            if not raw:
                return scan


def _cap_line_by_decoding(path: Path, encoding: Encoding, max_file_bytes: int | None) -> int:
    """The line crossing the cap in a UTF-16/32 file (newlines there are not one byte)."""
    if max_file_bytes is None or path.stat().st_size <= max_file_bytes:
        return 1
    decoder = codecs.getincrementaldecoder(encoding.codec)("replace")
    newlines = 0
    left = max_file_bytes
    with path.open("rb") as handle:
        while left > 0 and (raw := handle.read(min(CHUNK_BYTES, left))):
            newlines += decoder.decode(raw).count("\n")
            left -= len(raw)
    return newlines + 1


def _guess_legacy(sample: bytes) -> Encoding:
    """Which encoding explains bytes that are not UTF-8 (see the module's docstring)."""
    mostly_utf8 = sample.decode("utf-8", "replace")
    if any(ord(character) > 0x7F and character != "\ufffd" for character in mostly_utf8):
        # Real UTF-8 sequences beside broken ones: a damaged UTF-8 file, not another encoding.
        return Encoding("utf-8", "UTF-8 with some bytes that are not UTF-8", "replace")
    candidates = []
    for candidate in (CP1252, CP1251):
        try:
            sample.decode(candidate.codec)
        except UnicodeDecodeError:
            continue
        candidates.append(candidate)
    if not candidates:
        return LATIN1
    if len(candidates) == 1:
        return candidates[0]
    runs = _HIGH_RUNS.findall(sample)
    in_long_runs = sum(len(run) for run in runs if len(run) >= 3)
    all_high = sum(len(run) for run in runs)
    return CP1251 if in_long_runs * 2 > all_high else CP1252


@dataclass(frozen=True, slots=True)
class LineChunk:
    first_line: int
    lines: list[str]  # without their line breaks
    text: str  # the same lines joined with "\n"
    crlf: int  # how many of them ended with CR LF
    first_crlf_line: int  # the first of those (0: none)


def read_lines(
    sniffed: Sniffed,
    *,
    cancel: CancelToken | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[LineChunk]:
    """The file's lines, a chunk at a time. A final empty line after the last line break is
    not a line (every editor agrees)."""
    if sniffed.encoding is None:
        return
    token = cancel or CancelToken()
    decoder = codecs.getincrementaldecoder(sniffed.encoding.codec)(sniffed.encoding.errors)
    cr_only = sniffed.newline == "\r"
    next_line = 1
    carry = ""
    skipping_rest_of_line = False
    with sniffed.path.open("rb") as handle:
        while True:
            token.raise_if_cancelled()
            raw = handle.read(CHUNK_BYTES)
            final = not raw
            decoded = decoder.decode(raw, final)
            if cr_only:
                decoded = decoded.replace("\r\n", "\n").replace("\r", "\n")
            if skipping_rest_of_line:
                end = decoded.find("\n")
                if end < 0 and not final:
                    continue
                skipping_rest_of_line = False
                decoded = decoded[end:] if end >= 0 else ""
            text = carry + decoded
            if final:
                body, carry = text, ""
            else:
                cut = text.rfind("\n")
                if cut < 0:
                    carry = text
                    if len(carry) > LONGEST_LINE:
                        carry = carry[:LONGEST_LINE]
                        skipping_rest_of_line = True
                    continue
                body, carry = text[: cut + 1], text[cut + 1 :]
            crlf = first_crlf_line = 0
            if not cr_only and "\r\n" in body:
                crlf = body.count("\r\n")
                first_crlf_line = next_line + body.count("\n", 0, body.index("\r\n"))
                body = body.replace("\r\n", "\n")
            if body.endswith("\n"):
                body = body[:-1]
                lines = body.split("\n")
            else:
                lines = body.split("\n") if body else []
            if lines:
                yield LineChunk(next_line, lines, body, crlf, first_crlf_line)
                next_line += len(lines)
            if on_bytes is not None:
                on_bytes(handle.tell())
            if final:
                return
