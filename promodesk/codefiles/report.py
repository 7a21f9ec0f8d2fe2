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
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from promodesk.codefiles.problems import UNUSABLE, Effect, Problem, ProblemKind
from promodesk.codefiles.reading import Sniffed
from promodesk.codefiles.rules import CodeRules

_BATCH = 2_000

# Problems go to SQLite as they are; their enum fields are bound as the plain values they are
# (without an adapter, sqlite3 takes a slow path for str and int subclasses: 3x the insert).
sqlite3.register_adapter(ProblemKind, str)
sqlite3.register_adapter(Effect, int)


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
        self._counts: Counter[int] = Counter()  # problems per file
        self._kinds: dict[int, Counter[str]] = {}
        self._late: set[int] = set()  # files with late problems
        self._last = (0, 0)
        self._in_order = True
        self._refused_index = False
        # "": a private temporary database on disk, deleted when the connection closes.
        self._conn = sqlite3.connect("", check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode = OFF")
        self._conn.execute("PRAGMA synchronous = OFF")
        self._conn.execute("PRAGMA cache_size = -8192")
        self._conn.execute(
            "CREATE TABLE found (file INTEGER, line INTEGER, kind TEXT, detail TEXT, code TEXT, "
            "effect INTEGER, late INTEGER)"
        )

    # -- filling (the checker) ------------------------------------------------------------------

    def add_file(self, sniffed: Sniffed) -> FileVerdict:
        verdict = FileVerdict(len(self.files), sniffed)
        self.files.append(verdict)
        self.add(verdict.index, sorted(sniffed.problems, key=lambda problem: problem.line))
        return verdict

    def add(self, file: int, problems: Sequence[Problem], *, late: bool = False) -> None:
        """Record problems, given in line order. `late` ones (duplicates, the workspace) refuse
        codes that were already counted. Problems go to SQLite as they are (no Python per
        problem); when every call comes after the previous one in (file, line) order, as in a
        clean pass over the files, the listing needs no sort."""
        if not problems:
            return
        if (file, problems[0].line) < self._last:
            self._in_order = False
        self._last = (file, problems[-1].line)
        self._counts[file] += len(problems)
        self._kinds.setdefault(file, Counter()).update(map(itemgetter(1), problems))
        if late:
            self._late.add(file)
        with self._lock:
            self._conn.executemany(
                f"INSERT INTO found VALUES ({int(file)}, ?, ?, ?, ?, ?, {int(late)})", problems
            )

    def update_detail(self, file: int, line: int, kind: ProblemKind, detail: str) -> None:
        """Say more about a problem once the whole file is read (how many lines had CR LF)."""
        with self._lock:
            self._conn.execute(
                "UPDATE found SET detail = ? WHERE file = ? AND line = ? AND kind = ?",
                (detail, file, line, kind.value),
            )

    def finish(self) -> None:
        """List the problems in order and count them; the report is read-only afterwards."""
        with self._lock:
            conn = self._conn
            if self._in_order:
                conn.execute("ALTER TABLE found RENAME TO listed")
            else:
                # Inserted in this order, so rowid N is the N-th problem.
                conn.execute(
                    "CREATE TABLE listed AS SELECT * FROM found ORDER BY file, line, rowid"
                )
                conn.execute("DROP TABLE found")
        first = 1
        for verdict in self.files:
            verdict.first_row, verdict.problems = first, self._counts[verdict.index]
            first += verdict.problems
            kinds = self._kinds.get(verdict.index, Counter())
            verdict.summary = dict(sorted(kinds.items(), key=lambda item: (-item[1], item[0])))
        self.finished = True

    def late_refused_lines(self, file: int) -> int:
        """Codes refused after they were counted (duplicates, workspace, lost zeros)."""
        if file not in self._late:
            return 0
        with self._lock:
            row = self._conn.execute(
                "SELECT count(DISTINCT line) FROM found WHERE file = ? AND late = 1 AND effect = ?",
                (file, int(Effect.REFUSED)),
            ).fetchone()
        return int(row[0])

    def _index_refused(self) -> None:
        if not self._refused_index:
            with self._lock:
                self._conn.execute("CREATE INDEX listed_refused ON listed(file, effect, line)")
            self._refused_index = True

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
        self._index_refused()
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
        self._index_refused()
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
