"""Bounds on what a saved export may contain, checked on the bytes as they stream past, before
any parser sees them.

The parsers hold whatever they are in the middle of: csv a whole line, ijson a whole string or
number (and, for a deeply nested document, a prefix per level: quadratic), expat a whole tag or
comment (and it rescans it at every chunk: quadratic in time). A file that never ends what it
started (a sparse file's gigabyte of zero bytes, a 100 MB "code") would make them hold it all.
These checks refuse such a file at the first chunk that goes past a bound, with the line, so
memory stays within a few chunks whatever the input. They run at C speed on the common path:
`bytes.translate`, `find`, `split` and `count`, with Python only per structural character.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from promodesk.store.importers.base import ImportFileError

# A row of an allocation export is ~90 bytes; a code file's line is one code.
MAX_LINE_BYTES = 64 * 1024
# A JSON string or number, a stretch of XML text or one tag, comment or instruction.
MAX_TOKEN_BYTES = 64 * 1024
# Exports nest 3 or 4 levels deep (envelope, list, record, a detail).
MAX_DEPTH = 32
# Values (fields, list items, nested objects) in one record; a record has a few dozen.
MAX_RECORD_VALUES = 1_000

KIB = 1024

# C0 controls and DEL; tab, line feed and carriage return are allowed where a format uses
# them (a CSV line break, a tab-separated export).
_C0_AND_DEL = bytes([*range(0x20), 0x7F])
# C1 controls (U+0080..U+009F) in UTF-8.
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")


class ByteLimits:
    """A check run on each chunk of a file, in order. Subclasses raise ImportFileError."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = 0  # line breaks in the chunks checked so far

    def check(self, chunk: bytes) -> None:
        # Pieces no longer than a token: a run inside one piece can then never be too long,
        # and only runs across pieces need counting.
        for start in range(0, len(chunk), MAX_TOKEN_BYTES):
            piece = chunk[start : start + MAX_TOKEN_BYTES]
            self._check(piece)
            self.lines += piece.count(b"\n")

    def _check(self, piece: bytes) -> None:
        raise NotImplementedError

    def refuse(self, problem: str, *, line: int | None = None) -> ImportFileError:
        return ImportFileError(self.path, problem, line=line or self.lines + 1)


class TextLineLimits(ByteLimits):
    """CSV and code files: no line longer than MAX_LINE_BYTES, no control characters."""

    def __init__(self, path: Path, *, encoding: str, allow_tab: bool) -> None:
        super().__init__(path)
        allowed = b"\t\n\r" if allow_tab else b"\n\r"
        self._forbidden = bytes(byte for byte in _C0_AND_DEL if byte not in allowed)
        self._run = 0  # bytes since the last line break
        self._previous_last = 0  # the last byte of the previous piece (a C1 split in two)
        # Whether a character other than ASCII went past (a leading byte-order mark aside):
        # an importer may then have work to do that plain ASCII text never needs.
        self.non_ascii = False
        # UTF-16 text is checked as UTF-8 (its NUL bytes are not NUL characters).
        self._transcoder = (
            codecs.getincrementaldecoder(encoding)(errors="replace")
            if encoding.startswith("utf-16")
            else None
        )

    def check(self, chunk: bytes) -> None:
        if self._transcoder is not None:
            chunk = self._transcoder.decode(chunk).encode("utf-8", "surrogatepass")
        super().check(chunk)

    def _check(self, piece: bytes) -> None:
        if len(piece.translate(None, self._forbidden)) != len(piece):
            at = min(position for byte in self._forbidden if (position := piece.find(byte)) >= 0)
            self._refuse_control(piece, at, piece[at])
        if not piece.isascii():
            if not self.non_ascii:
                first = self.lines == 0 and self._run == 0
                skip = len(codecs.BOM_UTF8) if first and piece.startswith(codecs.BOM_UTF8) else 0
                self.non_ascii = not piece[skip:].isascii()
            found = _C1_UTF8.search(piece)
            if found is not None:
                self._refuse_control(piece, found.start(), piece[found.start() + 1])
            if self._previous_last == 0xC2 and piece and 0x80 <= piece[0] <= 0x9F:
                self._refuse_control(piece, 0, piece[0])
        self._previous_last = piece[-1] if piece else 0
        last_break = piece.rfind(b"\n")
        if last_break < 0:
            self._run += len(piece)
        else:
            self._run = self._run + piece.find(b"\n")
            if self._run <= MAX_LINE_BYTES:
                self._run = len(piece) - last_break - 1
        if self._run > MAX_LINE_BYTES:
            raise self.refuse(
                f"this line is longer than {MAX_LINE_BYTES // KIB} KB (a row of an export is "
                "a few hundred bytes): the file is damaged or not an export"
            )

    def _refuse_control(self, piece: bytes, at: int, code: int) -> None:
        line = self.lines + piece.count(b"\n", 0, at) + 1
        column = at - (piece.rfind(b"\n", 0, at) + 1) + 1
        name = {0: ", NUL", 0x1B: ", ESC"}.get(code, "")
        raise self.refuse(
            f"an invisible control character (U+{code:04X}{name}) at column {column:,}: codes "
            "and ids cannot contain control characters (the file may be damaged)",
            line=line,
        )


