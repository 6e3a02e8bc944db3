"""A result's JSON tree: written valid (NaN and infinities as null plus where they were), read back with every value's
type checked, since cache files and uploaded result files are untrusted; and the dict-style reads of a record that
readers not yet on attributes still use."""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection
from typing import Any, Literal, overload

from ..config.run_config import json_kind

NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def finite_tree(tree) -> tuple[object, list]:
    """``tree`` (JSON-like: dicts, lists, tuples, scalars) with every NaN and infinity replaced by None, and the
    list of ``[path, "nan" | "inf" | "-inf"]`` saying where they were: JSON has no NaN (``json.dumps`` writes the
    invalid token ``NaN``), so a file written from the result holds null plus this list, and stays valid JSON."""
    found: list = []

    def walk(node, path):
        if isinstance(node, float) and not math.isfinite(node):
            found.append([path, "nan" if math.isnan(node) else "inf" if node > 0 else "-inf"])
            return None
        if isinstance(node, dict):
            return {key: walk(value, [*path, key]) for key, value in node.items()}
        if isinstance(node, (list, tuple)):
            return [walk(value, [*path, index]) for index, value in enumerate(node)]
        return node

    return walk(tree, []), found


def valid_json(result: dict, indent: int | None = None) -> str:
    """``result`` as valid JSON wherever it leaves the program (printed, downloaded, written with ``--out``): each
    NaN or infinity written as null, and, when there was one, a top-level ``"non_finite"`` list of where
    (``finite_tree``); a result without one is written exactly as ``json.dumps`` would."""
    tree, found = finite_tree(result)
    if found:
        if not isinstance(tree, dict):        # finite_tree keeps a dict a dict; anything else has no top-level key
            raise TypeError(f"a result is an object, not {json_kind(result)}")
        tree = {**tree, "non_finite": found}
    return json.dumps(tree, indent=indent, allow_nan=False)


def restore_non_finite(tree, found: list):
    """The inverse of ``finite_tree``: ``tree`` with each listed path's null set back to NaN or infinity (in place);
    ValueError when an entry does not point at a null."""
    if not isinstance(found, list):
        raise ValueError(f"the non-finite list is a {type(found).__name__}")
    for entry in found:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], list) and entry[0]
                and entry[1] in NON_FINITE):
            raise ValueError(f"non-finite entry {entry!r:.80} is not [path, 'nan' | 'inf' | '-inf']")
        *parents, last = entry[0]
        node = tree
        try:
            for step in parents:
                node = node[step]
            if node[last] is not None:
                raise ValueError(f"non-finite entry {entry[0]!r:.80} points at a value, not at null")
        except (KeyError, IndexError, TypeError):
            raise ValueError(f"non-finite entry {entry[0]!r:.80} points nowhere") from None
        node[last] = NON_FINITE[entry[1]]
    return tree


def without_non_finite_list(tree, where: str) -> dict:
    """A top-level JSON object as ``valid_json`` wrote it, with its ``"non_finite"`` list (if any) put back as NaN and
    infinities; a copy, so the caller's tree is left as it was."""
    node = obj(tree, where)
    if "non_finite" not in node:
        return node
    copy = json.loads(json.dumps({key: value for key, value in node.items() if key != "non_finite"}))
    return restore_non_finite(copy, node["non_finite"])


def obj(node, where: str, allowed: Collection[str] | None = None, required: Collection[str] = ()) -> dict:
    """``node`` if it is an object holding only ``allowed`` keys (None: any) and every ``required`` one."""
    if not isinstance(node, dict):
        raise ValueError(f"{where} is {json_kind(node)}; allowed: an object")
    if allowed is not None:
        unknown = [key for key in node if key not in allowed]
        if unknown:
            raise ValueError(f"{where} has unknown key(s) {', '.join(repr(key)[:40] for key in unknown[:5])}; "
                             f"allowed: {', '.join(allowed)}")
    missing = [key for key in required if key not in node]
    if missing:
        raise ValueError(f"{where} lacks {', '.join(missing)}")
    return node


@overload
def number(node: object, where: str, optional: Literal[False] = False) -> float: ...
@overload
def number(node: object, where: str, optional: bool) -> float | None: ...
def number(node: object, where: str, optional: bool = False) -> float | None:
    """A JSON number (int or float, kept as it is so a result writes back the same); null only when ``optional``."""
    if node is None and optional:
        return None
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise ValueError(f"{where} is {json_kind(node)}; allowed: a number{' or null' if optional else ''}")
    return node


@overload
def integer(node: object, where: str, optional: Literal[False] = False) -> int: ...
@overload
def integer(node: object, where: str, optional: bool) -> int | None: ...
def integer(node: object, where: str, optional: bool = False) -> int | None:
    if node is None and optional:
        return None
    if isinstance(node, bool) or not isinstance(node, int):
        raise ValueError(f"{where} is {json_kind(node)}; allowed: a whole number{' or null' if optional else ''}")
    return node


@overload
def text(node: object, where: str, optional: Literal[False] = False) -> str: ...
@overload
def text(node: object, where: str, optional: bool) -> str | None: ...
def text(node: object, where: str, optional: bool = False) -> str | None:
    if node is None and optional:
        return None
    if not isinstance(node, str):
        raise ValueError(f"{where} is {json_kind(node)}; allowed: a string{' or null' if optional else ''}")
    return node


def items(node, where: str) -> list:
    if not isinstance(node, list):
        raise ValueError(f"{where} is {json_kind(node)}; allowed: a list")
    return node


def by_name(node, where: str, read: Callable[[Any, str], Any] = number) -> dict[str, Any]:
    """An object of name -> value, each value read by ``read`` (a number unless told)."""
    return {name: read(value, f"{where}.{name}") for name, value in obj(node, where).items()}
