"""The whole flow in one call: sizing -> solve -> verify. Both doors (CLI, app) use it.

    inventory = ingest.read_inventory(path)
    catalog = catalog.load_catalog()
    problem, plan = pipeline.run(inventory, catalog, Policy(), SolverParams(time_limit_s=10))

A what-if is the same call with a copied policy: ``policy.model_copy(update={...})``.
``solve_verified`` is the same on a problem already sized, and keeps the run's statistics.
"""

from __future__ import annotations

from planner.deadline import Deadline
from planner.errors import PlannerError
from planner.estate import Estate, prepare, restrict_to_clusters
from planner.heap import settle, settled
from planner.models import Catalog, Inventory, Plan, Policy, Problem, SolverParams
from planner.moves import today_plan
from planner.sizing import build_problem
from planner.solve import Progress, SolveResult, solve
from planner.verify import verify

__all__ = ["run", "solve_verified"]


def run(
    inventory: Inventory,
    catalog: Catalog,
    policy: Policy,
    params: SolverParams | None = None,
    progress: Progress | None = None,
    warm: Plan | None = None,
    estate: Estate | None = None,
    deadline: Deadline | None = None,
) -> tuple[Problem, Plan]:
    """Size ``inventory`` under ``policy`` and plan it with ``params`` (default:
    ``SolverParams()``); the plan is verified.

    ``warm``: a plan of a nearby scenario to start the search from (see ``solve``).
    ``estate``: today's hosts (``planner.estate``), needed when ``policy.estate`` is
    ``existing`` or ``mixed``; with ``max_moves = 0`` the plan is today's placement, checked.
    ``deadline``: when the whole run must end (``planner.deadline``; the CLI's), a safety cap
    on the search beside the time limit.

    Raises:
        InputError: the inventory or the policy does not fit the catalog (unknown licence
            tag, unknown hypervisor profile, no usable host model).
        PlannerError: the plan failed the independent verification (a bug, never expected).
    """
    with settled():  # the inventory and the problem live for the whole run
        inventory, catalog, estate_notes = prepare(inventory, catalog, policy, estate)
        problem = build_problem(inventory, catalog, policy)
        settle()
        if policy.estate != "new":
            problem = restrict_to_clusters(problem)
            problem = problem.model_copy(update={"notes": (*estate_notes, *problem.notes)})
            if policy.max_moves == 0:
                return problem, today_plan(problem, params or SolverParams())
        return problem, solve_verified(problem, params, progress, warm, deadline).plan


def solve_verified(
    problem: Problem,
    params: SolverParams | None = None,
    progress: Progress | None = None,
    warm: Plan | None = None,
    deadline: Deadline | None = None,
) -> SolveResult:
    """``solve``, then ``verify``: the result only if its plan passes every rule.

    Raises:
        PlannerError: the plan failed the independent verification, naming each violation.
    """
    result = solve(problem, params, progress, warm, deadline)
    problems = verify(result.plan, problem)
    if problems:
        raise PlannerError("the plan failed verification:\n" + "\n".join(problems))
    return result
