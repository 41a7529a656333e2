"""VM classes, patterns and their costs, and the engine's shared state.

A *class* is a set of VMs of one partition with identical demand and constraints (for the
cost objective also identical licence tags); a *pattern* is one host: a model and how many
VMs of each class it runs. Pattern costs are a valid lower bound on what the host really
costs (licences from per-(model, tag) tables, energy from the smallest member load).

``State`` holds the classes, the generated patterns, the LP master, the incumbent and the
bounds, per partition; the helpers here (``accept``, ``to_packing`` ...) are what every phase
uses to read and update it.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from planner.bounds import Bounds, lower_bounds
from planner.costs import host_total, licence_cost
from planner.cpsat import reproducible_solver
from planner.models import Problem
from planner.packing import (
    HostBin,
    Packing,
    mobile_licence_cost,
    packing_objective,
    undominated,
    vm_classes,
)
from planner.tolerances import IMPROVEMENT_TOL, INTEGRAL_TOL, meets_bound

__all__ = [
    "CAPPED",
    "COST_SCALE",
    "LP_ENTRY_WORK",
    "LP_READ_WORK",
    "UNITS_PER_S",
    "LPMaster",
    "LPSolution",
    "Pattern",
    "PatternKey",
    "Progress",
    "State",
    "VMClass",
    "accept",
    "add_singletons",
    "build_classes",
    "class_of",
    "clip",
    "fit_count",
    "fits",
    "host_fixed_cost",
    "licence_table",
    "lp_work",
    "make_pattern",
    "max_hosts",
    "mobile_cost",
    "objective_of",
    "pattern_cost",
    "proven",
    "reproducible_solver",
    "run_cp_sat",
    "set_cheap_bounds",
    "to_packing",
    "types_of",
    "waste_budgets",
]

UNITS_PER_S = 1_000_000  # work units the engine does per second on the reference machine
CAPPED = 1e18  # the work clock's reading once the wall-clock safety cap has passed
UNITS_PER_DT = 2_700_000  # work units per unit of CP-SAT deterministic time (measured)
MIN_CP_SAT_S = 0.001  # the least time limit (deterministic and wall) a CP-SAT call is given
# Work of the LP (units), measured on GLOP: per solve, per simplex iteration and row, and per
# coefficient entered.
LP_SOLVE_WORK = 60.0
LP_ITERATION_WORK = 0.1
LP_ENTRY_WORK = 3.0
LP_READ_WORK = 0.5  # per column whose value is read back


COST_SCALE = 100  # cents: CP-SAT needs integer costs


@dataclass(frozen=True)
class VMClass:
    partition: int
    cpu: int
    mem: int
    group: str
    fits: tuple[int, ...]
    tags: tuple[str, ...]
    load: int  # smallest member load (milli-cores): keeps pattern costs a valid lower bound
    members: tuple[int, ...]  # positions in problem.vms

    @property
    def count(self) -> int:
        return len(self.members)


PatternKey = tuple[int, int, tuple[tuple[int, int], ...]]


@dataclass(frozen=True)
class Pattern:
    partition: int
    type_index: int
    counts: tuple[tuple[int, int], ...]  # (class index, VMs), sorted by class
    cost: float

    def key(self) -> PatternKey:
        return (self.partition, self.type_index, self.counts)


Progress = Callable[[str, float | None, float | None], None]

LPSolution = tuple[float, list[float], dict[int, float], list[float]]


class LPMaster(Protocol):
    """The LP relaxation the state keeps (``master.Master``): what the phases ask of it."""

    def add(self, p: Pattern) -> None:
        """Add a pattern's column."""

    def solve(self) -> LPSolution | None:
        """(value, cover duals, max_count duals by type, primal values), or None."""


