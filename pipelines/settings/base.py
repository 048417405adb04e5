"""What every settings model shares: frozen pydantic dataclasses that refuse unknown keys,
number types that keep a value as written, and one ProfileError naming the file and key path.

A number field takes an int or a float and keeps it as written (reports print the values the
YAML holds); a bool, a string or null is refused wherever a number, an int or a bool is due.
"""
from __future__ import annotations

import dataclasses
import re
import reprlib
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, Literal, TypeVar, dataclass_transform

from pydantic import ConfigDict, Field, GetCoreSchemaHandler, StrictBool, StrictInt, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass
from pydantic_core import CoreSchema, ErrorDetails, core_schema

from pipelines.errors import ProfileError

T = TypeVar("T")
Location = tuple[int | str, ...]


class _AsWritten:
    """An int or a float, kept as written (pydantic's own float would turn 600 into 600.0)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.union_schema([core_schema.int_schema(strict=True), core_schema.float_schema(strict=True)],
                                        custom_error_type="float_type")


Number = Annotated[float, _AsWritten()]
Seconds = Annotated[Number, Field(ge=0)]          # a duration; 0 allowed
Positive = Annotated[Number, Field(gt=0)]
NonNegative = Annotated[Number, Field(ge=0)]
Share = Annotated[Number, Field(ge=0, le=1)]      # a ratio or probability
Luma = Annotated[Number, Field(ge=0, le=255)]
Confidence = Annotated[Number, Field(ge=0, le=100)]
Count = Annotated[StrictInt, Field(ge=0)]
Size = Annotated[StrictInt, Field(ge=1)]          # pixels, frames, tiles: at least one
Flag = StrictBool
Severity = Literal["info", "review", "fail"]


@dataclass_transform(frozen_default=True, field_specifiers=(Field, dataclasses.field))
def section(cls: type[T]) -> type[T]:
    """A settings model: a frozen pydantic dataclass refusing keys it does not declare."""
    return dataclass(frozen=True, config=ConfigDict(extra="forbid"))(cls)


class Section:
    """Base of every section: attribute access, `section["key"]` and a plain-dict copy."""

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]


def validated(tp: type[T], data: Any, source: Callable[[Location], str] | str) -> T:
    """`data` (plain YAML data) as `tp`; otherwise a ProfileError naming each bad key and its file.

    `source` is the file name, or a function from a key's location (its path of keys) to the file that set it.
    """
    try:
        return _adapter(tp).validate_python(data)
    except ValidationError as exc:
        where = source if callable(source) else (lambda _key: source)
        by_file: dict[str, dict[str, None]] = {}
        for err in exc.errors():
            by_file.setdefault(where(err["loc"]), {})[_problem(err, _dotted(err["loc"]))] = None
        raise ProfileError("; ".join(f"{file}: {'; '.join(problems)}" for file, problems in by_file.items())) from None


@cache
def _adapter(tp: type[T]) -> TypeAdapter[T]:
    return TypeAdapter(tp)


_KINDS = {"float_type": "float", "int_type": "int", "string_type": "str", "bool_type": "bool",
          "list_type": "a list", "tuple_type": "a list"}
_MAPPINGS = ("dict_type", "dataclass_type", "model_type")
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
_SHOWN = reprlib.Repr()  # a value quoted in an error, shortened
_SHOWN.maxstring = _SHOWN.maxother = 60


def _problem(err: ErrorDetails, key: str) -> str:
    """One validation error in the words of the settings files: the key path and what is wrong."""
    kind, ctx, got = err["type"], err.get("ctx") or {}, _SHOWN.repr(err.get("input"))
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return f"unknown key '{key}'"
    if kind in ("missing", "missing_argument"):
        return f"missing key '{key}'"
    if kind == "value_error":
        return f"key '{key or '(top)'}': {ctx.get('error', err['msg'])}"
    if kind in _MAPPINGS:
        return f"key '{key or '(top)'}' must be a mapping"
    if kind in _KINDS:
        what = f"must be {_KINDS[kind]}, got {type(err.get('input')).__name__} ({got})"
    elif kind in _BOUNDS:
        what = f"must be {_BOUNDS[kind]} {next(iter(ctx.values())):g}, got {got}"
    elif kind == "literal_error":
        choices = [c.strip("'") for c in re.split(r", | or ", ctx["expected"])]
        what = f"must be one of {', '.join(choices)}, got {got}"
    elif kind == "string_pattern_mismatch":
        what = f"must match {ctx['pattern']}, got {got}"
    elif kind == "too_short":
        what = f"must hold at least {ctx['min_length']} item(s)"
    else:
        what = err["msg"]
    return f"key '{key}' {what}"


def _dotted(loc: Location) -> str:
    """A location as the settings files spell it: `video.codecs[1]`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out
