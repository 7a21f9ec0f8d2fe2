"""The code-file engine: reading, checking, fixing, splitting, generating (no workspace here)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promodesk.codefiles import checker as checker_module
from promodesk.codefiles import reading
from promodesk.codefiles.analysis import HEADER_WORDS
from promodesk.codefiles.checker import check_files, skeletons
from promodesk.codefiles.fixer import write_fixed, write_rejects
from promodesk.codefiles.generator import SAFE, CodeGenerator, CodeSpec, alphabet_named
from promodesk.codefiles.problems import Effect, ProblemKind
from promodesk.codefiles.report import CheckReport
from promodesk.codefiles.rules import CodeRules, rules_for
from promodesk.codefiles.spreadsheet import plain_cell, safe_cell, safe_cell_sql, write_code_list
from promodesk.domain.jobs import CancelToken, JobCancelled
from promodesk.domain.vendors import Vendor
from tests.conftest import REPO

CORPUS = REPO / "tests" / "fixtures" / "codefiles"
EXPECTED = sorted(CORPUS.glob("*.expected.json"))


def _rules(expected: dict[str, object]) -> CodeRules:
    rules = rules_for(str(expected["vendor"]))
    overrides = expected.get("rules") or {}
    assert isinstance(overrides, dict)
    return dataclasses.replace(rules, **overrides)


def _verdict_of(report: CheckReport) -> dict[str, object]:
    verdict = report.files[0]
    return {
        "usable": verdict.usable,
        "rows": verdict.rows,
        "valid": verdict.valid,
        "encoding": verdict.encoding,
        "problems": [[p.line, p.kind.value] for p in report.iter_problems(0)],
    }


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_the_corpus_is_complete() -> None:
    """Every bad file has its expected verdict, and the verdicts cover every problem kind."""
    files = {path.name for path in CORPUS.iterdir() if path.suffix not in (".json", ".py")}
    described = {json.loads(path.read_text(encoding="utf-8"))["file"] for path in EXPECTED}
    assert files == described
    kinds = {
        kind
        for path in EXPECTED
        for _, kind in json.loads(path.read_text(encoding="utf-8"))["problems"]
    }
    missing = {kind.value for kind in ProblemKind} - kinds
    # Unreadable (a missing file, a folder) and in_workspace (needs a workspace) are tested
    # in test_cli_codes.py and test_known_codes.py.
    assert missing == {"unreadable", "in_workspace"}


@pytest.mark.parametrize("expected_file", EXPECTED, ids=lambda path: path.name.split(".")[0])
def test_corpus_file_gets_its_verdict(expected_file: Path, tmp_path: Path) -> None:
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    source = CORPUS / expected["file"]
    with check_files([source], _rules(expected)) as report:
        assert _verdict_of(report) == {
            key: expected[key] for key in ("usable", "rows", "valid", "encoding", "problems")
        }
        written = write_fixed(report, tmp_path / "fixed.csv")
        assert sum(count for _, count in written) == expected["valid"]
        if "parts" in expected:
            assert [path.name for path, _ in written] == ["fixed-1.csv", "fixed-2.csv"]
            assert [_lines(path) for path, _ in written] == expected["parts"]
        else:
            assert [path.name for path, _ in written] == ["fixed.csv"]
            assert (tmp_path / "fixed.csv").read_bytes().decode("utf-8") == "".join(
                f"{code}\n" for code in expected["fixed"]
            )
        rejects = write_rejects(report, tmp_path / "rejects.csv")
        refused = (
            {p.line for p in report.iter_problems(0) if p.effect is Effect.REFUSED}
            if report.files[0].usable
            else set()
        )
        assert rejects == len(refused)


@pytest.mark.parametrize("chunk_bytes", [1, 7, 64])
def test_chunk_boundaries_change_nothing(chunk_bytes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines, CR LF pairs, UTF-16 and UTF-8 sequences cut by a chunk boundary read the same."""
    monkeypatch.setattr(reading, "CHUNK_BYTES", chunk_bytes)
    for expected_file in EXPECTED:
        expected = json.loads(expected_file.read_text(encoding="utf-8"))
        with check_files([CORPUS / expected["file"]], _rules(expected)) as report:
            assert _verdict_of(report)["problems"] == expected["problems"], expected["file"]


