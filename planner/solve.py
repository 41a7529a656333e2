"""solve(problem, params) -> SolveResult: search for the best packing, then build the plan and
analyse it.

    result = solve(problem, SolverParams(time_limit_s=10, seed=0))
    result.plan          # hosts, placements, costs, bounds, failures, dedicated baseline
    result.statistics    # phases (wall time, work done), incumbent and bound over time

The search: first-fit decreasing (``heuristic``) packs at once; where ``max_count`` caps
leave VMs out, ``feasibility`` places them exactly; small partitions under the cost
objective go to the exact CP-SAT cost model (``exact.assign_cost``), the others to the exact
engine (``exact.improve``), which improves and bounds the packing. Then ``assemble`` builds
the plan (priced hosts, N+k spares, status, bound) and ``analysis`` adds what is said about
it (failures, the dedicated baseline, the explanation). ``solve`` does not verify the plan:
``pipeline.run`` does, independently of all this.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from planner.analysis import analyse
from planner.assemble import build_plan, host_plans, spares_complete
from planner.bounds import Bounds, lower_bounds, spare_candidates, structured_cost
from planner.costs import host_total
from planner.deadline import Deadline
from planner.exact import ExactResult, improve
from planner.exact.assign_cost import MAX_VMS, assign_cost
from planner.feasibility import place_capped
from planner.heap import paused
from planner.heuristic import complete, first_fit_decreasing
from planner.models import HostType, Plan, Problem, SolverParams
from planner.moves import MoveStats, attach_migration, fewest_moves, owns_search
from planner.packing import (
    HostBin,
    Packing,
    host_priced_tags,
    mobile_licence_cost,
    packing_objective,
)
from planner.repack import Group, groups, repack
from planner.spares import add_spares, with_spares
from planner.statistics import Phase, SolveStatistics, TracePoint
from planner.tiebreak import cheaper_same_hosts
from planner.tolerances import host_count_bound, lp_bound, meets_bound

__all__ = ["Progress", "SolveProgress", "SolveResult", "solve", "warm_packing"]

CAPPED_WORK = 5.0  # CP-SAT deterministic time for placing the VMs only capped models can run
SMALL_COST_WORK = 1.0  # CP-SAT deterministic time for the exact cost model of small estates
SMALL_COST_MAX_VMS = MAX_VMS  # partitions up to this size get the exact cost model
RESERVE_TRIES = 8  # capped models tried as the spares' model where N+k is not met


@dataclass(frozen=True)
class SolveProgress:
    """A progress report: the best objective so far and the best bound, if known."""

    stage: str
    objective: float | None
    bound: float | None
    seconds: float


Progress = Callable[[SolveProgress], None]


@dataclass(frozen=True)
class SolveResult:
    """What ``solve`` returns: the plan (not yet verified; ``Plan.params`` records the solver
    params it was made with) and the run's statistics."""

    plan: Plan
    statistics: SolveStatistics


def solve(
    problem: Problem,
    params: SolverParams | None = None,
    progress: Progress | None = None,
    warm: Plan | None = None,
    deadline: Deadline | None = None,
) -> SolveResult:
    """Plan ``problem``: the best packing found, spares, failure checks, costs and bounds.

    ``params``: the time limit (a safety cap on the whole call), the engine's work budget
    and the seed (default: ``SolverParams()``). ``warm`` is a plan of a nearby scenario
    (the app's previous setting): where its placement is valid for ``problem`` and better
    than first fit, the search starts from it. ``progress`` hears of each phase as it ends.

    First-fit decreasing gives a plan at once. Where it leaves VMs out (``max_count`` caps),
    an exact model places them or proves that no plan can (``feasibility``). Unless the plan
    already meets the lower bound, the exact engine (column generation + exact search,
    ``exact``) improves it within the work budget and proves it optimal or bounds the gap.
    ``Plan.solve_seconds`` is the whole call, building and analysing the plan included.

    ``deadline``: when the whole run (the CLI's process) must end; the search then also stops
    early enough for what follows it to end by then at the machine's current pace. Like the
    time limit it is a safety cap: it cuts only a slow or busy run, and the plan says so.
    """
    params = params or SolverParams()
    log = _Log(progress, params.time_limit_s, deadline)
    found = _search(problem, params, log, warm)
    with paused():  # the plan's hosts, failure checks and baseline: many objects, no garbage
        plan = build_plan(
            problem,
            found.packing,
            found.failed,
            found.bounds,
            found.engine,
            found.unplaced_proven,
            found.notes,
        )
        log.phase("plan")
        plan = analyse(plan, problem, found.bounds, params.seed)
        # Today's estate: owned hosts named, retired ones listed, the moves in verified waves.
        plan = attach_migration(problem, plan, found.moves)
    log.phase("analysis")
    plan = plan.model_copy(update={"solve_seconds": log.seconds(), "params": params})
    return SolveResult(plan, log.statistics())


