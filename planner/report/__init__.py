"""Reports of a plan: the JSON contract, the placement CSV, the XLSX workbook, the HTML report
and the text summary. Each comes as bytes/str (for the app's downloads) and as a writer."""

from planner.report.html import html_report, write_html_report
from planner.report.migration import (
    estate_frame,
    host_utilisation_frame,
    migration_summary_lines,
    moves_frame,
    side_by_side,
)
from planner.report.placement import placement_csv_bytes, placement_frame, write_placement_csv
from planner.report.plan_json import (
    SCHEMA_VERSION,
    plan_json_bytes,
    plan_to_dict,
    write_plan_json,
)
from planner.report.text import plan_summary
from planner.report.workbook import workbook_bytes, write_workbook

__all__ = [
    "SCHEMA_VERSION",
    "estate_frame",
    "host_utilisation_frame",
    "html_report",
    "migration_summary_lines",
    "moves_frame",
    "placement_csv_bytes",
    "placement_frame",
    "plan_json_bytes",
    "plan_summary",
    "plan_to_dict",
    "side_by_side",
    "workbook_bytes",
    "write_html_report",
    "write_placement_csv",
    "write_plan_json",
    "write_workbook",
]