def test_missing_files_and_folders_are_unusable(tmp_path: Path) -> None:
    with check_files([tmp_path / "gone.csv", tmp_path], rules_for(Vendor.OPTIMOVE)) as report:
        assert not report.usable
        for verdict in report.files:
            [problem] = report.iter_problems(verdict.index)
            assert problem.kind is ProblemKind.UNREADABLE
        assert "does not exist" in report.page(0, 0, 1)[0].detail
        assert "folder" in report.page(1, 0, 1)[0].detail


def test_duplicates_across_files_name_the_other_file(tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    first.write_text("A-1\nB-2\n")
    second = tmp_path / "second.csv"
    second.write_text("C-3\nb-2\nA-1\n")
    with check_files([first, second], rules_for(Vendor.ALTCRAFT)) as report:
        problems = [(p.line, p.kind, p.detail) for p in report.iter_problems(1)]
        assert problems == [
            (2, ProblemKind.CASE_DUPLICATE, problems[0][2]),
            (3, ProblemKind.DUPLICATE, "duplicate of line 1 of first.csv"),
        ]
        assert "line 2 of first.csv (B-2)" in problems[0][2]
        assert [v.valid for v in report.files] == [2, 1]
        written = write_fixed(report, tmp_path / "fixed.csv")
    assert _lines(written[0][0]) == ["A-1", "B-2", "C-3"]


def test_partitioned_duplicate_search_finds_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inputs over PARTITION_BYTES are hashed one partition per pass (bounded memory)."""
    codes = [f"P-{n:05d}" for n in range(3000)]
    source = tmp_path / "codes.csv"
    source.write_text("\n".join([*codes, codes[5], codes[2999].lower(), "P-0OOO1", "P-00001"]))
    rules = rules_for(Vendor.OPTIMOVE)
    with check_files([source], rules) as whole:
        expected = [(p.line, p.kind, p.detail) for p in whole.iter_problems(0)]
    monkeypatch.setattr(checker_module, "PARTITION_BYTES", 2000)  # ~15 partitions
    with check_files([source], rules) as parted:
        assert [(p.line, p.kind, p.detail) for p in parted.iter_problems(0)] == expected
    assert [kind for _, kind, _ in expected] == [
        ProblemKind.DUPLICATE,
        ProblemKind.CASE_DUPLICATE,
        ProblemKind.LOOKALIKE,
        ProblemKind.DUPLICATE,
    ]


def test_a_line_longer_than_anything_is_cut_and_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "CHUNK_BYTES", 1000)
    source = tmp_path / "one-long-line.csv"
    source.write_text("OK-1\n" + "X" * (reading.LONGEST_LINE * 3) + "\nOK-3\n")
    with check_files([source], rules_for(Vendor.IMPACT)) as report:
        [problem] = report.iter_problems(0)
        assert (problem.line, problem.kind) == (2, ProblemKind.TOO_LONG)
        assert problem.detail.startswith(f"{reading.LONGEST_LINE:,}+ characters")
        assert report.files[0].rows == 3
        assert report.files[0].valid == 2


def test_cancel_stops_the_check(tmp_path: Path) -> None:
    source = tmp_path / "codes.csv"
    source.write_text("A\nB\n")
    token = CancelToken()
    token.cancel()
    with pytest.raises(JobCancelled):
        check_files([source], rules_for(Vendor.OPTIMOVE), cancel=token)


def test_the_report_pages_any_slice_of_many_problems(tmp_path: Path) -> None:
    source = tmp_path / "spaces.csv"
    source.write_text("".join(f" S-{n} \n" for n in range(12_345)))
    with check_files([source], rules_for(Vendor.OPTIMOVE)) as report:
        verdict = report.files[0]
        assert verdict.problems == 12_345
        assert verdict.summary == {"whitespace": 12_345}
        every = list(report.iter_problems(0))
        assert [p.line for p in every] == list(range(1, 12_346))
        assert report.page(0, 10_000, 3) == every[10_000:10_003]
        assert report.page(0, 12_344, 10) == every[-1:]
        assert report.page(0, 20_000, 10) == []


# -- property-based: the checker -------------------------------------------------------------

_CODE_CHARACTERS = string.ascii_letters + string.digits + "-_."
# Valid codes: what vendors take, minus what only looks like a header.
codes_strategy = st.text(_CODE_CHARACTERS, min_size=1, max_size=24).filter(
    lambda code: code.lower() not in HEADER_WORDS
)


def _unique_by_skeleton(codes: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for code, skeleton in zip(codes, skeletons(codes), strict=True):
        if skeleton not in seen:
            seen.add(skeleton)
            kept.append(code)
    return kept


def _check_text(text: str, rules: CodeRules) -> tuple[list[tuple[int, str]], int, list[str]]:
    """(line, kind) of every problem, the valid count, and the fixed file's codes."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "codes.csv"
        source.write_bytes(text.encode("utf-8"))
        with check_files([source], rules) as report:
            found = [(p.line, p.kind.value) for p in report.iter_problems(0)]
            written = write_fixed(report, Path(folder) / "fixed.csv")
            fixed = [code for path, _ in written for code in _lines(path)]
            return found, report.files[0].valid, fixed


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(codes_strategy, min_size=1, max_size=60).map(_unique_by_skeleton))
def test_no_valid_code_is_rejected(codes: list[str]) -> None:
    found, valid, fixed = _check_text("\n".join(codes) + "\n", rules_for(Vendor.ALTCRAFT))
    leading_zero_guesses = [problem for problem in found if problem[1] == "leading_zeros_lost"]
    # All-digit codes of one width with a few shorter ones do look like lost zeros; anything
    # else is a false alarm.
    assert found == leading_zero_guesses
    assert valid == len(codes) - len(leading_zero_guesses)
    if not leading_zero_guesses:
        assert fixed == codes


