"""Code files: read, check, fix, split, generate. Qt-free, streaming, bounded memory.

The pieces, in the order a wizard (or `promodesk check-codes`) uses them:

- `rules.rules_for(vendor)`: each vendor's limits (code length, file cap, header).
- `reading.sniff(path)`: how a file will be read (encoding, BOM, binary, over the cap), cheap
  enough for a first page; `reading.encoding_named()` for a user's "read it as ...".
- `checker.check_files(paths, rules, known=..., cancel=..., progress=...)`: the check, with a
  `KnownCodes` look-up for codes already used (services/codes.py passes the workspace's).
  It returns a `report.CheckReport`: a `FileVerdict` per file (rows, valid, problems, summary
  by kind) and the problems in a temporary SQLite file, so a table model pages through any
  number of them with `page(file, start, count)` (by row number, O(log n)); call it off the
  GUI thread like any SQLite read. Close the report when done.
- `fixer.write_fixed(report, target)` / `fixer.write_rejects(report, target)`: the fixed code
  file (split at the vendor's cap) and the refused lines, written atomically.
- `generator.CodeGenerator(CodeSpec(...)).draw(n)`: random codes, unique within the run.
- `spreadsheet`: CSV and clipboard text that spreadsheets cannot run as formulas; code lists.

Every long call takes a `domain.jobs.CancelToken` and a `ProgressFn`; `services/codes.py`
wraps them as async use cases (`jobs.run_blocking`) for the window.
"""