@dataclass(frozen=True)
class _Found:
    """What the search found: the packing, the VMs it leaves out (with the reason, and
    whether leaving them out is proven unavoidable), valid bounds, the engine's name and
    what the run itself has to say (the safety cap)."""

    packing: Packing
    failed: dict[int, str]
    bounds: Bounds
    engine: str
    unplaced_proven: bool
    notes: tuple[str, ...]
    moves: MoveStats | None = None  # today's estate: the fewest-moves search


class _Log:
    """The run's phases and trace as the search goes, each phase reported to ``progress``."""

    def __init__(
        self, progress: Progress | None, time_limit_s: float, deadline: Deadline | None
    ) -> None:
        self.progress = progress
        self.time_limit_s = time_limit_s
        self.deadline = deadline
        self.start = self.last = time.perf_counter()
        self.phases: list[Phase] = []
        self.trace: list[TracePoint] = []
        self.engine: ExactResult | None = None
        self.capped = False  # a safety cap (time limit, deadline) cut the search short

    def seconds(self) -> float:
        """Wall-clock seconds since the run started."""
        return time.perf_counter() - self.start

    def search_left(self, problem: Problem) -> tuple[float, bool]:
        """Wall seconds the search may still take, and whether the run's deadline (not the
        time limit) sets them: the time limit less what building the plan will take, and
        the deadline less what follows the search at the current pace."""
        own = self.time_limit_s - self.seconds() - _assembly_reserve(problem)
        if self.deadline is None:
            return own, False
        run = self.deadline.search_left()
        return min(own, run), run < own

    def phase(
        self, name: str, value: float | None = None, bound: float | None = None, traced: bool = True
    ) -> None:
        """Close the phase ``name`` (no work counted); trace the values where ``traced`` (a
        packing that places every VM: the bound holds for those only) and report them."""
        now = time.perf_counter()
        self.phases.append(Phase(name, now - self.last))
        self.last = now
        if value is not None and bound is not None and traced:
            self.trace.append(TracePoint(name, now - self.start, 0.0, value, bound))
        self.report(name, value, bound)

    def report(self, stage: str, value: float | None, bound: float | None) -> None:
        """Tell ``progress`` of a stage (the engine's too)."""
        if self.progress:
            self.progress(SolveProgress(stage, value, bound, self.seconds()))

    def add_engine(self, result: ExactResult, began: float, value: float, bound: float) -> None:
        """The engine's phases, begun ``began`` seconds into the run; its trace covers the
        partitions it worked on, so ``value`` and ``bound`` of the others are added."""
        self.engine = result
        self.phases.extend(result.phases)
        self.trace.extend(
            replace(
                t,
                seconds=began + t.seconds,
                incumbent=value + t.incumbent,
                bound=bound + t.bound,
            )
            for t in result.trace
        )
        self.last = time.perf_counter()

    def statistics(self) -> SolveStatistics:
        """The statistics of the run so far."""
        e = self.engine
        return SolveStatistics(
            tuple(self.phases),
            tuple(self.trace),
            e.iterations if e else 0,
            e.columns if e else 0,
            self.capped or (e.capped if e else False),
        )


