"""The ``planner`` command: a thin door onto the pipeline.

    planner validate INVENTORY [--format F] [--licenses F]
    planner plan INVENTORY [--hosts F] [--licenses F] [--hypervisors F] [--policy F.toml]
                 [--set key=value]... [--format F] [--json F|-] [--csv F] [--xlsx F] [--html F]
                 [--explain]
    planner sweep INVENTORY --vary key=v1,v2,... [--vary ...] [catalog and policy options]
                  [--csv F] [--xlsx F] [--resume] [--jobs N] [--backend local|ray] [--address A]

Exit codes: 0 success; 1 an error the input does not explain (for a sweep: a combination
failed, its row says why); 2 bad input or usage (one line per problem, at most ``MAX_SHOWN``
of them and a count of the rest, no traceback); 3 a plan was made but some VMs could not be
placed; 130 interrupted (Ctrl-C; a sweep keeps the rows it solved). Text from the input
files is printed with its control characters escaped, and every output file is checked to be
writable before the plan is made.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from planner.backends import BACKENDS
from planner.catalog import load_catalog
from planner.deadline import Deadline, process_age, tail_cpu
from planner.errors import MAX_SHOWN, InputError, InputIssue, PlannerError, printable
from planner.estate import Estate, read_host_list
from planner.explain import explain_plan
from planner.heap import paused, settle, settled
from planner.ingest import FORMATS, read_inventory
from planner.limits import Limits, parse_limits
from planner.models import Catalog, Inventory, Policy, SolverParams
from planner.pipeline import run
from planner.report import (
    plan_summary,
    write_html_report,
    write_placement_csv,
    write_plan_json,
    write_workbook,
)
from planner.report.sweep_files import SweepFiles
from planner.settings import load_settings
from planner.sizing import check_licence_tags
from planner.solve import SolveProgress
from planner.sweep import ERROR, combinations, inputs_digest, parse_vary, resume_rows, sweep

__all__ = ["main"]

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT, EXIT_UNPLACED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
# CPU seconds per VM (reference machine) each report takes to write, kept back from the
# search by the run's deadline (measured at 20,001 VMs, with a margin).
REPORT_CPU_PER_VM_S = {"json": 2e-5, "csv": 1.5e-5, "xlsx": 2e-4, "html": 8e-5}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it).

    Without ``argv`` this process is the command (the console script, ``python -m``): a
    plan's deadline (``planner.deadline``) counts from the process start. With ``argv`` (a
    call from other code) it counts from this call.
    """
    started = time.perf_counter() - process_age() if argv is None else time.perf_counter()
    parser = _parser()
    args = parser.parse_args(argv)
    args.started = started
    try:
        if args.command == "validate":
            return _validate(args)
        if args.command == "sweep":
            return _sweep(args)
        return _plan(args)
    except InputError as exc:
        for issue in exc.issues[:MAX_SHOWN]:
            print(f"error: {issue}", file=sys.stderr)
        more = exc.total - min(len(exc.issues), MAX_SHOWN)
        if more:
            print(f"error: ... and {more:,} more problems", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PlannerError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="planner",
        description="Plan VMs onto the fewest / cheapest physical hosts, proven or with a gap.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check an inventory and report every problem")
    _inventory_args(v)
    v.add_argument(
        "--licenses", dest="licences", type=Path, help="licence catalog CSV (default: bundled)"
    )

    pl = sub.add_parser("plan", help="plan an inventory and report hosts, costs, failures")
    _inventory_args(pl)
    _scenario_args(pl)
    pl.add_argument("--json", metavar="FILE", help="write the plan JSON ('-' for stdout)")
    pl.add_argument("--csv", type=Path, metavar="FILE", help="write the per-VM placement CSV")
    pl.add_argument("--xlsx", type=Path, metavar="FILE", help="write the XLSX workbook")
    pl.add_argument("--html", type=Path, metavar="FILE", help="write the HTML report")
    pl.add_argument("--quiet", action="store_true", help="no progress bar")
    pl.add_argument(
        "--current-hosts",
        type=Path,
        metavar="FILE",
        help="today's hosts (RVTools vHost CSV or workbook, Live Optics ESX Hosts) for "
        "estate = existing | mixed (default: the inventory workbook's vHost sheet)",
    )
    pl.add_argument(
        "--explain",
        action="store_true",
        help="price each rule (N+k, zones, groups, islands, ...) by re-planning without it",
    )

    sw = sub.add_parser("sweep", help="plan every combination of a what-if grid")
    _inventory_args(sw)
    _scenario_args(sw)
    sw.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="KEY=V1,V2,...",
        help="policy values to try, e.g. --vary cpu_overcommit=2,3,4,5 (repeatable)",
    )
    sw.add_argument(
        "--jobs",
        type=int,
        help="combinations solved at once (local: worker processes, default one per core; "
        "ray: the local instance's CPUs, or the tasks in flight on a cluster)",
    )
    sw.add_argument(
        "--backend",
        choices=BACKENDS,
        default="local",
        help="where the combinations are solved: local worker processes (default) or Ray",
    )
    sw.add_argument(
        "--address",
        metavar="ADDR",
        help="with --backend ray: the Ray cluster (HEAD:6379, auto, ray://HEAD:10001); "
        "default: a local Ray instance for the sweep",
    )
    sw.add_argument(
        "--csv", type=Path, metavar="FILE", help="write one row per combination as each finishes"
    )
    sw.add_argument("--xlsx", type=Path, metavar="FILE", help="write the grid as a workbook")
    sw.add_argument(
        "--resume",
        action="store_true",
        help="keep the rows already in --csv (or --xlsx) and solve only the combinations "
        "missing there or failed",
    )
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _scenario_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hosts", type=Path, help="host catalog CSV (default: bundled)")
    p.add_argument(
        "--licenses", dest="licences", type=Path, help="licence catalog CSV (default: bundled)"
    )
    p.add_argument("--hypervisors", type=Path, help="hypervisor profiles CSV (default: bundled)")
    p.add_argument("--policy", type=Path, help="policy TOML file")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one policy key, e.g. --set cpu_overcommit=3 (repeatable)",
    )


