"""Checking code files against a vendor's rules, streaming, in bounded memory.

Pass 1 reads each file once: every line's own problems, CR LF, the codes' widths, and each
code's *skeleton* (folded to lower case, with 0/O, 1/l/I and Cyrillic/Greek look-alikes mapped
to one character) into a set. A skeleton seen twice is a candidate: an exact duplicate, a
case-only duplicate or a look-alike. Only when there are candidates does pass 2 read the files
again to name each one's line and the earlier line it repeats. Codes already in the workspace
come from a `KnownCodes` look-up (store/known_codes.py, through services/codes.py) fed during
pass 1. A set of a million short skeletons is ~100 MB, so inputs bigger than PARTITION_BYTES
are hashed in partitions, one pass each, to stay within that.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from promodesk.codefiles.analysis import codes_in
from promodesk.codefiles.problems import Effect, Problem, ProblemKind
from promodesk.codefiles.reading import Encoding, LineChunk, read_lines, sniff
from promodesk.codefiles.report import CheckReport, FileVerdict
from promodesk.codefiles.rules import CodeRules
from promodesk.domain.codes import fold_code, skeletons
from promodesk.domain.jobs import CancelToken, Progress, ProgressFn, ignore_progress

# Input bytes whose skeletons share one in-memory set (~1.5M codes of 10 characters).
PARTITION_BYTES = 16_000_000
# Leading zeros: judged only with this many numeric codes, this share of them one width.
_ZEROS_MIN_CODES = 10
_ZEROS_MIN_SHARE = 0.8
_KEY_BITS = 32  # workspace look-up keys: file index << 32 | line


class KnownPlace(Protocol):
    @property
    def key(self) -> int: ...  # the key the code was added with

    @property
    def code(self) -> str: ...

    @property
    def where(self) -> str: ...  # in words: vendor, account, place


class KnownCodes(Protocol):
    """Codes already in use elsewhere: the checker adds (key, code) pairs as it reads, then
    asks which keys are known, and where. Implemented over the workspace in the store."""

    def add(self, entries: Iterable[tuple[int, str]]) -> None: ...

    def matches(self) -> Iterator[KnownPlace]: ...


@dataclass
class _FileState:
    verdict: FileVerdict
    crlf: int = 0
    first_crlf_line: int = 0
    widths: Counter[int] | None = None


def check_files(
    paths: Sequence[Path],
    rules: CodeRules,
    *,
    known: KnownCodes | None = None,
    encoding: Encoding | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> CheckReport:
    """Check `paths` as one batch (a code in two files is a duplicate). The caller closes the
    report. Raises JobCancelled when `cancel` is set (the report is then closed)."""
    report = CheckReport(rules)
    try:
        _Checker(report, rules, known, encoding, cancel or CancelToken(), progress).run(paths)
    except BaseException:
        report.close()
        raise
    return report


class _Checker:
    def __init__(
        self,
        report: CheckReport,
        rules: CodeRules,
        known: KnownCodes | None,
        encoding: Encoding | None,
        cancel: CancelToken,
        progress: ProgressFn,
    ) -> None:
        self.report = report
        self.rules = rules
        self.known = known
        self.encoding = encoding
        self.cancel = cancel
        self.progress = progress
        self.files: list[_FileState] = []

    def run(self, paths: Sequence[Path]) -> None:
        for path in paths:
            self.cancel.raise_if_cancelled()
            self.progress(Progress(0, 0, f"Opening {Path(path).name}"))
            sniffed = sniff(
                path,
                max_file_bytes=self.rules.max_file_bytes,
                encoding=self.encoding,
                cancel=self.cancel,
            )
            self.files.append(_FileState(self.report.add_file(sniffed)))
        usable = [state for state in self.files if state.verdict.usable]
        total = sum(state.verdict.sniffed.size for state in usable)
        partitions = max(1, math.ceil(total / PARTITION_BYTES))
        for partition in range(partitions):
            candidates = self._hash_pass(usable, partition, partitions)
            if candidates:
                self._resolve(usable, candidates)
        for state in usable:
            self._after_pass_one(state)
        if self.known is not None and usable:
            self.progress(Progress(0, 0, "Looking for the codes in the workspace"))
            self._workspace_matches()
        for state in usable:
            verdict = state.verdict
            verdict.valid = verdict.codes - self.report.late_refused_lines(verdict.index)
        self.report.finish()

    # -- reading --------------------------------------------------------------------------------

    def _chunks(
        self, states: list[_FileState], label: str
    ) -> Iterator[tuple[_FileState, LineChunk]]:
        total = sum(state.verdict.sniffed.size for state in states) or 1
        done = 0
        for state in states:
            sniffed = state.verdict.sniffed
            message = f"{label} {sniffed.path.name}"

            def report_bytes(position: int, before: int = done, message: str = message) -> None:
                self.progress(Progress(before + position, total, message))

            for chunk in read_lines(sniffed, cancel=self.cancel, on_bytes=report_bytes):
                yield state, chunk
            done += sniffed.size

    # -- pass 1 (and the hashing passes of further partitions) -----------------------------------

    def _hash_pass(self, states: list[_FileState], partition: int, partitions: int) -> set[str]:
        first = partition == 0
        seen: set[str] = set()
        candidates: set[str] = set()
        label = "Checking" if first else f"Looking for duplicates ({partition + 1}/{partitions}) in"
        for state, chunk in self._chunks(states, label):
            keys, codes, problems = codes_in(chunk, self.rules)
            if first:
                self._first_look(state, chunk, keys, codes, problems)
            batch = skeletons(codes)
            if partitions > 1:
                batch = [item for item in batch if hash(item) % partitions == partition]
            hits = not seen.isdisjoint(batch)
            if hits:
                candidates.update(seen.intersection(batch))
            before = len(seen)
            seen.update(batch)
            if hits or len(seen) - before != len(batch):
                counts = Counter(batch)  # the skeletons repeated within the chunk, found in C
                candidates.update(itertools.compress(counts, map((1).__lt__, counts.values())))
        return candidates

    def _first_look(
        self,
        state: _FileState,
        chunk: LineChunk,
        keys: Sequence[int],
        codes: list[str],
        problems: list[Problem],
    ) -> None:
        verdict = state.verdict
        verdict.rows += len(chunk.lines)
        verdict.codes += len(codes)
        if chunk.crlf:
            if not state.first_crlf_line:  # listed in line order; counted once all is read
                state.first_crlf_line = chunk.first_crlf_line
                crlf = Problem(
                    chunk.first_crlf_line, ProblemKind.CRLF, _crlf_detail(0), effect=Effect.REPAIRED
                )
                problems = sorted([crlf, *problems], key=lambda problem: problem.line)
            state.crlf += chunk.crlf
        self.report.add(verdict.index, problems)
        numeric = list(filter(str.isdigit, codes))  # C loop; most lists have none
        if numeric:
            state.widths = state.widths or Counter()
            state.widths.update(map(len, numeric))
        if self.known is not None and codes:
            base = verdict.index << _KEY_BITS
            self.known.add(zip(map(base.__or__, keys), codes, strict=True))

    def _after_pass_one(self, state: _FileState) -> None:
        verdict = state.verdict
        index = verdict.index
        if verdict.codes == 0:
            self.report.add(
                index,
                [
                    Problem(
                        1, ProblemKind.NO_CODES, "the file holds no codes", effect=Effect.DROPPED
                    )
                ],
            )
        if state.crlf:
            self.report.update_detail(
                index, state.first_crlf_line, ProblemKind.CRLF, _crlf_detail(state.crlf)
            )
        width = _dominant_width(state.widths)
        if width:
            self._leading_zeros(state, width)

    # -- pass 2: naming duplicates ---------------------------------------------------------------

    def _resolve(self, states: list[_FileState], candidates: set[str]) -> None:
        # skeleton -> folded code -> code -> (file index, line) where it first appeared
        groups: dict[str, dict[str, dict[str, tuple[int, int]]]] = {}
        for state, chunk in self._chunks(states, "Naming duplicates in"):
            keys, codes, _ = codes_in(chunk, self.rules)
            batch = skeletons(codes)
            if candidates.isdisjoint(batch):
                continue
            index = state.verdict.index
            found: list[Problem] = []
            # Positions of candidates (of this partition only), found in C.
            hits = itertools.compress(range(len(batch)), map(candidates.__contains__, batch))
            for position in hits:
                skeleton, code, line = batch[position], codes[position], keys[position]
                problem = self._repeat(groups.setdefault(skeleton, {}), code, index, line)
                if problem is not None:
                    found.append(problem)
            self.report.add(index, found, late=True)

    def _repeat(
        self,
        group: dict[str, dict[str, tuple[int, int]]],
        code: str,
        index: int,
        line: int,
    ) -> Problem | None:
        folded = fold_code(code)
        same_fold = group.get(folded)
        if same_fold is not None:
            earlier = same_fold.get(code)
            if earlier is not None:
                return Problem(
                    line, ProblemKind.DUPLICATE, f"duplicate of {self._where(earlier, index)}", code
                )
            first_code, first = next(iter(same_fold.items()))
            same_fold[code] = (index, line)
            return Problem(
                line,
                ProblemKind.CASE_DUPLICATE,
                f"the same code as {self._where(first, index)} ({first_code}) apart from "
                "upper/lower case, which customers do not tell apart",
                code,
            )
        group[folded] = {code: (index, line)}
        if len(group) == 1:
            return None
        first_code, first = next(iter(next(iter(group.values())).items()))
        return Problem(
            line,
            ProblemKind.LOOKALIKE,
            f"looks like the code on {self._where(first, index)} ({first_code}): 0/O and 1/l/I "
            "are easily mistaken for each other",
            code,
        )

    def _where(self, place: tuple[int, int], current: int) -> str:
        index, line = place
        if index == current:
            return f"line {line:,}"
        return f"line {line:,} of {self.files[index].verdict.path.name}"

    # -- leading zeros ---------------------------------------------------------------------------

    def _leading_zeros(self, state: _FileState, width: int) -> None:
        index = state.verdict.index
        for _, chunk in self._chunks([state], "Looking for lost leading zeros in"):
            keys, codes, _ = codes_in(chunk, self.rules)
            found = [
                Problem(
                    line,
                    ProblemKind.LEADING_ZEROS_LOST,
                    f"{code} has {len(code)} digits where the other codes have {width}: a "
                    f"spreadsheet probably dropped its leading zeros ({code.zfill(width)}?)",
                    code,
                )
                for line, code in zip(keys, codes, strict=True)
                if len(code) < width and code.isdigit() and code.isascii()
            ]
            self.report.add(index, found, late=True)

    # -- the workspace ---------------------------------------------------------------------------

    def _workspace_matches(self) -> None:
        assert self.known is not None
        mask = (1 << _KEY_BITS) - 1
        current_key = -1
        places: list[str] = []
        code = ""

        def flush() -> None:
            if current_key < 0:
                return
            shown = "; ".join(places[:3])
            more = f" (and {len(places) - 3:,} more places)" if len(places) > 3 else ""
            self.report.add(
                current_key >> _KEY_BITS,
                [
                    Problem(
                        current_key & mask,
                        ProblemKind.IN_WORKSPACE,
                        f"already in the workspace: {shown}{more}",
                        code,
                    )
                ],
                late=True,
            )

        for match in self.known.matches():
            if match.key != current_key:
                flush()
                current_key, places, code = match.key, [], match.code
            if match.where not in places:
                places.append(match.where)
        flush()


def _crlf_detail(lines: int) -> str:
    counted = f"{lines:,} line{'s' if lines != 1 else ''}" if lines else "lines"
    return (
        f"{counted} end with Windows line breaks (CR LF), from this one on; the fixed file uses LF"
    )


def _dominant_width(widths: Counter[int] | None) -> int:
    """The width most numeric codes share, when there are codes shorter than it."""
    if not widths:
        return 0
    numeric = sum(widths.values())
    width, count = widths.most_common(1)[0]
    if numeric < _ZEROS_MIN_CODES or count < _ZEROS_MIN_SHARE * numeric:
        return 0
    return width if any(other < width for other in widths) else 0
