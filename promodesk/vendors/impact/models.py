"""impact.com wire models: the list envelope (values as strings in the prose examples, typed
per the OpenAPI) and write answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from promodesk.domain.records import LenientInt, LenientText


class ListEnvelope(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    page: LenientInt = Field(default=1, alias="@page")
    numpages: LenientInt = Field(default=1, alias="@numpages")
    pagesize: LenientInt = Field(default=None, alias="@pagesize")
    total: LenientInt = Field(default=None, alias="@total")
    nextpageuri: LenientText = Field(default=None, alias="@nextpageuri")
    # Always there, empty when nothing matches: an answer without it is not a list answer.
    promo_codes: list[dict[str, Any]] = Field(alias="PromoCodes")


class WriteResult(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    status: str = Field(alias="Status")
    uri: LenientText = Field(default=None, alias="Uri")
    queued_uri: LenientText = Field(default=None, alias="QueuedUri")

    @property
    def id(self) -> str | None:
        if not self.uri:
            return None
        last = self.uri.rstrip("/").rsplit("/", 1)[-1]
        return last.split(".", 1)[0] if last.split(".", 1)[0].isdigit() else None
