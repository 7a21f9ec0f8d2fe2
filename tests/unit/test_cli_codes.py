"""check-codes, generate-codes and export-allocations, run as real processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from promodesk.domain.records import ALLOCATION_COLUMNS
from promodesk.store.importers.dispatch import import_file
from tests.conftest import DEMO_DIR, REPO
from tests.helpers import allocation_rows, new_workspace, write_allocations
from tests.unit.test_cli import NO_QT, promodesk

CORPUS = REPO / "tests" / "fixtures" / "codefiles"


def _json_lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def _demo_workspace(folder: Path) -> Path:
    path, conn = new_workspace(folder, "demo.promodesk")
    for name in ("optimove_allocations_2026-11-20.csv", "optimove_unique_codes_spring_batch3.csv"):
        import_file(conn, DEMO_DIR / name)
    conn.close()
    return path


def test_a_clean_file_exits_0(tmp_path: Path) -> None:
    done = promodesk("check-codes", str(CORPUS / "clean.csv"), "--vendor", "optimove")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"{CORPUS / 'clean.csv'}: 4 lines, 4 codes, no problems: ready for Optimove (UTF-8)\n"
    )
    assert "no workspace at" in done.stderr  # the default workspace does not exist here


def test_problems_exit_1_and_json_has_one_object_per_file(tmp_path: Path) -> None:
    files = [str(CORPUS / "duplicates.csv"), str(CORPUS / "clean.csv")]
    done = promodesk("check-codes", *files, "--vendor", "optimove", "--json", "--no-workspace")
    assert done.returncode == 1, done.stderr
    first, second = _json_lines(done.stdout)
    assert list(first) == [
        "file",
        "rows",
        "valid",
        "encoding",
        "usable",
        "problems",
        "problems_omitted",
        "summary",
    ]
    assert (first["file"], first["rows"], first["valid"]) == (files[0], 11, 4)
    assert first["summary"] == {"lookalike": 3, "case_duplicate": 2, "duplicate": 2}
    problems = first["problems"]
    assert isinstance(problems, list)
    assert problems[0] == {
        "line": 3,
        "code": "DUP-1",
        "kind": "duplicate",
        "detail": "duplicate of line 1",
    }
    assert [problem["line"] for problem in problems] == [3, 4, 6, 8, 9, 10, 11]
    assert (second["problems"], second["summary"], second["valid"]) == ([], {}, 4)


def test_readable_output_is_bounded_and_says_how_many_more(tmp_path: Path) -> None:
    source = tmp_path / "spaces.csv"
    source.write_text("".join(f" S-{n}\n" for n in range(120)))
    done = promodesk("check-codes", str(source), "--vendor", "altcraft", "--no-workspace")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].endswith("spaces.csv: 120 lines, 120 valid codes, 120 problems (UTF-8)")
    assert lines[1] == "  line 1: ' S-0' spaces around the code (removed) [whitespace]"
    assert len([line for line in lines if line.startswith("  line ")]) == 50
    assert "  … and 70 more (--max-problems 0 lists them all; --json gives them as data)" in lines
    assert lines[-1] == "  by kind: whitespace 120"
    every = promodesk(
        "check-codes", str(source), "--vendor", "altcraft", "--no-workspace", "--max-problems", "0"
    )
    assert len([line for line in every.stdout.splitlines() if line.startswith("  line ")]) == 120
    capped = promodesk(
        "check-codes", str(source), "--vendor", "altcraft", "--json", "--max-problems", "5"
    )
    [result] = _json_lines(capped.stdout)
    assert (len(result["problems"]), result["problems_omitted"]) == (5, 115)  # type: ignore[arg-type]


def test_unusable_inputs_exit_2(tmp_path: Path) -> None:
    done = promodesk(
        "check-codes",
        str(CORPUS / "workbook.xlsx"),
        str(CORPUS / "clean.csv"),
        "--vendor",
        "impact",
    )
    assert done.returncode == 2
    assert "workbook.xlsx: cannot be used: this is an Excel workbook" in done.stdout
    missing = promodesk("check-codes", str(tmp_path / "nope.csv"), "--vendor", "impact")
    assert missing.returncode == 2
    assert "nope.csv: cannot be used: the file does not exist" in missing.stdout
    no_workspace = promodesk(
        "check-codes",
        str(CORPUS / "clean.csv"),
        "--vendor",
        "impact",
        "--workspace",
        str(tmp_path / "none.promodesk"),
    )
    assert no_workspace.returncode == 2
    assert "error: no workspace at" in no_workspace.stderr
    bad_vendor = promodesk("check-codes", str(CORPUS / "clean.csv"), "--vendor", "acme")
    assert bad_vendor.returncode == 2 and "invalid choice" in bad_vendor.stderr


def test_file_names_and_codes_are_printed_without_control_characters(tmp_path: Path) -> None:
    source = tmp_path / "evil\x1b[31mname.csv"
    source.write_text("A\u202eB\nA\u202eB\n")
    done = promodesk("check-codes", str(source), "--vendor", "altcraft", "--no-workspace")
    assert "\x1b" not in done.stdout + done.stderr
    assert "\u202e" not in done.stdout
    assert "evil\\x1b[31mname.csv" in done.stdout
    assert "'A\\u202eB'" in done.stdout


def test_fix_and_rejects_files(tmp_path: Path) -> None:
    fixed, rejects = tmp_path / "fixed.csv", tmp_path / "rejects.csv"
    done = promodesk(
        "check-codes",
        str(CORPUS / "quoted_columns.csv"),
        str(CORPUS / "duplicates.csv"),
        "--vendor",
        "optimove",
        "--no-workspace",
        "--fix",
        str(fixed),
        "--rejects",
        str(rejects),
    )
    assert done.returncode == 1
    assert "fixed codes: " in done.stderr and "(8 codes)" in done.stderr
    assert fixed.read_text().split("\n") == [
        "QUOTED-1",
        "SINGLE-2",
        "TRAIL-3",
        "SPACED-7",
        "DUP-1",
        "UNIQ-2",
        "CODE-O1",
        "WIN-L1",
        "",
    ]
    rows = rejects.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "file,line,code,reason"
    assert rows[1] == (
        "quoted_columns.csv,4,\"TWO-4,extra\",2 columns (more after the code: 'extra'); a code "
        "list has one code per line"
    )
    assert len(rows) == 1 + 5 + 7


def test_a_file_over_the_optimove_cap_is_split(tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    source.write_text("".join(f"BIG-{n:06d}\n" for n in range(910_000)))  # 10.01 MB
    fixed = tmp_path / "upload.csv"
    done = promodesk(
        "check-codes",
        str(source),
        "--vendor",
        "optimove",
        "--json",
        "--no-workspace",
        "--fix",
        str(fixed),
    )
    assert done.returncode == 1
    [result] = _json_lines(done.stdout)
    assert result["summary"] == {"over_cap": 1}
    assert result["problems"][0]["line"] == 909_091  # type: ignore[index]
    parts = [tmp_path / "upload-1.csv", tmp_path / "upload-2.csv"]
    assert not fixed.exists()
    assert [path.stat().st_size <= 10_000_000 for path in parts] == [True, True]
    assert b"".join(path.read_bytes() for path in parts) == source.read_bytes()


def test_codes_in_the_workspace_are_refused(tmp_path: Path) -> None:
    workspace = _demo_workspace(tmp_path)
    source = tmp_path / "again.csv"
    source.write_text("SPRW-79X92KUA\nNEW-CODE-1\nsums-5y54rf63\n")
    done = promodesk(
        "check-codes", str(source), "--vendor", "optimove", "--workspace", str(workspace), "--json"
    )
    assert done.returncode == 1, done.stderr
    [result] = _json_lines(done.stdout)
    assert [(p["line"], p["kind"]) for p in result["problems"]] == [  # type: ignore[union-attr]
        (1, "in_workspace"),
        (3, "in_workspace"),
    ]
    assert result["valid"] == 1


def test_generate_codes(tmp_path: Path) -> None:
    workspace = _demo_workspace(tmp_path)
    target = tmp_path / "new.csv"
    done = promodesk(
        "generate-codes",
        "--count",
        "5000",
        "--length",
        "6",
        "--prefix",
        "SPRW-",
        "--workspace",
        str(workspace),
        "-o",
        str(target),
    )
    assert done.returncode == 0, done.stderr
    assert f"wrote 5,000 codes to {target}" in done.stderr
    codes = target.read_text().split("\n")
    assert codes[-1] == "" and len(set(codes[:-1])) == 5000
    assert all(len(code) == 11 and code.startswith("SPRW-") for code in codes[:-1])
    check = promodesk(
        "check-codes", str(target), "--vendor", "optimove", "--workspace", str(workspace)
    )
    assert check.returncode == 0, check.stdout


def test_generate_codes_refuses_what_cannot_be_made(tmp_path: Path) -> None:
    target = tmp_path / "new.csv"
    for args, message in [
        (("--count", "10", "--alphabet", "klingon"), "unknown alphabet 'klingon'"),
        (("--count", "300", "--length", "2", "--alphabet", "hex"), "ask for at most 128"),
        (("--count", "5", "--prefix", "50%"), "the prefix may only use"),
    ]:
        done = promodesk("generate-codes", *args, "--no-workspace", "-o", str(target))
        assert done.returncode == 1 and message in done.stderr, done.stderr
    assert not target.exists()


def test_export_allocations_from_a_workspace_and_the_sandbox(tmp_path: Path) -> None:
    workspace = _demo_workspace(tmp_path)
    target = tmp_path / "export.csv"
    done = promodesk(
        "export-allocations",
        "--promocode",
        "pc-summer-sale",
        "--workspace",
        str(workspace),
        "-o",
        str(target),
        "--bom",
    )
    assert done.returncode == 0, done.stderr
    assert "wrote 7,000 allocations" in done.stderr
    content = target.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf" + ",".join(ALLOCATION_COLUMNS).encode() + b"\r\n")
    assert content.count(b"\r\n") == 7001

    unknown = promodesk(
        "export-allocations",
        "--promocode",
        "pc-nope",
        "--workspace",
        str(workspace),
        "-o",
        str(tmp_path / "nope.csv"),
    )
    assert unknown.returncode == 1
    assert "error: the workspace has no promocode 'pc-nope'" in unknown.stderr
    assert not (tmp_path / "nope.csv").exists()

    live = tmp_path / "live.csv"
    sandbox = promodesk(
        "export-allocations",
        "--promocode",
        "pc-spring-welcome",
        "--account",
        "sandbox-optimove",
        "-o",
        str(live),
    )
    assert sandbox.returncode == 0, sandbox.stderr
    assert live.read_bytes() == ",".join(ALLOCATION_COLUMNS).encode() + b"\r\n"
    nobody = promodesk(
        "export-allocations", "--promocode", "pc-1", "--account", "Prod", "-o", str(live)
    )
    assert nobody.returncode == 1
    assert "error: no account called 'Prod'" in nobody.stderr
    altcraft = promodesk(
        "export-allocations",
        "--promocode",
        "pc-1",
        "--account",
        "sandbox-altcraft",
        "-o",
        str(live),
    )
    assert altcraft.returncode == 1
    assert "is not an Optimove account (it is Altcraft)" in altcraft.stderr


def test_ctrl_c_leaves_no_export_behind(tmp_path: Path) -> None:
    export = write_allocations(tmp_path / "big.csv", allocation_rows(600_000))
    workspace, conn = new_workspace(tmp_path)
    import_file(conn, export)
    conn.close()
    export.unlink()
    target = tmp_path / "out" / "export.csv"
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            NO_QT,
            "export-allocations",
            "--promocode",
            "pc-1",
            "--workspace",
            str(workspace),
            "-o",
            str(target),
        ],
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:  # wait until it is writing
            if "Writing allocations" in line and not line.startswith("100%"):
                break
        process.send_signal(signal.SIGINT)
        rest = process.stderr.read()
        assert process.wait(timeout=60) == 130
    assert "cancelled: no file was written" in rest
    assert list(target.parent.iterdir()) == []
