"""Streamlit front end: a thin door onto the planner pipeline (widgets -> policy -> plan).

Start it with ``make run``; it opens on the bundled sample inventory. All planning logic lives
in ``planner`` (which never imports Streamlit); this file reads the widgets, builds one
``Policy`` and a ``Catalog``, calls the pipeline through a cache and hands the results to
``ui.views`` to draw (the ``ui`` package holds the app's words, cards, charts and tables).

Caching: an inventory is read once per (file bytes hash, name, format) and a plan is made
once per (inventory, catalog, policy), so moving a slider back, switching tabs or filtering
a table never re-plans. Sensitivity sweeps run only while their tab is open.

Answers that settle: a what-if first gets a quick plan (``QUICK_S`` of search, starting
from the plan on screen carried over to the new setting), shown at once; unless it is
proven, the full plan (the sidebar's solver time limit, as the CLI's) is then made in a
background process (``planner.background.Refiner``), warm-started from the quick plan: its
interim plan (``INTERIM_S``) replaces the quick one when it is ready, and the full plan
replaces that. A newer setting cancels an older background plan.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from planner.background import Refiner
from planner.catalog import DATA_DIR, hosts_frame, licences_frame, load_catalog
from planner.errors import InputError, PlannerError
from planner.estate import Estate, read_host_list
from planner.exact import warm_up
from planner.explain import explain_plan
from planner.ingest import read_inventory
from planner.limits import Limits
from planner.models import Catalog, Inventory, Plan, Policy, Problem, SolverParams
from planner.pipeline import run
from planner.report import html_report, placement_csv_bytes, plan_json_bytes, workbook_bytes
from planner.sweep import ERROR, sweep
from ui import text, views
from ui.editors import edited_catalog

LOG = logging.getLogger("planner.app")

SAMPLE = DATA_DIR / "sample_inventory.csv"
DEFAULT = Policy()
UPLOAD_LIMITS = Limits()  # the same defaults as the CLI's
# A what-if answers at once with a quick plan of QUICK_S seconds of search; the full plan,
# with the solver time limit of Advanced (the CLI's default), follows in the background.
QUICK_S = 0.5
TIME_LIMIT_S = SolverParams().time_limit_s
SWEEP_S = 2.0  # solver limit per sensitivity point (11 points must answer within a minute)
CPU_GRID = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)
HA_GRID = (0, 1, 2, 3)
# Sweep worker processes each re-import this file and the solver; on two cores or fewer that
# start-up costs more than the parallel solves save, so the sweep then runs in-process.
JOBS = 1 if (os.cpu_count() or 1) <= 2 else None
# With a Ray cluster's address here (HEAD:6379, auto, ray://HEAD:10001) the sensitivity sweeps
# run on that cluster, as ``planner sweep --backend ray --address ...`` does.
RAY_ADDRESS_ENV = "PLANNER_RAY_ADDRESS"

OVERVIEW, PLACEMENT, FAILURES, SENSITIVITY, INVENTORY, CATALOG, ASSUMPTIONS, ESTATE = range(8)
TABS = (
    "Overview",
    "Placement",
    "Failure simulation",
    "Sensitivity",
    "Inventory",
    "Host models & licences",
    "Assumptions",
    "Current vs planned",
)
ESTATES = {
    "new": "New hardware (size from the catalog)",
    "existing": "Today's hosts only (retire the rest)",
    "mixed": "Today's hosts and new models",
}
FORMATS: dict[str | None, str] = {
    None: "Detect from the headers",
    "native": "Native columns",
    "rvtools": "RVTools export (vInfo)",
    "azure_migrate": "Azure Migrate import CSV",
    "liveoptics": "Live Optics export (VMs)",
}
HYPERVISORS = {
    "vsphere": "VMware vSphere (VVF per core)",
    "hyper-v": "Microsoft Hyper-V (Windows Server on the host)",
    "kvm": "KVM / libvirt (no licence)",
    "proxmox": "Proxmox VE (subscription per socket)",
    "nutanix-ahv": "Nutanix AHV (NCI per core)",
    "type2": "Type 2: hosted, no HA (Workstation, VirtualBox)",
    "none": "None: pure packing, no overhead",
}


@dataclass(frozen=True)
class Source:
    """The inventory file in use: an upload or the bundled sample."""

    data: bytes
    name: str
    format: str | None
    sample: bool

    @property
    def key(self) -> str:
        """Cache key: the bytes' hash, the name (shown in errors) and the forced format."""
        digest = hashlib.sha256(self.data).hexdigest()
        return f"{digest}:{self.name}:{self.format}"