# Each injection turns a valid code into a line with one known problem (or adds a line).
_INJECTIONS = {
    "whitespace": lambda code, earlier: f"  {code} ",
    "quoted": lambda code, earlier: f'"{code}"',
    "invisible": lambda code, earlier: f"{code[:1]}\u200b{code[1:]}",
    "url_unsafe": lambda code, earlier: f"{code}/x",
    "too_long": lambda code, earlier: code + "Z" * 256,
    "extra_columns": lambda code, earlier: f"{code},other",
    "scientific_notation": lambda code, earlier: "4.2E+07",
    "duplicate": lambda code, earlier: earlier,
    "case_duplicate": lambda code, earlier: earlier.swapcase(),
    "empty_line": lambda code, earlier: "",
}


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(st.text(string.ascii_uppercase, min_size=4, max_size=12), min_size=3, max_size=40)
    .map(_unique_by_skeleton)
    .filter(lambda codes: len(codes) >= 3),
    st.lists(st.tuples(st.sampled_from(sorted(_INJECTIONS)), st.integers(0, 10_000)), max_size=8),
)
def test_every_injected_problem_is_found_on_its_line(
    codes: list[str], injections: list[tuple[str, int]]
) -> None:
    lines = [f"K{code}" for code in codes]  # starts with a letter: never a header or a number
    expected: set[tuple[int, str]] = set()
    injected_at: set[object] = set()
    for kind, where in injections:
        position = 1 + where % (len(lines) - 1)  # never line 1: the earlier code is line 1's
        if position in injected_at or (kind, 0) in injected_at:
            continue  # (a second case-only copy of line 1 would repeat the first exactly)
        if kind == "case_duplicate":
            injected_at.add((kind, 0))
        injected_at.add(position)
        lines[position] = _INJECTIONS[kind](lines[position], lines[0])
        expected.add((position + 1, kind))
    found, _, fixed = _check_text("\n".join(lines) + "\n", rules_for(Vendor.OPTIMOVE))
    assert set(found) == expected
    kept = {code.strip() for code in fixed}
    assert len(kept) == len(fixed)  # the fixed file never repeats a code
    for line, kind in expected:
        if kind in ("whitespace", "quoted", "invisible"):
            assert codes[line - 1] and f"K{codes[line - 1]}" in kept


# -- property-based: the generator -----------------------------------------------------------

_LOOKALIKES = set("0O1IL")


