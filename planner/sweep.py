"""What-if grids: solve every combination of policy values, in parallel worker processes.

    sweep(inventory, catalog, Policy(), {"cpu_overcommit": [2, 3, 4], "ha_host_failures": [0, 1]})

gives one row per combination (in the grid's order): the varied values, then hosts, spares,
the lower bound, status, gap, cost by category, the dedicated baseline and the saving. The
varied keys may be the policy's or the solver's (``time_limit_s``, ``seed`` ...), as in a
policy file. The CLI's ``planner sweep`` and the app's sensitivity view call this same
function.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import pandas as pd

from planner.dedicated import compare
from planner.errors import InputError, InputIssue
from planner.models import COST_CATEGORIES, Catalog, Inventory, Policy, SolverParams
from planner.pipeline import run
from planner.settings import KEYS, settings_from

__all__ = ["COLUMNS", "combinations", "parse_vary", "sweep"]

COLUMNS = (
    "hosts",
    "active_hosts",
    "spare_hosts",
    "lower_bound_hosts",
    "status",
    "gap",
    "cost_total",
    *(f"cost_{cat}" for cat in COST_CATEGORIES),
    "dedicated_cost_total",
    *(f"dedicated_cost_{cat}" for cat in COST_CATEGORIES),
    "cost_saving",
    "unplaced",
    "solve_seconds",
)


def parse_vary(items: Sequence[str]) -> dict[str, list[str]]:
    """``["cpu_overcommit=2,3,4", ...]`` to ``{"cpu_overcommit": ["2", "3", "4"]}``.

    Raises:
        InputError: an item without ``=`` or without values, or an unknown key.
    """
    out: dict[str, list[str]] = {}
    issues = []
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key or not vals:
            rule = "expected key=v1,v2,..., e.g. cpu_overcommit=2,3,4"
            issues.append(InputIssue(file="--vary", value=item, rule=rule))
        elif key not in KEYS:
            rule = "unknown policy key; known: " + ", ".join(KEYS)
            issues.append(InputIssue(file="--vary", column=key, value=item, rule=rule))
        else:
            out[key] = vals
    if issues:
        raise InputError(issues)
    return out


Setting = tuple[Policy, SolverParams]


def combinations(
    policy: Policy, vary: Mapping[str, Sequence[Any]], params: SolverParams | None = None
) -> list[Setting]:
    """Every (policy, solver params) of the grid over ``policy`` and ``params``, in order
    (the last key varies fastest), validated up front.

    Raises:
        InputError: a value that is invalid for its key (all of them at once).
    """
    base = {**policy.model_dump(), **(params or SolverParams()).model_dump()}
    keys = list(vary)
    settings = []
    issues: list[InputIssue] = []
    for values in itertools.product(*(vary[k] for k in keys)):
        try:
            settings.append(
                settings_from({**base, **dict(zip(keys, values, strict=True))}, "--vary")
            )
        except InputError as exc:
            issues.extend(i for i in exc.issues if i not in issues)
    if issues:
        raise InputError(issues)
    return settings


def _row(
    inventory: Inventory, catalog: Catalog, setting: Setting, keys: tuple[str, ...]
) -> dict[str, Any]:
    policy, params = setting
    problem, plan = run(inventory, catalog, policy, params)
    c = compare(plan, problem)
    values = {**policy.model_dump(), **params.model_dump()}
    row: dict[str, Any] = {k: values[k] for k in keys}
    row.update(
        hosts=len(plan.hosts),
        active_hosts=len(plan.active_hosts),
        spare_hosts=len(plan.spare_hosts),
        lower_bound_hosts=plan.lower_bound_hosts,
        status=plan.status,
        gap=round(plan.gap, 6),
        cost_total=round(plan.cost.total, 2),
        **{f"cost_{cat}": round(getattr(plan.cost, cat), 2) for cat in COST_CATEGORIES},
        dedicated_cost_total=round(c["dedicated_cost_total"], 2),
        **{
            f"dedicated_cost_{cat}": round(c[f"dedicated_{cat}_cost"], 2) for cat in COST_CATEGORIES
        },
        cost_saving=round(c["cost_saving"], 2),
        unplaced=len(plan.unplaced),
        solve_seconds=round(plan.solve_seconds, 3),
    )
    return row


def sweep(
    inventory: Inventory,
    catalog: Catalog,
    policy: Policy,
    vary: Mapping[str, Sequence[Any]],
    params: SolverParams | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Solve every combination of ``vary`` over ``policy`` and ``params`` (default:
    ``SolverParams()``); one row per combination.

    ``jobs`` worker processes (default: the machine's cores, at most the grid size) share
    the cores: each solve gets ``params.workers // jobs`` solver threads (at least one).
    ``progress(done, total)`` is called after each solve.

    Raises:
        InputError: an invalid value in the grid, or the inventory does not fit the catalog.
    """
    grid = combinations(policy, vary, params)
    keys = tuple(vary)
    total = len(grid)
    jobs = max(1, min(jobs or os.cpu_count() or 1, total))
    threads = max(1, (params or SolverParams()).workers // jobs)
    grid = [(p, s.model_copy(update={"workers": min(s.workers, threads)})) for p, s in grid]
    rows: list[dict[str, Any] | None] = [None] * total
    if jobs == 1:
        for i, p in enumerate(grid):
            rows[i] = _row(inventory, catalog, p, keys)
            if progress:
                progress(i + 1, total)
    else:
        # forkserver: workers start clean even when the caller runs threads (the app does).
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = {
                pool.submit(_row, inventory, catalog, p, keys): i for i, p in enumerate(grid)
            }
            for done, future in enumerate(as_completed(futures), start=1):
                rows[futures[future]] = future.result()
                if progress:
                    progress(done, total)
    return pd.DataFrame([r for r in rows if r is not None], columns=[*keys, *COLUMNS])
