"""Codes into an Altcraft loyalty program, with what happened to each code.

The `import_codes` operation (services/operations/altcraft.py) reads the program's codes back
after the import and writes them to the workspace; what Altcraft said per code (inserted,
duplicated, discarded by the program's limit) is in the import's answer, which the read-back
replaces. This runs the same operation through the executor (audited, written to the
workspace), keeping that answer, and turns it into one result per code. Codes go in chunks,
so a long list shows progress and a Cancel stops between chunks (a chunk in flight ends
"unknown" on record).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from promodesk.domain.jobs import Progress, ProgressFn, ignore_progress
from promodesk.domain.vendors import Vendor
from promodesk.services.operations import operation as find_operation
from promodesk.services.operations.base import Operation
from promodesk.services.operations.executor import Executor, OperationOutcome

CHUNK = 1_000  # the client's own import batch: one request per chunk
Result = Literal["inserted", "duplicated", "discarded", "failed", "unknown", "repeated"]
RESULT_WORDS: dict[str, str] = {
    "inserted": "Added",
    "duplicated": "Already in the program",
    "discarded": "Not added: the program's limit is reached",
    "failed": "Refused",
    "unknown": "Unknown: the answer was lost",
    "repeated": "Repeated in your list (sent once)",
}
# Altcraft's per-code error numbers (vendor-apis.md 2.1): 500 "Promocode duplicated",
# 402 "tariff limit reached".
_DUPLICATED = 500
_LIMIT = 402


def _duplicated(item: Any) -> bool:
    return bool(item.error == _DUPLICATED or "duplicat" in item.error_text.lower())


def _left_out(answer: Any) -> set[str]:
    """Codes the answer says are not in the program (a duplicated one is: it was before)."""
    return {
        item.code
        for item in getattr(answer, "errors", None) or []
        if item.error and not _duplicated(item)
    }


def import_operation() -> tuple[Operation, list[Any]]:
    """`import_codes` as declared, keeping each call's answer (ImportSummary) in the list
    returned beside it, and reading back only the codes the answer says went in (a code the
    program's limit discarded is not there to read)."""
    declared = find_operation(Vendor.ALTCRAFT, "import_codes")
    refresh = declared.refresh
    assert refresh is not None
    answers: list[Any] = []

    async def call(client: Any, inputs: Any) -> Any:
        answer = await declared.invoke(client, inputs)
        answers.append(answer)
        return answer

    async def read_back(client: Any, inputs: Any, answer: Any) -> Any:
        left_out = _left_out(answer)
        landed = [code for code in inputs.codes if code not in left_out]
        if not landed:
            return []
        return await refresh(client, inputs.model_copy(update={"codes": landed}), answer)

    return dataclasses.replace(declared, call=call, refresh=read_back), answers


@dataclass(frozen=True)
class CodeResult:
    code: str
    result: Result
    detail: str = ""

    @property
    def words(self) -> str:
        return RESULT_WORDS[self.result]


@dataclass
class ImportReport:
    results: list[CodeResult] = field(default_factory=list)
    outcomes: list[OperationOutcome] = field(default_factory=list)

    def count(self, result: Result) -> int:
        return sum(1 for item in self.results if item.result == result)

    @property
    def stopped(self) -> str:
        """Why the import stopped early ("" when every chunk was answered)."""
        return next((outcome.message for outcome in self.outcomes if not outcome.ok), "")

    def text(self) -> str:
        parts = [f"{self.count('inserted'):,} added"]
        for result, words in (
            ("duplicated", "already in the program"),
            ("discarded", "over the program's limit"),
            ("failed", "refused"),
            ("unknown", "with an unknown outcome"),
            ("repeated", "repeated in the list"),
        ):
            count = self.count(result)  # type: ignore[arg-type]
            if count:
                parts.append(f"{count:,} {words}")
        return ", ".join(parts)


def per_code(codes: Sequence[str], outcome: OperationOutcome, answer: Any) -> list[CodeResult]:
    """One result per code of a chunk, from the import's answer."""
    if outcome.status != "ok" or answer is None:
        result: Result = "unknown" if outcome.status == "unknown" else "failed"
        return [CodeResult(code, result, outcome.message) for code in codes]
    errors = {item.code: item for item in getattr(answer, "errors", None) or []}
    results = []
    for code in codes:
        item = errors.get(code)
        if item is None or not item.error:
            results.append(CodeResult(code, "inserted"))
        elif _duplicated(item):
            results.append(CodeResult(code, "duplicated", item.error_text))
        elif item.error == _LIMIT or "limit" in item.error_text.lower():
            results.append(CodeResult(code, "discarded", item.error_text))
        else:
            results.append(CodeResult(code, "failed", item.error_text or f"error {item.error}"))
    return results


async def import_codes(
    executor: Executor,
    account: Any,
    codes: Sequence[str],
    *,
    loyalty_id: int | None = None,
    chunk: int = CHUNK,
    progress: ProgressFn = ignore_progress,
    on_results: Callable[[list[CodeResult]], None] | None = None,
) -> ImportReport:
    """Import `codes` into the program (the account's when `loyalty_id` is None); a code
    repeated in the list is sent once. Stops at the first chunk that is not answered ok (the
    codes after it are not sent). `on_results` hears each chunk's results as they come."""
    operation, answers = import_operation()
    report = ImportReport()
    unique: list[str] = []
    seen: set[str] = set()
    for raw in codes:
        code = raw.strip()
        if not code:
            continue
        if code in seen:
            report.results.append(CodeResult(code, "repeated"))
            continue
        seen.add(code)
        unique.append(code)
    if report.results and on_results is not None:
        on_results(list(report.results))
    total = len(unique)
    for start in range(0, total, chunk):
        batch = unique[start : start + chunk]
        progress(Progress(start, total, f"Adding codes {start + 1:,}–{start + len(batch):,}"))
        values: dict[str, Any] = {"codes": batch}
        if loyalty_id is not None:
            values["loyalty_id"] = loyalty_id
        answers.clear()
        outcome = await executor.run(account, operation, values)
        report.outcomes.append(outcome)
        results = per_code(batch, outcome, answers[-1] if answers else None)
        report.results.extend(results)
        if on_results is not None:
            on_results(results)
        if not outcome.ok:
            break
    progress(Progress(total, total, "Done"))
    return report