def _search(problem: Problem, params: SolverParams, log: _Log, warm: Plan | None) -> _Found:
    """The best packing of ``problem`` the phases find within ``params``, and its bounds."""
    bounds = lower_bounds(problem)
    packing, failed = first_fit_decreasing(problem)
    capped_proof = False
    if failed:
        log.phase("first-fit decreasing")
        packing, failed, capped_proof = _place_capped(problem, packing, failed, params.seed)
        name = "capped placement"
    else:
        name = "first-fit decreasing"
    active_value = packing_objective(problem, packing)[0]
    start_from = warm_packing(warm, problem) if warm is not None else None
    if start_from is not None:
        started = start_from if failed else _warm_start(problem, packing, start_from)
        if started != packing:
            packing, failed, active_value = started, {}, packing_objective(problem, started)[0]
            name += " (warm start)"
    cheap = _active_bound(problem, bounds)
    log.phase(name, active_value, cheap, traced=not failed)
    engine, active_bound = "first-fit decreasing", cheap
    # Small partitions (cost objective): the exact CP-SAT model, spares included; the
    # engine then works on the others only.
    small = [] if failed else _small_cost_partitions(problem)
    capped = False  # the wall clock stopped the engine before its work budget
    small_bound, k = 0.0, 0
    if small and not meets_bound(active_value, cheap):
        # Spares join the model only where no max_count caps a model (capped models may
        # leave the spares of mixed models, which the model does not weigh).
        max_counted = any(t.model.max_count is not None for t in problem.host_types)
        k = 0 if max_counted else problem.policy.ha_host_failures
        exact = assign_cost(
            problem,
            small,
            SMALL_COST_WORK,
            spares=k,
            wall=0.5 * params.time_limit_s,
            seed=params.seed,
        )
        if exact is None:
            small = []
        else:
            engine = "CP-SAT cost model"
            # Kept where the whole (active hosts and their spares) is cheaper: the model
            # weighs the spares too, so its active hosts alone may cost more.
            candidate = _replace(packing, small, exact.bins)
            if with_spares(problem, candidate) < with_spares(problem, packing):
                packing = candidate
                active_value = packing_objective(problem, packing)[0]
            small_bound = lp_bound(exact.bound)
        log.phase("CP-SAT cost model", active_value, cheap)
    else:
        small = []
    large = [p for p, part in enumerate(problem.partitions) if part.vms and p not in small]
    large_bound = sum(bounds.partition_cost[p] for p in large) if small else active_bound
    if owns_search(problem):  # the fewest-moves model finds and proves the fewest hosts
        large = []
    # The engine runs unless the active hosts meet their bound, and, with N+k spares under
    # the cost objective, the plan with its spares meets the bound of its spare structures.
    spares_open = (
        problem.policy.objective == "cost"
        and problem.policy.ha_host_failures > 0
        and not meets_bound(with_spares(problem, packing), bounds.joint_cost)
    )
    by_deadline = False  # the run's deadline, not the time limit, cut the search
    if large and not failed and (spares_open or not meets_bound(active_value, active_bound)):
        # time_limit_s bounds the whole solve: keep back what building the plan will take
        # (and, with a deadline, what follows the solve).
        budget, by_deadline = log.search_left(problem)
        sub, sub_bounds = problem, bounds
        if small:  # the engine sees the large partitions only
            sub = _only(problem, large)
            sub_bounds = lower_bounds(sub)
        # Where the spares weigh, the engine plans within the spare model the bounds favour.
        sub, within = _within_spares(sub, bounds, large)
        start = tuple(b for b in packing if b.partition in large)
        if within:
            sub_bounds = lower_bounds(sub)
            start = _steered_start(sub, start, within)
        # Large cost partitions: part of the budget re-packs their host groups by host count.
        unsteered = [p for p in large if p not in within]
        grouped = groups(problem, packing, unsteered)
        share = 1.0 - _repack_share(grouped)
        began = log.seconds()
        result = improve(
            sub,
            start,
            max(0.0, share * budget),
            log.report,
            sub_bounds,
            work_s=share * params.work_s,
            seed=params.seed,
        )
        engine = (
            "column generation + exact search"
            if not small
            else "CP-SAT cost model + column generation + exact search"
        )
        kept = [b for b in packing if b.vms and b.partition not in large]
        log.add_engine(
            result,
            began,
            packing_objective(problem, kept)[0],
            sum(bounds.partition_cost[p] for p in small),
        )
        packing = _keep_cheaper(problem, packing, large, result.packing)
        # Where time is left under the time limit and the run's deadline.
        if grouped and log.search_left(problem)[0] > 0.0:
            chosen = groups(problem, packing, unsteered)

            def by_count(sub: Problem, first: Packing) -> Packing:
                left = log.search_left(problem)[0]  # the time limit, and the run's deadline
                found = improve(
                    sub,
                    first,
                    max(0.0, left),
                    None,
                    work_s=_repack_share(grouped) * params.work_s,
                    seed=params.seed,
                )
                return found.packing

            packing = repack(problem, packing, chosen, by_count)
            log.phase("re-packing by host count", packing_objective(problem, packing)[0])
        large_bound = max(large_bound, result.bound)
        # No time left at all: the engine did not start, which the plan says as well.
        capped = result.capped or budget <= 0.0
        log.capped = capped
        if problem.policy.objective == "cost" and result.partition_bounds:
            # The engine's bound on each partition's active hosts, with its spare structures;
            # where it planned within a spare model, its bound holds for that structure only.
            active = {
                p: max(
                    bounds.partition_cost[p],
                    0.0 if p in within else result.partition_bounds.get(p, 0.0),
                )
                for p in large
            }
            steered = {p: (s, result.partition_bounds.get(p, 0.0)) for p, s in within.items()}
            spared = (
                0.0
                if not small
                else small_bound
                + (0.0 if k else sum(bounds.partition_spare_cost[p] for p in small))
            )
            bounds = replace(
                bounds,
                joint_cost=max(
                    bounds.joint_cost, spared + structured_cost(bounds, active, steered)
                ),
            )
    if small:
        # Small partitions: the CP-SAT bound (spares included); large ones: the engine's
        # bound on their active hosts plus their spares' floor.
        spare_floor = sum(bounds.partition_spare_cost[p] for p in (large if k else large + small))
        bounds = replace(
            bounds, joint_cost=max(bounds.joint_cost, small_bound + large_bound + spare_floor)
        )
    else:
        active_bound = max(active_bound, large_bound)
    if problem.policy.objective == "hosts":
        bounds = replace(
            bounds, hosts=max(bounds.hosts, host_count_bound(active_bound) + bounds.spare_hosts)
        )
    else:
        bounds = replace(
            bounds, cost=max(bounds.cost, bounds.joint_cost, active_bound + bounds.spare_cost)
        )
    notes = (_capped_note(problem, params, by_deadline),) if capped else ()
    # Objective hosts breaks ties by cost; on an existing estate fewer moves come first.
    if problem.policy.objective == "hosts" and not owns_search(problem):
        packing, tie_note = _cost_tie_break(problem, packing)
        notes = (*notes, tie_note)
    # Today's estate: among plans as good, the one that moves the fewest VMs.
    reserve = log.search_left(problem)[0]
    packing, moved = fewest_moves(problem, packing, bool(failed), params, reserve)
    if moved is not None:
        log.phase("fewest moves")
        if moved.active_bound:  # CP-SAT proved the fewest owned hosts
            spares = bounds.spare_hosts
            bounds = replace(bounds, hosts=max(bounds.hosts, moved.active_bound + spares))
        if owns_search(problem) and not failed:
            engine = "CP-SAT fewest owned hosts, then fewest moves"
    elif not failed:
        packing, reserved = _reserve_spares(problem, packing, params.seed)
        if reserved:
            log.phase("hosts kept for spares")
            notes = (*notes, reserved)
    return _Found(packing, failed, bounds, engine, capped_proof, notes, moved)


