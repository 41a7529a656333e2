"""The ``planner`` command: a thin door onto the pipeline.

    planner validate INVENTORY [--format F] [--licenses F]
    planner plan INVENTORY [--hosts F] [--licenses F] [--hypervisors F] [--policy F.toml]
                 [--set key=value]... [--format F] [--json F|-] [--csv F]

Exit codes: 0 success; 2 bad input or usage (one line per problem, no traceback);
3 a plan was made but some VMs could not be placed.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from planner.catalog import load_catalog
from planner.errors import InputError, PlannerError
from planner.ingest import FORMATS, read_inventory
from planner.models import Catalog, Inventory
from planner.pipeline import run
from planner.report import plan_summary, write_placement_csv, write_plan_json
from planner.settings import load_policy
from planner.sizing import check_licence_tags

__all__ = ["main"]

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT, EXIT_UNPLACED = 0, 1, 2, 3


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "validate":
            return _validate(args)
        return _plan(args)
    except InputError as exc:
        for issue in exc.issues:
            print(f"error: {issue}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PlannerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="planner",
        description="Plan VMs onto the fewest / cheapest physical hosts, proven or with a gap.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check an inventory and report every problem")
    _inventory_args(v)
    v.add_argument("--licenses", type=Path, help="licence catalog CSV (default: bundled)")

    pl = sub.add_parser("plan", help="plan an inventory and report hosts, costs, failures")
    _inventory_args(pl)
    pl.add_argument("--hosts", type=Path, help="host catalog CSV (default: bundled)")
    pl.add_argument("--licenses", type=Path, help="licence catalog CSV (default: bundled)")
    pl.add_argument("--hypervisors", type=Path, help="hypervisor profiles CSV (default: bundled)")
    pl.add_argument("--policy", type=Path, help="policy TOML file")
    pl.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one policy key, e.g. --set cpu_overcommit=3 (repeatable)",
    )
    pl.add_argument("--json", metavar="FILE", help="write the plan JSON ('-' for stdout)")
    pl.add_argument("--csv", type=Path, metavar="FILE", help="write the per-VM placement CSV")
    return p


def _inventory_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("inventory", type=Path, help="CSV or XLSX inventory (RVTools export as is)")
    p.add_argument(
        "--format", choices=FORMATS, help="inventory format (default: detected from the headers)"
    )


def _read(args: argparse.Namespace) -> Inventory:
    return read_inventory(args.inventory, format=args.format)


def _validate(args: argparse.Namespace) -> int:
    inventory = _read(args)
    catalog = load_catalog(licences=args.licenses)
    check_licence_tags(inventory, catalog)
    on = sum(vm.powered_on for vm in inventory.vms)
    print(f"{inventory.source}: {inventory.format} format, {len(inventory.vms)} VMs")
    print(f"  powered on {on}, powered off {len(inventory.vms) - on}")
    print(f"  vCPUs {sum(vm.vcpus for vm in inventory.vms)}, ", end="")
    print(f"memory {sum(vm.memory_gib for vm in inventory.vms):,.1f} GiB")
    for reason, n in sorted(inventory.dropped.items()):
        print(f"  dropped {n} ({reason})")
    tags = Counter(t for vm in inventory.vms for t in vm.licenses)
    if tags:
        print("  licence tags: " + ", ".join(f"{t} {n}" for t, n in sorted(tags.items())))
    for note in inventory.notes:
        print(f"  note: {note}")
    print("  no problems found")
    return EXIT_OK


def _plan(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy, args.overrides)
    catalog: Catalog = load_catalog(
        hosts=args.hosts, licences=args.licenses, profiles=args.hypervisors
    )
    inventory = _read(args)
    problem, plan = run(inventory, catalog, policy)
    if args.json:
        write_plan_json(plan, problem, args.json)
    if args.csv:
        write_placement_csv(plan, problem, args.csv)
    out = sys.stderr if args.json == "-" else sys.stdout
    print(plan_summary(plan, problem), file=out)
    return EXIT_UNPLACED if plan.unplaced else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