# --------------------------------------------------------------------------- cached pipeline


# cache_data, not cache_resource, throughout: every call returns a fresh unpickled copy built
# from the current planner classes, so cached objects never mix with classes that
# Streamlit's module reloader re-imported after a source change (pydantic would reject them).
# The one cache_resource: it holds no planner object, only the fact that the engine's
# compiled kernels are ready, so the first plan's time limit is not spent compiling them.
@st.cache_resource(show_spinner="Preparing the optimizer (once after an install)…")
def _engine_ready() -> bool:
    warm_up()
    return True


@st.cache_data(show_spinner=False)
def _bundled_catalog() -> Catalog:
    return load_catalog()


@st.cache_data(show_spinner=False)
def _bundled_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bundled host models and licence rules as the editors' starting tables."""
    catalog = load_catalog()
    return hosts_frame(catalog.hosts), licences_frame(catalog.licences)


@st.cache_data(show_spinner=False)
def _sample_bytes() -> bytes:
    return SAMPLE.read_bytes()


@st.cache_data(show_spinner=False, max_entries=16)
def _inventory(key: str, _data: bytes, _name: str, _format: str | None) -> Inventory:
    """Read an inventory once per ``key`` (``Source.key``); an InputError is not cached.

    The upload is held to the CLI's limits (``planner.limits.Limits``: size, unpacked XLSX,
    rows, columns, cell length), checked on its bytes before any of it is parsed.
    """
    return read_inventory(_data, name=_name, format=_format, limits=UPLOAD_LIMITS)


@st.cache_data(show_spinner=False, max_entries=16)
def _estate(key: str, _data: bytes, _name: str) -> Estate:
    """Today's hosts (vHost sheet or CSV) once per ``key``; an InputError is not cached."""
    return read_host_list(_data, _name, limits=UPLOAD_LIMITS)


@st.cache_data(show_spinner=False, max_entries=64)
def _plan(
    inventory_key: str,
    _inventory: Inventory,
    catalog_json: str,
    policy_json: str,
    params_json: str,
    estate_json: str = "",
    _warm: Plan | None = None,
) -> tuple[Problem, Plan]:
    """Plan once per (inventory, catalog, policy, solver params, today's hosts); the JSON
    strings are the cache key. ``_warm``: the plan on screen, which the search starts from
    where it is the better start (``solve.warm_packing``)."""
    catalog = Catalog.model_validate_json(catalog_json)
    policy = Policy.model_validate_json(policy_json)
    params = SolverParams.model_validate_json(params_json)
    estate = Estate.model_validate_json(estate_json) if estate_json else None
    return run(_inventory, catalog, policy, params, warm=_warm, estate=estate)


@st.cache_resource(show_spinner=False)
def _refiner() -> Refiner:
    """The background planner, one per server (it outlives the script's reruns)."""
    return Refiner()


# --------------------------------------------------------------------------- sidebar


def _sidebar_source() -> Source:
    """The inventory upload (or the bundled sample) and the format to read it as."""
    sb = st.sidebar
    sb.header("Inventory")
    upload = sb.file_uploader(
        "Upload an inventory (CSV or XLSX)",
        type=["csv", "tsv", "txt", "xlsx", "xlsm"],
        key="upload",
        help="Native columns, or an RVTools, Azure Migrate or Live Optics export as it is.",
    )
    fmt: str | None = sb.selectbox(
        "Format", list(FORMATS), format_func=FORMATS.__getitem__, key="format"
    )
    if upload is None:
        sb.caption(
            "Showing the bundled sample (500 VMs). Files you upload are read on this machine "
            "and never leave it."
        )
        return Source(_sample_bytes(), SAMPLE.name, fmt, sample=True)
    return Source(upload.getvalue(), upload.name, fmt, sample=False)