def _inventory_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("inventory", type=Path, help="CSV or XLSX inventory (RVTools export as is)")
    p.add_argument(
        "--format", choices=FORMATS, help="inventory format (default: detected from the headers)"
    )
    p.add_argument(
        "--limit",
        dest="limits",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="raise or lower an input limit, e.g. --limit rows=2000000 (repeatable; see README)",
    )


def _read(args: argparse.Namespace, limits: Limits | None = None) -> Inventory:
    limits = limits or parse_limits(args.limits)
    return read_inventory(args.inventory, format=args.format, limits=limits)


def _validate(args: argparse.Namespace) -> int:
    limits = parse_limits(args.limits)
    inventory = _read(args, limits)
    catalog = load_catalog(licences=args.licences, limits=limits)
    check_licence_tags(inventory, catalog)
    on = sum(vm.powered_on for vm in inventory.vms)
    print(f"{printable(inventory.source)}: {inventory.format} format, {len(inventory.vms)} VMs")
    print(f"  powered on {on}, powered off {len(inventory.vms) - on}")
    print(f"  vCPUs {sum(vm.vcpus for vm in inventory.vms)}, ", end="")
    print(f"memory {sum(vm.memory_gib for vm in inventory.vms):,.1f} GiB")
    for reason, n in sorted(inventory.dropped.items()):
        print(f"  dropped {n} ({reason})")
    tags = Counter(t for vm in inventory.vms for t in vm.licences)
    if tags:
        shown = ", ".join(f"{t} {n}" for t, n in sorted(tags.items()))
        print(printable(f"  licence tags: {shown}"))
    for note in inventory.notes:
        print(printable(f"  note: {note}"))
    print("  no problems found")
    return EXIT_OK


