"""Words and numbers for the page: money, counts, the policy line, summaries. No Streamlit."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from planner.models import Plan, Policy

__all__ = [
    "FORMAT_HELP",
    "assumptions_intro",
    "count",
    "failure_summary",
    "host_models",
    "money",
    "policy_line",
    "problems_found",
    "signed",
    "sweep_caption",
]

FORMAT_HELP = """
| format | columns read |
|---|---|
| native | `name`, `vcpus`, `memory_gib` (required); `cpu_util_pct`, `mem_util_pct`, \
`storage_gib`, `os`, `licenses`, `group`, `zone`, `cluster`, `powerstate` |
| RVTools `vInfo` (XLSX or `RVTools_tabvInfo.csv`) | `VM`, `Powerstate`, `CPUs`, \
`Memory` (MiB), `Provisioned MiB`, `OS according to the configuration file`, `Cluster`, \
`Template`, `SRM Placeholder` |
| Azure Migrate import CSV | `Server name`, `Cores`, `Memory (In MB)`, `OS name`, \
`CPU utilization percentage`, `Memory utilization percentage` |
| Live Optics `VMs` sheet | `VM Name`, `Power State`, `Virtual CPU`, \
`Provisioned Memory (MiB)`, `VM OS`, `Cluster` |

CSV: delimiter `,` `;` or tab; UTF-8 (with or without BOM) or Windows-1252. Headers forgive
case and spacing. Row numbers are those a spreadsheet shows (the header is row 1).
"""


def money(x: float) -> str:
    """A currency amount, compact: ``$4.89 M``, ``$532 k``, ``$980``."""
    a = abs(x)
    if a >= 1e6:
        text = f"${a / 1e6:,.2f} M"
    elif a >= 1e4:
        text = f"${a / 1e3:,.0f} k"
    else:
        text = f"${a:,.0f}"
    return f"-{text}" if x < 0 else text


def count(n: int, word: str) -> str:
    """``1 VM``, ``3 VMs``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def signed(x: float, unit: str, fmt: str = ",.0f") -> str:
    """``+12 U`` / ``-3.4 kW``: a difference with its sign (ASCII, so st.metric colours it)."""
    return f"{'-' if x < 0 else '+'}{abs(x):{fmt}} {unit}"


def policy_line(policy: Policy) -> str:
    """The scenario's main assumptions on one line (Markdown), as shown under the title."""
    sizing = "allocated size" if policy.sizing == "allocated" else "observed utilization"
    return " · ".join(
        [
            f"hypervisor **{policy.hypervisor}**",
            f"CPU **{policy.cpu_overcommit:g} vCPU/core**",
            f"memory **{policy.memory_overcommit:g} : 1**",
            f"hosts ≤ **{policy.max_utilization:.0%}** used",
            f"**N+{policy.ha_host_failures}**",
            f"growth **{policy.growth:.0%}**",
            f"sized by **{sizing}**",
            f"objective **{'total cost' if policy.objective == 'cost' else 'host count'}**",
            f"**{policy.horizon_years:g}-year** TCO",
        ]
    )


def problems_found(title: str, n: int) -> str:
    """The error line above a file's problems (``n`` counts those not listed too)."""
    return (
        f"**{title}**: {count(n, 'problem')} found; nothing was planned. "
        f"Fix {'it' if n == 1 else 'them'} and try again."
    )


def failure_summary(plan: Plan) -> str:
    """Whether each active host can fail on its own with its VMs restarted elsewhere."""
    total = len(plan.failures)
    ok = sum(f.restartable for f in plan.failures)
    if not total:
        return "no active host to fail."
    if ok == total:
        who = "the only active host" if total == 1 else f"each of the {total} active hosts"
        return (
            f"{who} can fail on its own with every one of its VMs restarted on the survivors' "
            "free capacity."
        )
    return f"{total - ok} of {total} active hosts cannot fail without stranding VMs."


def host_models(plan: Plan) -> str:
    """The plan's hosts by model, most used first: ``4 × R650, 1 × R750``."""
    models = Counter(h.model for h in plan.hosts)
    return ", ".join(f"{n} × {m}" for m, n in models.most_common()) or "none"


def assumptions_intro(policy: Policy) -> str:
    """The money assumptions in one paragraph (Markdown): currency, horizon, unit prices."""
    return (
        "Money is in the catalog's currency: the bundled prices are US list prices in US$ "
        f"(sources in `data/README.md`). Costs cover **{policy.horizon_years:g} years**"
        f": purchase prices once, yearly licences and support, energy at "
        f"**${policy.electricity_per_kwh:g}/kWh** × PUE **{policy.pue:g}**, "
        f"colocation at **${policy.colocation_per_kw_month:g} per kW per month**, "
        f"storage at **${policy.shared_storage_per_gib:g}** (shared) / "
        f"**${policy.local_storage_per_gib:g}** (local) per GiB, operations at "
        f"**${policy.ops_per_host_year:g}** per server and "
        f"**${policy.ops_per_vm_year:g}** per VM a year (policy keys; sources in "
        "`data/README.md`)."
    )


def sweep_caption(points: pd.DataFrame) -> str:
    """How many sensitivity points (``planner.sweep`` rows) are proven, and the worst gap."""
    proven = int((points["status"] == "optimal").sum())
    worst = float(points["gap"].max())
    return f"{proven} of {len(points)} points are proven optimal" + (
        "." if proven == len(points) else f"; the others are within {worst:.1%} of a bound."
    )