_JSON_ESCAPE = re.compile(rb"\\.", re.DOTALL)
# Everything but the characters that open or close a value or separate values: what is left of
# a chunk outside its strings is a few bytes a record. The exact walk keeps line breaks too.
_NOT_JSON_STRUCTURE = bytes(byte for byte in range(256) if byte not in b"[]{},")
_NOT_JSON_STRUCTURE_OR_LINE = bytes(byte for byte in range(256) if byte not in b"[]{},\n")
# The brackets of a piece that only closes the record it started in, holds whole records
# with nothing nested in them, and opens the next one.
_FLAT_RECORDS = re.compile(rb"\}?(?:\{\})*\{?")
_OPENERS = (b"["[0], b"{"[0])
_COMMA, _NEWLINE = b","[0], b"\n"[0]


class JsonLimits(ByteLimits):
    """JSON: no string or number longer than MAX_TOKEN_BYTES, no nesting deeper than
    MAX_DEPTH, no record (a value at `record_depth`) with more than MAX_RECORD_VALUES values.
    """

    def __init__(
        self,
        path: Path,
        *,
        record_depth: int,
        max_depth: int = MAX_DEPTH,
        max_values: int = MAX_RECORD_VALUES,
    ) -> None:
        super().__init__(path)
        self.record_depth = record_depth
        self.max_depth = max_depth
        self.max_values = max_values
        self._too_many_values = re.compile(rb"\{,{%d}" % (max_values + 1))
        self._in_string = False
        self._escape_pending = False
        self._run = 0  # bytes since the last quote: the string or number being read
        self._run_line = 1
        self._depth = 0
        self._values = 0  # values in the record being read

    def _check(self, piece: bytes) -> None:
        data = piece
        if self._escape_pending and data:
            data, self._escape_pending = data[1:], False
        if b"\\" in data:
            data = _JSON_ESCAPE.sub(b"", data)  # an escaped quote does not end a string
            if data.endswith(b"\\"):
                data, self._escape_pending = data[:-1], True
        self._check_tokens(data)
        parts = data.split(b'"')
        outside = b"".join(parts[1::2] if self._in_string else parts[::2])
        if (len(parts) - 1) % 2:
            self._in_string = not self._in_string
        if not self._flat_records(outside.translate(None, _NOT_JSON_STRUCTURE)):
            self._walk(outside.translate(None, _NOT_JSON_STRUCTURE_OR_LINE))

    def _check_tokens(self, data: bytes) -> None:
        first = data.find(b'"')
        if first < 0:
            self._run += len(data)
        else:
            if self._run + first > MAX_TOKEN_BYTES:
                self._refuse_token()
            last = data.rfind(b'"')
            self._run = len(data) - last - 1
            self._run_line = self.lines + data.count(b"\n", 0, last) + 1
        if self._run > MAX_TOKEN_BYTES:
            self._refuse_token()

    def _refuse_token(self) -> None:
        raise self.refuse(
            f"a value longer than {MAX_TOKEN_BYTES // KIB} KB starts here (codes, ids and "
            "names are far shorter): the file is damaged or not an export",
            line=self._run_line,
        )

    def _flat_records(self, structure: bytes) -> bool:
        """The common case at C speed: a piece of the list of records, the records holding
        nothing nested and not too many values. Updates the state and says True, or says
        False (changing nothing) for the exact walk to decide."""
        record_depth = self.record_depth
        inside = self._depth == record_depth
        if record_depth > self.max_depth or (not inside and self._depth != record_depth - 1):
            return False
        brackets = structure.translate(None, b",")
        if not _FLAT_RECORDS.fullmatch(brackets):
            return False
        # Inside a record the first bracket must close it (else it nests); between records
        # it must open one (else it closes the list: the envelope, for the exact walk).
        if brackets and brackets.startswith(b"}") != inside:
            return False
        if self._too_many_values.search(structure):
            return False
        leading = len(structure) - len(structure.lstrip(b","))
        if inside and self._values + leading > self.max_values:
            return False
        if not brackets:
            depth, values = self._depth, self._values + len(structure) if inside else 0
        elif brackets.endswith(b"{"):
            depth, values = record_depth, len(structure) - structure.rfind(b"{") - 1
        else:
            depth, values = record_depth - 1, 0
        if values > self.max_values:
            return False
        self._depth, self._values = depth, values
        return True

    def _walk(self, structure: bytes) -> None:
        depth, values, lines = self._depth, self._values, self.lines
        record_depth, max_depth, max_values = self.record_depth, self.max_depth, self.max_values
        for byte in structure:
            if byte == _NEWLINE:
                lines += 1
            elif byte in _OPENERS:
                depth += 1
                if depth > max_depth:
                    raise self.refuse(
                        f"the JSON is nested more than {max_depth} levels deep (an export "
                        "has 3 or 4): the file is damaged or not an export",
                        line=lines + 1,
                    )
                if depth > record_depth:
                    values += 1
            elif byte == _COMMA:
                if depth >= record_depth:
                    values += 1
            else:
                depth -= 1
                if depth < record_depth:
                    values = 0
            if values > max_values:
                raise self.refuse(
                    f"a record with more than {max_values:,} values (a promo code has a few "
                    "dozen): the file is damaged or not an export",
                    line=lines + 1,
                )
        self._depth, self._values = depth, values


