"""A packing: which host types are bought and which VMs each runs. Solver-neutral plain data.

Both engines (first-fit decreasing and CP-SAT) produce a ``Packing``; ``solve`` turns it into
a ``Plan``. The cost of a packed host is computed here once, with the rules of ``costs``.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from planner.costs import host_cost, hypervisor_licences, tag_licences
from planner.models import CostBreakdown, HostModel, Licence, LicenceUse, Problem

__all__ = ["HostBin", "Packing", "bin_cost", "bin_licences", "packing_cost", "packing_objective"]


@dataclass(frozen=True, slots=True)
class HostBin:
    """One bought host: its type (index into Problem.host_types) and its VMs.

    ``vms`` are positions in ``Problem.vms``; ``partition`` is the index into
    ``Problem.partitions`` the host belongs to.
    """

    partition: int
    type_index: int
    vms: tuple[int, ...]


Packing = tuple[HostBin, ...]


def bin_licences(problem: Problem, b: HostBin) -> tuple[LicenceUse, ...]:
    """Licences the host needs: its VMs' tags, plus the hypervisor's own where it pays one."""
    counts: Counter[str] = Counter(t for i in b.vms for t in problem.vms[i].tags)
    return _licences(
        problem.host_types[b.type_index].model,
        tuple(sorted(counts.items())),
        problem.catalog.licences,
        problem.policy.horizon_years,
        problem.profile.licence_family,
    )


@functools.lru_cache(maxsize=1 << 16)
def _licences(
    model: HostModel,
    counts: tuple[tuple[str, int], ...],
    licences: tuple[Licence, ...],
    years: float,
    family: str,
) -> tuple[LicenceUse, ...]:
    # Hosts of one plan repeat the same few (model, tag counts): price each combination once.
    uses = tag_licences(model, dict(counts), licences, years)
    return uses + hypervisor_licences(model, licences, years, family, dict(counts))


def bin_cost(problem: Problem, b: HostBin) -> CostBreakdown:
    """Cost of one host over the horizon, by category, without its VMs' own costs.

    Per-VM costs (storage, administration per VM) are the same whatever the packing, so the
    comparison of packings leaves them out; ``solve`` adds them to the plan.
    """
    ht = problem.host_types[b.type_index]
    load = sum(problem.vms[i].load_m for i in b.vms) / (1000.0 * ht.model.cores)
    return host_cost(ht.model, bin_licences(problem, b), load, problem.policy)


def packing_cost(problem: Problem, bins: Sequence[HostBin]) -> float:
    """Total cost of the bought hosts."""
    return sum(bin_cost(problem, b).total for b in bins)


def packing_objective(problem: Problem, bins: Sequence[HostBin]) -> tuple[float, float]:
    """What the policy minimises, as a sortable key: (primary, tie-break)."""
    cost = packing_cost(problem, bins)
    if problem.policy.objective == "hosts":
        return (float(len(bins)), cost)
    return (cost, float(len(bins)))