def _reserve_spares(problem: Problem, packing: Packing, seed: int) -> tuple[Packing, str | None]:
    """Where ``packing`` leaves some cluster without its N+k spares because a capped model's
    hosts all went to active hosts (no other model can take over the busiest host): the
    cheapest of the plans made with one capped model's ``max_count`` lowered by the spares it
    must give (k, or k per partition), which meets N+k, and a note saying so.

    The search did not weigh the spares; these plans are made by first fit (and, where it
    leaves VMs out, the exact capped placement), deterministic. Where none meets N+k the
    packing stays as it is, and the plan is ``partial``.
    """
    k = problem.policy.ha_host_failures
    capped = [t for t in problem.host_types if t.model.max_count]
    if k == 0 or not capped or spares_complete(problem, packing):
        return packing, None
    parts = sorted({b.partition for b in packing if b.vms})
    spare_able = {s for p in parts for s in spare_candidates(problem, problem.partitions[p])}
    tries = sorted(
        (t for t in capped if t.index in spare_able), key=lambda t: (host_total(t), t.index)
    )[:RESERVE_TRIES]
    best: tuple[tuple[float, ...], Packing, HostType | None, int] | None = None
    # First fit itself, where it keeps the spares: the search may have traded them away.
    first, lost = first_fit_decreasing(problem)
    if not lost and spares_complete(problem, first):
        best = (_value_with_spares(problem, first), first, None, 0)
    for t in tries:
        cap = t.model.max_count or 0
        for kept in sorted({k, k * len(parts)}):
            if kept > cap:
                continue
            reduced = _lower_cap(problem, t.index, kept)
            candidate, lost = first_fit_decreasing(reduced)
            if lost:
                candidate, lost, _ = _place_capped(reduced, candidate, lost, seed)
            if lost or not spares_complete(problem, candidate):
                continue
            if problem.policy.objective == "hosts":  # as the search does: cost breaks ties
                cheaper, _ = cheaper_same_hosts(reduced, candidate)
                if spares_complete(problem, cheaper):
                    candidate = cheaper
            key = _value_with_spares(problem, candidate)
            if best is None or key < best[0]:
                best = (key, candidate, t, kept)
    if best is None:
        return packing, None
    _, chosen, reserved, kept = best
    if reserved is None:
        return chosen, (
            f"N+{k}: the search's plan left no model to take over its busiest host; first "
            "fit's plan, which keeps the spares, stands"
        )
    cap = reserved.model.max_count or 0
    return chosen, (
        f"N+{k}: at most {cap - kept} active hosts of {reserved.model.model} (max_count {cap}), "
        f"leaving {kept} for the spares: with all {cap} active, no model left could take over "
        "the busiest host"
    )


