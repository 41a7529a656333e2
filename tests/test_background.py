"""Plans made in another process (``planner.background``): the result, the latest request
wins, and a result file that appears whole."""

from __future__ import annotations

import pickle
import time
from pathlib import Path
from typing import Any

import pytest

from planner.background import INTERIM_S, Refiner, interim_path, run_to_file
from planner.models import Plan, Problem, SolverParams
from planner.pipeline import run
from tests.conftest import PURE, catalog, inventory, vms

INVENTORY = inventory(*vms(6))


def _wait(refiner: Refiner, key: str, seconds: float = 120) -> tuple[Problem, Plan]:
    """The result for ``key``, polled as the app polls it (a spawned process imports the
    planner first)."""
    deadline = time.monotonic() + seconds
    while True:
        running = refiner.running(key)  # asked first: a plan that ends now has its result
        result = refiner.result(key)
        if result is not None:
            return result
        assert running is not None, f"the plan for {key} stopped without a result"
        assert time.monotonic() < deadline, f"no background plan for {key} in {seconds} s"
        time.sleep(0.2)


def test_run_to_file_writes_the_pipelines_result_whole(tmp_path: Path) -> None:
    """The file holds ``(problem, plan)`` as ``run`` makes them; no partial file is left."""
    path = tmp_path / "plan.pickle"
    run_to_file(path, INVENTORY, catalog(), PURE)
    problem, plan = pickle.loads(path.read_bytes())
    expected = run(INVENTORY, catalog(), PURE)[1]
    assert plan.model_copy(update={"solve_seconds": 0}) == expected.model_copy(
        update={"solve_seconds": 0}
    )
    assert problem.inventory == INVENTORY
    assert list(tmp_path.iterdir()) == [path]


def test_a_long_background_plan_writes_an_interim_plan_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a time limit above ``INTERIM_S`` the run plans at ``INTERIM_S`` first and writes
    that plan aside (the app shows it), then plans in full from it; the interim file goes
    once the full plan is there."""
    path = tmp_path / "plan.pickle"
    calls: list[tuple[float, Plan | None, bool]] = []
    real = run(INVENTORY, catalog(), PURE)

    def fake(*args: Any, warm: Plan | None = None, **kw: Any) -> tuple[Problem, Plan]:
        params: SolverParams = args[3]
        calls.append((params.time_limit_s, warm, interim_path(path).exists()))
        return real

    monkeypatch.setattr("planner.background.run", fake)
    run_to_file(path, INVENTORY, catalog(), PURE, SolverParams(time_limit_s=30))
    assert calls == [(INTERIM_S, None, False), (30.0, real[1], True)]
    assert list(tmp_path.iterdir()) == [path]


def test_a_newer_request_cancels_the_older_and_its_result_is_kept() -> None:
    """Submitting ``b`` while ``a`` runs stops ``a``: only ``b``'s plan arrives, and asking
    for ``b`` again starts nothing new."""
    refiner = Refiner()
    try:
        refiner.submit("a", INVENTORY, catalog(), PURE)
        assert refiner.running("a") is not None
        hosts = PURE.model_copy(update={"ha_host_failures": 1})
        refiner.submit("b", INVENTORY, catalog(), hosts)
        assert refiner.running("a") is None
        _, plan = _wait(refiner, "b")
        assert len(plan.spare_hosts) == 1
        assert refiner.result("a") is None
        refiner.submit("b", INVENTORY, catalog(), hosts)
        assert refiner.running("b") is None  # done already: not planned again
    finally:
        refiner.cancel()


def test_only_the_latest_results_are_kept() -> None:
    """With room for one result, a second finished plan drops the first."""
    refiner = Refiner(keep=1)
    try:
        refiner.submit("a", INVENTORY, catalog(), PURE)
        _wait(refiner, "a")
        refiner.submit("b", INVENTORY, catalog(), PURE.model_copy(update={"objective": "cost"}))
        _wait(refiner, "b")
        assert refiner.result("a") is None
    finally:
        refiner.cancel()


def test_submit_sends_the_new_process_file_paths_only(spawn_pipe_sizes: list[int]) -> None:
    """What goes through the pipe that starts the background process stays far below the
    pipe's 64 KiB buffer however large the inventory and the warm plan: ``submit`` never
    waits for the new interpreter to import the planner (seconds in which the app could not
    draw its quick plan), and the process still gets every input."""
    sent = spawn_pipe_sizes
    large = inventory(*vms(2000))
    warm = run(large, catalog(), PURE)[1]
    refiner = Refiner()
    try:
        refiner.submit("large", large, catalog(), PURE, warm=warm)
        assert sent, "the background process was not started through a spawn pipe"
        assert sum(sent) < 16 * 1024, sent
        problem, plan = _wait(refiner, "large")
        assert problem.inventory == large
        assert sum(h.vm_count for h in plan.hosts) == 2000
    finally:
        refiner.cancel()
