"""Policy and solver params from a TOML file and ``key=value`` overrides: the CLI's and the
app's one way in.

A policy file holds the keys of ``planner.models.Policy`` (the scenario) and of
``planner.models.SolverParams`` (``time_limit_s``, ``work_limit_s``, ``workers``, ``seed``:
how the solver searches) side by side, at the top level (or under a ``[policy]`` table);
``--set`` takes either kind. Unknown keys and bad values (the wrong type, out of range, not
finite) are reported all at once, naming the file, the key, the value and the rule.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from planner.errors import InputError, InputIssue
from planner.limits import Limits, read_file
from planner.models import Policy, SolverParams

__all__ = ["KEYS", "load_settings", "parse_overrides", "settings_from"]

_M = TypeVar("_M", Policy, SolverParams)

KEYS = (*Policy.model_fields, *SolverParams.model_fields)
"""Every key a policy file or ``--set`` may name."""


def load_settings(
    path: str | Path | None, overrides: Iterable[str] = (), limits: Limits | None = None
) -> tuple[Policy, SolverParams]:
    """The policy and solver params of ``path`` (defaults when None), ``key=value``
    overrides applied.

    ``limits.policy_bytes`` bounds the file (default: ``Limits()``; ``--limit`` on the CLI).

    Raises:
        InputError: the file cannot be read (missing, not a regular file, larger than
            ``limits.policy_bytes``) or is not TOML, its ``policy`` entry is not a table, a key
            is unknown, or a value is invalid.
    """
    values: dict[str, Any] = {}
    source = "policy"
    if path is not None:
        source = str(path)
        max_bytes = (limits or Limits()).policy_bytes
        data = read_file(Path(path), source, max_bytes, "policy_bytes", "policy file")
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
    return settings_from(values, source)


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


def settings_from(values: Mapping[str, Any], source: str = "policy") -> tuple[Policy, SolverParams]:
    """Validate ``values`` into a Policy and SolverParams, every bad key reported at once.

    The keys of ``SolverParams`` go to it, every other key to the Policy.

    Raises:
        InputError: unknown keys or invalid values.
    """
    solver = {k: v for k, v in values.items() if k in SolverParams.model_fields}
    scenario = {k: v for k, v in values.items() if k not in SolverParams.model_fields}
    issues: list[InputIssue] = []
    policy = _validated(Policy, scenario, source, issues)
    params = _validated(SolverParams, solver, source, issues)
    if policy is None or params is None:
        raise InputError(issues)
    return policy, params


def _validated(
    model: type[_M], values: Mapping[str, Any], source: str, issues: list[InputIssue]
) -> _M | None:
    """``values`` as a ``model``, or None with its faults added to ``issues``."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(policy)"
            if err["type"] == "extra_forbidden":
                rule = "unknown policy key; known: " + ", ".join(KEYS)
            else:
                rule = err["msg"]
            issues.append(
                InputIssue(file=source, column=key, value=_shown(values.get(key)), rule=rule)
            )
        return None


def _shown(value: object) -> str | None:
    return None if value is None else str(value)
