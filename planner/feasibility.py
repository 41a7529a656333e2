"""Can every VM be placed when ``max_count`` caps the models? A CP-SAT proof either way.

First-fit decreasing can fail where a plan exists (VMs of 5, 4, 3, 3, 3, 2 vCPU on two
10-core hosts: {5, 3, 2} + {4, 3, 3}). Only VMs whose every fitting model is capped can be
left out, since an uncapped model can always open one more host; so the question is whether
those VMs fit the capped models' hosts. This module answers it exactly with a small CP-SAT
model (each host of a capped model is a slot that serves one partition), within a
deterministic work budget: ``placed`` (a packing of those VMs), ``infeasible`` (a proof that
no plan places them all) or ``unknown``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from ortools.sat.python import cp_model

from planner.exact.classes import reproducible_solver
from planner.models import Problem
from planner.packing import HostBin

__all__ = ["CappedPlacement", "capped_only", "place_capped"]

MAX_CELLS = 200_000  # VM x slot pairs beyond which the model is not built ("unknown")


@dataclass(frozen=True)
class CappedPlacement:
    """The outcome: a packing of the capped-only VMs, or a proof that none exists."""

    outcome: Literal["placed", "infeasible", "unknown"]
    bins: tuple[HostBin, ...] = ()


def capped_only(problem: Problem) -> list[int]:
    """Positions of the VMs that fit only models with a ``max_count``."""
    capped = {t.index for t in problem.host_types if t.model.max_count is not None}
    return [i for i, v in enumerate(problem.vms) if v.fits and set(v.fits) <= capped]


def place_capped(problem: Problem, work: float, seed: int = 0) -> CappedPlacement:
    """Pack the capped-only VMs into the capped models' hosts, or prove that they don't fit.

    ``work`` is CP-SAT's deterministic time limit (about seconds on a quiet machine), so the
    answer does not depend on the machine's load.
    """
    vms = capped_only(problem)
    if not vms:
        return CappedPlacement("placed")
    part_of = {pos: p for p, part in enumerate(problem.partitions) for pos in part.vms}
    slots = [
        t.index
        for t in problem.host_types
        if t.model.max_count is not None
        for _ in range(t.model.max_count)
    ]
    if not slots:
        return CappedPlacement("infeasible")
    if len(vms) * len(slots) > MAX_CELLS:
        return CappedPlacement("unknown")
    parts = sorted({part_of[i] for i in vms})
    m = cp_model.CpModel()
    # Variables: which partition each slot serves, which slot each VM takes.
    serves = {(j, p): m.new_bool_var(f"serves_{j}_{p}") for j in range(len(slots)) for p in parts}
    x = {
        (i, j): m.new_bool_var(f"x_{i}_{j}")
        for i in vms
        for j, t in enumerate(slots)
        if t in problem.vms[i].fits
    }
    by_vm: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    by_slot: dict[int, list[int]] = defaultdict(list)
    for (i, j), var in x.items():
        by_vm[i].append(var)
        by_slot[j].append(i)
        m.add_implication(var, serves[j, part_of[i]])
    # Constraints: each VM once; a slot serves one partition; capacity; anti-affinity.
    for i in vms:
        m.add_exactly_one(by_vm[i])
    for j, t in enumerate(slots):
        m.add_at_most_one(serves[j, p] for p in parts)
        ht = problem.host_types[t]
        members = by_slot[j]
        m.add(sum(problem.vms[i].cpu_m * x[i, j] for i in members) <= ht.cpu_cap_m)
        m.add(sum(problem.vms[i].mem_mib * x[i, j] for i in members) <= ht.mem_cap_mib)
        m.add(sum(x[i, j] for i in members) <= ht.vm_cap)
        groups: dict[str, list[int]] = defaultdict(list)
        for i in members:
            if problem.vms[i].group:
                groups[problem.vms[i].group].append(i)
        for group in groups.values():
            if len(group) > 1:
                m.add_at_most_one(x[i, j] for i in group)
    # Identical slots are interchangeable: fill them in order.
    for j in range(1, len(slots)):
        if slots[j] == slots[j - 1]:
            m.add(sum(serves[j, p] for p in parts) <= sum(serves[j - 1, p] for p in parts))
    solver = reproducible_solver(max(0.1, work), seed)
    status = solver.solve(m)
    if status == cp_model.INFEASIBLE:
        return CappedPlacement("infeasible")
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return CappedPlacement("unknown")
    bins = []
    for j, t in enumerate(slots):
        placed = tuple(sorted(i for i in by_slot[j] if solver.value(x[i, j])))
        if placed:
            bins.append(HostBin(part_of[placed[0]], t, placed))
    return CappedPlacement("placed", tuple(bins))