@dataclass
class State:
    """Classes, patterns, the LP master and the bounds found so far."""

    problem: Problem
    classes: list[VMClass]
    by_partition: dict[int, list[int]]
    deadline: float  # wall-clock safety cap (``time.perf_counter()``), not a phase switch
    seed: int = 0  # ``SolverParams.seed``: every random choice of the engine derives from it
    patterns: list[Pattern] = field(default_factory=list)
    seen: set[PatternKey] = field(default_factory=set)
    licence_tables: dict[tuple[int, str], list[float]] = field(default_factory=dict)
    # vm_mobility = cluster: the stacking tags' licences are a fixed cost of every host of a
    # partition (``packing.mobile_licence_cost``), per (partition, type).
    mobile: frozenset[str] = frozenset()
    mobile_costs: dict[tuple[int, int], float] = field(default_factory=dict)
    lp: LPMaster | None = None
    # Best incumbent, per partition: its bins and objective value.
    bins: dict[int, list[HostBin]] = field(default_factory=dict)
    value: dict[int, float] = field(default_factory=dict)
    bound: dict[int, float] = field(default_factory=dict)  # per partition (separable only)
    joint_bound: float = 0.0  # whole problem (valid also when max_count couples partitions)
    # Work done so far, in units (``UNITS_PER_S``): every phase stops on work, never on the
    # wall clock, so the same input and seed give the same plan on any machine under any
    # load. ``capped``: the wall-clock safety cap stopped the search (rare; reported).
    work: float = 0.0
    capped: bool = False

    def spend(self, units: float) -> None:
        """Count ``units`` of work done."""
        self.work += units

    def clock(self) -> float:
        """Work done so far; ``CAPPED``, past every budget, once the safety cap has passed.

        For comparisons with a limit only: limits are computed from ``work``."""
        if self.capped or time.perf_counter() >= self.deadline:
            self.capped = True
            return CAPPED
        return self.work

    def left(self, until: float) -> float:
        """Work units left until ``until`` (a clock reading); <= 0 when it has passed."""
        return until - self.clock()

    def wall_left(self) -> float:
        """Seconds left before the safety cap (for CP-SAT's own wall-clock limit)."""
        return max(0.0, self.deadline - time.perf_counter())

    @property
    def by_hosts(self) -> bool:
        return self.problem.policy.objective == "hosts"

    @property
    def separable(self) -> bool:
        """No max_count couples the partitions: each is an independent problem."""
        return all(t.model.max_count is None for t in self.problem.host_types)

    def add(self, p: Pattern) -> bool:
        k = p.key()
        if k in self.seen or not p.counts:
            return False
        self.seen.add(k)
        self.patterns.append(p)
        if self.lp is not None:
            self.lp.add(p)
        return True

    def rounded(self, bound: float) -> float:
        """A bound on an objective value: integer for the host count."""
        return math.ceil(bound - INTEGRAL_TOL) if self.by_hosts else bound

    def done(self, p_index: int) -> bool:
        """The partition's incumbent meets its bound (only meaningful when separable)."""
        b = self.rounded(self.bound.get(p_index, 0.0))
        return meets_bound(self.value[p_index], b)

    def total_bound(self) -> float:
        if self.separable:
            per_part = sum(self.rounded(self.bound.get(p, 0.0)) for p in self.by_partition)
            return max(per_part, self.rounded(self.joint_bound))
        return self.rounded(self.joint_bound)

    def total_value(self) -> float:
        return sum(self.value.values())

    def packing(self) -> Packing:
        return tuple(b for p in sorted(self.bins) for b in self.bins[p])


def proven(state: State) -> bool:
    bound = state.total_bound()
    return meets_bound(state.total_value(), bound)


def lp_work(solver: pywraplp.Solver, rows: int) -> float:
    """Work of the GLOP solve just done: by its simplex iterations (deterministic)."""
    iterations: int = solver.iterations()
    return LP_SOLVE_WORK + LP_ITERATION_WORK * iterations * (rows + 10)


def run_cp_sat(
    state: State,
    model: cp_model.CpModel,
    work: float,
    callback: cp_model.CpSolverSolutionCallback | None = None,
) -> tuple[cp_model.CpSolver, cp_model.CpSolverStatus]:
    """Solve ``model`` within ``work`` units of CP-SAT deterministic time, reproducibly.

    One worker, seeded by ``SolverParams.seed``: CP-SAT is then deterministic and stops at its
    deterministic limit (measured: interleaved workers, also deterministic, overshoot it up
    to twofold), and the plan does not depend on ``SolverParams.workers`` either (the sensitivity
    sweep splits the workers between its solves). The wall clock limits the call only as
    the engine's safety cap. The deterministic time spent is counted as work.
    """
    solver = reproducible_solver(
        max(MIN_CP_SAT_S, work / UNITS_PER_DT), state.seed, max(MIN_CP_SAT_S, state.wall_left())
    )
    status = solver.solve(model, callback)
    state.spend(solver.deterministic_time * UNITS_PER_DT)
    state.clock()  # notes a stop on the safety cap
    return solver, status


def objective_of(problem: Problem, packing: Sequence[HostBin]) -> float:
    """The objective of the packing (``packing_objective``'s first part)."""
    bins = [b for b in packing if b.vms]
    if problem.policy.objective == "hosts":
        return float(len(bins))  # as packing_objective, without pricing every host
    return packing_objective(problem, bins)[0]