def _lower_cap(problem: Problem, t_index: int, by: int) -> Problem:
    """``problem`` with host type ``t_index``'s ``max_count`` lowered by ``by``."""
    return problem.model_copy(
        update={
            "host_types": tuple(
                t
                if t.index != t_index or t.model.max_count is None
                else t.model_copy(
                    update={
                        "model": t.model.model_copy(update={"max_count": t.model.max_count - by})
                    }
                )
                for t in problem.host_types
            )
        }
    )


def _value_with_spares(problem: Problem, packing: Packing) -> tuple[float, ...]:
    """The plan's objective with its spares, as ``build_plan`` prices them: hosts (then
    cost) or cost."""
    active, spares, _ = add_spares(problem, packing, host_plans(problem, packing))
    cost = sum(h.cost.total for h in (*active, *spares))
    if problem.policy.objective == "hosts":
        return (float(len(active) + len(spares)), cost)
    return (cost,)


def _capped_note(problem: Problem, params: SolverParams, by_deadline: bool) -> str:
    """What the plan says when a safety cap stopped its search before the work budget."""
    if by_deadline:
        cap = (
            f"the run's deadline (the time limit of {params.time_limit_s:g} s plus the "
            f"allowance for {len(problem.vms):,} VMs, counted from the start of the process)"
        )
    else:
        cap = f"the time limit ({params.time_limit_s:g} s)"
    return (
        f"{cap} stopped the search before its work budget was spent (a busy or slower "
        "machine): a run on a quieter one may find a different plan"
    )


def _cost_tie_break(problem: Problem, packing: Packing) -> tuple[Packing, str]:
    """Objective ``hosts``: the cheapest plan found with the same hosts per partition, and a
    note saying what was done and that its cost is not proven minimal."""
    cheaper, saved = cheaper_same_hosts(problem, packing)
    done = (
        f"saved {saved:,.0f} on the active hosts by keeping licensed VMs together and "
        "putting each host on the cheapest model that holds its VMs"
        if saved > 0
        else "no cheaper arrangement of the VMs on as many hosts was found"
    )
    return cheaper, (
        f"objective hosts: among plans with this many hosts the cost was lowered ({done}); "
        "the host count is what the status and gap refer to, the cost among plans with that "
        "many hosts is not proven minimal"
    )


