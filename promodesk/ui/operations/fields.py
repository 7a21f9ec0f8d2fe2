"""What a form needs to know about an input model's fields, read from pydantic, and the
problems pydantic finds, in a marketer's words.

No widgets here: the form builder (`form.py`) turns these into editors.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    FutureDatetime,
    NaiveDatetime,
    PastDatetime,
    ValidationError,
)
from pydantic.fields import FieldInfo

from promodesk.services.operations.base import when_left_empty

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"  # a calendar date sent as text (the legacy API's)
LONG_TEXT = 300
DATETIME_MARKERS = (
    AwareDatetime,
    NaiveDatetime,
    PastDatetime,
    FutureDatetime,
)  # text allowed to be longer than this gets a multi-line box


class Unset:
    """An editor left empty: the field is not sent (its default applies)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = Unset()


@dataclass(frozen=True)
class Invalid:
    """What an editor holds cannot be a value at all (e.g. text that is not JSON): the
    problem, shown beside the field before pydantic is asked."""

    problem: str


@dataclass(frozen=True)
class FieldSpec:
    name: str
    title: str
    description: str
    annotation: Any  # the type without "| None"
    optional: bool  # None is a value it takes ("leave empty")
    required: bool
    default: Any
    extra: dict[str, Any] = field(default_factory=dict)
    min_length: int | None = None
    max_length: int | None = None
    pattern: str = ""

    @property
    def editor(self) -> str:
        return str(self.extra.get("editor", ""))

    @property
    def empty_text(self) -> str:
        """What an optional field's empty box says."""
        return when_left_empty(self.extra).capitalize()

    @property
    def choices(self) -> dict[str, str]:
        return dict(self.extra.get("choices") or {})

    @property
    def code_value(self) -> bool:
        return bool(self.extra.get("code_value"))

    @property
    def origin(self) -> Any:
        return typing.get_origin(self.annotation)

    @property
    def args(self) -> tuple[Any, ...]:
        return typing.get_args(self.annotation)

    @property
    def literal_values(self) -> tuple[Any, ...]:
        return self.args if self.origin is Literal else ()

    @property
    def item_type(self) -> Any:
        """The type of a list's items (None for anything else)."""
        return self.args[0] if self.origin is list and self.args else None

    @property
    def nested_model(self) -> type[BaseModel] | None:
        return self.annotation if is_model(self.annotation) else None

    @property
    def item_model(self) -> type[BaseModel] | None:
        item = self.item_type
        return item if is_model(item) else None

    @property
    def is_date_text(self) -> bool:
        return self.annotation is str and self.pattern == DATE_PATTERN

    @property
    def is_datetime(self) -> bool:
        annotation = self.annotation
        if annotation in DATETIME_MARKERS:  # pydantic's AwareDatetime & co. are marker types
            return True
        return isinstance(annotation, type) and issubclass(annotation, datetime)

    @property
    def is_path(self) -> bool:
        return self.annotation is Path


def is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _without_none(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        kept = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        optional = len(kept) < len(typing.get_args(annotation))
        if len(kept) == 1:
            return kept[0], optional
        return typing.Union[tuple(kept)], optional  # noqa: UP007 - built at run time
    return annotation, False


def _constraints(info: FieldInfo) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in info.metadata:
        for name in ("min_length", "max_length", "pattern"):
            value = getattr(item, name, None)
            if value is not None:
                found[name] = value
    return found


def fields_of(model: type[BaseModel], hidden: typing.Iterable[str] = ()) -> list[FieldSpec]:
    """The model's fields, in declaration order, as the form shows them."""
    skipped = set(hidden)
    specs = []
    for name, info in model.model_fields.items():
        if name in skipped:
            continue
        annotation, optional = _without_none(info.annotation)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        specs.append(
            FieldSpec(
                name=name,
                title=info.title or name.replace("_", " ").capitalize(),
                description=info.description or "",
                annotation=annotation,
                optional=optional,
                required=info.is_required(),
                default=None if info.is_required() else info.get_default(call_default_factory=True),
                extra=dict(extra),
                **_constraints(info),
            )
        )
    return specs


# -- problems in words -------------------------------------------------------------------------

Problem = tuple[tuple[str | int, ...], str]  # (where: field names and list positions, what)


def _sentence(text: str) -> str:
    text = text.strip().removeprefix("Value error, ")
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def in_words(error: dict[str, Any]) -> str:
    """One pydantic error as a marketer reads it."""
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind == "missing":
        return "Required."
    if kind == "string_too_short":
        low = int(context.get("min_length", 1))
        return "Required." if low <= 1 else f"At least {low:,} characters."
    if kind == "string_too_long":
        return f"At most {int(context.get('max_length', 0)):,} characters."
    if kind == "too_short":
        return (
            "Add at least one."
            if int(context.get("min_length", 1)) <= 1
            else (f"At least {int(context.get('min_length', 0)):,}.")
        )
    if kind == "too_long":
        return f"At most {int(context.get('max_length', 0)):,}."
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return "A whole number, e.g. 42."
    if kind in ("float_parsing", "float_type"):
        return "A number, e.g. 12.5."
    if kind == "greater_than":
        return f"More than {context.get('gt')}."
    if kind == "greater_than_equal":
        return f"At least {context.get('ge')}."
    if kind == "string_pattern_mismatch":
        return "Not in the form expected here."
    if kind in ("literal_error", "enum"):
        return "Choose one of the options."
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing"):
        return "A date and time."
    if kind == "timezone_aware":
        return "A date and time with its time zone."
    if kind in ("path_type", "path_parsing"):
        return "Choose a file."
    if kind in ("dict_type", "list_type", "model_type", "model_attributes_type"):
        return "Not the right kind of value here."
    if kind == "extra_forbidden":
        return "Not a field of this form."
    return _sentence(str(error.get("msg", "")))


def problems_of(error: ValidationError) -> list[Problem]:
    return [(tuple(item["loc"]), in_words(dict(item))) for item in error.errors()]


def words_for(value: Any) -> str:
    """A Literal value shown when the table gives no words for it: 'daily' -> 'Daily'."""
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]