def _scenario(args: argparse.Namespace) -> tuple[Inventory, Catalog, Policy, SolverParams]:
    """Inventory, catalogs, policy and solver params; every problem of all of them reported
    at once.

    Every file is held to the same ``--limit`` limits (the defaults where one is invalid).
    """
    issues: list[InputIssue] = []
    parts: list[object] = []
    try:
        limits = parse_limits(args.limits)
    except InputError as exc:
        issues.extend(exc.issues)
        limits = Limits()
    for load in (
        lambda: load_settings(args.policy, args.overrides, limits),
        lambda: load_catalog(
            hosts=args.hosts, licences=args.licences, profiles=args.hypervisors, limits=limits
        ),
        lambda: _read(args, limits),
    ):
        try:
            parts.append(load())
        except InputError as exc:
            issues.extend(exc.issues)
    if issues:
        raise InputError(issues)
    settings, catalog, inventory = parts
    assert isinstance(settings, tuple) and isinstance(catalog, Catalog)
    assert isinstance(inventory, Inventory)
    policy, params = settings
    assert isinstance(policy, Policy) and isinstance(params, SolverParams)
    return inventory, catalog, policy, params


def _outputs(args: argparse.Namespace, *options: str) -> None:
    """Check, before any solve, that every output file asked for can be written.

    Raises:
        InputError: one issue per output whose folder is missing, which is a directory, or
            which this user may not write.
    """
    issues = []
    for option in options:
        target = getattr(args, option)
        if target is None or str(target) == "-":
            continue
        path = Path(target)
        folder = path.parent
        rule = None
        if path.is_dir():
            rule = "is a directory; give a file name"
        elif not folder.is_dir():
            rule = f"the folder {folder} does not exist"
        elif path.exists() and not os.access(path, os.W_OK):
            rule = "the file exists and cannot be overwritten (permission denied)"
        elif not path.exists() and not os.access(folder, os.W_OK | os.X_OK):
            rule = f"cannot create a file in {folder} (permission denied)"
        if rule:
            issues.append(InputIssue(file=str(path), rule=f"cannot write --{option}: {rule}"))
    if issues:
        raise InputError(issues)


def _write(option: str, path: object, write: Callable[[], object]) -> None:
    """Run ``write``; a failure (a full disk, a vanished folder) becomes an InputError."""
    try:
        write()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError.single(str(path), f"cannot write --{option}: {reason}") from None


def _estate(args: argparse.Namespace, policy: Policy) -> Estate | None:
    """Today's hosts, for an existing or mixed estate: ``--current-hosts``, else the
    inventory workbook's vHost sheet."""
    if policy.estate == "new":
        if args.current_hosts is not None:
            raise InputError.single(
                str(args.current_hosts),
                "--current-hosts plans today's estate: set estate = existing or mixed",
            )
        return None
    limits = parse_limits(args.limits)
    return read_host_list(args.current_hosts or args.inventory, limits=limits)


def _plan(args: argparse.Namespace) -> int:
    inventory, catalog, policy, params = _scenario(args)
    with settled():  # the run's objects live to its end: the collector skips them
        return _plan_run(args, inventory, catalog, policy, params)


def _plan_run(
    args: argparse.Namespace,
    inventory: Inventory,
    catalog: Catalog,
    policy: Policy,
    params: SolverParams,
) -> int:
    _outputs(args, "json", "csv", "xlsx", "html")
    estate = _estate(args, policy)
    deadline = _deadline(args, params, len(inventory.vms))
    with _ProgressBar(params.time_limit_s, disable=args.quiet) as bar:
        problem, plan = run(
            inventory,
            catalog,
            policy,
            params,
            progress=bar.update,
            estate=estate,
            deadline=deadline,
        )
    if args.explain:
        plan = explain_plan(problem, plan, run, params)
    settle()  # the plan too, while the reports are written
    with paused():  # a report of a million VMs builds millions of objects, no garbage
        if args.json:
            _write("json", args.json, lambda: write_plan_json(plan, problem, args.json))
        if args.csv:
            _write("csv", args.csv, lambda: write_placement_csv(plan, problem, args.csv))
        if args.xlsx:
            _write("xlsx", args.xlsx, lambda: write_workbook(plan, problem, args.xlsx))
        if args.html:
            _write("html", args.html, lambda: write_html_report(plan, problem, args.html))
    out = sys.stderr if args.json == "-" else sys.stdout
    print(plan_summary(plan, problem), file=out)  # escaped line by line
    return EXIT_UNPLACED if plan.status in ("partial", "infeasible") else EXIT_OK