def _warm_start(problem: Problem, packing: Packing, warm: Packing) -> Packing:
    """Per partition the better of ``packing`` and ``warm`` (both place every VM): by host
    count, or by cost with the N+k spares each needs (a plan of bigger hosts costs less
    before its spares and may cost more after). Where the mix breaks a ``max_count``, the
    better of the two whole packings."""

    def score(bins: Sequence[HostBin]) -> tuple[float, float]:
        if problem.policy.objective == "hosts":
            return packing_objective(problem, bins)
        return with_spares(problem, tuple(bins)), 0.0

    def of(bins: Packing, p: int) -> list[HostBin]:
        return [b for b in bins if b.partition == p and b.vms]

    mixed: list[HostBin] = []
    for p in range(len(problem.partitions)):
        ours, theirs = of(packing, p), of(warm, p)
        mixed.extend(theirs if score(theirs) < score(ours) else ours)
    counts = Counter(b.type_index for b in mixed)
    if all(
        t.model.max_count is None or counts[t.index] <= t.model.max_count
        for t in problem.host_types
    ):
        return tuple(mixed)
    return warm if score(warm) < score(packing) else packing


def warm_packing(plan: Plan, problem: Problem) -> Packing | None:
    """``plan``'s placement carried over to ``problem`` (a nearby scenario: the app's previous
    setting), repaired where it breaks a rule of ``problem``; None where no host carries over.

    Each active host of ``plan`` whose model is still in the catalog keeps the VMs of its
    main partition that still fit it, those whose licences the host pays first, then the
    largest (capacity, the model each VM may run on, anti-affinity); hosts beyond a model's
    ``max_count`` are given up, those holding the fewest VMs first. The VMs left over (and
    those ``plan`` did not place) then go by first fit to the kept hosts' free room and to
    new hosts (``heuristic.complete``), licensed VMs to hosts that pay their licences.
    """
    index = {v.name: i for i, v in enumerate(problem.vms)}
    part_of = {i: p for p, part in enumerate(problem.partitions) for i in part.vms}
    type_of = {t.model.model: t.index for t in problem.host_types}
    priced = host_priced_tags(problem)
    kept: list[HostBin] = []
    for h in plan.active_hosts:
        t = type_of.get(h.model)
        members = [i for i in (index.get(n) for n in h.vms) if i is not None]
        if t is None or not members:
            continue
        ht = problem.host_types[t]
        main = Counter(part_of[i] for i in members).most_common(1)[0][0]
        mine = sorted(
            (i for i in members if part_of[i] == main and t in problem.vms[i].fits),
            key=lambda i: (
                not priced.intersection(problem.vms[i].tags),  # licensed VMs stay first
                -(problem.vms[i].cpu_m / ht.cpu_cap_m + problem.vms[i].mem_mib / ht.mem_cap_mib),
                i,
            ),
        )
        cpu, mem = ht.cpu_cap_m, ht.mem_cap_mib
        groups_in: set[str] = set()
        held: list[int] = []
        for i in mine:
            v = problem.vms[i]
            if v.cpu_m > cpu or v.mem_mib > mem or len(held) >= ht.vm_cap or v.group in groups_in:
                continue
            cpu, mem = cpu - v.cpu_m, mem - v.mem_mib
            held.append(i)
            if v.group:
                groups_in.add(v.group)
        if held:
            kept.append(HostBin(main, t, tuple(sorted(held))))
    for ht in problem.host_types:
        cap = ht.model.max_count
        of_type = [b for b in kept if b.type_index == ht.index]
        if cap is not None and len(of_type) > cap:
            dropped = sorted(of_type, key=lambda b: (len(b.vms), b.vms))[: len(of_type) - cap]
            kept = [b for b in kept if b not in dropped]
    if not kept:
        return None
    placed = {i for b in kept for i in b.vms}
    return complete(problem, kept, [i for i in range(len(problem.vms)) if i not in placed])