@settings(max_examples=40, deadline=None)
@given(
    count=st.integers(1, 3000),
    length=st.integers(6, 12),
    prefix=st.text(_CODE_CHARACTERS, max_size=5),
    suffix=st.text(_CODE_CHARACTERS, max_size=5),
)
def test_generated_codes_are_unique_and_shaped(
    count: int, length: int, prefix: str, suffix: str
) -> None:
    codes = CodeGenerator(CodeSpec(count, length, prefix, suffix)).draw(count)
    assert len(codes) == count
    assert len(set(skeletons(codes))) == count  # not even a case-only or look-alike repeat
    for code in codes:
        assert code.startswith(prefix) and code.endswith(suffix)
        middle = code[len(prefix) : len(code) - len(suffix)]
        assert len(middle) == length
        assert set(middle) <= set(SAFE)
        assert not set(middle) & _LOOKALIKES


def test_generated_codes_pass_the_checker_and_use_the_whole_alphabet() -> None:
    codes = CodeGenerator(CodeSpec(20_000, 8)).draw(20_000)
    found, valid, _ = _check_text("\n".join(codes), rules_for(Vendor.OPTIMOVE))
    assert (found, valid) == ([], 20_000)
    assert set("".join(codes)) == set(SAFE)  # 160,000 draws over 31 characters


def test_a_generator_never_repeats_itself_across_draws() -> None:
    generator = CodeGenerator(CodeSpec(40, 2, alphabet="ABCDEFGHJK"))  # 100 possible codes
    first, second = generator.draw(25), generator.draw(25)
    assert len(set(first) | set(second)) == 50


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (CodeSpec(0), "the count must be at least 1"),
        (CodeSpec(10, 0), "the length must be at least 1"),
        (CodeSpec(10, 4, alphabet="AAB"), "repeats characters"),
        (CodeSpec(10, 4, prefix="A B"), "the prefix may only use"),
        (CodeSpec(10, 4, alphabet="O0"), "only 1 different codes"),
        (CodeSpec(600, 2, alphabet=alphabet_named("hex")), "ask for at most 128"),
    ],
)
def test_impossible_requests_are_refused_in_words(spec: CodeSpec, problem: str) -> None:
    assert any(problem in text for text in spec.problems())
    with pytest.raises(ValueError, match=r"\w"):
        CodeGenerator(spec)


# -- the code list writer ----------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    batches=st.lists(st.lists(st.text(_CODE_CHARACTERS, min_size=1, max_size=30), max_size=30)),
    cap=st.integers(31, 400),
)
def test_code_lists_split_under_the_cap_and_lose_nothing(
    batches: list[list[str]], cap: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "codes.csv"
        written = write_code_list(target, batches, max_bytes=cap)
        every = [code for batch in batches for code in batch]
        back = [code for path, _ in written for code in _lines(path)]
        assert back == every
        assert sum(count for _, count in written) == len(every)
        for path, _ in written:
            assert path.stat().st_size <= cap
        names = sorted(path.name for path in Path(folder).iterdir())
        assert names == sorted(path.name for path, _ in written)


def test_a_cancelled_code_list_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "codes.csv"
    target.write_text("OLD\n")

    def cancel_after_first(written: int) -> None:
        raise JobCancelled()

    with pytest.raises(JobCancelled):
        write_code_list(target, [["A"] * 5, ["B"] * 5], max_bytes=6, on_codes=cancel_after_first)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["codes.csv"]
    assert target.read_text() == "OLD\n"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.integers(-(2**63), 2**63 - 1),
            st.floats(allow_nan=False),
            st.text(max_size=8),
            st.sampled_from(["=1+1", "+x", "-5", "-x", "@SUM", "\tx", "\rx", "", ">x", "?", "A"]),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_cells_made_safe_in_sql_match_safe_cell(values: list[object]) -> None:
    """The export makes cells safe in SQL; it must agree with `safe_cell` for every value
    SQLite can hold (numbers stay numbers, NULL stays empty)."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE TABLE cells (value)")
        conn.executemany("INSERT INTO cells VALUES (?)", [(value,) for value in values])
        stored = [value for (value,) in conn.execute("SELECT value FROM cells ORDER BY rowid")]
        made_safe = [
            value
            for (value,) in conn.execute(
                f"SELECT {safe_cell_sql('value')} FROM cells ORDER BY rowid"
            )
        ]
    finally:
        conn.close()
    assert [plain_cell(value) for value in made_safe] == [safe_cell(value) for value in stored]
