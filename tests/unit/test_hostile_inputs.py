"""Hostile files, each imported in a child process whose address space is capped at 1 GiB
(RLIMIT_AS): every one must be refused with a message naming the file, the line and the
problem, leave the workspace exactly as it was, and stay far inside the cap.

The files are made here (the big ones sparse, or written once per run), never committed.
Before the limits in store/importers/limits.py, the nested JSON needed more than 24 GB (ijson
keeps a prefix per level: quadratic), the sparse CSV's last "line" was read whole, the 100 MB
code was stored, and the XML comment was rescanned by expat at every chunk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promodesk.store.importers.base import ImportFileError
from promodesk.store.importers.limits import MAX_RECORD_VALUES, JsonLimits
from tests.helpers import allocation_rows, impact_code, impact_page, write_allocations

ADDRESS_SPACE_LIMIT = 1 << 30
HEADER = (
    "customerId,promocodeId,promotionId,fileId,uniqueCode,timestamp,occurenceId,seriesId,actionId\n"
)


def _sparse(path: Path, head: bytes, size: int) -> Path:
    """`head`, then zero bytes up to `size`: gigabytes that take no room on disk."""
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(size)
    return path


def _rows(count: int) -> str:
    return "".join(f"C{n},pc,p,f,CODE{n},2026-09-01T00:00:00Z,1,1,1\n" for n in range(count))


def _make(folder: Path, case: str) -> Path:
    if case == "json-nested-100k":  # 100 KB of "[" inside an impact.com page
        path = folder / "nested.json"
        path.write_text('{"PromoCodes": ' + "[" * 100_000)
    elif case == "json-nested-1000":  # 2 KB: 1,000 levels in one record's extra field
        path = folder / "deep-record.json"
        record = json.dumps(impact_code(1))[:-1] + ', "Deal": ' + "[" * 1000 + "]" * 1000 + "}"
        path.write_text('{"PromoCodes": [' + record + "]}")
    elif case == "csv-sparse-last-line":  # 3 GiB, its last "line" all zero bytes
        path = _sparse(
            folder / "sparse.csv", (HEADER + _rows(3000) + "C2,pc,p,f,").encode(), 3 << 30
        )
    elif case == "codes-sparse":
        path = folder / "sparse-codes.txt"
        _sparse(path, "".join(f"CODE{n}\n" for n in range(10_000)).encode(), 3 << 30)
    elif case == "csv-100mb-code":  # one 100 MB code value
        path = folder / "huge-code.csv"
        with path.open("w") as handle:
            handle.write(HEADER + _rows(10) + "C2,pc,p,f,")
            for _ in range(100):
                handle.write("X" * 1_000_000)
            handle.write(",2026-09-01T00:00:00Z,1,1,1\n")
    elif case == "codes-5mb-code":
        path = folder / "huge-code.txt"
        path.write_text("AAA\nBBB\n" + "X" * 5_000_000 + "\n")
    elif case == "json-5mb-code":
        path = folder / "huge-code.json"
        path.write_text(json.dumps(impact_page([impact_code(1, Code="X" * 5_000_000)])))
    elif case == "json-wide-record":  # a million values in one record
        path = folder / "wide.json"
        path.write_text(json.dumps(impact_page([impact_code(1, Deal=[0] * 1_000_000)])))
    elif case == "json-envelope-lists":  # no records, and a list of 1.5 million lists
        path = folder / "wide-envelope.json"
        path.write_text('{"data": [], "error": [' + "[]," * 1_500_000 + "[]]}")
    elif case == "json-envelope-objects":  # no records, and 4 million objects as the "error"
        path = folder / "wide-envelope.json"
        path.write_text('{"data": [], "error": [' + '{"a":"b"},' * 4_000_000 + "{}]}")
    elif case == "xml-5mb-text":
        path = folder / "huge-code.xml"
        path.write_text("<xml><data><code>" + "X" * 5_000_000 + "</code></data></xml>")
    elif case == "xml-5mb-comment":  # expat holds a comment whole and rescans it per chunk
        path = folder / "comment.xml"
        path.write_text("<xml>\n<data><code>A1</code></data>\n<!--" + "a<>" * 2_000_000 + "-->")
    elif case == "xml-5mb-attribute":
        path = folder / "tag.xml"
        path.write_text('<xml><data code="' + "a>" * 2_500_000 + '"/></xml>')
    elif case == "xml-nested-100k":
        path = folder / "nested.xml"
        path.write_text("<xml>" + "<a>" * 100_000)
    elif case == "xml-wide-record":
        path = folder / "wide.xml"
        fields = "".join(f"<f{n}>1</f{n}>" for n in range(100_000))
        path.write_text(f"<xml><data><code>A</code>{fields}</data></xml>")
    else:
        raise AssertionError(case)
    return path


# case -> (line of the refusal or None, words of the message); None: imported, bounded.
HOSTILE = {
    "json-nested-100k": (1, "nested more than 32 levels"),
    "json-nested-1000": (1, "nested more than 32 levels"),
    "csv-sparse-last-line": (3002, "control character (U+0000, NUL)"),
    "codes-sparse": (10_001, "control character (U+0000, NUL)"),
    "csv-100mb-code": (12, "longer than 64 KB"),
    "codes-5mb-code": (3, "longer than 64 KB"),
    "json-5mb-code": (1, "a value longer than 64 KB"),
    "json-wide-record": (1, "more than 1,000 values"),
    "json-envelope-lists": (1, "a value longer than 64 KB"),
    "json-envelope-objects": None,
    "xml-5mb-text": (1, "longer than 64 KB"),
    "xml-5mb-comment": (3, "comment or text longer than 64 KB"),
    "xml-5mb-attribute": (1, "longer than 64 KB"),
    "xml-nested-100k": (1, "nested more than 32 levels"),
    "xml-wide-record": (1, "more than 1,000 fields"),
}

CHILD = """
import json, resource, sys
from pathlib import Path
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from promodesk.store.db import connect
from promodesk.store.importers.base import ImportFileError
from promodesk.store.importers.dispatch import import_file
from promodesk.store.workspace import create_workspace
from tests.helpers import allocation_rows, write_allocations

