"""VM Capacity Planner: proven-minimal VM-to-host placement against dedicated servers.

The pipeline, stage by stage::

    inventory = read_inventory("rvtools.xlsx")        # ingest
    catalog = load_catalog()                          # host models, licences, profiles
    problem, plan = run(inventory, catalog, Policy(), SolverParams())  # sizing -> solve -> verify
    data = plan_to_dict(plan, problem)                # report
"""

from planner.catalog import load_catalog
from planner.errors import InfeasibleError, InputError, InputIssue, PlannerError
from planner.ingest import read_inventory
from planner.models import Catalog, Inventory, Plan, Policy, Problem, SolverParams
from planner.pipeline import run, solve_verified
from planner.report import placement_frame, plan_to_dict
from planner.settings import load_settings
from planner.sizing import build_problem
from planner.solve import SolveResult, solve
from planner.statistics import SolveStatistics
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
    "SolveResult",
    "SolveStatistics",
    "SolverParams",
    "build_problem",
    "load_catalog",
    "load_settings",
    "placement_frame",
    "plan_to_dict",
    "read_inventory",
    "run",
    "solve",
    "solve_verified",
    "verify",
]
