"""VM Capacity Planner: proven-minimal VM-to-host placement against dedicated servers.

The pipeline, stage by stage::

    inventory = read_inventory("rvtools.xlsx")        # ingest
    catalog = load_catalog()                          # host models, licences, profiles
    problem, plan = run(inventory, catalog, Policy()) # sizing -> solve -> verify
    data = plan_to_dict(plan, problem)                # report
"""

from planner.catalog import load_catalog
from planner.errors import InfeasibleError, InputError, InputIssue, PlannerError
from planner.ingest import read_inventory
from planner.models import Catalog, Inventory, Plan, Policy, Problem
from planner.pipeline import run
from planner.report import placement_frame, plan_to_dict
from planner.settings import load_policy
from planner.sizing import build_problem
from planner.solve import solve
from planner.verify import verify

__all__ = [
    "Catalog",
    "InfeasibleError",
    "InputError",
    "InputIssue",
    "Inventory",
    "Plan",
    "PlannerError",
    "Policy",
    "Problem",
    "build_problem",
    "load_catalog",
    "load_policy",
    "placement_frame",
    "plan_to_dict",
    "read_inventory",
    "run",
    "solve",
    "verify",
]
