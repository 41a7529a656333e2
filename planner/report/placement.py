"""The placement table: one row per VM of the inventory, with its host or why it has none."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planner.models import Plan, Problem
from planner.report.migration import vm_migration
from planner.units import mib_to_gib, milli_to_vcpu

__all__ = ["neutralise", "placement_csv_bytes", "placement_frame", "write_placement_csv"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Make text that a spreadsheet would run as a formula inert (prefix an apostrophe)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def placement_frame(plan: Plan, problem: Problem) -> pd.DataFrame:
    """One row per inventory VM, in inventory order: host, model, demand, licences, reason."""
    where: dict[str, tuple[str, str, str]] = {}
    for h in plan.hosts:
        for name in h.vms:
            where[name] = (h.id, h.model, h.partition)
    reasons = {u.vm: u.reason for u in plan.unplaced}
    sized = {v.name: v for v in problem.vms}
    moves = vm_migration(plan, problem)  # existing estates: where each VM runs today
    rows = []
    for vm in problem.inventory.vms:
        host, model, partition = where.get(vm.name, ("", "", ""))
        s = sized.get(vm.name)
        rows.append(
            {
                "vm": vm.name,
                "host": host,
                "model": model,
                "partition": partition,
                "vcpus": vm.vcpus,
                "memory_gib": vm.memory_gib,
                "cpu_demand_vcpu": milli_to_vcpu(s.cpu_m) if s else None,
                "memory_demand_gib": round(mib_to_gib(s.mem_mib), 3) if s else None,
                "licenses": ";".join(s.tags if s else vm.licences),
                "group": vm.group,
                "zone": vm.zone,
                "cluster": vm.cluster,
                "numa_span": bool(s and s.numa_span),
                "unplaced_reason": reasons.get(vm.name, ""),
            }
        )
        if moves:
            current, moved, wave = moves[vm.name]
            rows[-1].update({"current_host": current, "moved": moved, "wave": wave})
    return pd.DataFrame(rows)


def placement_csv_bytes(plan: Plan, problem: Problem) -> bytes:
    """The placement table as UTF-8 CSV, text cells neutralised against formulas."""
    frame = placement_frame(plan, problem)
    for col in frame.columns:
        if pd.api.types.is_object_dtype(frame[col]) or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].map(lambda x: neutralise(x) if isinstance(x, str) else x)
    return frame.to_csv(index=False).encode("utf-8")


def write_placement_csv(plan: Plan, problem: Problem, target: str | Path) -> None:
    """Write the placement CSV to ``target``."""
    Path(target).write_bytes(placement_csv_bytes(plan, problem))
