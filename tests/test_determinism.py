"""Deterministic search: the exact engine's phases switch on work done, not on the wall clock,
so the same input and seed give the same plan however fast the clock runs; the wall-clock
limit is only a safety cap, and hitting it is reported."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest

from planner.exact import CAPPED_STAGE, ExactResult, improve
from planner.exact.classes import UNITS_PER_S
from planner.heuristic import first_fit_decreasing
from planner.models import VM, Problem
from planner.packing import Packing
from planner.sizing import build_problem
from tests.conftest import PURE, catalog, check_packing, host, inventory

WORK_S = 0.375  # the engine's work budget (reference-machine seconds)


def _hard_problem() -> Problem:
    """60 VMs whose CPU and memory add up to about half a host each, seeded so that the
    engine does not prove its plan before its work budget is spent (18 hosts, bound 17)."""
    rng = random.Random(0)
    items = []
    for i in range(60):
        cpu = rng.randint(10, 45)
        items.append(VM(name=f"v{i}", vcpus=cpu, memory_gib=max(1, 55 - cpu + rng.randint(-8, 8))))
    return build_problem(inventory(*items), catalog(host("h100", cores=100, mem=100)), PURE)


def _hosts(packing: Packing) -> list[tuple[int, tuple[int, ...]]]:
    return sorted((b.type_index, b.vms) for b in packing if b.vms)


def _slow_clock(factor: float) -> Callable[[], float]:
    """A ``time.perf_counter`` on which every interval lasts ``factor`` times longer, and
    every reading a further 0.1 ms (a loaded, slower machine)."""
    real = time.perf_counter
    start = real()
    calls = [0]

    def clock() -> float:
        calls[0] += 1
        return start + factor * (real() - start) + 1e-4 * calls[0]

    return clock


def _solve(problem: Problem) -> ExactResult:
    ffd, _ = first_fit_decreasing(problem)
    return improve(problem, ffd, 300.0, work_s=WORK_S)  # a far cap: the work budget decides


def test_plan_is_the_same_when_the_wall_clock_runs_three_times_slower(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same problem solved on a normal and on a three times slower wall clock gives the
    same hosts and bound, and the search ran to its work budget (not proven early)."""
    problem = _hard_problem()
    first = _solve(problem)
    monkeypatch.setattr(time, "perf_counter", _slow_clock(3.0))
    second = _solve(problem)
    assert not first.proven  # the budget, not a proof, ended the search
    assert first.work >= 0.9 * WORK_S * UNITS_PER_S
    assert not first.capped and not second.capped
    assert _hosts(first.packing) == _hosts(second.packing)
    assert first.bound == second.bound
    assert first.work == second.work
    check_packing(problem, second.packing)


def test_a_larger_work_budget_ends_no_worse() -> None:
    """``work_s`` sets the budget: with twice the work the engine ends with no more hosts and
    no weaker bound than with the first (here it proves the 18-host plan optimal)."""
    problem = _hard_problem()
    ffd, _ = first_fit_decreasing(problem)
    short = improve(problem, ffd, 300.0, work_s=WORK_S)
    long = improve(problem, ffd, 300.0, work_s=2 * WORK_S)
    assert long.bound >= short.bound
    assert len(_hosts(long.packing)) <= len(_hosts(short.packing))
    check_packing(problem, long.packing)


def test_safety_cap_stops_the_search_and_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wall clock that leaps past the time limit stops every phase at once: the result is
    marked capped, the last progress report says so, and the packing stays valid and never
    worse than first-fit decreasing."""
    problem = _hard_problem()
    ffd, _ = first_fit_decreasing(problem)
    real = time.perf_counter
    calls = [0]

    def leaping() -> float:
        calls[0] += 1
        return real() + (0.0 if calls[0] < 50 else 1e6)

    stages: list[str] = []
    monkeypatch.setattr(time, "perf_counter", leaping)
    result = improve(problem, ffd, 1.0, lambda stage, _v, _b: stages.append(stage), work_s=WORK_S)
    assert result.capped
    assert stages[-1] == CAPPED_STAGE
    assert result.work < 0.9 * WORK_S * UNITS_PER_S
    assert len(_hosts(result.packing)) <= len(_hosts(ffd))
    check_packing(problem, result.packing)