workspace = Path(sys.argv[2])
create_workspace(workspace, label="hostile")
conn = connect(workspace)
seed = write_allocations(workspace.with_name("seed.csv"), allocation_rows(50))
import_file(conn, seed)

def snapshot():
    tables = [name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'fts_%'")]
    return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in tables}

before = snapshot()
outcome = {}
try:
    result = import_file(conn, Path(sys.argv[1]))
    outcome["imported"] = result.summary()
except ImportFileError as error:
    outcome.update(message=str(error), line=error.line, file=error.path.name)
    outcome["unchanged"] = snapshot() == before
# VmHWM: this process's own peak (ru_maxrss keeps the parent's peak across fork and exec).
status = Path("/proc/self/status")
peaks = [line.split()[1] for line in status.read_text().splitlines() if line.startswith("VmHWM")]
peak_kb = int(peaks[0]) if peaks else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcome["peak_rss_mb"] = peak_kb // 1024
print(json.dumps(outcome))
"""


def import_in_capped_child(path: Path, workspace: Path) -> dict[str, object]:
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(workspace), str(ADDRESS_SPACE_LIMIT)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return outcome


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_file_is_refused_with_bounded_memory(tmp_path: Path, case: str) -> None:
    path = _make(tmp_path, case)
    outcome = import_in_capped_child(path, tmp_path / "hostile.promodesk")
    # Far inside the 1 GiB cap: a few chunks and the parsers' own needs.
    assert int(str(outcome["peak_rss_mb"])) < 400, outcome
    expected = HOSTILE[case]
    if expected is None:
        assert "imported" in outcome, outcome
        return
    line, words = expected
    assert outcome["file"] == path.name, outcome
    assert str(outcome["message"]).startswith(f"{path.name}: line {line:,}: "), outcome
    assert words in str(outcome["message"]), outcome
    assert outcome["unchanged"] is True, outcome


# -- the JSON limits' fast path agrees with the exact walk ------------------------------------


class ExactOnly(JsonLimits):
    """The same limits with the C-speed shortcut turned off: every piece walked in Python."""

    def _flat_records(self, structure: bytes) -> bool:
        return False


def _outcome(limits: JsonLimits, data: bytes, piece: int) -> tuple[object, ...]:
    try:
        for start in range(0, len(data), piece):
            limits.check(data[start : start + piece])
    except ImportFileError as error:
        return ("refused", error.line, error.problem)
    return ("accepted", limits._depth, limits._values, limits._in_string)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\{}[],\n', max_size=6),
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(st.text(alphabet='k"\\[{', max_size=3), children, max_size=6)
    ),
    max_leaves=40,
)


@settings(max_examples=500, deadline=None)
@given(
    records=st.lists(json_values, max_size=30),
    indent=st.sampled_from([None, 1]),
    piece=st.integers(min_value=1, max_value=200),
    record_depth=st.integers(min_value=1, max_value=5),
    max_depth=st.integers(min_value=3, max_value=8),
    max_values=st.integers(min_value=1, max_value=12),
)
def test_the_fast_path_decides_as_the_exact_walk_does(
    records: list[object],
    indent: int | None,
    piece: int,
    record_depth: int,
    max_depth: int,
    max_values: int,
) -> None:
    # Small bounds, so that the refusals are exercised as much as the accepted pieces.
    document = {"data": [{"code": "A", "value": value} for value in records], "error": 0}
    data = json.dumps(document, indent=indent).encode()
    bounds = {"record_depth": record_depth, "max_depth": max_depth, "max_values": max_values}
    fast = _outcome(JsonLimits(Path("x.json"), **bounds), data, piece)
    exact = _outcome(ExactOnly(Path("x.json"), **bounds), data, piece)
    assert fast == exact


def test_the_fast_path_refuses_a_wide_flat_record_where_the_walk_does() -> None:
    wide = {"data": [{f"k{n}": n for n in range(MAX_RECORD_VALUES + 5)}]}
    data = json.dumps(wide, indent=1).encode()
    fast = _outcome(JsonLimits(Path("x.json"), record_depth=3), data, 4096)
    assert fast == _outcome(ExactOnly(Path("x.json"), record_depth=3), data, 4096)
    assert fast[0] == "refused"


def test_a_normal_export_passes_the_limits(tmp_path: Path) -> None:
    # The limits are far from what real exports look like: 20,000 rows pass untouched.
    path = write_allocations(tmp_path / "fine.csv", allocation_rows(20_000))
    outcome = import_in_capped_child(path, tmp_path / "fine.promodesk")
    assert "imported" in outcome, outcome
    assert "19,950 new allocations, 50 already" in str(outcome["imported"]), outcome
