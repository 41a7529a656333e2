"""Streamlit front end: a thin door onto the planner pipeline (widgets -> policy -> plan).

Start it with ``make run``. It opens on the bundled sample inventory. All logic lives in
``planner``; this file only reads widgets, calls the pipeline (cached) and renders.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from planner.catalog import DATA_DIR, load_catalog
from planner.dedicated import compare
from planner.errors import InputError
from planner.ingest import read_inventory
from planner.models import Policy
from planner.pipeline import run
from planner.report import placement_frame, plan_summary, plan_to_dict

SAMPLE = DATA_DIR / "sample_inventory.csv"


@st.cache_data(show_spinner="Planning...")
def _plan(data: bytes, name: str, policy_json: str) -> dict[str, Any]:
    inventory = read_inventory(data, name=name)
    policy = Policy.model_validate_json(policy_json)
    problem, plan = run(inventory, load_catalog(), policy)
    return {
        "json": plan_to_dict(plan, problem),
        "placement": placement_frame(plan, problem),
        "summary": plan_summary(plan, problem),
        "comparison": compare(plan, problem),
    }


def main() -> None:
    """Render the page."""
    st.set_page_config(page_title="VM Capacity Planner", layout="wide")
    st.title("VM Capacity Planner")
    upload = st.sidebar.file_uploader("Inventory (CSV or XLSX, RVTools export as is)")
    with st.sidebar:
        st.header("Policy")
        cpu = st.slider("vCPUs per physical core", 1.0, 10.0, 4.0, 0.5)
        ha = st.slider("Host failures to survive (N+k)", 0, 3, 1)
        util = st.slider("Max host utilization", 0.5, 1.0, 0.8, 0.05)
    policy = Policy(cpu_overcommit=cpu, ha_host_failures=ha, max_utilization=util)
    data, name = (upload.getvalue(), upload.name) if upload else (SAMPLE.read_bytes(), SAMPLE.name)
    try:
        result = _plan(data, name, policy.model_dump_json())
    except InputError as exc:
        st.error(f"{name} has {len(exc.issues)} problem(s); nothing was planned.")
        st.dataframe(pd.DataFrame([i.model_dump() for i in exc.issues]), hide_index=True)
        return
    s = result["json"]["summary"]
    c = result["comparison"]
    cols = st.columns(4)
    cols[0].metric(
        "Hosts needed", f"{s['host_count']}", f"{s['spare_host_count']} spare", delta_color="off"
    )
    cols[1].metric("Dedicated servers", f"{c['dedicated_servers']:.0f}")
    cols[2].metric("Total cost", f"{s['cost_total']:,.0f}")
    cols[3].metric("Saving vs dedicated", f"{c['cost_saving']:,.0f}", f"{c['cost_saving_pct']:.0%}")
    st.caption(s["explanation"])
    st.code(result["summary"], language=None)
    hosts = pd.DataFrame(
        [
            {
                "host": h["id"],
                "model": h["model"],
                "role": h["role"],
                "VMs": len(h["vms"]),
                "vCPU used": h["vcpus"]["used"],
                "vCPU capacity": h["vcpus"]["capacity"],
                "memory used (GiB)": h["memory_gib"]["used"],
                "memory capacity (GiB)": h["memory_gib"]["capacity"],
                "limiting": h["limiting"],
            }
            for h in result["json"]["hosts"]
        ]
    )
    st.subheader("Hosts")
    st.dataframe(hosts, hide_index=True)
    st.subheader("Placement")
    st.dataframe(result["placement"], hide_index=True)


main()