_XML_SPECIAL = re.compile(rb"<!--|<\?")


class XmlLimits(ByteLimits):
    """XML: no tag, comment or processing instruction longer than MAX_TOKEN_BYTES (expat
    holds an unfinished one whole, and rescans it at every chunk). Text is streamed by expat;
    the record reader bounds it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._run = 0  # bytes since the last "<": a tag, or text between tags
        self._special_end = b""  # b"-->" inside a comment, b"?>" inside an instruction
        self._special_run = 0
        self._special_line = 1
        self._carry = b""  # the start of a marker cut off by the end of the previous piece

    def _check(self, piece: bytes) -> None:
        first = piece.find(b"<")
        if first < 0:
            self._run += len(piece)
        else:
            if self._run + first > MAX_TOKEN_BYTES:
                self._refuse_token(self.lines + 1)
            self._run = len(piece) - piece.rfind(b"<") - 1
        if self._run > MAX_TOKEN_BYTES:
            self._refuse_token(self.lines + 1)
        # Comments and instructions are rare in exports: the exact scan runs only near one.
        if self._special_end or self._carry or b"<!--" in piece or b"<?" in piece:
            self._check_special(piece)
        elif b"<" in piece[-3:]:
            self._carry = piece[piece.rfind(b"<", len(piece) - 3) :]

    def _check_special(self, piece: bytes) -> None:
        data, carried = self._carry + piece, len(self._carry)
        self._carry = b""
        position = 0
        while True:
            if self._special_end:
                end = data.find(self._special_end, position)
                if end < 0:
                    keep = max(position, len(data) - len(self._special_end) + 1)
                    self._special_run += keep - position
                    self._carry = data[keep:]
                    break
                self._special_run += end - position
                position = end + len(self._special_end)
                self._special_end = b""
            else:
                found = _XML_SPECIAL.search(data, position)
                if found is None:
                    marker = data.rfind(b"<", max(position, len(data) - 3))
                    self._carry = data[marker:] if marker >= 0 else b""
                    break
                self._special_end = b"-->" if found.group() == b"<!--" else b"?>"
                self._special_run = 0
                self._special_line = self.lines + data.count(b"\n", carried, found.start()) + 1
                position = found.end()
            if self._special_run > MAX_TOKEN_BYTES:
                self._refuse_token(self._special_line)
        if self._special_run > MAX_TOKEN_BYTES:
            self._refuse_token(self._special_line)

    def _refuse_token(self, line: int) -> None:
        raise self.refuse(
            f"a tag, comment or text longer than {MAX_TOKEN_BYTES // KIB} KB starts here: the "
            "file is damaged or not an export",
            line=line,
        )
