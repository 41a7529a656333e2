"""The whole flow in one call: sizing -> solve -> verified plan. Both doors (CLI, app) use it.

    inventory = ingest.read_inventory(path)
    catalog = catalog.load_catalog()
    problem, plan = pipeline.run(inventory, catalog, Policy())

A what-if is the same call with a copied policy: ``policy.model_copy(update={...})``.
"""

from __future__ import annotations

from planner.models import Catalog, Inventory, Plan, Policy, Problem
from planner.sizing import build_problem
from planner.solve import Progress, solve

__all__ = ["run"]


def run(
    inventory: Inventory,
    catalog: Catalog,
    policy: Policy,
    progress: Progress | None = None,
    warm: Plan | None = None,
) -> tuple[Problem, Plan]:
    """Size ``inventory`` under ``policy`` and plan it; the plan is verified.

    ``warm``: a plan of a nearby scenario to start the search from (see ``solve``).

    Raises:
        InputError: the inventory or the policy does not fit the catalog (unknown licence
            tag, unknown hypervisor profile, no usable host model).
    """
    problem = build_problem(inventory, catalog, policy)
    return problem, solve(problem, progress, warm)