def _sidebar_hosts(source: Source, policy: Policy) -> Estate | None:
    """Today's hosts for an existing or mixed estate: the upload under 'Today's hosts', else
    the inventory workbook's vHost sheet.

    Raises:
        InputError: no host list, or one with problems.
    """
    if policy.estate == "new":
        return None  # no second uploader unless today's hosts are planned
    upload = st.sidebar.file_uploader(
        "Today's hosts (RVTools vHost CSV; optional)",
        type=["csv", "xlsx"],
        key="current_hosts",
        help="An RVTools vHost export or Live Optics ESX Hosts; not needed when the "
        "inventory is the RVTools workbook (its vHost sheet is read).",
    )
    data, name = (upload.getvalue(), upload.name) if upload else (source.data, source.name)
    digest = hashlib.sha256(data).hexdigest()
    return _estate(f"{digest}:{name}", data, name)


def _sidebar_policy(profiles: Sequence[str]) -> tuple[Policy, SolverParams]:
    """The what-if controls, as one Policy, and the solver's time limit."""
    sb = st.sidebar
    sb.header("What if")
    hypervisor: str = sb.radio(
        "Hypervisor",
        list(profiles),
        index=list(profiles).index(DEFAULT.hypervisor) if DEFAULT.hypervisor in profiles else 0,
        format_func=lambda p: HYPERVISORS.get(p, p),
        key="hypervisor",
    )
    cpu = sb.slider(
        "CPU overcommit",
        1.0,
        16.0,
        DEFAULT.cpu_overcommit,
        0.5,
        format="%.1f vCPU per core",
        key="cpu_overcommit",
        help="vCPUs allowed per physical core (the hypervisor profile may cap it).",
    )
    memory = sb.slider(
        "Memory overcommit",
        1.0,
        2.0,
        DEFAULT.memory_overcommit,
        0.05,
        format="%.2f GiB per GiB",
        key="memory_overcommit",
        help="GiB of VM memory per GiB of host memory; 1.0 means no overcommit.",
    )
    util = sb.slider(
        "Max host utilization",
        50,
        100,
        round(DEFAULT.max_utilization * 100),
        5,
        format="%d %%",
        key="max_utilization",
        help="Ceiling on the share of each host's usable cores and RAM.",
    )
    ha = sb.slider(
        "Host failures to survive",
        0,
        4,
        DEFAULT.ha_host_failures,
        format="N+%d",
        key="ha_host_failures",
        help="N+k: k spare hosts per cluster and security zone.",
    )
    growth = sb.slider(
        "Demand growth",
        0,
        100,
        round(DEFAULT.growth * 100),
        5,
        format="%d %%",
        key="growth",
        help="Added to every VM's vCPUs and memory.",
    )
    sizing = sb.radio(
        "Size VMs by",
        ("allocated", "utilization"),
        format_func={
            "allocated": "Allocated size (vCPUs, RAM)",
            "utilization": "Observed utilization",
        }.__getitem__,
        key="sizing",
    )
    objective = sb.radio(
        "Optimise for",
        ("cost", "hosts"),
        format_func={"cost": "Lowest total cost", "hosts": "Fewest hosts"}.__getitem__,
        key="objective",
    )
    horizon = sb.slider(
        "TCO horizon", 1, 10, round(DEFAULT.horizon_years), format="%d years", key="horizon"
    )
    estate = sb.radio(
        "Plan onto",
        tuple(ESTATES),
        format_func=ESTATES.__getitem__,
        key="estate",
        help="Today's hosts come from the RVTools workbook's vHost sheet, or from the host "
        "list uploaded under 'Today's hosts'.",
    )
    with sb.expander("Advanced"):
        time_limit = st.number_input(
            "Solver time limit (s)",
            0.1,
            300.0,
            TIME_LIMIT_S,
            0.5,
            format="%.1f",
            key="time_limit_s",
            help="How long the exact engine may search when it cannot prove optimality at "
            "once. Longer may narrow the gap to the lower bound.",
        )
        floor = st.slider(
            "Utilization floor",
            0,
            100,
            round(DEFAULT.util_floor_pct),
            5,
            format="%d %%",
            key="util_floor_pct",
            disabled=sizing != "utilization",
            help="Lowest utilization counted when sizing by observed utilization.",
        )
        powered_off = st.checkbox(
            "Plan powered-off VMs", DEFAULT.include_powered_off, key="include_powered_off"
        )
        clusters = st.radio(
            "Clusters",
            ("keep", "merge"),
            format_func={
                "keep": "Keep the inventory's clusters",
                "merge": "Merge them into one pool",
            }.__getitem__,
            key="clusters",
            help="Zones, licence islands and anti-affinity groups still apply when merged.",
        )
        mobility = st.radio(
            "VMs move between hosts",
            ("cluster", "pinned"),
            format_func={
                "cluster": "Yes, within their cluster",
                "pinned": "No, each stays on its host",
            }.__getitem__,
            key="vm_mobility",
            help="Moving VMs: every host is licensed for the Windows Server Standard and RHEL "
            "Server VMs that may run on it (usually Datacenter). Pinned: Standard stacks per "
            "host for the VMs it runs.",
        )
        kwh = st.number_input(
            "Electricity ($ per kWh)",
            0.0,
            5.0,
            DEFAULT.electricity_per_kwh,
            0.01,
            format="%.2f",
            key="electricity_per_kwh",
        )
        pue = st.number_input(
            "PUE (facility power ÷ IT power)", 1.0, 3.0, DEFAULT.pue, 0.01, key="pue"
        )
        rack = st.number_input(
            "Rack space ($ per U per year)",
            0.0,
            10_000.0,
            DEFAULT.rack_unit_per_year,
            10.0,
            format="%.0f",
            key="rack_unit_per_year",
        )
    policy = Policy(
        hypervisor=hypervisor,
        cpu_overcommit=cpu,
        memory_overcommit=memory,
        max_utilization=util / 100,
        ha_host_failures=ha,
        growth=growth / 100,
        sizing=sizing,
        util_floor_pct=floor,
        include_powered_off=powered_off,
        objective=objective,
        horizon_years=horizon,
        electricity_per_kwh=kwh,
        pue=pue,
        rack_unit_per_year=rack,
        estate=estate,
        clusters=clusters,
        vm_mobility=mobility,
    )
    return policy, SolverParams(time_limit_s=time_limit)


