"""The outcome of a check: a verdict per file, and every problem, kept out of Python's memory.

A file of a million bad lines has a million problems, so they go to a private temporary SQLite
file (deleted on close) as they are found, in whatever order the passes find them. `finish()`
then lists them once by file, line and kind, so that problem number N of a file is one primary
key look-up away: a Qt model can show any page of them (`page()`), the CLI can stream them
(`iter_problems()`), and the fixer can merge the refused lines with a second read of the file.

One connection serves every thread, behind a lock; iterators fetch a batch at a time.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from promodesk.codefiles.problems import UNUSABLE, Effect, Problem, ProblemKind
from promodesk.codefiles.reading import Sniffed
from promodesk.codefiles.rules import CodeRules

_FLUSH_EVERY = 5_000
_BATCH = 2_000


@dataclass
class FileVerdict:
    index: int
    sniffed: Sniffed
    rows: int = 0  # lines in the file
    codes: int = 0  # lines holding a code (before duplicates and workspace look-ups)
    valid: int = 0  # codes the fixed file keeps
    problems: int = 0
    summary: dict[str, int] = field(default_factory=dict)
    first_row: int = 0  # where its problems start in the listing (internal)

    @property
    def path(self) -> Path:
        return self.sniffed.path

    @property
    def encoding(self) -> str:
        return self.sniffed.encoding.label if self.sniffed.encoding else ""

    @property
    def usable(self) -> bool:
        return self.sniffed.usable and not any(
            problem.kind in UNUSABLE for problem in self.sniffed.problems
        )

    @property
    def clean(self) -> bool:
        """Can be uploaded as it is."""
        return self.usable and self.problems == 0


class CheckReport:
    def __init__(self, rules: CodeRules) -> None:
        self.rules = rules
        self.files: list[FileVerdict] = []
        self.finished = False
        self._lock = threading.Lock()
        self._pending: list[tuple[int, int, int, str, str, str, int, int]] = []
        # "": a private temporary database on disk, deleted when the connection closes.
        self._conn = sqlite3.connect("", check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode = OFF")
        self._conn.execute("PRAGMA synchronous = OFF")
        self._conn.execute("PRAGMA cache_size = -8192")
        self._conn.execute(
            "CREATE TABLE found (file INTEGER, line INTEGER, kind_order INTEGER, kind TEXT, "
            "detail TEXT, code TEXT, effect INTEGER, late INTEGER)"
        )

    # -- filling (the checker) ------------------------------------------------------------------

    def add_file(self, sniffed: Sniffed) -> FileVerdict:
        verdict = FileVerdict(len(self.files), sniffed)
        self.files.append(verdict)
        self.add(verdict.index, sniffed.problems)
        return verdict

    def add(self, file: int, problems: Iterable[Problem], *, late: bool = False) -> None:
        """Record problems; `late` ones (duplicates, workspace) refuse codes already counted."""
        self._pending.extend(
            (
                file,
                problem.line,
                problem.kind.order,
                problem.kind.value,
                problem.detail,
                problem.code,
                int(problem.effect),
                int(late),
            )
            for problem in problems
        )
        if len(self._pending) >= _FLUSH_EVERY:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "INSERT INTO found VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self._pending
            )
            self._conn.execute("COMMIT")
        self._pending = []

    def finish(self) -> None:
        """List the problems in order and count them; the report is read-only afterwards."""
        self._flush()
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN")
            # Inserted in this order, so rowid N is the N-th problem.
            conn.execute(
                "CREATE TABLE listed AS SELECT file, line, kind, detail, code, effect FROM found "
                "ORDER BY file, line, kind_order, rowid"
            )
            conn.execute("DROP TABLE found")
            conn.execute("CREATE INDEX listed_refused ON listed(file, effect, line)")
            conn.execute("COMMIT")
            starts = {
                file: (first, count)
                for file, first, count in conn.execute(
                    "SELECT file, min(rowid), count(*) FROM listed GROUP BY file"
                )
            }
            for verdict in self.files:
                verdict.first_row, verdict.problems = starts.get(verdict.index, (0, 0))
                verdict.summary = dict(
                    conn.execute(
                        "SELECT kind, count(*) FROM listed WHERE file = ? GROUP BY kind "
                        "ORDER BY count(*) DESC, kind",
                        (verdict.index,),
                    ).fetchall()
                )
        self.finished = True

    def late_refused_lines(self, file: int) -> int:
        """Codes refused after they were counted (duplicates, workspace, lost zeros)."""
        self._flush()
        with self._lock:
            row = self._conn.execute(
                "SELECT count(DISTINCT line) FROM found WHERE file = ? AND late = 1 AND effect = ?",
                (file, int(Effect.REFUSED)),
            ).fetchone()
        return int(row[0])

    # -- reading --------------------------------------------------------------------------------

    @property
    def clean(self) -> bool:
        return all(verdict.clean for verdict in self.files)

    @property
    def usable(self) -> bool:
        return all(verdict.usable for verdict in self.files)

    def page(self, file: int, start: int, count: int) -> list[Problem]:
        """Problems number start .. start+count-1 (from 0) of one file, in line order."""
        verdict = self.files[file]
        if not self.finished:
            raise RuntimeError("the check is still running")
        start = max(0, start)
        end = min(verdict.problems, start + count)
        if end <= start:
            return []
        first = verdict.first_row + start
        with self._lock:
            rows = self._conn.execute(
                "SELECT line, kind, detail, code, effect FROM listed "
                "WHERE rowid BETWEEN ? AND ? ORDER BY rowid",
                (first, first + (end - start) - 1),
            ).fetchall()
        return [
            Problem(line, ProblemKind(kind), detail, code, Effect(effect))
            for line, kind, detail, code, effect in rows
        ]

    def iter_problems(self, file: int, limit: int | None = None) -> Iterator[Problem]:
        total = (
            self.files[file].problems if limit is None else min(limit, self.files[file].problems)
        )
        for start in range(0, total, _BATCH):
            yield from self.page(file, start, min(_BATCH, total - start))

    def refused_lines(self, file: int) -> Iterator[int]:
        """Lines whose code the fixed file leaves out, ascending."""
        last = 0
        while True:
            with self._lock:
                batch = self._conn.execute(
                    "SELECT DISTINCT line FROM listed WHERE file = ? AND effect = ? AND line > ? "
                    "ORDER BY line LIMIT ?",
                    (file, int(Effect.REFUSED), last, _BATCH),
                ).fetchall()
            if not batch:
                return
            for (line,) in batch:
                yield line
            last = batch[-1][0]

    def rejects(self) -> Iterator[tuple[str, int, str, str]]:
        """(file name, line, code as read, reasons) for each refused line, in file order."""
        for verdict in self.files:
            if not verdict.usable:
                continue
            last = 0
            while True:
                with self._lock:
                    batch = self._conn.execute(
                        # The bare `code` comes from the row of min(rowid): the line as
                        # read (workspace matches, listed last, carry the cleaned code).
                        "SELECT line, code, group_concat(detail, '; '), min(id) FROM ("
                        "  SELECT rowid AS id, line, code, detail FROM listed"
                        "  WHERE file = ? AND effect = ? AND line > ? ORDER BY rowid"
                        ") GROUP BY line ORDER BY line LIMIT ?",
                        (verdict.index, int(Effect.REFUSED), last, _BATCH),
                    ).fetchall()
                if not batch:
                    break
                for line, code, reasons, _ in batch:
                    yield verdict.path.name, line, code, reasons
                last = batch[-1][0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> CheckReport:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
