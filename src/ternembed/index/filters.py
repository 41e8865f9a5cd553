"""Metadata filters in the MongoDB style that Chroma and LanceDB users know.

``{"field": value}`` is equality; ``{"field": {"$op": value}}`` uses one of ``$eq $ne $gt $gte $lt $lte
$in $nin $exists``; ``{"$and": [...]}`` and ``{"$or": [...]}`` combine filters; several keys in one
object must all hold. Dotted names reach into nested objects (``"shop.city"``). A document without the
field matches only ``$ne``, ``$nin`` and ``$exists: false``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ternembed.errors import InvalidArgumentError

Predicate = Callable[[dict[str, Any]], bool]
_MISSING = object()
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "$gt": lambda left, right: left > right,
    "$gte": lambda left, right: left >= right,
    "$lt": lambda left, right: left < right,
    "$lte": lambda left, right: left <= right,
}


def compile_filter(spec: Any) -> Predicate:
    """A predicate on metadata objects, or ValueError naming what is wrong with ``spec``."""
    if not isinstance(spec, dict):
        raise InvalidArgumentError(f"a filter must be a JSON object, got {type(spec).__name__}")
    parts: list[Predicate] = []
    for key, value in spec.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise InvalidArgumentError(f"{key} takes a non-empty list of filters")
            children = [compile_filter(child) for child in value]
            parts.append(_all(children) if key == "$and" else _any(children))
        elif key.startswith("$"):
            raise InvalidArgumentError(
                f"unknown filter operator {key!r} at the top level; use $and, $or or a field name"
            )
        else:
            parts.append(_field(key, value))
    return _all(parts)


def _all(parts: list[Predicate]) -> Predicate:
    return lambda metadata: all(part(metadata) for part in parts)


def _any(parts: list[Predicate]) -> Predicate:
    return lambda metadata: any(part(metadata) for part in parts)


def _lookup(metadata: dict[str, Any], name: str) -> Any:
    value: Any = metadata
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _field(name: str, condition: Any) -> Predicate:
    if not isinstance(condition, dict):
        return lambda metadata: _lookup(metadata, name) == condition
    if not condition:
        raise InvalidArgumentError(f"the condition on field {name!r} is an empty object")
    tests = [_operator(name, operator, operand) for operator, operand in condition.items()]
    return lambda metadata: all(test(_lookup(metadata, name)) for test in tests)


def _operator(name: str, operator: str, operand: Any) -> Callable[[Any], bool]:
    if operator == "$eq":
        return lambda value: value == operand
    if operator == "$ne":
        return lambda value: value != operand
    if operator in ("$in", "$nin"):
        if not isinstance(operand, list):
            raise InvalidArgumentError(f"{operator} on field {name!r} takes a list, got {type(operand).__name__}")
        inside = operator == "$in"
        return lambda value: (value is not _MISSING and value in operand) == inside
    if operator == "$exists":
        if not isinstance(operand, bool):
            raise InvalidArgumentError(f"$exists on field {name!r} takes true or false")
        return lambda value: (value is not _MISSING) == operand
    if operator in _COMPARISONS:
        if isinstance(operand, bool) or not isinstance(operand, (int, float, str)):
            raise InvalidArgumentError(f"{operator} on field {name!r} takes a number or a string, got {operand!r}")
        compare = _COMPARISONS[operator]
        kind = str if isinstance(operand, str) else (int, float)

        def ordered(value: Any) -> bool:
            return isinstance(value, kind) and not isinstance(value, bool) and compare(value, operand)

        return ordered
    raise InvalidArgumentError(
        f"unknown operator {operator!r} on field {name!r}; use $eq $ne $gt $gte $lt $lte $in $nin $exists"
    )