# --------------------------------------------------------------------------- catalog tab


def _catalog_editor(bundled: Catalog) -> Catalog | None:
    """Editable host models and licence rules; None (with the problems shown) when invalid."""
    st.markdown(
        "The server models the planner may buy and the licence rules it applies. Edit cells, "
        "or add and delete rows at the table's edge; the plan follows. Empty price, watts "
        "and rack cells are estimated (see `data/README.md` for every figure's source)."
    )
    if st.button(
        "Reset to the bundled catalog", icon=":material/restart_alt:", key="reset_catalog"
    ):
        for key in ("hosts_editor", "licences_editor"):
            st.session_state.pop(key, None)
    hosts_table, licences_table = _bundled_tables()
    st.subheader("Host models")
    hosts_df = st.data_editor(
        hosts_table,
        num_rows="dynamic",
        key="hosts_editor",
        width="stretch",
        hide_index=True,
        column_config=views.HOST_EDIT,
    )
    st.subheader("Licence rules")
    licences_df = st.data_editor(
        licences_table,
        num_rows="dynamic",
        key="licences_editor",
        width="stretch",
        hide_index=True,
        column_config=views.LICENCE_EDIT,
    )
    try:
        return edited_catalog(bundled, hosts_df, licences_df)
    except InputError as exc:
        st.error("The catalog has problems; the plan waits until they are fixed.")
        views.issues_table(exc.issues)
        return None