def set_cheap_bounds(state: State, b: Bounds | None = None) -> None:
    """Start from the cheap bounds: per partition for the host count, total for the cost.

    ``b`` are the bounds when the caller has computed them already.
    """
    if b is None:
        b = lower_bounds(state.problem)
    if state.by_hosts:
        for p_index in state.by_partition:
            state.bound[p_index] = float(b.partition_hosts[p_index])
        state.joint_bound = float(sum(b.partition_hosts))
    else:
        for p_index in state.by_partition:
            state.bound[p_index] = b.partition_cost[p_index]
        state.joint_bound = b.cost - b.spare_cost


def build_classes(problem: Problem) -> tuple[list[VMClass], dict[int, list[int]]]:
    by_cost = problem.policy.objective == "cost"
    classes: list[VMClass] = []
    by_partition: dict[int, list[int]] = defaultdict(list)
    for p_index, part in enumerate(problem.partitions):
        # Licence tags only matter to the cost: for the host count they would split classes.
        for key, members in vm_classes(problem, part.vms, with_tags=by_cost).items():
            cpu, mem, group, fits, tags = key
            load = min(problem.vms[i].load_m for i in members) if by_cost else 0
            by_partition[p_index].append(len(classes))
            classes.append(VMClass(p_index, cpu, mem, group, fits, tags, load, tuple(members)))
    return classes, dict(by_partition)


def class_of(state: State) -> dict[int, int]:
    return {pos: ci for ci, c in enumerate(state.classes) for pos in c.members}


def licence_table(state: State, t: int, tag: str, n_max: int) -> list[float]:
    """Cheapest licence cost for 0..n_max VMs tagged ``tag`` on a host of type ``t``; all
    zeros for a mobile tag, whose cost is the host's (``host_fixed_cost``)."""
    if tag in state.mobile:
        return [0.0] * (n_max + 1)
    key = (t, tag)
    table = state.licence_tables.get(key)
    if table is None or len(table) <= n_max:
        model = state.problem.host_types[t].model
        years = state.problem.policy.horizon_years
        licences = state.problem.catalog.licences
        table = [0.0] + [licence_cost(tag, model, n, licences, years) for n in range(1, n_max + 1)]
        state.licence_tables[key] = table
    return table


def host_fixed_cost(state: State, t: int, p: int) -> float:
    """Cost of a host of type t in partition p whatever it runs (1 for the host count)."""
    if state.by_hosts:
        return 1.0
    return host_total(state.problem.host_types[t], mobile_cost(state, p, t))


def mobile_cost(state: State, p: int, t: int) -> float:
    """The licences a host of type t in partition p holds for VMs that may move onto it."""
    if not state.mobile:
        return 0.0
    key = (p, t)
    if key not in state.mobile_costs:
        state.mobile_costs[key] = mobile_licence_cost(state.problem, p, t)
    return state.mobile_costs[key]


def pattern_cost(state: State, p: int, t: int, counts: dict[int, int]) -> float:
    """What a host of type t in partition p running ``counts`` (class -> VMs) costs."""
    if state.by_hosts:
        return 1.0
    ht = state.problem.host_types[t]
    tags: Counter[str] = Counter()
    load = 0
    for ci, k in counts.items():
        c = state.classes[ci]
        load += c.load * k
        for tag in c.tags:
            tags[tag] += k
    lic = sum(licence_table(state, t, tag, n)[n] for tag, n in tags.items())
    return host_total(ht, lic + mobile_cost(state, p, t), load)


def make_pattern(state: State, partition: int, t: int, counts: dict[int, int]) -> Pattern:
    kept = {c: k for c, k in counts.items() if k > 0}
    return Pattern(
        partition, t, tuple(sorted(kept.items())), pattern_cost(state, partition, t, kept)
    )


