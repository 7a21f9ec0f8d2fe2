"""Streaming record readers for saved JSON and XML responses, with bounded memory.

JSON goes through ijson's C parser; XML through defusedxml's SAX parser (entities, DTDs and
external references refused), fed a chunk at a time. Both yield one small dict per record, so
a million-code export never becomes one big tree.
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.sax
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.expatreader import ExpatLocator
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import Locator

import defusedxml
import defusedxml.sax
import ijson

from promodesk.store.importers.base import (
    ChunkCheck,
    ImportFileError,
    SourceFile,
    checked_reader,
    open_regular,
)
from promodesk.store.importers.detect import bad_encoding
from promodesk.store.importers.limits import (
    MAX_DEPTH,
    MAX_RECORD_VALUES,
    MAX_TOKEN_BYTES,
    JsonLimits,
    XmlLimits,
)


def file_sha256(path: Path, limits: ChunkCheck | None = None) -> str:
    """The file's SHA-256; with `limits`, a file that breaks them is refused on the way
    (rather than hashed to its end, which for a damaged file can be gigabytes)."""
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            if limits is not None:
                limits.check(chunk)
            digest.update(chunk)
    return digest.hexdigest()


# -- JSON ------------------------------------------------------------------------------------


def _record_depth(prefix: str) -> int:
    # "data.item": the root object, the "data" list, then the records, at depth 3.
    return len(prefix.split(".")) + 1


def json_records(source: SourceFile, prefix: str, *, bom: bool) -> Iterator[dict[str, Any]]:
    """Each JSON value at `prefix` (ijson syntax); several concatenated documents allowed.
    The bytes pass JsonLimits on their way to ijson."""
    stream = source.buffered(JsonLimits(source.path, record_depth=_record_depth(prefix)))
    if bom:
        stream.read(3)
    try:
        for item in ijson.items(stream, prefix, use_float=True, multiple_values=True):
            if not isinstance(item, dict):
                raise ImportFileError(
                    source.path,
                    f"expected an object for each record, found {type(item).__name__}",
                    line=source.newlines + 1,
                )
            yield item
    except ijson.JSONError as error:
        raise locate_json_error(source.path, str(error), near_line=source.newlines + 1) from None


_OPENING = frozenset(("start_map", "start_array"))
_CLOSING = frozenset(("end_map", "end_array"))
_SCALARS = frozenset(("null", "boolean", "integer", "double", "number", "string"))


def json_envelope(path: Path, keys: tuple[str, ...], *, bom: bool, prefix: str) -> dict[str, Any]:
    """The scalar values of `keys` at the top of the document (the first one of each, when
    several documents are concatenated): a second pass for envelope fields like `error`.

    Events, not ijson.items(): items would build whatever the key holds, and a hostile file
    can hang a gigabyte list there.
    """
    found: dict[str, Any] = {}
    limits = JsonLimits(path, record_depth=_record_depth(prefix))
    with open_regular(path) as raw, checked_reader(raw, limits) as stream:
        if bom:
            stream.read(3)
        depth = 0
        key = None
        try:
            for event, value in ijson.basic_parse(stream, use_float=True, multiple_values=True):
                if event in _OPENING:
                    depth += 1
                elif event in _CLOSING:
                    depth -= 1
                elif depth == 1:
                    if event == "map_key":
                        key = value
                    elif key in keys and key not in found and event in _SCALARS:
                        found[key] = value
        except ijson.JSONError:
            pass  # the records pass reported it
    return found


# Past this size a broken file is not read again whole to name the exact line.
_LOCATE_LIMIT = 16 * 1024 * 1024


def locate_json_error(path: Path, raw_message: str, *, near_line: int) -> ImportFileError:
    """Turn a streaming parser's complaint into 'line N: what is wrong'."""
    first = raw_message.strip().splitlines()[0] if raw_message.strip() else "broken JSON"
    if "integer overflow" in first:  # valid JSON, but no id is that large (Python would take it)
        return ImportFileError(
            path, "a number in it is too large (more than 64 bits): not a real id", line=near_line
        )
    if Path(path).stat().st_size <= _LOCATE_LIMIT:
        with open_regular(path) as handle:
            data = handle.read()
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            return bad_encoding(path, data, error.start)
        del data
        # Objects are dropped as soon as they are parsed: only the position of the error
        # matters, and building a 16 MB document would take ten times that in memory.
        decoder = json.JSONDecoder(object_pairs_hook=_discard)
        position = 0
        try:
            while True:
                while position < len(text) and text[position].isspace():
                    position += 1
                if position >= len(text):
                    break
                _, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            problem = error.msg
            if error.pos >= len(text.rstrip()):
                problem = f"the JSON ends early ({error.msg}); the file looks truncated"
            return ImportFileError(path, f"broken JSON: {problem}", line=error.lineno)
        except RecursionError:  # nested too deep for Python's parser: say where ijson was
            pass
    if "premature EOF" in first:
        return ImportFileError(
            path, "the JSON ends early; the file looks truncated", line=near_line
        )
    return ImportFileError(path, f"broken JSON near here: {first[:200]}", line=near_line)