# --------------------------------------------------------------------------- page parts


def _downloads(plan: Plan, problem: Problem) -> None:
    stem = Path(problem.inventory.source).stem or "inventory"
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    files: list[tuple[str, str, str, Callable[[], bytes | str]]] = [
        (
            "Placement CSV",
            f"{stem}-placement.csv",
            "text/csv",
            lambda: placement_csv_bytes(plan, problem),
        ),
        ("Workbook XLSX", f"{stem}-plan.xlsx", xlsx, lambda: workbook_bytes(plan, problem)),
        ("HTML report", f"{stem}-report.html", "text/html", lambda: html_report(plan, problem)),
        (
            "Plan JSON",
            f"{stem}-plan.json",
            "application/json",
            lambda: plan_json_bytes(plan, problem),
        ),
    ]
    views.downloads(files)


def _sensitivity(
    source: Source, inventory: Inventory, catalog: Catalog, policy: Policy, params: SolverParams
) -> None:
    """Hosts and cost against CPU overcommit and N+k, from ``planner.sweep`` (made on demand)."""
    params = params.model_copy(update={"time_limit_s": min(params.time_limit_s, SWEEP_S)})
    st.markdown(
        "Hosts and total cost as the **CPU overcommit** and **N+k** vary, everything else as "
        f"set in the sidebar. Each point is a full plan (solver limit {params.time_limit_s:g} s "
        "each); the dashed line marks the current setting."
    )
    cpu_values = sorted({*CPU_GRID, policy.cpu_overcommit})
    ha_values = sorted({*HA_GRID, policy.ha_host_failures})
    key = hashlib.sha256(
        f"{source.key}|{catalog.model_dump_json()}|{policy.model_dump_json()}|"
        f"{params.model_dump_json()}".encode()
    ).hexdigest()
    store: dict[str, Any] = st.session_state.setdefault("sensitivity", {})
    if key not in store:
        total = len(cpu_values) + len(ha_values)
        bar = st.progress(0.0, text=f"Solving {total} what-if plans…")

        def report(offset: int) -> Callable[[int, int], None]:
            def tick(done: int, _n: int) -> None:
                bar.progress((offset + done) / total, f"Solved {offset + done} of {total} plans…")

            return tick

        address = os.environ.get(RAY_ADDRESS_ENV, "").strip()
        where: dict[str, Any] = (
            {"backend": "ray", "address": address} if address else {"jobs": JOBS}
        )
        try:
            cpu = sweep(
                inventory,
                catalog,
                policy,
                {"cpu_overcommit": cpu_values},
                params,
                progress=report(0),
                **where,
            )
            ha = sweep(
                inventory,
                catalog,
                policy,
                {"ha_host_failures": ha_values},
                params,
                progress=report(len(cpu_values)),
                **where,
            )
        except PlannerError as exc:
            bar.empty()
            st.error(f"The sensitivity sweep failed: {exc}", icon=":material/error:")
            return
        bar.empty()
        if len(store) >= 8:
            store.pop(next(iter(store)))
        store[key] = (cpu, ha)
    cpu, ha = store[key]
    failed = pd.concat([cpu, ha])
    failed = failed[failed["status"] == ERROR]
    if len(failed):
        st.warning(
            f"{len(failed)} what-if plans failed and are left out of the charts: "
            + "; ".join(sorted(set(failed["error"]))),
            icon=":material/warning:",
        )
        cpu, ha = cpu[cpu["status"] != ERROR], ha[ha["status"] != ERROR]
        if cpu.empty and ha.empty:
            return
    st.caption(text.sweep_caption(pd.concat([cpu, ha])))
    st.subheader("CPU overcommit")
    views.sensitivity_charts(
        cpu, "cpu_overcommit", "CPU overcommit (vCPU per core)", policy.cpu_overcommit, 0.5
    )
    st.subheader("Host failures survived (N+k)")
    views.sensitivity_charts(
        ha, "ha_host_failures", "Host failures survived (k)", policy.ha_host_failures, 1
    )