def _place_capped(
    problem: Problem, packing: Packing, failed: dict[int, str], seed: int
) -> tuple[Packing, dict[int, str], bool]:
    """First-fit left VMs out: place the capped-only VMs exactly, then the rest by first fit.

    Returns the packing, the VMs still left out, and whether leaving them out is proven
    unavoidable (no plan places every VM).
    """
    placed = place_capped(problem, CAPPED_WORK, seed)
    if placed.outcome == "infeasible":
        reason = "no plan places it: the models that can hold it are capped by max_count (proven)"
        return packing, {i: f"{r}; {reason}" for i, r in failed.items()}, True
    if placed.outcome == "unknown":
        return packing, failed, False
    # The capped-only VMs are placed; every other VM fits an uncapped model.
    done = {i for b in placed.bins for i in b.vms}
    used = Counter(b.type_index for b in placed.bins)
    rest = problem.model_copy(
        update={
            "partitions": tuple(
                p.model_copy(update={"vms": tuple(i for i in p.vms if i not in done)})
                for p in problem.partitions
            ),
            "host_types": tuple(
                t
                if t.model.max_count is None
                else t.model_copy(
                    update={
                        "model": t.model.model_copy(
                            update={"max_count": t.model.max_count - used[t.index]}
                        )
                    }
                )
                for t in problem.host_types
            ),
        }
    )
    more, still = first_fit_decreasing(rest)
    if still:  # pragma: no cover - every VM left fits an uncapped model
        return packing, failed, False
    return placed.bins + more, {}, False


def _keep_cheaper(problem: Problem, packing: Packing, parts: list[int], bins: Packing) -> Packing:
    """``packing`` with the partitions ``parts`` taken from ``bins`` (the engine's plan of
    their active hosts), except, for the cost objective with N+k spares, a partition whose
    engine plan costs more once its spares are added (bigger hosts need bigger spares,
    which the engine does not weigh): that one keeps the hosts the engine started from."""
    if problem.policy.objective != "cost" or problem.policy.ha_host_failures == 0:
        return _replace(packing, parts, bins)
    for p in parts:
        trial = _replace(packing, [p], tuple(b for b in bins if b.partition == p))
        # One partition's hosts from the engine, another's from the start: where max_count
        # couples the partitions, such a mix may use a capped model too often.
        if _within_caps(problem, trial) and with_spares(problem, trial) < with_spares(
            problem, packing
        ):
            packing = trial
    return packing


def _within_caps(problem: Problem, packing: Packing) -> bool:
    """No host model of ``packing`` is used more often than its ``max_count``."""
    used = Counter(b.type_index for b in packing if b.vms)
    return all(
        t.model.max_count is None or used[t.index] <= t.model.max_count for t in problem.host_types
    )


def _replace(packing: Packing, parts: list[int], bins: Packing) -> Packing:
    """``packing`` with the hosts of partitions ``parts`` replaced by ``bins``."""
    kept = tuple(b for b in packing if b.partition not in parts)
    return tuple(sorted(kept + bins, key=lambda b: b.partition))


def _small_cost_partitions(problem: Problem) -> list[int]:
    """Partitions the exact cost model solves (cost objective): those of at most
    ``SMALL_COST_MAX_VMS`` VMs, where no ``max_count`` couples them to others."""
    if problem.policy.objective != "cost" or not problem.vms:
        return []
    used = [p for p, part in enumerate(problem.partitions) if part.vms]
    small = [p for p in used if len(problem.partitions[p].vms) <= SMALL_COST_MAX_VMS]
    coupled = any(t.model.max_count is not None for t in problem.host_types)
    if coupled and len(used) > 1:
        return []
    return small


REPACK_SHARE = 0.3  # of the engine's budget, for re-packing host groups (``planner.repack``)
REPACK_SHARE_LARGE = 0.6  # ... where the groups hold REPACK_LARGE_VMS or more
REPACK_LARGE_VMS = 20_000  # at this size the cost search seldom betters first fit; packing does


def _repack_share(chosen: Sequence[Group]) -> float:
    """The share of the engine's budget the re-packing of ``chosen`` groups takes."""
    if not chosen:
        return 0.0
    large = sum(len(g.vms) for g in chosen) >= REPACK_LARGE_VMS
    return REPACK_SHARE_LARGE if large else REPACK_SHARE


SPARE_WEIGHT = 0.02  # spares this share of a partition's cost bound steer the engine


