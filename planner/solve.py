"""solve(problem) -> Plan: pack, add N+k spares, simulate failures, price, bound, verify.

First-fit decreasing (``heuristic``) packs at once; the exact engine (``exact``) then improves
and bounds that packing. Whatever the engine, the returned plan has passed ``verify``.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from planner.bounds import Bounds, licence_floor, lower_bounds, spare_candidates
from planner.clusters import plan_clusters
from planner.costs import host_cost, hypervisor_licences, tag_licences, watts, workload_cost
from planner.dedicated import dedicated_baseline
from planner.errors import PlannerError
from planner.exact import improve
from planner.exact.assign_cost import MAX_VMS, assign_cost
from planner.explain import partition_reasons
from planner.failover import simulate_failures
from planner.feasibility import place_capped
from planner.heuristic import UNLIMITED, first_fit_decreasing
from planner.models import CostBreakdown, Explanation, HostPlan, Plan, Problem, Status, Unplaced
from planner.packing import HostBin, Packing, bin_licences, packing_objective
from planner.tolerances import host_count_bound, lp_bound, meets_bound
from planner.verify import verify

__all__ = ["Progress", "SolveProgress", "assemble", "plan_status", "solve", "warm_packing"]

CAPPED_WORK = 5.0  # CP-SAT deterministic time for placing the VMs only capped models can run
SMALL_COST_WORK = 1.0  # CP-SAT deterministic time for the exact cost model of small estates
SMALL_COST_MAX_VMS = MAX_VMS  # partitions up to this size get the exact cost model


@dataclass(frozen=True)
class SolveProgress:
    """A progress report: the best objective so far and the best bound, if known."""

    stage: str
    objective: float | None
    bound: float | None
    seconds: float


Progress = Callable[[SolveProgress], None]


def solve(problem: Problem, progress: Progress | None = None, warm: Plan | None = None) -> Plan:
    """Plan ``problem``: the best packing found, spares, failure checks, costs and bounds.

    ``warm`` is a plan of a nearby scenario (the app's previous setting): where its
    placement is valid for ``problem`` and better than first fit, the search starts from it.

    First-fit decreasing gives a plan at once. Where it leaves VMs out (``max_count`` caps),
    an exact model places them or proves that no plan can (``feasibility``). Unless the plan
    already meets the lower bound, the exact engine (column generation + exact search,
    ``exact``) improves it within ``policy.time_limit_s`` and proves it optimal or bounds
    the gap.

    Raises:
        PlannerError: the plan failed the independent verification (a bug, never expected).
    """
    start = time.perf_counter()
    bounds = lower_bounds(problem)
    packing, failed = first_fit_decreasing(problem)
    capped_proof = False
    if failed:
        packing, failed, capped_proof = _place_capped(problem, packing, failed)
    active_value = packing_objective(problem, packing)[0]
    start_from = warm_packing(warm, problem) if warm is not None else None
    if start_from is not None and (
        failed or packing_objective(problem, start_from)[0] < active_value
    ):
        packing, failed, active_value = start_from, {}, packing_objective(problem, start_from)[0]
    cheap = _active_bound(problem, bounds)
    if progress:
        progress(SolveProgress("first-fit decreasing", active_value, cheap, _since(start)))
    engine, active_bound = "first-fit decreasing", cheap
    # Small partitions (cost objective): the exact CP-SAT model, spares included; the
    # engine then works on the others only.
    small = [] if failed else _small_cost_partitions(problem)
    capped = False  # the wall clock stopped the engine before its work budget
    small_bound, k = 0.0, 0
    if small and not meets_bound(active_value, cheap):
        # Spares join the model only where no max_count caps a model (capped models may
        # leave the spares of mixed models, which the model does not weigh).
        capped = any(t.model.max_count is not None for t in problem.host_types)
        k = 0 if capped else problem.policy.ha_host_failures
        exact = assign_cost(
            problem,
            small,
            SMALL_COST_WORK,
            spares=k,
            wall=0.5 * problem.policy.time_limit_s,
        )
        if exact is None:
            small = []
        else:
            engine = "CP-SAT cost model"
            # Kept where the whole (active hosts and their spares) is cheaper: the model
            # weighs the spares too, so its active hosts alone may cost more.
            candidate = _replace(packing, small, exact.bins)
            if _with_spares(problem, candidate) < _with_spares(problem, packing):
                packing = candidate
                active_value = packing_objective(problem, packing)[0]
            small_bound = lp_bound(exact.bound)
    else:
        small = []
    large = [p for p, part in enumerate(problem.partitions) if part.vms and p not in small]
    large_bound = sum(bounds.partition_cost[p] for p in large) if small else active_bound
    if large and not failed and not meets_bound(active_value, active_bound):

        def report(stage: str, value: float | None, bound: float | None) -> None:
            if progress:
                progress(SolveProgress(stage, value, bound, _since(start)))

        # time_limit_s bounds the whole solve: keep back what assembling the plan will take.
        budget = problem.policy.time_limit_s - _since(start) - _assembly_reserve(problem)
        sub, sub_bounds = problem, bounds
        if small:  # the engine sees the large partitions only
            sub = _only(problem, large)
            sub_bounds = lower_bounds(sub)
        result = improve(
            sub,
            tuple(b for b in packing if b.partition in large),
            max(0.0, budget),
            report,
            sub_bounds,
        )
        engine = (
            "column generation + exact search"
            if not small
            else "CP-SAT cost model + column generation + exact search"
        )
        packing = _replace(packing, large, result.packing)
        large_bound = max(large_bound, result.bound)
        capped = result.capped
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
    notes = (
        [
            f"the time limit ({problem.policy.time_limit_s:g} s) stopped the search before its "
            "work budget was spent (a busy or slower machine): a run on a quieter one may find "
            "a different plan"
        ]
        if capped
        else []
    )
    return assemble(problem, packing, failed, bounds, engine, start, capped_proof, notes)


def warm_packing(plan: Plan, problem: Problem) -> Packing | None:
    """``plan``'s placement as a packing of ``problem``, or None where it breaks a rule.

    Every VM of ``problem`` must be on an active host of ``plan`` whose model is still in
    the catalog; each host must hold its VMs under ``problem``'s capacities, run only VMs of
    one partition, keep anti-affinity groups apart, and ``max_count`` must hold.
    """
    index = {v.name: i for i, v in enumerate(problem.vms)}
    part_of = {i: p for p, part in enumerate(problem.partitions) for i in part.vms}
    type_of = {t.model.model: t.index for t in problem.host_types}
    bins: list[HostBin] = []
    for h in plan.active_hosts:
        t = type_of.get(h.model)
        vms = [index.get(n) for n in h.vms]
        if t is None or any(i is None for i in vms):
            return None
        members = sorted(i for i in vms if i is not None)
        sized = [problem.vms[i] for i in members]
        ht = problem.host_types[t]
        groups = [v.group for v in sized if v.group]
        if (
            len({part_of[i] for i in members}) != 1
            or sum(v.cpu_m for v in sized) > ht.cpu_cap_m
            or sum(v.mem_mib for v in sized) > ht.mem_cap_mib
            or len(sized) > ht.vm_cap
            or any(t not in v.fits for v in sized)
            or len(groups) != len(set(groups))
        ):
            return None
        bins.append(HostBin(part_of[members[0]], t, tuple(members)))
    counts = Counter(b.type_index for b in bins)
    if sum(len(b.vms) for b in bins) != len(problem.vms) or any(
        t.model.max_count is not None and counts[t.index] > t.model.max_count
        for t in problem.host_types
    ):
        return None
    return tuple(bins)


def _place_capped(
    problem: Problem, packing: Packing, failed: dict[int, str]
) -> tuple[Packing, dict[int, str], bool]:
    """First-fit left VMs out: place the capped-only VMs exactly, then the rest by first fit.

    Returns the packing, the VMs still left out, and whether leaving them out is proven
    unavoidable (no plan places every VM).
    """
    placed = place_capped(problem, CAPPED_WORK, problem.policy.seed)
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


def _replace(packing: Packing, parts: list[int], bins: Packing) -> Packing:
    """``packing`` with the hosts of partitions ``parts`` replaced by ``bins``."""
    kept = tuple(b for b in packing if b.partition not in parts)
    return tuple(sorted(kept + bins, key=lambda b: b.partition))


def _with_spares(problem: Problem, packing: Packing) -> float:
    """The objective of a packing with the N+k spares ``_spares`` would add to it."""
    spares, _ = _spares(problem, packing, 0)
    return packing_objective(problem, packing)[0] + sum(h.cost.total for h in spares)


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
    """Seconds to keep for pricing, verifying and simulating failures (measured: ~0.2 s per
    10,000 VMs on the reference machine, doubled for safety)."""
    return 0.05 + 5e-5 * len(problem.vms)


def _active_bound(problem: Problem, bounds: Bounds) -> float:
    """The cheap lower bound on the objective of the active hosts (spares excluded)."""
    if problem.policy.objective == "hosts":
        return float(bounds.hosts - bounds.spare_hosts)
    return bounds.cost - bounds.spare_cost


def _since(start: float) -> float:
    return time.perf_counter() - start


def assemble(
    problem: Problem,
    packing: Packing,
    failed: dict[int, str],
    bounds: Bounds,
    engine: str,
    start: float,
    unplaced_proven: bool = False,
    run_notes: Sequence[str] = (),
) -> Plan:
    """Turn a packing into a verified ``Plan`` (spares, licences, costs, failures, baseline).

    ``failed`` are VMs the packing leaves out, with the reason; ``unplaced_proven`` says no
    plan could place them; ``run_notes`` are what the run itself reports (the safety cap).
    ``bounds`` must be valid for every plan that meets the rules.
    """
    notes = [*problem.notes, *run_notes]
    active = _host_plans(problem, packing)
    active, spares, spare_notes = plan_clusters(problem, packing, active, _spares)
    notes += spare_notes
    hosts = tuple(active + spares)
    notes += _island_notes(problem, hosts, bounds)
    unplaced = problem.unplaced + tuple(
        Unplaced(vm=problem.vms[i].name, reason=r, cause="no_room")
        for i, r in sorted(failed.items())
    )
    cost = sum((h.cost for h in hosts), CostBreakdown())
    spares_missing = len(spares) < problem.policy.ha_host_failures * _partitions_used(packing)
    value = cost.total if problem.policy.objective == "cost" else float(len(hosts))
    # Per-VM costs (storage, administration) do not depend on the packing: the engines
    # leave them out, the plan carries them, so the bound gets them too.
    lower_cost = (
        bounds.cost
        + workload_cost(
            (problem.inventory.vms[v.index] for v in problem.vms), problem.policy, "shared"
        ).total
    )
    bound = lower_cost if problem.policy.objective == "cost" else float(bounds.hosts)
    status = plan_status(problem, bool(failed), unplaced_proven, spares_missing, value, bound)
    failures, failure_check = simulate_failures(problem, hosts)
    plan = Plan(
        status=status,
        engine=engine,
        objective=problem.policy.objective,
        hosts=hosts,
        unplaced=unplaced,
        lower_bound_hosts=bounds.hosts,
        lower_bound_cost=lower_cost,
        cost=cost,
        solve_seconds=0.0,  # set below: the whole solve() call, assembly included
        failures=failures,
        failure_check=failure_check,
        dedicated=dedicated_baseline(problem),
        explanation=_explain(problem, active, bounds),
        notes=tuple(notes),
    )
    problems = verify(plan, problem)
    if problems:
        raise PlannerError("the plan failed verification:\n" + "\n".join(problems))
    return plan.model_copy(update={"solve_seconds": _since(start)})


def plan_status(
    problem: Problem,
    failed: bool,
    unplaced_proven: bool,
    spares_missing: bool,
    value: float,
    bound: float,
) -> Status:
    """The plan's status: a claim the plan can back.

    ``infeasible``: no plan meets the rules, with a proof (a VM fits no model, or the capped
    models cannot hold the VMs only they can run). ``partial``: VMs left out or spares
    missing, without such a proof. ``optimal``: every rule met and the objective meets a
    valid lower bound (``tolerances.meets_bound``). ``feasible``: every rule met, with a gap.
    """
    if any(u.cause == "too_large" for u in problem.unplaced) or (failed and unplaced_proven):
        return "infeasible"
    if failed or spares_missing:
        return "partial"
    return "optimal" if meets_bound(value, bound) else "feasible"


def _island_notes(problem: Problem, hosts: Sequence[HostPlan], bounds: Bounds) -> list[str]:
    """Say whether isolating cluster-scoped licences (Oracle) on their own hosts pays off.

    The alternative, running those VMs in their cluster, licenses every host of it, spares
    included: at least (the cluster's host bound + k) times the cheapest grant. The island's
    actual cost, its spares included, is compared with that floor.
    """
    notes = []
    for part in problem.partitions:
        if not part.island:
            continue
        # Per-VM costs (storage, administration) are the same either way: leave them out.
        island = sum(h.cost.total for h in hosts if h.partition == part.key) - (
            workload_cost(
                (problem.inventory.vms[problem.vms[i].index] for i in part.vms),
                problem.policy,
                "shared",
            ).total
        )
        rest = [
            n
            for p, n in zip(problem.partitions, bounds.partition_hosts, strict=True)
            if (p.cluster, p.zone, p.island) == (part.cluster, part.zone, "")
        ]
        if not rest or not rest[0]:
            continue
        grant = licence_floor(problem, part.island.split(","))
        # The cluster's own spares would carry the licence too (they cover every tag).
        licensed = rest[0] + problem.policy.ha_host_failures
        floor = licensed * grant
        verdict = "cheaper" if island <= floor else "not shown to be cheaper"
        notes.append(
            f"{part.key}: the isolated hosts cost {island:,.0f} in all; licensing "
            f"'{part.island}' on the rest of the cluster instead would cost at least "
            f"{floor:,.0f} ({licensed} hosts x {grant:,.0f}), so isolating is {verdict}"
        )
    return notes


def _partitions_used(packing: Packing) -> int:
    return len({b.partition for b in packing if b.vms})


def _host_plans(problem: Problem, packing: Packing) -> list[HostPlan]:
    bins = sorted(
        (b for b in packing if b.vms),
        key=lambda b: (b.partition, b.type_index, -len(b.vms), b.vms),
    )
    width = max(2, len(str(len(bins) + problem.policy.ha_host_failures * 9)))
    return [_host_plan(problem, b, f"host-{n:0{width}d}", "active") for n, b in enumerate(bins, 1)]


def _host_plan(problem: Problem, b: HostBin, host_id: str, role: str) -> HostPlan:
    t = problem.host_types[b.type_index]
    vms = [problem.vms[i] for i in b.vms]
    cpu = sum(v.cpu_m for v in vms)
    mem = sum(v.mem_mib for v in vms)
    licences = bin_licences(problem, b)
    util = sum(v.load_m for v in vms) / (1000.0 * t.model.cores)
    shares = {
        "cpu": cpu / t.cpu_cap_m,
        "memory": mem / t.mem_cap_mib,
        "vm_count": len(vms) / t.vm_cap,
    }
    limiting = max(shares, key=lambda k: shares[k]) if vms else "none"
    return HostPlan(
        id=host_id,
        model=t.model.model,
        type_index=t.index,
        partition=problem.partitions[b.partition].key,
        role="active" if role == "active" else "spare",
        vms=tuple(v.name for v in vms),
        cpu_used_m=cpu,
        cpu_cap_m=t.cpu_cap_m,
        mem_used_mib=mem,
        mem_cap_mib=t.mem_cap_mib,
        vm_count=len(vms),
        vm_cap=t.vm_cap,
        licences=licences,
        cost=host_cost(
            t.model,
            licences,
            util,
            problem.policy,
            [problem.inventory.vms[v.index] for v in vms],
            "shared",
        ),
        watts=watts(t.model, util),
        limiting=limiting,
    )


def _spares(problem: Problem, packing: Packing, first_id: int) -> tuple[list[HostPlan], list[str]]:
    """k failover hosts per partition (design section 4: dedicated failover hosts).

    A spare must take over any one active host of its partition: its model holds each
    host's load (vCPU, memory, VM count) and runs every VM of the partition. Of the models
    that can (any model, ``max_count`` permitting, not only those in use), the cheapest is
    chosen. It holds the licences to take over any one host: for each tag, as many VMs as
    the busiest host of the partition runs.
    """
    k = problem.policy.ha_host_failures
    if k == 0:
        return [], []
    used = Counter(b.type_index for b in packing if b.vms)
    remaining = {
        t.index: (UNLIMITED if t.model.max_count is None else t.model.max_count - used[t.index])
        for t in problem.host_types
    }
    by_part: dict[int, list[HostBin]] = defaultdict(list)
    for b in packing:
        if b.vms:
            by_part[b.partition].append(b)
    spares: list[HostPlan] = []
    notes: list[str] = []
    width = max(2, len(str(first_id + k * len(by_part))))
    for p_index in sorted(by_part):
        bins = by_part[p_index]
        part = problem.partitions[p_index]
        load = (
            max(sum(problem.vms[i].cpu_m for i in b.vms) for b in bins),
            max(sum(problem.vms[i].mem_mib for i in b.vms) for b in bins),
            max(len(b.vms) for b in bins),
        )
        peak: Counter[str] = Counter()
        for b in bins:
            for tag, n in Counter(t for i in b.vms for t in problem.vms[i].tags).items():
                peak[tag] = max(peak[tag], n)
        able = [
            s
            for s in spare_candidates(problem, part)
            if problem.host_types[s].cpu_cap_m >= load[0]
            and problem.host_types[s].mem_cap_mib >= load[1]
            and problem.host_types[s].vm_cap >= load[2]
        ]
        for _ in range(k):
            offers = sorted(
                (_spare(problem, p_index, s, peak, "").cost.total, s)
                for s in able
                if remaining[s] > 0
            )
            if not offers:
                notes.append(
                    f"N+{k}: no spare host could be added to {part.key}: no model that can "
                    "take over its busiest host is left under max_count"
                )
                break
            s = offers[0][1]
            remaining[s] -= 1
            spares.append(_spare(problem, p_index, s, peak, f"spare-{len(spares) + 1:0{width}d}"))
    return spares, notes


def _spare(
    problem: Problem, p_index: int, t_index: int, peak: Counter[str], host_id: str
) -> HostPlan:
    t = problem.host_types[t_index]
    years = problem.policy.horizon_years
    licences = tag_licences(t.model, peak, problem.catalog.licences, years)
    licences += hypervisor_licences(
        t.model, problem.catalog.licences, years, problem.profile.licence_family, peak
    )
    return HostPlan(
        id=host_id,
        model=t.model.model,
        type_index=t.index,
        partition=problem.partitions[p_index].key,
        role="spare",
        vms=(),
        cpu_used_m=0,
        cpu_cap_m=t.cpu_cap_m,
        mem_used_mib=0,
        mem_cap_mib=t.mem_cap_mib,
        vm_count=0,
        vm_cap=t.vm_cap,
        licences=licences,
        cost=host_cost(t.model, licences, 0.0, problem.policy),
        watts=t.model.watts_idle,
        limiting="none",
    )


def _explain(problem: Problem, active: Sequence[HostPlan], bounds: Bounds) -> Explanation:
    """What drives the host count: a line such as 'memory-bound: memory at 93 %, CPU at 41 %',
    and per partition the rule that binds (``planner.explain``); rules are priced on demand."""
    if not active:
        return Explanation(summary="no VMs to place")
    cpu = sum(h.cpu_used_m for h in active) / sum(h.cpu_cap_m for h in active)
    mem = sum(h.mem_used_mib for h in active) / sum(h.mem_cap_mib for h in active)
    drivers = Counter(h.limiting for h in active)
    # Which rule sets each partition's bound, weighted by the hosts it asks for.
    weight: Counter[str] = Counter()
    for rule, n in zip(bounds.partition_rule, bounds.partition_hosts, strict=True):
        weight[rule] += n
    if weight["anti-affinity group"] > weight["cpu"] + weight["memory"]:
        head = "anti-affinity-bound"
    elif drivers["vm_count"] > drivers["cpu"] + drivers["memory"]:
        head = "VM-count-bound"
    else:
        head = "memory-bound" if mem >= cpu else "CPU-bound"
    optimal = (
        problem.policy.objective == "hosts" and len(active) + bounds.spare_hosts <= bounds.hosts
    )
    return Explanation(
        summary=f"{head}: memory at {mem:.0%}, CPU at {cpu:.0%} of the active hosts' usable "
        f"capacity ({drivers['memory']} hosts limited by memory, {drivers['cpu']} by CPU)",
        partitions=partition_reasons(problem, active, optimal),
    )
