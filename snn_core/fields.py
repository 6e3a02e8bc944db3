"""A setting's spec, carried by its dataclass field: CLI name, help, allowed values; parsing and checking by it.

Config sections (``snn_core.config.run_config``) and the methods' own settings (``snn_core.methods``) declare
their fields with ``spec``; this module sits below both, so a method's folder can declare its settings
without importing the config that gathers them.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

MAX_SHOWN = 80                 # characters of a value quoted in an error message


class Config(Protocol):
    """A run's config as the rooms below ``config`` name it in type hints (``config.run_config.RunConfig`` is the
    one implementation): five sections, each read by field name. Those rooms cannot import the config, not even
    for hints: it is built from the methods' records and reads the data and network registries."""

    # read-only (properties), as on the frozen ``RunConfig``: a settable member would not match a frozen field
    @property
    def data(self) -> Any: ...

    @property
    def model(self) -> Any: ...

    @property
    def neuron(self) -> Any: ...

    @property
    def methods(self) -> Any: ...

    @property
    def training(self) -> Any: ...


def spec(default, cli: str, help: str, *, choices=None, lo=None, hi=None, kind=None, length=None,
         zero_word: str | None = None):
    """A dataclass field with its validation spec (see ``check_value``); ``zero_word`` is a word read as 0 where
    0 has a meaning of its own (``train-samples=all``: every sample)."""
    meta = {"cli": cli, "help": help, "choices": choices, "lo": lo, "hi": hi, "kind": kind, "length": length,
            "zero_word": zero_word}
    if isinstance(default, tuple):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)


class Section:
    """Base of every config section: validates each field against its spec on construction.

    Only each field on its own (type, range, choices): whether the fields can run together is
    ``snn_core.config.check``'s question, so any combination of valid fields can be built, then checked."""

    SECTION: ClassVar[str] = ""
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]     # every section is a @dataclass

    if TYPE_CHECKING:
        # The rooms below ``config`` name a section by this base (they cannot import its class, see ``Config``) and
        # read its fields by name: to a type checker any field name is Any there, as in ``Config``.
        def __getattr__(self, name: str) -> Any: ...

    def __post_init__(self) -> None:
        for fld in dataclasses.fields(self):
            value = _coerce(fld, getattr(self, fld.name))
            object.__setattr__(self, fld.name, value)
            check_value(self.SECTION, fld, value)


def shown(value: Any, limit: int = MAX_SHOWN) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters with "…": a value can be a megabyte long."""
    return cut(repr(value), limit)


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one "…" when anything was cut."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def allowed_text(fld: dataclasses.Field) -> str:
    """Human-readable allowed values of a field, used in every error message."""
    m = fld.metadata
    if m["choices"] is not None:
        return ", ".join(m["choices"])
    if m["kind"] is bool:
        return "true, false"
    if m["kind"] is str:
        return f"a path of at most {m['hi']} characters"
    word = {int: "integer", float: "number"}[m["kind"]]
    span = f"{m['lo']}..{m['hi']}" if m["kind"] is int else f"{m['lo']:g}..{m['hi']:g}"
    if m["length"] is not None:
        return f"{m['length'][0]} to {m['length'][1]} comma-separated {word}s in {span}"
    return f"{word} {span}"


def parse_value(fld: dataclasses.Field, raw: Any) -> Any:
    """Turn a CLI/URL string (or an already typed value) into the field's type; ValueError if it can't."""
    m = fld.metadata
    if not isinstance(raw, str):
        return tuple(raw) if isinstance(raw, list) else raw
    text = raw.strip()
    try:
        if m["length"] is not None:
            return tuple(m["kind"](v) for v in text.split(",") if v.strip() != "")
        if m["kind"] is bool:
            lowered = text.lower()
            if lowered not in ("true", "false", "1", "0", "on", "off", "yes", "no"):
                raise ValueError
            return lowered in ("true", "1", "on", "yes")
        if m["kind"] is int:
            return 0 if m["zero_word"] is not None and text.lower() == m["zero_word"] else int(text)
        if m["kind"] is float:
            return float(text)
        return raw if m["kind"] is str else text
    except ValueError:
        raise ValueError(f"{m['cli']}={shown(raw)} is not valid; allowed: {allowed_text(fld)}") from None


def check_value(section: str, fld: dataclasses.Field, value: Any) -> None:
    """Raise ValueError naming the field, the bad value and what is allowed."""
    m = fld.metadata
    where = f"{section}.{fld.name} (--{m['cli']})"
    problem = f"{where}={shown(value)} is not allowed; allowed: {allowed_text(fld)}"
    if m["choices"] is not None:
        if value not in m["choices"]:
            raise ValueError(problem)
        return
    if m["kind"] is bool:
        if not isinstance(value, bool):
            raise ValueError(problem)
        return
    if m["kind"] is str:
        if not isinstance(value, str) or len(value) > m["hi"] or "\x00" in value:
            raise ValueError(problem)
        return
    items = value if m["length"] is not None else (value,)
    if m["length"] is not None and (not isinstance(value, tuple) or not m["length"][0] <= len(value) <= m["length"][1]):
        raise ValueError(problem)
    for item in items:
        is_number = isinstance(item, (int, float)) and not isinstance(item, bool)
        if not is_number or (m["kind"] is int and isinstance(item, float) and not item.is_integer()):
            raise ValueError(problem)
        if not (m["lo"] <= item <= m["hi"]) or (isinstance(item, float) and math.isnan(item)):
            raise ValueError(problem)


def _coerce(fld: dataclasses.Field, value: Any) -> Any:
    """JSON gives lists for tuples and may give 4.0 for 4 (also inside a list: ``hidden: [64.0]``) or 1 for 1.0:
    normalise whole numbers to the field's type before checking (``64.5`` stays, for ``check_value`` to refuse)."""
    m = fld.metadata
    if m["length"] is not None and isinstance(value, list):
        value = tuple(value)
    if m["length"] is not None and isinstance(value, tuple):
        return tuple(_number(m["kind"], item) for item in value)
    if m["length"] is None and m["kind"] in (int, float):
        return _number(m["kind"], value)
    return value


def _number(kind: type, value: Any) -> Any:
    """``value`` as ``kind`` when that changes nothing but the type (4.0 -> 4 for int, 4 -> 4.0 for float)."""
    if isinstance(value, bool):
        return value
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind is float and isinstance(value, int) and abs(value) <= 2**53:     # larger: out of every range anyway
        return float(value)
    return value
