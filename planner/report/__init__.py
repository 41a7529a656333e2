"""Reports of a plan: the JSON contract, the per-VM placement table."""

from planner.report.placement import placement_frame, write_placement_csv
from planner.report.plan_json import SCHEMA_VERSION, plan_to_dict, write_plan_json

__all__ = [
    "SCHEMA_VERSION",
    "placement_frame",
    "plan_to_dict",
    "write_placement_csv",
    "write_plan_json",
]
