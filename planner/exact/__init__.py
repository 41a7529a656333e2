"""The exact engine: column generation for the lower bound, then integer search for the plan.

A *pattern* is one host: a model and how many VMs of each class it runs (a class is a set of
VMs with identical demand and constraints). Every plan is a multiset of patterns, so the
Gilmore–Gomory model (``master``) is the whole problem; its LP relaxation gives the strongest
cheap lower bound known for bin packing. ``improve`` runs, within one time budget:

0. *Exact fill* (``exact_fill``): where the bound leaves no room in all in some dimension,
   every host of a plan at the bound is full in it; those hosts are listed and CP-SAT
   chooses a plan among them (Falkenauer's triplets, in a second).
1. *Local search* (``local_search``): balanced fill and emptying hosts, before and after
   column generation.
2. *Column generation* (``master``, ``pricing``, ``kernels``), in two slots: greedy
   pricing, then exact pricing by branch and bound for the host count (DP and CP-SAT
   otherwise, and where branch and bound runs out of nodes); valid bounds every exact
   round; a partition whose incumbent meets its bound is done. Between the slots, for the
   host count, *sequential value correction* (``sequential``): hosts filled one by one by
   a knapsack, with VM values learnt over passes, then repacked; its hosts are good columns
   for the second slot.
3. *Enumeration* (``enumerate``): where the bound is tight, every host that can be part of
   a plan at the bound is listed (reduced-cost fixing, and within the waste budgets of such
   a plan), then an LP dive and algorithm X look for such a plan; a complete search that
   finds none raises the bound by one host. Where the exact fill applies but found no plan,
   the enumeration runs as soon as column generation has converged (class 10 of the 2-D
   set at n = 201: its duals keep a tenth of the hosts the fill would list).
4. *Integer phases* (``search``): diving with column generation on the residual (for the
   host count repeated with random choices until the work share is spent, and after each
   step what is left is packed by ``sequential``: an anytime dive), the CP-SAT
   restricted master over the generated patterns, and for the host count on small
   partitions the CP-SAT assignment onto ``incumbent - 1`` hosts.

Modules, in layers (each imports only those above it in this list; a test checks that
no import cycle exists):

    classes       VM classes, patterns, pattern costs, licence tables, the shared state
    kernels       Numba-compiled knapsacks: branch-and-bound pricing, enumeration, exact cover
    pricing       greedy / DP / CP-SAT pricing
    local_search  balanced fill, emptying hosts
    master        LP master, column generation, bounds
    sequential    sequential value correction, repacking
    enumerate     the enumeration phase (drives the master through the shared state)
    exact_fill    plans of hosts filled exactly: bin completion, then CP-SAT
    search        diving, restricted master, assignment
    assign_cost   the exact CP-SAT cost model of small partitions (called by ``solve``)

The model size depends on the number of distinct VM classes, not on the number of VMs. No
CP-SAT or LP object leaves this package; all constraint arithmetic is in integers (costs are
scaled and rounded so that the bounds stay valid).

Every phase stops on *work* done, never on the wall clock: simplex iterations, search nodes,
passes, moves and CP-SAT deterministic time, counted in units (``classes.UNITS_PER_S`` per
second of the reference machine). The phases end at shares of a work budget
(``SolverParams.work_s``: the work limit, or a share of the time limit), so the same input
and seed give the same plan on any machine and under any load. The wall-clock limit is only
a safety cap; ``ExactResult.capped`` says when it stopped the search (then the plan may
depend on the machine). Each phase's work and wall time, and the incumbent and bound after
it, are recorded (``ExactResult.phases``, ``trace``).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field

from planner.bounds import Bounds
from planner.exact.classes import (
    UNITS_PER_S,
    Progress,
    State,
    accept,
    add_singletons,
    build_classes,
    class_of,
    make_pattern,
    objective_of,
    proven,
    set_cheap_bounds,
)
from planner.exact.enumerate import enumerate_phase
from planner.exact.exact_fill import exact_fill, fill_instance
from planner.exact.kernels import compile_kernels
from planner.exact.local_search import balanced_fill, empty_hosts
from planner.exact.master import Master, column_generation
from planner.exact.search import (
    ASSIGN_MAX_VMS,
    DIVE_BACKTRACKS,
    assignment_phase,
    dive,
    restricted_master,
)
from planner.exact.sequential import value_correction
from planner.models import WORK_SHARE, Problem
from planner.packing import HostBin, Packing, mobile_tags
from planner.statistics import Phase, Recorder, TracePoint

__all__ = ["CAPPED_STAGE", "ExactResult", "Progress", "improve", "warm_up"]

# Phases end at shares of the work budget (work units, not seconds of the wall clock).
FILL_LIST_SHARE = 0.05  # most of the budget the exact fill's listing of hosts may take
FILL_SHARE = 0.4  # most of the budget the exact fill may take, its CP-SAT model included
CG_FIRST_SHARE = 0.1  # column generation's first slot ends at this share of the budget
SEQUENTIAL_SHARE = 0.25  # share of the budget of sequential value correction
CG_SHARE = 0.5  # column generation's second slot ends at this share of the budget
LS_FIRST_SHARE = 0.03  # share of the budget of the local search before column generation
LS_SHARE = 0.05  # share of the budget of the local search after column generation
ENUM_SHARE = 0.6  # the enumeration may run until this share of the budget
# Where the exact fill applies but found no plan: column generation may run until this share
# of the budget, then the enumeration until the next, its LP dive taking this share of it.
# (Measured on class 10 of the 2-D set at n = 201: column generation takes 1-4 s of work to
# converge, the dive 0.5-3 s; the phases after them rarely help there.)
FILL_CG_SHARE = 0.7
FILL_ENUM_SHARE = 0.9
FILL_DIVE_SHARE = 0.9
DIVE_UNTIL = 0.85  # dives may run until this share of the budget (host count)
DIVE_UNTIL_COST = 0.7  # the cost objective's dive may run until this share
COST_DIVES_UNTIL = 0.45  # the cost objective's randomised dives start until this share
ASSIGN_FROM = 0.9  # the restricted master leaves the budget from this share to the assignment
CAPPED_STAGE = "integer (stopped by the time limit before its work budget)"


@dataclass(frozen=True)
class ExactResult:
    """What the exact engine found for the active hosts (spares excluded)."""

    packing: Packing
    bound: float  # lower bound on the objective of the active hosts
    proven: bool  # the packing's objective equals the bound
    converged: bool  # column generation proved its LP optimal (the bound is the LP value)
    columns: int
    iterations: int
    work: float = 0.0  # work units done
    capped: bool = False  # the wall-clock safety cap stopped the search before its budget
    phases: tuple[Phase, ...] = ()  # in order; seconds since ``improve`` was called
    trace: tuple[TracePoint, ...] = ()  # incumbent and bound after each phase
    # Each partition's bound on its active hosts, where no max_count couples them.
    partition_bounds: dict[int, float] = field(default_factory=dict)


def _open(state: State) -> list[int]:
    """Partitions whose incumbent may still improve."""
    return [p for p in state.by_partition if not (state.separable and state.done(p))]


def improve(
    problem: Problem,
    incumbent: Packing,
    time_limit: float,
    progress: Progress | None = None,
    bounds: Bounds | None = None,
    work_s: float | None = None,
    seed: int = 0,
) -> ExactResult:
    """Lower bound by column generation, then the best plan CP-SAT finds.

    ``incumbent`` (first-fit decreasing) is a column set and the warm start: the result is
    never worse than it. ``bounds`` are the cheap lower bounds when the caller has them
    already. The phases share a budget of work worth ``work_s`` seconds of the reference
    machine (default: ``WORK_SHARE`` of ``time_limit``, as ``SolverParams``), whatever the
    machine and its load; ``time_limit`` (seconds of the wall clock) is only the safety cap.
    ``seed`` seeds every random choice. Each phase is recorded (``ExactResult.phases``,
    ``trace``) and reported to ``progress`` as it ends.
    """
    if time_limit <= 0:
        # No time left (the caller kept it all for assembling a very large plan): building
        # the engine's model alone would overrun, so the incumbent stands, bound by the
        # caller's cheap bounds.
        return ExactResult(incumbent, 0.0, False, False, 0, 0)
    wall_start = time.perf_counter()
    # The safety cap keeps a margin for returning the result; the work budget leaves the
    # reference machine headroom below the time limit, so the cap stays rare.
    if work_s is None:
        work_s = WORK_SHARE * time_limit
    time_limit = max(0.1, min(0.97 * time_limit, time_limit - 0.15))
    budget = work_s * UNITS_PER_S
    classes, by_partition = build_classes(problem)
    state = State(problem, classes, by_partition, wall_start + time_limit, seed)
    if problem.policy.objective == "cost":
        state.mobile = mobile_tags(problem)
    recorder = Recorder(wall_start, lambda: state.work / UNITS_PER_S)

    def done(phase: str) -> None:
        """Record the phase just ended, with the incumbent and bound after it."""
        value, bound = state.total_value(), state.total_bound()
        recorder.mark(phase, value, bound)
        if progress:
            progress(phase, value, bound)

    bins_of: dict[int, list[HostBin]] = {p: [] for p in by_partition}
    for b in incumbent:
        if b.vms:
            bins_of[b.partition].append(b)
    for p_index, bins in bins_of.items():
        state.bins[p_index] = bins
        state.value[p_index] = objective_of(problem, bins)
    set_cheap_bounds(state, bounds)
    # Where every host of a plan at the bound must be full in some dimension, such hosts are
    # few: listed and chosen from (``exact_fill``), often the whole answer at once, before
    # the LP is built.
    before = state.work
    exact_fill(state, before + FILL_SHARE * budget, FILL_LIST_SHARE * budget)
    if state.work > before:
        done("exact fill")
    if proven(state):
        return _result(state, recorder, progress, False, 0)
    # Where the exact fill applies but found no plan (its listing ran out: the waste budget
    # of the other dimensions lets tens of thousands of hosts through), the LP's duals keep
    # far fewer: the enumeration takes over as soon as column generation has converged.
    # (The enumeration is for the host count.)
    fill_open = [p for p in _open(state) if state.by_hosts and fill_instance(state, p) is not None]
    by_class = class_of(state)
    for b in incumbent:  # the incumbent's hosts are the first columns
        if b.vms:
            counts = Counter(by_class[i] for i in b.vms)
            state.add(make_pattern(state, b.partition, b.type_index, dict(counts)))
    add_singletons(state)
    state.lp = Master(state, state.patterns)
    done("model")

    balanced_fill(state, _open(state))
    # A first local search on the cheap bound: often the whole answer, and its hosts are
    # good columns for the LP.
    empty_hosts(state, _open(state), state.work + LS_FIRST_SHARE * budget)
    done("local search")
    # Column generation in two slots: the first often proves the incumbent optimal at once;
    # else sequential value correction packs towards the bound, and its hosts are good
    # columns for the second.
    converged, iterations = column_generation(state, CG_FIRST_SHARE * budget)
    done("column generation")
    fill_open = [p for p in fill_open if p in _open(state)]
    if fill_open:
        if not converged:
            converged, more = column_generation(state, FILL_CG_SHARE * budget)
            iterations += more
            done("column generation")
        enumerate_phase(state, FILL_ENUM_SHARE * budget, fill_open, FILL_DIVE_SHARE)
        done("enumeration")
    if not proven(state):
        value_correction(state, _open(state), min(budget, state.work + SEQUENTIAL_SHARE * budget))
        done("sequential value correction")
    if not converged:
        converged, more = column_generation(state, CG_SHARE * budget)
        iterations += more
        done("column generation")
    if not proven(state):  # now aiming at the column-generation bound
        empty_hosts(state, _open(state), state.work + LS_SHARE * budget)
        done("local search")

    if not proven(state):  # tight bounds: the hosts of a plan at the bound, enumerated
        enumerate_phase(
            state, ENUM_SHARE * budget, [p for p in state.by_partition if p not in fill_open]
        )
        done("enumeration")
    # Dives, the first by the LP's largest values; for the host count then randomised ones
    # until one reaches the bound or the dives' work is spent (for the cost the restricted
    # master below usually closes the gap sooner).
    rng: random.Random | None = None
    dive_until = (DIVE_UNTIL if state.by_hosts else DIVE_UNTIL_COST) * budget
    dived_any = False
    while not proven(state) and state.clock() < dive_until:
        dived_any = True
        dived = dive(state, _open(state), dive_until, DIVE_BACKTRACKS, rng)
        if dived is None:
            break
        accept(state, dived)
        if not state.by_hosts and state.clock() >= COST_DIVES_UNTIL * budget:
            break
        rng = rng or random.Random(seed)
    if dived_any:
        done("diving")
    if not proven(state):
        # The assignment model comes next only for small partitions: else the restricted
        # master may use the time left.
        assign_next = (
            state.by_hosts
            and state.separable
            and any(
                sum(state.classes[ci].count for ci in state.by_partition[p]) <= ASSIGN_MAX_VMS
                for p in _open(state)
            )
        )
        restricted_master(state, (ASSIGN_FROM if assign_next else 1.0) * budget, by_class)
        done("restricted master")
    if not proven(state) and state.by_hosts and state.separable:
        assignment_phase(state, budget)
        done("assignment")
    if not proven(state):  # whatever work the phases above left
        empty_hosts(state, _open(state), budget)
        done("local search")
    return _result(state, recorder, progress, converged, iterations)


def _result(
    state: State, recorder: Recorder, progress: Progress | None, converged: bool, iterations: int
) -> ExactResult:
    """The engine's answer from its state."""
    value, bound = state.total_value(), state.total_bound()
    if progress:  # the safety cap is reported: the plan may then depend on the machine
        progress(CAPPED_STAGE if state.capped else "integer", value, bound)
    return ExactResult(
        packing=state.packing(),
        bound=min(bound, value),
        proven=proven(state),
        converged=converged,
        columns=len(state.patterns),
        iterations=iterations,
        work=state.work,
        capped=state.capped,
        phases=tuple(recorder.phases),
        trace=tuple(recorder.trace),
        partition_bounds=(
            {
                p: min(state.rounded(state.bound.get(p, 0.0)), state.value[p])
                for p in state.by_partition
            }
            if state.separable
            else {}
        ),
    )


def warm_up() -> None:
    """Compile the engine's Numba kernels now (or load them from their cache), so that the
    first plan's time limit is not spent compiling them; later calls cost nothing."""
    compile_kernels()