def _discard(_pairs: Any) -> None:
    return None


# -- XML -------------------------------------------------------------------------------------


class _RecordCollector(ContentHandler):
    """Collects the direct children of each record element as name -> text, within bounds:
    MAX_DEPTH levels, MAX_RECORD_VALUES children per record (and in the envelope), and
    MAX_TOKEN_BYTES characters of text per element (expat streams text, so a huge one would
    otherwise be gathered here)."""

    def __init__(self, path: Path, root: str, record_path: tuple[str, ...]) -> None:
        super().__init__()
        self.path = path
        self.root = root
        self.record_path = record_path
        self.stack: list[str] = []
        self.records: list[tuple[int, dict[str, str]]] = []
        self.envelope: dict[str, str] = {}
        self.locator: Locator | None = None
        self._record: dict[str, str] | None = None
        self._record_line = 0
        self._text: list[str] = []
        self._text_length = 0

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def line(self) -> int:
        return (self.locator.getLineNumber() or 0) if self.locator else 0

    def startElement(self, name: str, attrs: Any) -> None:
        if not self.stack and name != self.root:
            raise ImportFileError(
                self.path, f"expected <{self.root}> as the root element", line=self.line()
            )
        if len(self.stack) >= MAX_DEPTH:
            raise ImportFileError(
                self.path,
                f"the XML is nested more than {MAX_DEPTH} levels deep (an export has 3 or 4): "
                "the file is damaged or not an export",
                line=self.line(),
            )
        self.stack.append(name)
        self._text = []
        self._text_length = 0
        if tuple(self.stack) == self.record_path:
            self._record = {}
            self._record_line = self.line()

    def characters(self, content: str) -> None:
        self._text_length += len(content)
        if self._text_length > MAX_TOKEN_BYTES:
            raise ImportFileError(
                self.path,
                f"<{self.stack[-1][:40]}> holds more than {MAX_TOKEN_BYTES // 1024} KB of text "
                "(codes, ids and names are far shorter): the file is damaged or not an export",
                line=self.line(),
            )
        self._text.append(content)

    def endElement(self, name: str) -> None:
        depth = len(self.stack)
        record_depth = len(self.record_path)
        text = "".join(self._text).strip()
        if self._record is not None and depth == record_depth + 1:
            self._keep(self._record, name, text)
        elif self._record is not None and depth == record_depth:
            self.records.append((self._record_line, self._record))
            self._record = None
        elif depth == 2:
            self._keep(self.envelope, name, text)
        self._text = []
        self._text_length = 0
        self.stack.pop()

    def _keep(self, fields: dict[str, str], name: str, text: str) -> None:
        if name not in fields and len(fields) >= MAX_RECORD_VALUES:
            raise ImportFileError(
                self.path,
                f"an element with more than {MAX_RECORD_VALUES:,} fields (a promo code has a "
                "few dozen): the file is damaged or not an export",
                line=self.line(),
            )
        fields[name] = text


def xml_records(
    source: SourceFile, *, root: str, record_path: tuple[str, ...]
) -> tuple[Iterator[tuple[int, dict[str, str]]], dict[str, str]]:
    """(line, fields) for each record element, and the envelope's top-level fields.

    The envelope dict fills as parsing goes; read it after the iterator is exhausted.
    """
    collector = _RecordCollector(source.path, root, record_path)
    parser = defusedxml.sax.make_parser()
    parser.setContentHandler(collector)
    parser.setFeature(xml.sax.handler.feature_external_ges, False)
    parser.setFeature(xml.sax.handler.feature_external_pes, False)
    # Only parse() hands the handler a locator; fed a chunk at a time, it must be given one
    # (without it every line was reported as 0).
    collector.setDocumentLocator(ExpatLocator(parser))

    def records() -> Iterator[tuple[int, dict[str, str]]]:
        stream = source.buffered(XmlLimits(source.path))
        try:
            while chunk := stream.read(1 << 16):
                parser.feed(chunk)
                if collector.records:
                    batch, collector.records = collector.records, []
                    yield from batch
            parser.close()
        except xml.sax.SAXParseException as error:
            message = error.getMessage()
            if "no element found" in message or "unclosed token" in message:
                message = f"the XML ends early ({message}); the file looks truncated"
            elif "not well-formed" in message or "invalid token" in message:
                message = f"the XML is malformed ({message})"
            raise ImportFileError(source.path, message, line=error.getLineNumber()) from None
        except (
            defusedxml.EntitiesForbidden,
            defusedxml.DTDForbidden,
            defusedxml.ExternalReferenceForbidden,
        ):
            raise ImportFileError(
                source.path,
                "the XML declares entities or a DTD, which promodesk refuses to expand for safety",
                line=collector.line(),
            ) from None
        yield from collector.records
        collector.records = []

    return records(), collector.envelope


_LOYALTY_IN_NAME = re.compile(r"loyalty[ _\-]?(?:id)?[ _=\-]?([0-9]+)", re.IGNORECASE)


def loyalty_id_from_name(path: Path) -> str | None:
    match = _LOYALTY_IN_NAME.search(Path(path).stem)
    return match.group(1) if match else None
