"""The app's Vega-Lite specs (``ui.charts``): what each chart plots, built from plain frames."""

from __future__ import annotations

import json
from io import StringIO
from textwrap import dedent
from typing import Any

import pandas as pd

from planner.models import COST_CATEGORIES
from planner.pipeline import run
from planner.report import tables
from tests.conftest import PURE, catalog, inventory, vms
from ui import charts

COLUMNS = (
    "host,model,role,VMs,limiting,vCPU %,memory %,vCPU used,vCPU capacity,"
    "memory used (GiB),memory capacity (GiB)"
)
HOSTS = pd.read_csv(
    StringIO(
        COLUMNS
        + dedent(
            """
            h-1,r650,active,4,vcpu,100.0,50.0,8.0,8.0,8.0,16.0
            h-2,r650,active,2,vcpu,50.0,25.0,4.0,8.0,4.0,16.0
            h-3,r650,spare,0,,0.0,0.0,0.0,8.0,0.0,16.0
            """
        )
    ),
    keep_default_na=False,
)


def _layer(spec: dict[str, Any], mark: str) -> dict[str, Any]:
    (layer,) = [la for la in spec["layer"] if la["mark"]["type"] == mark]
    return layer


def test_utilization_has_two_bars_per_host_and_shades_the_spares() -> None:
    """Per host a vCPU and a memory bar at their percentages; spares shaded and labelled."""
    spec = charts.utilization_chart(HOSTS)
    bars = _layer(spec, "bar")["data"]["values"]
    assert [(b["host"], b["resource"], b["percent"]) for b in bars] == [
        ("h-1", "vCPU", 100.0),
        ("h-1", "Memory", 50.0),
        ("h-2", "vCPU", 50.0),
        ("h-2", "Memory", 25.0),
        ("h-3", "vCPU", 0.0),
        ("h-3", "Memory", 0.0),
    ]
    assert bars[1]["used"] == "8.0 GiB" and bars[1]["usable capacity"] == "16.0 GiB"
    assert _layer(spec, "rect")["data"]["values"] == [{"host": "h-3", "model": "r650"}]
    assert _layer(spec, "text")["encoding"]["text"] == {"value": "spare (N+k)"}
    assert _layer(spec, "bar")["encoding"]["x"]["sort"] == ["h-1", "h-2", "h-3"]
    assert _layer(spec, "bar")["encoding"]["x"]["axis"]["labels"] is True


def test_utilization_hides_host_labels_past_sixty_hosts() -> None:
    """61 hosts: the names would overlap, so the axis drops its labels and ticks."""
    many = pd.concat([HOSTS.iloc[[0]]] * 61, ignore_index=True)
    many["host"] = [f"h-{i}" for i in range(61)]
    axis = _layer(charts.utilization_chart(many), "bar")["encoding"]["x"]["axis"]
    assert (axis["labels"], axis["ticks"]) == (False, False)


def test_the_cost_chart_pairs_each_category_with_the_dedicated_figure() -> None:
    """Per cost category one consolidated and one dedicated bar, from ``compare``'s keys."""
    c = {f"{cat}_cost": float(i) for i, cat in enumerate(COST_CATEGORIES)}
    c |= {f"dedicated_{cat}_cost": 100.0 + i for i, cat in enumerate(COST_CATEGORIES)}
    spec = charts.cost_chart(c, 3)
    rows = spec["data"]["values"]
    assert len(rows) == 2 * len(COST_CATEGORIES)
    first = COST_CATEGORIES[0].capitalize()
    assert {(r["scenario"], r["cost"]) for r in rows if r["category"] == first} == {
        ("Consolidated", 0.0),
        ("Dedicated", 100.0),
    }
    assert spec["encoding"]["y"]["title"] == "Cost over 3 years ($)"


def test_sensitivity_curves_plot_each_series_and_mark_the_current_value() -> None:
    """Hosts (all and active) and cost (consolidated and dedicated) against the varied key."""
    frame = pd.DataFrame(
        {
            "cpu_overcommit": [2.0, 4.0],
            "hosts": [6, 4],
            "active_hosts": [5, 3],
            "cost_total": [900.0, 700.0],
            "dedicated_cost_total": [2000.0, 2000.0],
        }
    )
    hosts, cost = charts.sensitivity_charts(frame, "cpu_overcommit", "CPU", 4.0, 0.5)
    line = _layer(hosts, "line")["data"]["values"]
    assert line == [
        {"cpu_overcommit": 2.0, "series": "Hosts, spares included", "y": 6.0},
        {"cpu_overcommit": 4.0, "series": "Hosts, spares included", "y": 4.0},
        {"cpu_overcommit": 2.0, "series": "Active hosts", "y": 5.0},
        {"cpu_overcommit": 4.0, "series": "Active hosts", "y": 3.0},
    ]
    assert _layer(hosts, "rule")["data"]["values"] == [{"cpu_overcommit": 4.0}]
    series = {r["series"] for r in _layer(cost, "line")["data"]["values"]}
    assert series == {"Consolidated", "Dedicated servers"}
    assert _layer(cost, "line")["encoding"]["y"]["axis"]["format"] == "$~s"
    assert _layer(hosts, "line")["encoding"]["x"]["axis"]["tickMinStep"] == 0.5


def test_the_rules_chart_has_one_bar_per_rule_and_greys_savings() -> None:
    """Each rule a bar named ``kind: name``; the chart grows with the rules; negative grey."""
    rules = pd.DataFrame(
        {"rule": ["N+k", "zone"], "name": ["N+1", "dmz"], "hosts": [2, -1], "cost": [5e4, -1e3]}
    )
    spec = charts.rules_chart(rules, 5)
    assert [r["rule"] for r in spec["data"]["values"]] == ["N+k: N+1", "zone: dmz"]
    assert spec["height"] == 120  # at least 120 px, 28 px per rule beyond
    assert charts.rules_chart(pd.concat([rules] * 5), 5)["height"] == 280
    assert spec["encoding"]["color"]["condition"] == {"test": "datum.cost < 0", "value": "#9aa3ad"}


def test_every_spec_of_a_real_plan_is_plain_json() -> None:
    """Specs built from the planner's frames hold only JSON values (no numpy scalars)."""
    problem, plan = run(
        inventory(*vms(6)), catalog(), PURE.model_copy(update={"ha_host_failures": 1})
    )
    spec = charts.utilization_chart(tables.hosts_frame(plan, problem))
    assert json.loads(json.dumps(spec)) == spec
