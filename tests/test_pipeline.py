"""The pipeline: sizing, solve and an independent verification in one call."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import planner.pipeline
from planner.background import run_to_file
from planner.errors import PlannerError
from planner.models import Policy, Problem, SolverParams
from planner.pipeline import run, solve_verified
from planner.report import plan_to_dict
from planner.solve import SolveResult, solve
from tests.conftest import PURE, catalog, inventory, vms


def _losing_a_vm(problem: Problem, params: SolverParams | None = None, *_: object) -> SolveResult:
    """``solve``, but the plan's first host forgets its first VM (a solver bug)."""
    result = solve(problem, params)
    first, *rest = result.plan.hosts
    broken = first.model_copy(update={"vms": first.vms[1:], "vm_count": first.vm_count - 1})
    plan = result.plan.model_copy(update={"hosts": (broken, *rest)})
    return SolveResult(plan, result.statistics)


def test_run_rejects_a_plan_that_verification_rejects(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan with a VM missing never leaves ``run``: it raises, naming the VM."""
    monkeypatch.setattr(planner.pipeline, "solve", _losing_a_vm)
    with pytest.raises(PlannerError, match="failed verification") as err:
        run(inventory(*vms(6)), catalog(), PURE)
    assert "vm0" in str(err.value)


def test_solve_itself_does_not_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    """Verification is the pipeline's step: ``solve`` hands back what it built."""
    problem, _ = run(inventory(*vms(6)), catalog(), PURE)
    result = _losing_a_vm(problem)
    assert sum(h.vm_count for h in result.plan.hosts) == 5
    monkeypatch.setattr(planner.pipeline, "solve", _losing_a_vm)
    with pytest.raises(PlannerError, match="vm0"):
        solve_verified(problem)


def test_the_plan_records_the_solver_params_it_was_made_with(tmp_path: Path) -> None:
    """``run`` and ``run_to_file`` pass the params on; the plan (and its JSON's policy
    section, as a policy file would give them) records them."""
    params = SolverParams(time_limit_s=4, seed=7)
    _, plan = run(inventory(*vms(6)), catalog(), PURE, params)
    assert plan.params == params
    path = tmp_path / "plan.pickle"
    run_to_file(path, inventory(*vms(6)), catalog(), Policy(hypervisor="none"), params)
    problem, again = pickle.loads(path.read_bytes())
    assert again.params == params
    data = plan_to_dict(again, problem)
    assert (data["policy"]["time_limit_s"], data["policy"]["seed"]) == (4.0, 7)
    assert data["policy"]["cpu_overcommit"] == problem.policy.cpu_overcommit
