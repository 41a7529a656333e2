"""The enumeration phase inside the engine: where the bound is tight, a plan at the bound."""

from __future__ import annotations

import importlib
import random

import pytest

from planner.exact import improve
from planner.heuristic import first_fit_decreasing
from planner.models import VM
from planner.sizing import build_problem
from tests.conftest import PURE, catalog, check_packing, host, inventory

# The module itself: the package's name ``exact_fill`` is the phase's function.
exact_fill_module = importlib.import_module("planner.exact.exact_fill")


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


def two_d_triplets(n: int, seed: int) -> list[tuple[int, int]]:
    """``3 n`` (vCPUs, GiB) sizes in the manner of class 10 of Caprara and Toth: every
    consecutive three fill a 100 GiB host's memory exactly and leave 0-2 of its 100 cores."""
    rng = random.Random(seed)
    items = []
    for _ in range(n):
        first = rng.randint(38, 49)
        second = rng.randint(25, (100 - first) // 2)
        cpus = [rng.randint(20, 40), rng.randint(20, 40)]
        cpus.append(100 - sum(cpus) - rng.choice((0, 0, 0, 1, 2)))
        items += zip(cpus, (first, second, 100 - first - second), strict=True)
    rng.shuffle(items)
    return items


def test_engine_reaches_the_bound_where_the_exact_fill_gives_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sixty 2-D triplets (memory filled exactly, a few cores to spare) whose listing of
    exactly filled hosts is cut short, as at n = 201 of class 10: the duals of column
    generation and the waste budgets keep few hosts, and the enumeration finds the plan of
    60 hosts within 2 s of work (before, the engine ended at 61)."""
    monkeypatch.setattr(exact_fill_module, "MAX_FILL_HOSTS", 10)
    items = [
        VM(name=f"v{i}", vcpus=c, memory_gib=m) for i, (c, m) in enumerate(two_d_triplets(60, 1))
    ]
    problem = build_problem(inventory(*items), catalog(host("h", cores=100, mem=100)), PURE)
    ffd, _ = first_fit_decreasing(problem)
    assert sum(1 for b in ffd if b.vms) > 60
    result = improve(problem, ffd, 60.0, work_s=2.0)
    check_packing(problem, result.packing)
    assert sum(1 for b in result.packing if b.vms) == 60
    assert result.proven
