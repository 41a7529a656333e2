"""The enumeration phase inside the engine: where the bound is tight, a plan at the bound."""

from __future__ import annotations

from planner.exact import improve
from planner.heuristic import first_fit_decreasing
from planner.models import VM
from planner.sizing import build_problem
from tests.conftest import PURE, catalog, host, inventory


def test_engine_packs_triplets_first_fit_decreasing_cannot() -> None:
    """Nine VMs that fill three 100-core hosts exactly, three per host, in a way first-fit
    decreasing misses; the engine finds the three-host plan and proves it."""
    sizes = [50, 26, 24, 45, 30, 25, 40, 33, 27]
    items = [VM(name=f"v{i}", vcpus=s, memory_gib=1) for i, s in enumerate(sizes)]
    problem = build_problem(inventory(*items), catalog(host("h100", cores=100, mem=64)), PURE)
    ffd, _ = first_fit_decreasing(problem)
    assert sum(1 for b in ffd if b.vms) == 4
    result = improve(problem, ffd, 10.0)
    assert sum(1 for b in result.packing if b.vms) == 3
    assert result.proven
