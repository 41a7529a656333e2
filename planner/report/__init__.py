"""Reports of a plan: the JSON contract, the per-VM placement table, the text summary."""

from planner.report.placement import placement_frame, write_placement_csv
from planner.report.plan_json import SCHEMA_VERSION, plan_to_dict, write_plan_json
from planner.report.text import plan_summary

__all__ = [
    "SCHEMA_VERSION",
    "placement_frame",
    "plan_summary",
    "plan_to_dict",
    "write_placement_csv",
    "write_plan_json",
]