def _within_spares(
    problem: Problem, bounds: Bounds, parts: list[int]
) -> tuple[Problem, dict[int, int]]:
    """``problem`` with the engine steered to the spare structure each partition's bound
    favours, and that structure's spare model per partition so steered.

    Cost objective, N+k, no max_count: every plan of a partition picks a spare model s that
    takes over its busiest host, so no active host holds more than s (``bounds.Way``). Where
    the least bound is such a way and its spares weigh (``SPARE_WEIGHT``), the partition's
    VMs lose the models that are bigger than s and cost more in every respect: such a host
    can be replaced by one of model s in any plan of that way, so the engine's bound stays
    valid for the way, and its plans are plans of ``problem``.
    """
    policy = problem.policy
    if (
        policy.objective != "cost"
        or not policy.ha_host_failures
        or any(t.model.max_count is not None for t in problem.host_types)
    ):
        return problem, {}
    drop: dict[int, set[int]] = {}
    within: dict[int, int] = {}
    for p in parts:
        ways = bounds.partition_ways[p]
        best = min(ways, key=lambda w: w.active + w.spares)
        if best.model is None or best.spares < SPARE_WEIGHT * (best.active + best.spares):
            continue
        s = best.model
        bigger = {t for t in range(len(problem.host_types)) if _replaces(problem, p, s, t)}
        if bigger:
            drop[p], within[p] = bigger, s
    if not drop:
        return problem, {}
    vms = list(problem.vms)
    for p, gone in drop.items():
        for i in problem.partitions[p].vms:
            fits = tuple(t for t in vms[i].fits if t not in gone)
            vms[i] = vms[i].model_copy(update={"fits": fits})
    return problem.model_copy(update={"vms": tuple(vms)}), within


def _replaces(problem: Problem, p: int, s: int, t: int) -> bool:
    """A host of type s can replace one of type t that holds no more than s does, in
    partition p, at no more cost: t is bigger, has as many cores and sockets (per-core and
    per-socket licences cost no less on it), and what s saves in fixed cost and the licences
    of VMs that may move onto it covers the most its energy at that load can cost more."""
    if s == t:
        return False
    a, b = problem.host_types[s], problem.host_types[t]
    saving = (
        host_total(b)
        - host_total(a)
        + mobile_licence_cost(problem, p, t)
        - mobile_licence_cost(problem, p, s)
    )
    energy = a.energy_per_util_cost - b.energy_per_util_cost * a.model.cores / b.model.cores
    return (
        b.cpu_cap_m >= a.cpu_cap_m
        and b.mem_cap_mib >= a.mem_cap_mib
        and b.vm_cap >= a.vm_cap
        and (b.cpu_cap_m, b.mem_cap_mib, b.vm_cap) != (a.cpu_cap_m, a.mem_cap_mib, a.vm_cap)
        and b.model.cores >= a.model.cores
        and b.model.sockets >= a.model.sockets
        and saving >= max(0.0, energy)
    )


def _steered_start(problem: Problem, packing: Packing, steered: Iterable[int]) -> Packing:
    """``packing`` with the hosts of the ``steered`` partitions placed again by first fit
    within ``problem``'s models, so that the engine starts within them (its bound on them
    must not be capped by a plan outside them)."""
    parts = sorted(steered)
    ffd, failed = first_fit_decreasing(_only(problem, parts))
    if failed:
        return packing
    return _replace(packing, parts, ffd)


def _only(problem: Problem, parts: list[int]) -> Problem:
    """``problem`` with every partition but ``parts`` emptied (indices kept)."""
    return problem.model_copy(
        update={
            "partitions": tuple(
                part if p in parts else part.model_copy(update={"vms": ()})
                for p, part in enumerate(problem.partitions)
            )
        }
    )


def _assembly_reserve(problem: Problem) -> float:
    """Seconds to keep for building and analysing the plan (measured, with verification: ~0.2
    s per 10,000 VMs on the reference machine, doubled for safety)."""
    return 0.05 + 5e-5 * len(problem.vms)


def _active_bound(problem: Problem, bounds: Bounds) -> float:
    """The cheap lower bound on the objective of the active hosts (spares excluded)."""
    if problem.policy.objective == "hosts":
        return float(bounds.hosts - bounds.spare_hosts)
    return bounds.cost - bounds.spare_cost
