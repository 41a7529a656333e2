"""The run's deadline: the time limit plus the allowance, counted from the process start, cuts
the search (and says so) only when the run would otherwise end late."""

from __future__ import annotations

import time

import pytest

from planner.deadline import Deadline, allowance, process_age
from planner.models import Problem, SolverParams
from planner.pipeline import solve_verified
from planner.sizing import build_problem
from tests.conftest import PURE, catalog, host, inventory
from tests.test_solve import _hard_vms


def test_the_allowance_is_two_seconds_and_twelve_per_hundred_thousand_vms() -> None:
    """README, "Time and memory": 2 s + 12 s per 100,000 VMs."""
    assert allowance(0) == 2.0
    assert allowance(20_001) == pytest.approx(4.40012)
    assert allowance(1_000_000) == pytest.approx(122.0)


def test_the_process_age_counts_from_the_process_start() -> None:
    """This interpreter started before the test ran: its age is more than the time since this
    module was imported, and less than a day."""
    assert 0.0 < process_age() < 86_400.0
    assert process_age() >= time.process_time() * 0.5  # it has run for at least that long


def test_the_pace_is_a_share_of_a_core_and_the_reserve_grows_as_it_drops() -> None:
    now = time.perf_counter()
    deadline = Deadline.for_run(now - process_age(), 5.0, 100, tail_cpu_s=1.0)
    assert 0.0 < deadline.pace() <= 1.0
    assert deadline.reserve(1.0) == pytest.approx(1.0 / deadline.pace())
    assert deadline.search_left() < deadline.left() <= 5.0 + allowance(100)


def _problem() -> Problem:
    return build_problem(inventory(*_hard_vms(60)), catalog(host("h100", cores=100, mem=100)), PURE)


def test_a_deadline_already_passed_stops_the_search_and_the_plan_says_so() -> None:
    """The engine improves first fit on these VMs within its budget; with the run's deadline
    spent it does not start: the first-fit plan stands, verified, and its notes name the
    deadline as what cut the search."""
    params = SolverParams(time_limit_s=30, work_limit_s=0.5)
    free = solve_verified(_problem(), params)
    assert not free.statistics.capped
    assert not any("deadline" in n for n in free.plan.notes)
    now = time.perf_counter()
    spent = Deadline(started=now - 60.0, at=now - 1.0)
    cut = solve_verified(_problem(), params, deadline=spent)
    assert cut.statistics.capped
    assert cut.plan.engine == "column generation + exact search"
    assert any("run's deadline" in n and "stopped the search" in n for n in cut.plan.notes)
    assert cut.plan.status in ("feasible", "optimal")
    assert len(cut.plan.hosts) >= len(free.plan.hosts)


def test_a_distant_deadline_changes_nothing() -> None:
    """Far from the deadline the plan is the one without it: same hosts, same work."""
    params = SolverParams(time_limit_s=30, work_limit_s=0.5)
    free = solve_verified(_problem(), params)
    now = time.perf_counter()
    far = Deadline(started=now, at=now + 3_600.0, tail_cpu_s=1.0)
    kept = solve_verified(_problem(), params, deadline=far)
    assert [h.vms for h in kept.plan.hosts] == [h.vms for h in free.plan.hosts]
    assert kept.statistics.work == free.statistics.work
    assert kept.plan.notes == free.plan.notes
