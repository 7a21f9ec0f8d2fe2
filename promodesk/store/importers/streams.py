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
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import Locator

import defusedxml
import defusedxml.sax
import ijson

from promodesk.store.importers.base import ImportFileError, SourceFile
from promodesk.store.importers.detect import bad_encoding

# An error found by the streaming parser is located exactly by re-reading a file this small.
_LOCATE_LIMIT = 64 * 1024 * 1024


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- JSON ------------------------------------------------------------------------------------


def json_records(source: SourceFile, prefix: str, *, bom: bool) -> Iterator[dict[str, Any]]:
    """Each JSON value at `prefix` (ijson syntax); several concatenated documents allowed."""
    stream = source.buffered()
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


def json_scalar(path: Path, prefix: str, *, bom: bool) -> Any:
    """The first value at `prefix` (a second, cheap pass for envelope fields like `error`)."""
    with Path(path).open("rb") as handle:
        if bom:
            handle.read(3)
        try:
            for value in ijson.items(handle, prefix, use_float=True, multiple_values=True):
                return value
        except ijson.JSONError:
            return None
    return None


def locate_json_error(path: Path, raw_message: str, *, near_line: int) -> ImportFileError:
    """Turn a streaming parser's complaint into 'line N: what is wrong'."""
    first = raw_message.strip().splitlines()[0] if raw_message.strip() else "broken JSON"
    if Path(path).stat().st_size <= _LOCATE_LIMIT:
        data = Path(path).read_bytes()
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            return bad_encoding(path, data, error.start)
        decoder = json.JSONDecoder()
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
    if "premature EOF" in first:
        return ImportFileError(
            path, "the JSON ends early; the file looks truncated", line=near_line
        )
    return ImportFileError(path, f"broken JSON near here: {first}", line=near_line)


# -- XML -------------------------------------------------------------------------------------


class _RecordCollector(ContentHandler):
    """Collects the direct children of each record element as name -> text."""

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

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def line(self) -> int:
        return (self.locator.getLineNumber() or 0) if self.locator else 0

    def startElement(self, name: str, attrs: Any) -> None:
        if not self.stack and name != self.root:
            raise ImportFileError(
                self.path, f"expected <{self.root}> as the root element", line=self.line()
            )
        self.stack.append(name)
        self._text = []
        if tuple(self.stack) == self.record_path:
            self._record = {}
            self._record_line = self.line()

    def characters(self, content: str) -> None:
        self._text.append(content)

    def endElement(self, name: str) -> None:
        depth = len(self.stack)
        record_depth = len(self.record_path)
        text = "".join(self._text).strip()
        if self._record is not None and depth == record_depth + 1:
            self._record[name] = text
        elif self._record is not None and depth == record_depth:
            self.records.append((self._record_line, self._record))
            self._record = None
        elif depth == 2:
            self.envelope[name] = text
        self._text = []
        self.stack.pop()


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

    def records() -> Iterator[tuple[int, dict[str, str]]]:
        stream = source.buffered()
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


_LOYALTY_IN_NAME = re.compile(r"loyalty[ _\-]?(?:id)?[ _=\-]?(\d+)", re.IGNORECASE)


def loyalty_id_from_name(path: Path) -> str | None:
    match = _LOYALTY_IN_NAME.search(Path(path).stem)
    return match.group(1) if match else None