@st.fragment
def _rule_prices(source_key: str, problem: Problem, plan: Plan) -> None:
    """The price of each rule, made on demand after the plan (re-planning without each rule
    takes a few solves), kept per (inventory, catalog, policy) for the session."""
    st.subheader("The price of each rule")
    key = hashlib.sha256(
        f"{source_key}|{problem.catalog.model_dump_json()}|{problem.policy.model_dump_json()}|"
        f"{plan.params}".encode()
    ).hexdigest()
    store: dict[str, Plan] = st.session_state.setdefault("rule_prices", {})
    if key not in store:
        st.caption(
            "The price of each rule (N+k, zones, anti-affinity groups, licence islands, "
            "clusters, the utilisation ceiling, the CPU overcommit): the plan against a "
            "re-plan without the rule."
        )
        if not st.button("Price each rule", key="price_rules", icon=":material/calculate:"):
            return
        bar = st.progress(0.0, text="Re-planning without each rule…")

        def tick(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), f"Re-planned {done} of {total}…")

        try:
            priced = explain_plan(problem, plan, run, progress=tick)
        except PlannerError as exc:
            bar.empty()
            st.error(f"Pricing the rules failed: {exc}", icon=":material/error:")
            return
        bar.empty()
        if len(store) >= 8:
            store.pop(next(iter(store)))
        store[key] = priced
    views.rule_prices(store[key], problem.policy.horizon_years)


