"""Altcraft wire models: the envelope every answer comes in, and what import reports."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from promodesk.domain.records import LenientInt, LenientText


class Envelope(BaseModel):
    """Every answer's wrapper. `error` is always there (0 for success): an answer without it
    is not Altcraft's."""

    model_config = ConfigDict(extra="allow")

    data: Any = None
    error: LenientInt
    error_text: LenientText = ""


class ImportItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    error: LenientInt = 0
    error_text: LenientText = ""


class ImportSummary(BaseModel):
    """What one import call (or several batches, added up) did."""

    inserted: int = 0
    duplicated: int = 0
    discarded_by_limit: int = 0
    errors: list[ImportItem] = Field(default_factory=list)

    def add(self, other: ImportSummary) -> None:
        self.inserted += other.inserted
        self.duplicated += other.duplicated
        self.discarded_by_limit += other.discarded_by_limit
        self.errors.extend(other.errors)
