"""Policy from a TOML file and ``key=value`` overrides: the CLI's and the app's one way in.

A policy file holds the keys of ``planner.models.Policy`` at the top level (or under a
``[policy]`` table). Unknown keys and bad values (the wrong type, out of range, not finite)
are reported all at once, naming the file, the key, the value and the rule.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from planner.errors import InputError, InputIssue
from planner.limits import Limits, read_file
from planner.models import Policy

__all__ = ["load_policy", "parse_overrides", "policy_from"]


def load_policy(path: str | Path | None, overrides: Iterable[str] = ()) -> Policy:
    """The policy of ``path`` (defaults when None) with ``key=value`` overrides applied.

    Raises:
        InputError: the file cannot be read (missing, not a regular file, larger than
            ``Limits.policy_bytes``) or is not TOML, its ``policy`` entry is not a table, a key
            is unknown, or a value is invalid.
    """
    values: dict[str, Any] = {}
    source = "policy"
    if path is not None:
        source = str(path)
        data = read_file(Path(path), source, Limits().policy_bytes, "policy_bytes", "policy file")
        try:
            table = tomllib.loads(data.decode("utf-8"))
        except ValueError as exc:  # TOMLDecodeError, UnicodeDecodeError, an integer too long
            raise InputError.single(source, f"not a valid TOML file: {exc}") from None
        section = table.get("policy", table)
        if not isinstance(section, dict):
            raise InputError.single(
                source,
                "the 'policy' entry must be a table of keys ([policy] followed by key = value "
                f"lines), not a {_toml_type(section)}",
                column="policy",
                value=section,
            )
        values.update(section)
    values.update(parse_overrides(overrides))
    return policy_from(values, source)


def _toml_type(value: object) -> str:
    """The TOML name of a value's type, as a user writes it."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "date or time"


def parse_overrides(items: Iterable[str]) -> dict[str, str]:
    """``["cpu_overcommit=3", ...]`` to a dict; values stay text for pydantic to convert.

    Raises:
        InputError: an item without ``=``.
    """
    out: dict[str, str] = {}
    issues = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            issues.append(
                InputIssue(file="--set", value=item, rule="expected key=value, e.g. growth=0.2")
            )
            continue
        out[key.strip()] = value.strip()
    if issues:
        raise InputError(issues)
    return out


def policy_from(values: Mapping[str, Any], source: str = "policy") -> Policy:
    """Validate ``values`` into a Policy, every bad key reported at once.

    Raises:
        InputError: unknown keys or invalid values.
    """
    try:
        return Policy.model_validate(dict(values))
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(policy)"
            if err["type"] == "extra_forbidden":
                rule = "unknown policy key; known: " + ", ".join(Policy.model_fields)
            else:
                rule = err["msg"]
            issues.append(
                InputIssue(file=source, column=key, value=_shown(values.get(key)), rule=rule)
            )
        raise InputError(issues) from None


def _shown(value: object) -> str | None:
    return None if value is None else str(value)