def _page() -> None:
    st.markdown(views.CSS, unsafe_allow_html=True)
    bundled = _bundled_catalog()
    source = _sidebar_source()
    policy, params = _sidebar_policy(tuple(bundled.profiles))
    st.title("VM Capacity Planner")
    try:
        estate = _sidebar_hosts(source, policy)
    except InputError as exc:
        views.bad_input("Today's hosts", exc)
        return
    estate_json = estate.model_dump_json() if estate else ""
    head = st.container()
    tabs = st.tabs(TABS, key="view", on_change="rerun")
    with tabs[CATALOG]:
        catalog = _catalog_editor(bundled)

    try:
        inventory = _inventory(source.key, source.data, source.name, source.format)
    except InputError as exc:
        with head:
            views.bad_input(source.name, exc)
        return
    if catalog is None:
        with head:
            st.error(
                "The host models or licence rules have problems (see the tab "
                "'Host models & licences'); nothing was planned.",
                icon=":material/error:",
            )
        return
    with head:
        context = st.container()
        catalog_json, policy_json = catalog.model_dump_json(), policy.model_dump_json()
        full_key = hashlib.sha256(
            f"{source.key}|{catalog_json}|{policy_json}|{params.model_dump_json()}|{estate_json}".encode()
        ).hexdigest()
        quick = params.model_copy(update={"time_limit_s": min(QUICK_S, params.time_limit_s)})
        try:
            refined = _refiner().result(full_key)
            # Meanwhile the background run's interim plan, once it has one, else the quick plan.
            interim = None if refined is not None else _refiner().interim(full_key)
            if interim is not None:
                problem, plan = interim
                st.session_state["interim"] = full_key
            elif refined is None:
                with st.spinner(f"Planning {len(inventory.vms):,} VMs…", show_time=True):
                    problem, plan = _plan(
                        source.key,
                        inventory,
                        catalog_json,
                        policy_json,
                        quick.model_dump_json(),
                        estate_json,
                        st.session_state.get("shown"),
                    )
            else:
                problem, plan = refined
        except InputError as exc:
            views.bad_input(f"{inventory.source} does not fit the catalog", exc)
            return
        except PlannerError as exc:
            st.error(f"No plan: {exc}", icon=":material/error:")
            return
        sample = " · the bundled sample; upload your own in the sidebar" if source.sample else ""
        context.markdown(
            f"**{inventory.source}** · {inventory.format.replace('_', ' ')} format · "
            f"{len(inventory.vms):,} VMs{sample}  \n"
            f"<small>{text.policy_line(policy)}</small>",
            unsafe_allow_html=True,
        )
        if refined is None and plan.status in ("feasible", "partial") and quick != params:
            _refiner().submit(
                full_key,
                inventory,
                catalog,
                policy,
                params,
                st.session_state.get("shown", plan),
                estate,
            )
            _settling(full_key, params.time_limit_s)
        st.session_state["shown"] = plan
        settled = refined is not None or quick == params or plan.status == "optimal"
        views.kpis(plan, problem, settled=settled)
        _downloads(plan, problem)

    # Only the open tab is drawn (the tabs rerun the script when switched): a re-plan then
    # renders one tab, not seven. The catalog tab above is the exception: its editors must
    # be drawn on every run or Streamlit would forget the user's edits.
    with tabs[OVERVIEW]:
        if _is_open(tabs[OVERVIEW]):
            views.overview(plan, problem, lambda: _rule_prices(source.key, problem, plan))
    with tabs[PLACEMENT]:
        if _is_open(tabs[PLACEMENT]):
            views.placement(plan, problem)
    with tabs[FAILURES]:
        if _is_open(tabs[FAILURES]):
            views.failures(plan)
    with tabs[SENSITIVITY]:
        if _is_open(tabs[SENSITIVITY]):
            _sensitivity(source, inventory, catalog, policy, params)
    with tabs[INVENTORY]:
        if _is_open(tabs[INVENTORY]):
            views.validation(inventory, plan, problem)
    with tabs[ASSUMPTIONS]:
        if _is_open(tabs[ASSUMPTIONS]):
            views.assumptions(problem, catalog)
    with tabs[ESTATE]:
        if _is_open(tabs[ESTATE]):
            refreshed = None
            if plan.migration is not None:  # the same VMs on new models, for the side by side
                new = policy.model_copy(update={"estate": "new", "max_moves": None})
                with st.spinner("Planning the same VMs on new models…"):
                    refreshed = _plan(
                        source.key,
                        inventory,
                        catalog_json,
                        new.model_dump_json(),
                        quick.model_dump_json(),
                    )
            views.estate(plan, problem, refreshed)


@st.fragment(run_every=1.0)
def _settling(key: str, limit: float) -> None:
    """While the full plan is made in the background: say so, and show its interim plan and
    then the full one when each is done."""
    refiner = _refiner()
    if refiner.result(key) is not None:
        st.rerun(scope="app")
    if st.session_state.get("interim") != key and refiner.interim(key) is not None:
        st.rerun(scope="app")  # the background run's interim plan, better than the quick one
    seconds = refiner.running(key)
    if seconds is not None:
        st.info(
            f"Improving in the background… {seconds:.0f} s of at most {limit:g} s. The figures "
            "below are a quick first plan; they update when the full plan is ready.",
            icon=":material/autorenew:",
        )


def _is_open(tab: Any) -> bool:
    """Whether a tab is selected (``open`` is None where tabs do not track state: draw it)."""
    return tab.open is not False


def main() -> None:
    """Render the page; an unexpected error is shown in words, never as a traceback."""
    st.set_page_config(
        page_title="VM Capacity Planner",
        page_icon=":material/dns:",
        layout="wide",
        initial_sidebar_state="expanded",
    )
    try:
        _engine_ready()
        _page()
    except Exception as exc:  # the last line of defence: the details go to the server log
        LOG.exception("unexpected error while rendering the page")
        st.error(
            f"Something unexpected went wrong ({type(exc).__name__}: {exc}). The details are "
            "in the server log; please report them.",
            icon=":material/error:",
        )


# The guard matters: the sensitivity sweep's worker processes re-import this file as
# ``__mp_main__`` (multiprocessing's main-module fix-up) and must not render a page.
if __name__ == "__main__":
    main()
