"""The HTML report: one self-contained file that opens offline and prints cleanly.

An executive summary first (hosts needed, proven or gap, savings against dedicated servers,
key assumptions), then the details. CSS is inline and the charts are inline SVG drawn by
matplotlib, so the file loads nothing from the network. Text is escaped by Jinja2.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from planner.dedicated import compare
from planner.models import Plan, Problem
from planner.report.migration import (
    estate_frame,
    host_utilisation_frame,
    migration_summary_lines,
    moves_frame,
)
from planner.report.placement import placement_frame
from planner.report.tables import (
    CATEGORIES,
    assumption_frames,
    comparison_frame,
    failure_check_text,
    failures_frame,
    hosts_frame,
    unplaced_frame,
    validation_frame,
)

__all__ = ["cost_chart", "html_report", "utilization_chart", "write_html_report"]

TOP_RULES = 3  # the most expensive rules shown in the executive summary
PLACEMENT_ROWS = 2000  # beyond this the HTML table stops; CSV and XLSX hold every row
CHART_HOSTS = 200  # beyond this many hosts the utilization chart counts hosts per band
BANDS = 20  # bands of utilization in that chart (5 % each)

_env = Environment(
    loader=PackageLoader("planner.report", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _money(x: float) -> str:
    return f"{x:,.0f}"


def _number(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


def _table(frame: pd.DataFrame) -> Markup:
    html = frame.to_html(index=False, border=0, na_rep="", escape=True, float_format=_number)
    return Markup(html)  # pandas escaped every cell (escape=True)


def _svg(fig: Figure) -> str:
    import matplotlib as mpl  # noqa: PLC0415 - 0.3 s to import: only where a chart is drawn

    buffer = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "vm-capacity-planner"}):
        no_metadata = {"Creator": None, "Date": None, "Format": None, "Type": None}
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata=no_metadata)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def utilization_chart(plan: Plan) -> str:
    """Per-host vCPU and memory utilization as an SVG bar chart; spares are hatched. Beyond
    ``CHART_HOSTS`` hosts: how many hosts are in each band of utilization."""
    hosts = plan.hosts
    n = max(len(hosts), 1)
    from matplotlib.figure import Figure  # noqa: PLC0415 - see _svg

    if len(hosts) > CHART_HOSTS:
        return _utilization_histogram(plan)

    # The object API, not pyplot: no global figure state, safe in a server process.
    fig = Figure(figsize=(min(max(6.0, 0.28 * n), 16.0), 3.2))
    ax = fig.subplots()
    xs = range(len(hosts))
    cpu = [100 * h.cpu_used_m / h.cpu_cap_m for h in hosts]
    mem = [100 * h.mem_used_mib / h.mem_cap_mib for h in hosts]
    width = 0.4
    ax.bar([x - width / 2 for x in xs], cpu, width, label="vCPU", color="#1f77b4")
    ax.bar([x + width / 2 for x in xs], mem, width, label="memory", color="#2ca02c")
    for x, h in zip(xs, hosts, strict=True):
        if h.role == "spare":
            ax.axvspan(x - 0.5, x + 0.5, color="#999999", alpha=0.2, hatch="//", lw=0)
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of usable capacity")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([h.id for h in hosts], rotation=90, fontsize=7)
    ax.set_title("Utilization per host (shaded: N+k spares)", fontsize=10)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def _utilization_histogram(plan: Plan) -> str:
    """The active hosts by utilization, in bands of ``100 / BANDS`` %: one bar per band and
    dimension (a bar per host would take minutes to draw for thousands of hosts)."""
    from matplotlib.figure import Figure  # noqa: PLC0415 - see _svg

    active = plan.active_hosts
    cpu = [100 * h.cpu_used_m / h.cpu_cap_m for h in active]
    mem = [100 * h.mem_used_mib / h.mem_cap_mib for h in active]
    fig = Figure(figsize=(8.0, 3.2))
    ax = fig.subplots()
    edges = [100 * i / BANDS for i in range(BANDS + 1)]
    ax.hist([cpu, mem], bins=edges, label=["vCPU", "memory"], color=["#1f77b4", "#2ca02c"])
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of usable capacity")
    ax.set_ylabel("active hosts")
    spares = len(plan.spare_hosts)
    ax.set_title(
        f"Utilization of the {len(active):,} active hosts"
        + (f" ({spares:,} N+k spares, empty, not shown)" if spares else ""),
        fontsize=10,
    )
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def cost_chart(plan: Plan, problem: Problem) -> str:
    """Cost by category, consolidated against dedicated, as an SVG stacked bar chart."""
    import matplotlib as mpl  # noqa: PLC0415 - see _svg
    from matplotlib.figure import Figure  # noqa: PLC0415

    c = compare(plan, problem)
    fig = Figure(figsize=(6.5, 2.6))
    ax = fig.subplots()
    palette = mpl.colormaps["tab10"]
    colors = {cat: palette(i) for i, cat in enumerate(CATEGORIES)}
    left = [0.0, 0.0]
    for cat in CATEGORIES:
        values = [c[f"{cat}_cost"], c[f"dedicated_{cat}_cost"]]
        ax.barh(["consolidated", "dedicated"], values, left=left, color=colors[cat], label=cat)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_xlabel(f"cost over {problem.policy.horizon_years:g} years")
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.legend(
        ncols=len(CATEGORIES),
        fontsize=7,
        frameon=False,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
    )
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def html_report(plan: Plan, problem: Problem, made: datetime | None = None) -> str:
    """The whole report as one HTML document (a string)."""
    placement = placement_frame(plan, problem)
    models = Counter(h.model for h in plan.hosts)
    return _env.get_template("report.html.j2").render(
        plan=plan,
        policy=problem.policy,
        inventory=problem.inventory,
        made=(made or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        years=f"{problem.policy.horizon_years:g}",
        models=", ".join(f"{n} × {m}" for m, n in models.most_common()),
        comparison=compare(plan, problem),
        placed=sum(h.vm_count for h in plan.hosts),
        failures=len(plan.failures),
        restartable=sum(f.restartable for f in plan.failures),
        money=_money,
        categories=CATEGORIES,
        top_rules=plan.explanation.rules[:TOP_RULES],
        table=_table,
        cost_chart=cost_chart(plan, problem),
        utilization_chart=utilization_chart(plan),
        comparison_table=comparison_frame(plan, problem),
        hosts_table=hosts_frame(plan, problem),
        unplaced_table=unplaced_frame(plan),
        failures_table=failures_frame(plan),
        failure_check=failure_check_text(plan),
        validation_table=validation_frame(plan, problem),
        assumption_tables=assumption_frames(problem, plan.params),
        placement_table=placement.head(PLACEMENT_ROWS),
        placement_truncated=len(placement) > PLACEMENT_ROWS,
        placement_rows=PLACEMENT_ROWS,
        placement_total=len(placement),
        migration_lines=migration_summary_lines(plan),
        migration_hosts=host_utilisation_frame(plan, problem),
        moves_table=moves_frame(plan).head(PLACEMENT_ROWS),
        estate_table=estate_frame(plan, problem).reset_index(names="item"),
    )


def write_html_report(plan: Plan, problem: Problem, target: str | Path) -> None:
    """Write the HTML report to ``target``."""
    Path(target).write_text(html_report(plan, problem), encoding="utf-8")