def fit_count(state: State, ci: int, t: int) -> int:
    """Most VMs of class ci one empty host of type t holds."""
    c = state.classes[ci]
    ht = state.problem.host_types[t]
    k = min(c.count, ht.cpu_cap_m // c.cpu, ht.mem_cap_mib // c.mem, ht.vm_cap)
    return min(k, 1) if c.group else k


def add_singletons(state: State) -> None:
    """One pattern per class holding as many of its VMs as one host of a fitting type can."""
    for ci, c in enumerate(state.classes):
        for t in c.fits:
            state.add(make_pattern(state, c.partition, t, {ci: max(fit_count(state, ci, t), 1)}))


def fits(state: State, t: int, counts: dict[int, int]) -> bool:
    """The pattern fits one host of type t (capacity, VM count, anti-affinity)."""
    ht = state.problem.host_types[t]
    cls = state.classes
    groups = [cls[ci].group for ci, k in counts.items() for _ in range(k) if cls[ci].group]
    return (
        sum(cls[ci].cpu * k for ci, k in counts.items()) <= ht.cpu_cap_m
        and sum(cls[ci].mem * k for ci, k in counts.items()) <= ht.mem_cap_mib
        and sum(counts.values()) <= ht.vm_cap
        and len(groups) == len(set(groups))
    )


def types_of(state: State, p_index: int) -> list[int]:
    """Host types worth pricing for a partition: those no other type dominates.

    A dominated type (``packing.dominates``) can be replaced by another in any plan, which
    stays feasible and no worse, so its columns never help.
    """
    types = sorted({t for ci in state.by_partition[p_index] for t in state.classes[ci].fits})
    runs = {
        t: {ci for ci in state.by_partition[p_index] if t in state.classes[ci].fits} for t in types
    }
    return undominated(state.problem, types, runs, state.by_hosts)


def waste_budgets(state: State, p_index: int, t: int, hosts: int) -> tuple[int, int, int]:
    """What a plan of ``hosts`` hosts of type t leaves unused of each dimension in all
    (milli-vCPU, MiB, VM slots): W_d = hosts * C_d - S_d, S_d the partition's demand. Every
    VM is placed, so no host of such a plan leaves more than W_d of dimension d unused (a
    negative W_d: no such plan exists)."""
    ht = state.problem.host_types[t]
    cls = state.classes
    members = state.by_partition[p_index]
    cpu = sum(cls[ci].cpu * cls[ci].count for ci in members)
    mem = sum(cls[ci].mem * cls[ci].count for ci in members)
    vms = sum(cls[ci].count for ci in members)
    return (hosts * ht.cpu_cap_m - cpu, hosts * ht.mem_cap_mib - mem, hosts * ht.vm_cap - vms)


def max_hosts(state: State, p_index: int, t: int) -> int:
    """How many hosts of type t partition p can use in an optimal plan (for the bound)."""
    n = sum(state.classes[ci].count for ci in state.by_partition[p_index])
    cap = state.problem.host_types[t].model.max_count
    limit = min(n, cap if cap is not None else n)
    if state.by_hosts:
        limit = min(limit, math.ceil(state.value[p_index]) if state.separable else n)
        if not state.separable:
            limit = min(limit, math.ceil(state.total_value()))
    return limit


def accept(state: State, packing: Packing) -> None:
    """Keep a packing's partitions where they improve the incumbent (separable) or as a whole."""
    problem = state.problem
    by_part: dict[int, list[HostBin]] = defaultdict(list)
    for b in packing:
        by_part[b.partition].append(b)
    if state.separable:
        for p_index, bins in by_part.items():
            value = objective_of(problem, bins)
            if value < state.value[p_index] - IMPROVEMENT_TOL * max(1.0, value):
                state.bins[p_index], state.value[p_index] = bins, value
        return
    # Coupled partitions: replace only the partitions the packing covers, if the whole improves.
    merged = {p: list(state.bins[p]) for p in state.bins}
    merged.update(by_part)
    all_bins = [b for p in sorted(merged) for b in merged[p]]
    if objective_of(problem, all_bins) < state.total_value() - IMPROVEMENT_TOL:
        for p_index, bins in merged.items():
            state.bins[p_index] = bins
            state.value[p_index] = objective_of(problem, bins)


def to_packing(state: State, chosen: list[tuple[Pattern, int]], parts: list[int]) -> Packing:
    """Fill the chosen patterns with real VMs; over-covered slots are simply left empty."""
    members = {ci: state.classes[ci].members for p in parts for ci in state.by_partition[p]}
    used = dict.fromkeys(members, 0)  # members of each class already placed
    bins = []
    for p, n in sorted(chosen, key=lambda pn: (pn[0].partition, pn[0].type_index, pn[0].counts)):
        for _ in range(n):
            vms: list[int] = []
            for ci, k in p.counts:
                vms.extend(members[ci][used[ci] : used[ci] + k])
                used[ci] = min(used[ci] + k, len(members[ci]))
            if vms:
                bins.append(HostBin(p.partition, p.type_index, tuple(sorted(vms))))
    left = [ci for ci in members if used[ci] < len(members[ci])]
    if left:  # pragma: no cover - the cover constraints make this impossible
        raise AssertionError(f"classes left unplaced by the pattern plan: {left}")
    return tuple(bins)


def clip(state: State, p: Pattern, residual: dict[int, int]) -> Pattern | None:
    counts = {ci: min(k, residual.get(ci, 0)) for ci, k in p.counts}
    counts = {ci: k for ci, k in counts.items() if k > 0}
    if not counts:
        return None
    if len(counts) == len(p.counts):
        return (
            Pattern(p.partition, p.type_index, p.counts, p.cost)
            if counts == dict(p.counts)
            else make_pattern(state, p.partition, p.type_index, counts)
        )
    return make_pattern(state, p.partition, p.type_index, counts)
