"""Vega-Lite chart specs: utilization per host, the cost comparison, the sensitivity curves and
the price of each rule. No Streamlit: ``views.chart`` draws a spec.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from planner.models import COST_CATEGORIES

__all__ = [
    "BLUE",
    "GREY",
    "ORANGE",
    "Spec",
    "cost_chart",
    "rules_chart",
    "sensitivity_charts",
    "utilization_chart",
]

BLUE, ORANGE, GREY = "#3b6ea8", "#e08a2c", "#9aa3ad"
CATEGORIES = COST_CATEGORIES

# Charts are Vega-Lite specs (rendered by Streamlit's bundled Vega, offline). They are written
# as plain dicts rather than built with Altair: Altair validates every spec against the JSON
# schema, which cost ~0.2 s per rerun and would eat most of the one-second re-plan budget.
Spec = dict[str, Any]


def _legend() -> Spec:
    return {"title": None, "orient": "top"}


def utilization_chart(hosts: pd.DataFrame) -> Spec:
    """Per host: vCPU and memory use as % of usable capacity; spare hosts shaded and labelled.

    ``hosts`` is ``planner.report.tables.hosts_frame``.
    """
    order = list(hosts["host"])
    bars = [
        {
            "host": row["host"],
            "model": row["model"],
            "role": row["role"],
            "VMs": row["VMs"],
            "limited by": row["limiting"],
            "resource": resource,
            "percent": row[f"{prefix} %"],
            "used": f"{row[used]:,.1f} {unit}",
            "usable capacity": f"{row[cap]:,.1f} {unit}",
        }
        for row in hosts.to_dict("records")
        for resource, prefix, used, cap, unit in (
            ("vCPU", "vCPU", "vCPU used", "vCPU capacity", "vCPU"),
            ("Memory", "memory", "memory used (GiB)", "memory capacity (GiB)", "GiB"),
        )
    ]
    spares = [
        {"host": h, "model": m}
        for h, m, r in zip(hosts["host"], hosts["model"], hosts["role"], strict=True)
        if r == "spare"
    ]
    many = len(order) > 60
    x = {
        "field": "host",
        "type": "nominal",
        "sort": order,
        "title": None,
        "axis": {"labelAngle": -60, "labels": not many, "ticks": not many},
    }
    y100 = {"datum": 100, "type": "quantitative"}
    return {
        "height": 330,
        "layer": [
            {
                "data": {"values": spares},
                "mark": {"type": "rect", "color": GREY, "opacity": 0.25},
                "encoding": {
                    "x": x,
                    "y": {"datum": 0, "type": "quantitative"},
                    "y2": y100,
                    "tooltip": [{"field": "host"}, {"field": "model"}],
                },
            },
            {
                "data": {"values": bars},
                "mark": {"type": "bar", "clip": True},
                "encoding": {
                    "x": x,
                    "xOffset": {"field": "resource", "sort": ["vCPU", "Memory"]},
                    "y": {
                        "field": "percent",
                        "type": "quantitative",
                        "title": "Used, % of usable capacity",
                        "scale": {"domain": [0, 100]},
                    },
                    "color": {
                        "field": "resource",
                        "type": "nominal",
                        "sort": ["vCPU", "Memory"],
                        "scale": {"domain": ["vCPU", "Memory"], "range": [BLUE, ORANGE]},
                        "legend": _legend(),
                    },
                    "tooltip": [
                        {"field": "host"},
                        {"field": "model"},
                        {"field": "role"},
                        {"field": "VMs", "type": "quantitative"},
                        {"field": "resource"},
                        {"field": "used"},
                        {"field": "usable capacity"},
                        {
                            "field": "percent",
                            "type": "quantitative",
                            "title": "% used",
                            "format": ".1f",
                        },
                        {"field": "limited by"},
                    ],
                },
            },
            {
                "data": {"values": spares},
                "mark": {"type": "text", "angle": 270, "color": "#4a525c", "fontSize": 11},
                "encoding": {
                    "x": x,
                    "y": {"datum": 50, "type": "quantitative"},
                    "text": {"value": "spare (N+k)"},
                },
            },
        ],
    }


def cost_chart(c: Mapping[str, float], years: float) -> Spec:
    """Cost by category, consolidated hosts against dedicated servers."""
    rows = [
        {"category": cat.capitalize(), "scenario": who, "cost": c[f"{prefix}{cat}_cost"]}
        for cat in CATEGORIES
        for who, prefix in (("Consolidated", ""), ("Dedicated", "dedicated_"))
    ]
    scenarios = ["Consolidated", "Dedicated"]
    return {
        "height": 330,
        "data": {"values": rows},
        "mark": {"type": "bar"},
        "encoding": {
            "x": {
                "field": "category",
                "type": "nominal",
                "sort": [cat.capitalize() for cat in CATEGORIES],
                "title": None,
                "axis": {"labelAngle": 0},
            },
            "xOffset": {"field": "scenario", "sort": scenarios},
            "y": {
                "field": "cost",
                "type": "quantitative",
                "title": f"Cost over {years:g} years ($)",
                "axis": {"format": "$~s"},
            },
            "color": {
                "field": "scenario",
                "type": "nominal",
                "scale": {"domain": scenarios, "range": [BLUE, GREY]},
                "legend": _legend(),
            },
            "tooltip": [
                {"field": "category"},
                {"field": "scenario"},
                {"field": "cost", "type": "quantitative", "format": "$,.0f"},
            ],
        },
    }


def _line_chart(
    frame: pd.DataFrame,
    key: str,
    key_title: str,
    series: Mapping[str, str],
    y_title: str,
    y_format: str,
    current: float,
    colors: Sequence[str],
    step: float,
) -> Spec:
    rows = [
        {key: float(k), "series": name, "y": float(v)}
        for column, name in series.items()
        for k, v in zip(frame[key], frame[column], strict=True)
    ]
    names = list(series.values())
    x = {"field": key, "type": "quantitative", "title": key_title, "axis": {"tickMinStep": step}}
    return {
        "height": 260,
        "layer": [
            {
                "data": {"values": rows},
                "mark": {"type": "line", "point": True},
                "encoding": {
                    "x": x,
                    "y": {
                        "field": "y",
                        "type": "quantitative",
                        "title": y_title,
                        "axis": {"format": y_format},
                    },
                    "color": {
                        "field": "series",
                        "type": "nominal",
                        "sort": names,
                        "scale": {"domain": names, "range": list(colors)},
                        "legend": _legend(),
                    },
                    "tooltip": [
                        {"field": key, "type": "quantitative", "title": key_title},
                        {"field": "series"},
                        {
                            "field": "y",
                            "type": "quantitative",
                            "title": y_title,
                            "format": y_format.replace("~s", ",.0f"),
                        },
                    ],
                },
            },
            {
                "data": {"values": [{key: current}]},
                "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#4a525c"},
                "encoding": {
                    "x": {"field": key, "type": "quantitative"},
                    "tooltip": [{"field": key, "type": "quantitative", "title": "current"}],
                },
            },
        ],
    }


def sensitivity_charts(
    frame: pd.DataFrame, key: str, key_title: str, current: float, step: float
) -> tuple[Spec, Spec]:
    """Hosts, and total cost against dedicated servers, as functions of one policy key.

    ``frame`` is a ``planner.sweep.sweep`` frame varying ``key``; a dashed rule marks the
    ``current`` value; ``step`` is the smallest tick step of the key's axis.
    """
    hosts = _line_chart(
        frame,
        key,
        key_title,
        {"hosts": "Hosts, spares included", "active_hosts": "Active hosts"},
        "Hosts",
        "d",
        current,
        (BLUE, ORANGE),
        step,
    )
    cost = _line_chart(
        frame,
        key,
        key_title,
        {"cost_total": "Consolidated", "dedicated_cost_total": "Dedicated servers"},
        "Total cost ($)",
        "$~s",
        current,
        (BLUE, GREY),
        step,
    )
    return hosts, cost


def rules_chart(rules: pd.DataFrame, years: float) -> Spec:
    """One bar per rule: the cost it adds (negative: it saves), most expensive on top.

    ``rules`` is ``planner.report.tables.rules_frame``.
    """
    rows = [
        {"rule": f"{r['rule']}: {r['name']}", "cost": r["cost"], "hosts": r["hosts"]}
        for r in rules.to_dict("records")
    ]
    return {
        "height": max(120, 28 * len(rows)),
        "data": {"values": rows},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {"field": "rule", "type": "nominal", "sort": None, "title": None},
            "x": {
                "field": "cost",
                "type": "quantitative",
                "title": f"Cost the rule adds over {years:g} years ($)",
                "axis": {"format": "$~s"},
            },
            "color": {
                "condition": {"test": "datum.cost < 0", "value": GREY},
                "value": BLUE,
            },
            "tooltip": [
                {"field": "rule"},
                {"field": "hosts", "type": "quantitative", "title": "hosts it adds"},
                {"field": "cost", "type": "quantitative", "format": "$,.0f"},
            ],
        },
    }
