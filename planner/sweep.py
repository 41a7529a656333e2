"""What-if grids: solve every combination of policy values, in local worker processes or on Ray.

    sweep(inventory, catalog, Policy(), {"cpu_overcommit": [2, 3, 4], "ha_host_failures": [0, 1]})

gives one row per combination (in the grid's order): the varied values, then hosts, spares,
the lower bound, status, gap, cost by category, the dedicated baseline, the saving, the solve
time, ``error`` (empty unless the combination failed) and ``inputs``, a fingerprint of
everything else the rows depend on (the inventory's VMs, the catalogs, the other policy and
solver keys). The varied keys may be the policy's or the solver's (``time_limit_s``,
``seed`` ...), as in a policy file. The CLI's ``planner sweep`` and the app's sensitivity
view call this same function.

The combinations run on a backend of ``planner.backends``: ``local`` worker processes (the
default) or ``ray`` (a local Ray instance or a cluster). A solve is deterministic for its
inputs and seed, so the rows are the same on either backend, ``solve_seconds`` aside. A
combination that fails (its solve raises, its worker process is lost) becomes a row with
status ``error`` and the reason in ``error``; the others go on. Rows reach ``on_row`` as they
finish, so a caller can keep them as they come (``planner.report.sweep_files``);
``resume_rows`` reads such a file back, so that a rerun solves only the combinations that
are missing or failed.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import math
import os
from collections.abc import Callable, Generator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from planner.backends import BACKENDS, Lost, local_map, ray_map
from planner.dedicated import compare
from planner.errors import InputError, InputIssue, PlannerError
from planner.models import COST_CATEGORIES, Catalog, Inventory, Policy, SolverParams
from planner.pipeline import run
from planner.settings import KEYS, settings_from

__all__ = [
    "COLUMNS",
    "ERROR",
    "INT_COLUMNS",
    "SHEET",
    "TIMING_COLUMNS",
    "RowTask",
    "Setting",
    "combinations",
    "error_row",
    "inputs_digest",
    "parse_vary",
    "resume_rows",
    "solve_row",
    "sweep",
    "sweep_table",
]

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
    "error",
    "inputs",
)
INT_COLUMNS = ("hosts", "active_hosts", "spare_hosts", "lower_bound_hosts", "unplaced")
TIMING_COLUMNS = ("solve_seconds",)  # the only columns that differ between two runs
ERROR = "error"  # the status of a combination that gave no plan
SHEET = "Sweep"  # the worksheet of a sweep's XLSX

Setting = tuple[Policy, SolverParams]
RowTask = Callable[[Inventory, Catalog, Setting, tuple[str, ...]], dict[str, Any]]
"""What solves one combination: ``(inventory, catalog, (policy, params), varied keys) -> row``."""


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


def _values(setting: Setting, keys: Sequence[str]) -> dict[str, Any]:
    """The varied ``keys``' values of a combination, policy and solver keys alike."""
    policy, params = setting
    values = {**policy.model_dump(), **params.model_dump()}
    return {k: values[k] for k in keys}


def solve_row(
    inventory: Inventory, catalog: Catalog, setting: Setting, keys: tuple[str, ...]
) -> dict[str, Any]:
    """Plan one combination: its row (the varied ``keys`` first), ``inputs`` not yet set.

    Raises:
        PlannerError: the combination cannot be planned (``sweep`` turns it into a row).
    """
    policy, params = setting
    problem, plan = run(inventory, catalog, policy, params)
    c = compare(plan, problem)
    row: dict[str, Any] = _values(setting, keys)
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
        error="",
    )
    return row


def error_row(setting: Setting, keys: tuple[str, ...], reason: str) -> dict[str, Any]:
    """The row of a combination that gave no plan: its values, status ``error``, the reason."""
    return {**_values(setting, keys), "status": ERROR, "error": reason}


def _attempt(
    task: RowTask, inventory: Inventory, catalog: Catalog, setting: Setting, keys: tuple[str, ...]
) -> dict[str, Any]:
    """``task``'s row, or the error row of whatever it raised (one failure stops nothing)."""
    try:
        return task(inventory, catalog, setting, keys)
    except PlannerError as exc:  # meant for a user: its words, one line
        return error_row(setting, keys, "; ".join(str(exc).splitlines()))
    except Exception as exc:  # a bug: name it, so that it can be reported
        return error_row(setting, keys, f"{type(exc).__name__}: {exc}")