def _deadline(args: argparse.Namespace, params: SolverParams, vms: int) -> Deadline:
    """When this run must end: the time limit plus the allowance for ``vms`` VMs after it
    started (README, "Time and memory"), with the work after the search kept back: the plan,
    its checks and every report asked for."""
    reports = sum(cpu for option, cpu in REPORT_CPU_PER_VM_S.items() if getattr(args, option))
    return Deadline.for_run(args.started, params.time_limit_s, vms, tail_cpu(vms, reports))


def _sweep(args: argparse.Namespace) -> int:
    usage = []
    if args.address is not None and args.backend != "ray":
        usage.append(InputIssue(file="--address", value=args.address, rule="needs --backend ray"))
    if args.resume and not (args.csv or args.xlsx):
        usage.append(InputIssue(file="--resume", rule="needs --csv or --xlsx: the sweep to resume"))
    if args.jobs is not None and args.jobs < 1:
        usage.append(InputIssue(file="--jobs", value=str(args.jobs), rule="must be at least 1"))
    if usage:
        raise InputError(usage)
    inventory, catalog, policy, params = _scenario(args)
    _outputs(args, "csv", "xlsx")
    vary = parse_vary(args.vary)
    grid = combinations(policy, vary, params)  # validates every value before any solve
    keys = tuple(vary)
    done = {}
    if args.resume:  # the CSV gets every row as it finishes: it is the more complete one
        kept = args.csv if args.csv and args.csv.exists() else args.xlsx
        digest = inputs_digest(inventory, catalog, policy, params, keys)
        done = resume_rows(kept or args.csv, grid, keys, digest)
    files = SweepFiles(keys, csv=args.csv, xlsx=args.xlsx, rows=done)
    bar = tqdm(
        total=len(grid),
        initial=len(done),
        desc="sweep",
        unit="plan",
        disable=args.quiet,
        file=sys.stderr,
    )

    def tick(solved: int, total: int) -> None:
        bar.update(solved - bar.n)

    try:
        with bar:
            table = sweep(
                inventory,
                catalog,
                policy,
                vary,
                params,
                jobs=args.jobs,
                progress=tick,
                backend=args.backend,
                address=args.address,
                done=done,
                on_row=files.add,
            )
    except KeyboardInterrupt:
        files.close()  # the rows solved so far, in the grid's order
        kept_in = " and ".join(str(p) for p in (args.csv, args.xlsx) if p)
        print(
            f"interrupted: {files.count} of {len(grid)} combinations solved"
            + (f", kept in {kept_in}; rerun with --resume for the rest" if kept_in else ""),
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except BaseException:
        files.close()
        raise
    files.close()
    if len(done):
        print(
            f"resumed: {len(done)} of {len(grid)} combinations were solved before", file=sys.stderr
        )
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(table.drop(columns=["error", "inputs"]).to_string(index=False))
    failed = table[table["status"] == ERROR]
    for _, row in failed.head(MAX_SHOWN).iterrows():
        values = ", ".join(f"{k}={row[k]}" for k in keys)
        print(printable(f"error: {values}: {row['error']}"), file=sys.stderr)
    if len(failed) > MAX_SHOWN:
        print(f"error: ... and {len(failed) - MAX_SHOWN} more failed combinations", file=sys.stderr)
    if len(failed):
        return EXIT_ERROR
    return EXIT_UNPLACED if (table["unplaced"] > 0).any() else EXIT_OK


class _ProgressBar:
    """A progress bar on stderr over the solver's time limit, with incumbent and bound."""

    def __init__(self, seconds: float, disable: bool) -> None:
        self._seconds = seconds
        self._bar = tqdm(
            total=round(seconds, 1),
            desc="solving",
            unit="s",
            disable=disable or not sys.stderr.isatty(),
            file=sys.stderr,
            leave=False,
            bar_format="{desc}: {bar} {n:.1f}/{total:.0f} s {postfix}",
        )

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.close()

    def update(self, event: SolveProgress) -> None:
        """Show the stage, the best objective so far and the bound."""
        self._bar.n = min(round(event.seconds, 1), self._seconds)
        best = "-" if event.objective is None else f"{event.objective:,.0f}"
        bound = "-" if event.bound is None else f"{event.bound:,.0f}"
        self._bar.set_postfix_str(f"{event.stage}: best {best}, bound {bound}")


if __name__ == "__main__":
    sys.exit(main())