def inputs_digest(
    inventory: Inventory,
    catalog: Catalog,
    policy: Policy,
    params: SolverParams | None,
    keys: Sequence[str],
) -> str:
    """A fingerprint of what a sweep's rows depend on besides the varied ``keys``: the VMs,
    the catalogs (not where they were read from), the other policy keys and solver params
    (not ``workers``, which changes no plan). Rows with another fingerprint belong to
    another sweep."""
    digest = hashlib.sha256()
    digest.update(inventory.model_dump_json(include={"vms"}).encode())
    digest.update(catalog.model_dump_json(exclude={"sources"}).encode())
    digest.update(policy.model_dump_json(exclude={*keys}).encode())
    digest.update((params or SolverParams()).model_dump_json(exclude={*keys, "workers"}).encode())
    return digest.hexdigest()[:16]


def sweep_table(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> pd.DataFrame:
    """Rows as the sweep's table: the varied keys, then ``COLUMNS``; host counts as integers
    that may be missing (an error row has none), ``error`` empty for a solved row."""
    frame = pd.DataFrame(list(rows), columns=[*keys, *COLUMNS])
    frame["error"] = frame["error"].fillna("").astype(str)  # empty: no error
    return frame.astype(dict.fromkeys(INT_COLUMNS, "Int64"))


def sweep(
    inventory: Inventory,
    catalog: Catalog,
    policy: Policy,
    vary: Mapping[str, Sequence[Any]],
    params: SolverParams | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    backend: str = "local",
    address: str | None = None,
    done: Mapping[int, Mapping[str, Any]] | None = None,
    on_row: Callable[[int, dict[str, Any]], None] | None = None,
    task: RowTask = solve_row,
) -> pd.DataFrame:
    """Solve every combination of ``vary`` over ``policy`` and ``params`` (default:
    ``SolverParams()``); one row per combination.

    ``backend`` ``local``: ``jobs`` worker processes (default: the machine's cores, at most the
    combinations to solve; one runs them in this process) share the cores, each solve
    getting ``params.workers // jobs`` solver threads. ``ray``: each combination a Ray task
    of one CPU on the cluster at ``address`` (default: a local Ray instance of ``jobs`` CPUs,
    started and stopped here); ``jobs`` caps the tasks in flight. ``done`` holds rows solved
    before, by grid index (see ``resume_rows``): they are kept and not solved again.
    ``on_row(index, row)`` is called as each new row finishes, ``progress(done, total)``
    after it. ``task`` solves one combination (tests replace it).

    Raises:
        InputError: an invalid value in the grid, or an unknown backend.
        PlannerError: the ray backend without Ray, or its cluster cannot be reached.
    """
    if backend not in BACKENDS:
        rule = "unknown backend; known: " + ", ".join(BACKENDS)
        raise InputError.single("--backend", rule, value=backend)
    grid = combinations(policy, vary, params)
    keys = tuple(vary)
    total = len(grid)
    digest = inputs_digest(inventory, catalog, policy, params, keys)
    rows: dict[int, dict[str, Any]] = {i: dict(r) for i, r in (done or {}).items() if i < total}
    todo = [i for i in range(total) if i not in rows]
    if todo:
        with contextlib.closing(
            _results(inventory, catalog, grid, todo, keys, jobs, backend, address, task)
        ) as results:
            for k, result in results:
                i = todo[k]
                row = (
                    error_row(grid[i], keys, result.reason) if isinstance(result, Lost) else result
                )
                row["inputs"] = digest
                rows[i] = row
                if on_row:
                    on_row(i, row)
                if progress:
                    progress(len(rows), total)
    return sweep_table([rows[i] for i in sorted(rows)], keys)


def _results(
    inventory: Inventory,
    catalog: Catalog,
    grid: Sequence[Setting],
    todo: Sequence[int],
    keys: tuple[str, ...],
    jobs: int | None,
    backend: str,
    address: str | None,
    task: RowTask,
) -> Generator[tuple[int, Any]]:
    """The backend's ``(position in todo, row or Lost)`` pairs, as they finish."""
    shared = (task, inventory, catalog)
    if backend == "ray":
        if address is None:  # a local instance: no more CPUs than combinations
            jobs = min(jobs or os.cpu_count() or 1, len(todo))
        # A Ray task holds one CPU, so its solve gets one solver thread.
        items = [(_threads(grid[i], lambda _: 1), keys) for i in todo]
        return ray_map(_attempt, shared, items, jobs, address)
    n = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    items = [(_threads(grid[i], lambda w: max(1, w // n)), keys) for i in todo]
    return local_map(_attempt, shared, items, n)


def _threads(setting: Setting, share: Callable[[int], int]) -> Setting:
    policy, params = setting
    return policy, params.model_copy(update={"workers": min(params.workers, share(params.workers))})


def resume_rows(
    path: Path, grid: Sequence[Setting], keys: Sequence[str], digest: str
) -> dict[int, dict[str, Any]]:
    """The rows of ``grid`` already solved in the sweep file ``path`` (CSV, or XLSX with a
    ``Sweep`` sheet), by grid index; error rows are left out, so that they are solved again.
    A missing file holds none.

    Raises:
        InputError: the file cannot be read as a sweep, varies other keys than ``keys``, was
            made with other inputs (its ``inputs`` fingerprint is not ``digest``), or has a
            row whose values are not a combination of ``grid`` (each naming file, row, column).
    """
    if not path.exists():
        return {}
    where = str(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, sheet_name=SHEET, engine="openpyxl")
        else:
            frame = pd.read_csv(path)
        frame = frame.astype({c: "Int64" for c in INT_COLUMNS if c in frame.columns})
    except (OSError, ValueError, TypeError, KeyError) as exc:
        rule = f"cannot read it as a sweep to resume: {exc}"
        raise InputError.single(where, " ".join(rule.split())) from None
    theirs = [c for c in frame.columns if c not in COLUMNS]
    if set(theirs) != set(keys) or "status" not in frame or "inputs" not in frame:
        rule = (
            f"this file is a sweep over {', '.join(map(str, theirs)) or 'nothing'} (or not a "
            f"sweep); this sweep varies {', '.join(keys)}: resume into the file it wrote"
        )
        raise InputError.single(where, rule)
    index = {tuple(_values(s, keys).values()): i for i, s in enumerate(grid)}
    base = {**grid[0][0].model_dump(), **grid[0][1].model_dump()}
    issues: list[InputIssue] = []
    rows: dict[int, dict[str, Any]] = {}
    foreign: list[tuple[int, str]] = []  # rows of another sweep: (row number, fingerprint)
    for number, record in enumerate(frame.to_dict("records"), start=2):  # header = row 1
        cells = {str(k): None if _missing(v) else v for k, v in record.items()}
        if cells["inputs"] != digest:
            foreign.append((number, str(cells["inputs"])))
            continue
        try:
            setting = settings_from({**base, **{k: _text(cells[k]) for k in keys}}, where)
        except InputError as exc:
            issues.extend(i.model_copy(update={"row": number}) for i in exc.issues)
            continue
        at = index.get(tuple(_values(setting, keys).values()))
        if at is None:
            shown = ", ".join(f"{k}={cells[k]}" for k in keys)
            rule = "not a combination of this sweep's grid; sweep into a new file"
            issues.append(InputIssue(file=where, row=number, value=shown, rule=rule))
        elif cells["status"] != ERROR and at not in rows:
            rows[at] = {**cells, **_values(grid[at], keys)}
    if foreign:
        number, value = foreign[0]
        others = f" (and {len(foreign) - 1} more rows)" if len(foreign) > 1 else ""
        rule = (
            f"this row{others} was solved with other inputs (inventory, catalogs or the "
            "policy's other keys); sweep into a new file, or rerun without --resume"
        )
        issues.insert(
            0, InputIssue(file=where, row=number, column="inputs", value=value, rule=rule)
        )
    if issues:
        raise InputError(issues)
    return rows


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _text(value: Any) -> Any:
    """A cell as the policy reads it: numbers and booleans as text, like ``--vary``'s."""
    return value if value is None else str(value)
