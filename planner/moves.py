"""Fewest moves: among the best plans on today's estate, the one that moves the fewest VMs.

``solve`` finds the fewest (or cheapest) hosts; many placements reach that objective, and
they differ in how many VMs leave the host they run on today. ``fewest_moves`` re-places
the VMs with CP-SAT, minimising the moved VMs (or the moved memory, ``move_weight``) while
keeping the plan's objective:

- ``objective = hosts``: each partition keeps as many owned hosts as the plan has, but may
  choose which (a host that already runs most of the VMs is worth keeping), with room left
  for its N+k spares among the owned hosts it does not keep. Ties on cost are not kept:
  fewer moves come first.
- ``objective = cost``: the kept hosts are the plan's; no host may need a licence it did
  not need, nor hold more load than the plan's busiest host (so the spares stay valid); the
  re-placement is kept only if it costs no more than the plan (else the plan stays).

``max_moves`` caps the moved VMs: where the plan's host count cannot meet the cap, owned
hosts are added (fewest first) until it can, and the plan says so. The moves' optimum is
proven, or its gap to the CP-SAT bound is reported (``Migration.moves_bound``).

``attach_migration`` names owned hosts by their host names, lists the retired ones, and
orders the moves in waves (``planner.waves``); ``today_plan`` is ``max_moves = 0``: today's
placement checked against the policy, every violation listed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from planner.assemble import host_plan
from planner.bounds import lower_bounds, spare_candidates
from planner.costs import workload_cost
from planner.dedicated import dedicated_baseline
from planner.errors import PlannerError
from planner.exact.classes import reproducible_solver
from planner.failover import simulate_failures
from planner.models import (
    CostBreakdown,
    Explanation,
    HostPlan,
    Migration,
    Plan,
    Problem,
    SolverParams,
    Unplaced,
)
from planner.packing import HostBin, Packing, bin_licences, packing_objective
from planner.tolerances import host_count_bound, meets_bound
from planner.verify import verify
from planner.waves import migration_inputs, plan_waves, verify_migration

__all__ = [
    "MOVES_WORK",
    "MoveStats",
    "attach_migration",
    "current_types",
    "fewest_moves",
    "owns_search",
    "today_plan",
]

MOVES_WORK = 10.0  # CP-SAT deterministic time for the fewest-moves model


@dataclass(frozen=True)
class MoveStats:
    """What the fewest-moves search established: its value, bound, and notes.

    ``active_bound``: with ``objective = hosts``, no plan that meets the rules has fewer
    active hosts (CP-SAT's proof over the owned hosts), else 0.
    """

    value: float  # moved VMs, or moved memory in GiB
    bound: float  # no plan of the same host count moves less
    proven: bool
    active_bound: int = 0
    notes: tuple[str, ...] = ()


def current_types(problem: Problem) -> list[int | None]:
    """Per VM of ``problem.vms``: the host type of the owned host it runs on today, if any."""
    by_name = {t.model.model: t.index for t in problem.host_types if t.model.owned}
    return [by_name.get(problem.inventory.vms[v.index].host) for v in problem.vms]


def _weights(problem: Problem) -> list[int]:
    if problem.policy.move_weight == "memory":
        vms = problem.inventory.vms
        return [max(1, round(vms[v.index].memory_gib * 1024)) for v in problem.vms]
    return [1] * len(problem.vms)


def _moved_value(problem: Problem, packing: Packing) -> float:
    """The moved VMs (or GiB) of ``packing``: VMs not on the owned host they run on today."""
    cur = current_types(problem)
    w = _weights(problem)
    total = sum(w[i] for b in packing for i in b.vms if cur[i] != b.type_index)
    return total / 1024.0 if problem.policy.move_weight == "memory" else float(total)


@dataclass
class _Slot:
    partition: int
    type_index: int
    owned: bool  # an owned host (may be switched on or off); else a bought host kept as is
    original: HostBin | None  # the plan's host in this slot, if any


@dataclass(frozen=True)
class _Result:
    packing: Packing
    bound: float  # on the moves, in the objective's units (VMs or MiB)
    proven: bool  # the moves are proven minimal (at the host count found)
    active_bound: int  # "min" mode: no plan has fewer active owned hosts
    capped: bool = False  # the wall clock stopped the search before its work budget


def owns_search(problem: Problem) -> bool:
    """Whether the fewest-moves model also finds the fewest hosts (and proves it): on an
    existing estate with the host-count objective, where every host is an owned one."""
    return problem.policy.estate == "existing" and problem.policy.objective == "hosts"


def fewest_moves(
    problem: Problem, packing: Packing, failed: bool, params: SolverParams, wall_s: float
) -> tuple[Packing, MoveStats | None]:
    """``packing`` re-placed to move the fewest VMs (see the module); None when not used.

    ``params`` give the seed and the work budget; ``wall_s`` is the safety cap."""
    if problem.policy.estate == "new" or failed or not problem.vms:
        return packing, None
    hosts_mode = problem.policy.objective == "hosts"
    notes: list[str] = []
    result = _solve(problem, packing, "min" if hosts_mode else "fixed", params, wall_s)
    if result is None and not hosts_mode and problem.policy.max_moves is not None:
        result = _solve(problem, packing, "min", params, wall_s)
        if result is not None:
            notes.append(
                f"max_moves = {problem.policy.max_moves}: the cheapest hosts cannot be kept "
                "within it; the plan keeps the fewest owned hosts that can"
            )
    if result is None:
        value = _moved_value(problem, packing)
        if problem.policy.max_moves is not None and value > problem.policy.max_moves:
            notes.append(
                f"max_moves = {problem.policy.max_moves} cannot be met on the owned hosts: "
                f"the plan moves {value:g}"
            )
        return packing, MoveStats(value, 0.0, False, 0, tuple(notes))
    scale = 1024.0 if problem.policy.move_weight == "memory" else 1.0
    if result.capped:
        notes.append(
            "the time limit stopped the fewest-moves search before its work budget was spent "
            "(a busy or slower machine): a run on a quieter one may find a different plan"
        )
    new = result.packing
    if not hosts_mode and not meets_bound(
        packing_objective(problem, new)[0], packing_objective(problem, packing)[0]
    ):
        notes.append("re-placing to move fewer VMs would cost more: the plan's placement stays")
        return packing, MoveStats(
            _moved_value(problem, packing), result.bound / scale, False, 0, tuple(notes)
        )
    return new, MoveStats(
        _moved_value(problem, new),
        result.bound / scale,
        result.proven,
        result.active_bound,
        tuple(notes),
    )


def _solve(
    problem: Problem, packing: Packing, mode: str, params: SolverParams, wall_s: float
) -> _Result | None:
    """The fewest-moves CP-SAT model. ``fixed``: the plan's hosts; ``min``: each partition
    chooses its owned hosts, the fewest first, then the fewest moves. None when no solution
    was found within the work budget."""
    free = mode == "min"
    types = problem.host_types
    cur = current_types(problem)
    w = _weights(problem)
    policy = problem.policy
    k = policy.ha_host_failures
    model = cp_model.CpModel()
    parts = sorted({b.partition for b in packing if b.vms})
    slots: list[_Slot] = []
    for p in parts:
        bins = [b for b in packing if b.partition == p and b.vms]
        used = {b.type_index: b for b in bins if types[b.type_index].model.owned}
        slots += [_Slot(p, b.type_index, False, b) for b in bins if b.type_index not in used]
        if free:
            fits = {t for i in problem.partitions[p].vms for t in problem.vms[i].fits}
            owned = sorted(
                t for t in fits if types[t].model.owned and (types[t].model.max_count or 0) >= 1
            )
        else:
            owned = sorted(used)
        slots += [_Slot(p, t, True, used.get(t)) for t in owned]
    on = [model.new_bool_var(f"on_{n}") if s.owned else None for n, s in enumerate(slots)]
    by_part: dict[int, list[int]] = defaultdict(list)
    for n, s in enumerate(slots):
        by_part[s.partition].append(n)
    classes = _classes(problem, parts, cur, w)
    # x[c, n]: how many VMs of class c run on slot n.
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    for c, cls in enumerate(classes):
        for n in by_part[cls.partition]:
            if slots[n].type_index in cls.fits:
                x[c, n] = model.new_int_var(0, len(cls.vms), f"x_{c}_{n}")
    # Every VM on exactly one host of its partition.
    for c, cls in enumerate(classes):
        model.add(sum(x[c, n] for n in by_part[cls.partition] if (c, n) in x) == len(cls.vms))
    # Capacity, and a VM only on a host kept on.
    loads: dict[tuple[int, int], cp_model.LinearExpr] = {}
    for n, s in enumerate(slots):
        members = [c for c in range(len(classes)) if (c, n) in x]
        ht = types[s.type_index]
        gate = on[n]
        for d, cap in enumerate((ht.cpu_cap_m, ht.mem_cap_mib, ht.vm_cap)):
            demand = [classes[c].demand[d] for c in members]
            load = cp_model.LinearExpr.weighted_sum([x[c, n] for c in members], demand)
            loads[n, d] = load
            model.add(load <= (cap * gate if gate is not None else cap))
        if gate is not None:
            for c in members:
                model.add(x[c, n] <= len(classes[c].vms) * gate)
        groups: dict[str, list[int]] = defaultdict(list)
        for c in members:
            if classes[c].group:
                groups[classes[c].group].append(c)
        for same in groups.values():
            if len(same) > 1:
                model.add(sum(x[c, n] for c in same) <= 1)
    # An owned host is one host: on in at most one partition, or a spare of one.
    spare_of: dict[tuple[int, int], cp_model.IntVar] = {}
    if free and k:
        keep = _spares_kept(problem, packing, parts)
        for p in parts:
            cands = spare_candidates(problem, problem.partitions[p])
            if any(types[t].model.max_count is None for t in cands):
                continue  # a bought model can always be the spare
            busiest = [model.new_int_var(0, 1 << 40, f"busiest_{p}_{d}") for d in range(3)]
            for n in by_part[p]:
                for d in range(3):
                    model.add(busiest[d] >= loads[n, d])
            chosen = []
            for t in cands:
                if not types[t].model.owned or (types[t].model.max_count or 0) < 1:
                    continue
                z = spare_of[p, t] = model.new_bool_var(f"spare_{p}_{t}")
                caps = (types[t].cpu_cap_m, types[t].mem_cap_mib, types[t].vm_cap)
                for d in range(3):
                    model.add(busiest[d] <= caps[d]).only_enforce_if(z)
                chosen.append(z)
            # As many spares as the plan itself can have (up to k), so none goes missing.
            model.add(sum(chosen) >= keep.get(p, 0))
            model.add(sum(chosen) <= k)
    if not free:
        # Same hosts: room for the plan's spares, and no licence the plan did not need.
        for p in parts:
            planned = [slots[n].original for n in by_part[p]]
            peak = [max(_bin_load(problem, b)[d] for b in planned if b) for d in range(3)]
            for n in by_part[p]:
                for d in range(3):
                    model.add(loads[n, d] <= peak[d])
        _add_licence_caps(problem, model, slots, classes, x)
    use: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for n, s in enumerate(slots):
        gate = on[n]
        if gate is not None:
            use[s.type_index].append(gate)
    for (_, ti), z in spare_of.items():
        use[ti].append(z)
    for ti, gates in use.items():
        model.add(sum(gates) <= (types[ti].model.max_count or 0))
    if not free:  # the plan's hosts, all kept
        for gate in on:
            if gate is not None:
                model.add(gate == 1)
    # Moves: a VM moves unless it stays on the owned host it runs on today.
    stays: list[tuple[int, cp_model.IntVar]] = []  # (class, how many of it stay)
    for c, cls in enumerate(classes):
        here = [n for n in by_part[cls.partition] if slots[n].type_index == cls.today]
        if cls.today is not None and here and (c, here[0]) in x:
            stays.append((c, x[c, here[0]]))
    total = sum(cls.weight * len(cls.vms) for cls in classes)
    kept = cp_model.LinearExpr.weighted_sum(
        [v for _, v in stays], [classes[c].weight for c, _ in stays]
    )
    if policy.max_moves is not None:
        vm_count = sum(len(cls.vms) for cls in classes)
        model.add(vm_count - cp_model.LinearExpr.sum([v for _, v in stays]) <= policy.max_moves)
    big = total + 1  # one host more weighs more than every move
    hosts = cp_model.LinearExpr.sum([g for g in on if g is not None])
    if free:
        model.minimize(hosts * big + total - kept)
    else:
        model.minimize(total - kept)
    # The plan's own placement as the start.
    for n, s in enumerate(slots):
        gate = on[n]
        if gate is not None:
            model.add_hint(gate, s.original is not None)
        hinted = set(s.original.vms) if s.original is not None else set()
        for c, cls in enumerate(classes):
            if (c, n) in x:
                model.add_hint(x[c, n], sum(1 for i in cls.vms if i in hinted))
    # The work budget follows the engine's (half of it, at most MOVES_WORK), so the same
    # settings give the same plan under any load; the wall clock is only the safety cap.
    work = min(MOVES_WORK, 0.5 * params.work_s)
    wall = max(1.0, wall_s)
    solver = reproducible_solver(work, params.seed, wall_s=wall)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    out: list[HostBin] = [b for b in packing if b.partition not in parts or not b.vms]
    placed: dict[int, list[int]] = defaultdict(list)
    for c, cls in enumerate(classes):
        queue = list(cls.vms)  # interchangeable: same host today, demand, rules
        for n in by_part[cls.partition]:
            if (c, n) in x:
                many = solver.value(x[c, n])
                placed[n] += queue[:many]
                queue = queue[many:]
    for n, s in enumerate(slots):
        if placed[n]:
            out.append(HostBin(s.partition, s.type_index, tuple(sorted(placed[n]))))
    bound = host_count_bound(solver.best_objective_bound)  # CP-SAT's objective is whole
    proven = status == cp_model.OPTIMAL
    active_bound = 0
    if free:
        found = sum(1 for g in on if g is not None and solver.boolean_value(g))
        owned_bound = bound // big  # fewer hosts would weigh less than the bound
        # Bought hosts (mixed estates) are fixed slots: the bound covers the owned ones.
        active_bound = owned_bound + sum(1 for s in slots if not s.owned)
        # The moves' bound holds at the count found only once that count is proven.
        bound = bound - found * big if owned_bound >= found else 0
    return _Result(
        tuple(sorted(out, key=lambda b: (b.partition, b.type_index, b.vms))),
        float(max(0, bound)),
        proven,
        active_bound if not any(not s.owned for s in slots) else 0,
        capped=not proven and solver.wall_time >= 0.95 * wall and solver.deterministic_time < work,
    )


def _spares_kept(problem: Problem, packing: Packing, parts: Sequence[int]) -> dict[int, int]:
    """Per partition, the owned spares the plan's placement leaves room for (at most k):
    unused owned hosts that can take over its busiest host, each counted once."""
    types = problem.host_types
    used = Counter(b.type_index for b in packing if b.vms)
    left = {t.index: (t.model.max_count or 0) - used[t.index] for t in types if t.model.owned}
    out: dict[int, int] = {}
    for p in parts:
        bins = [b for b in packing if b.partition == p and b.vms]
        busiest = [max(_bin_load(problem, b)[d] for b in bins) for d in range(3)]
        n = 0
        for t in spare_candidates(problem, problem.partitions[p]):
            caps = (types[t].cpu_cap_m, types[t].mem_cap_mib, types[t].vm_cap)
            while (
                n < problem.policy.ha_host_failures
                and left.get(t, 0) > 0
                and all(c >= b for c, b in zip(caps, busiest, strict=True))
            ):
                left[t] -= 1
                n += 1
        out[p] = n
    return out


def _part_of(problem: Problem) -> dict[int, int]:
    return {i: p for p, part in enumerate(problem.partitions) for i in part.vms}


def _demand(problem: Problem, i: int) -> tuple[int, int, int]:
    v = problem.vms[i]
    return (v.cpu_m, v.mem_mib, 1)


def _bin_load(problem: Problem, b: HostBin) -> tuple[int, int, int]:
    return (
        sum(problem.vms[i].cpu_m for i in b.vms),
        sum(problem.vms[i].mem_mib for i in b.vms),
        len(b.vms),
    )


def _add_licence_caps(
    problem: Problem,
    model: cp_model.CpModel,
    slots: Sequence[_Slot],
    classes: Sequence[_Class],
    x: dict[tuple[int, int], cp_model.IntVar],
) -> None:
    """No host runs more VMs of a tag than the licences the plan gave it cover."""
    per_vm = {
        tag
        for tag in {t for v in problem.vms for t in v.tags}
        if all(
            lic.unit == "vm"
            for lic in problem.catalog.licences
            if lic.applies_to == "tagged" and lic.tag == tag
        )
    }
    for n, s in enumerate(slots):
        if s.original is None:
            continue
        held = {u.tag: u.covers_vms for u in bin_licences(problem, s.original) if u.tag}
        tagged: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        for c, cls in enumerate(classes):
            if (c, n) in x:
                for tag in cls.tags:
                    if tag not in per_vm:
                        tagged[tag].append(x[c, n])
        for tag, members in tagged.items():
            limit = held.get(tag, 0)
            if limit >= 0:
                model.add(sum(members) <= limit)


@dataclass(frozen=True)
class _Class:
    """VMs the moves model cannot tell apart: one partition, one host today, one demand,
    the same fits, tags and weight; a VM of an anti-affinity group is a class of its own."""

    partition: int
    today: int | None
    demand: tuple[int, int, int]
    fits: frozenset[int]
    tags: tuple[str, ...]
    weight: int
    group: str
    vms: tuple[int, ...]


def _classes(
    problem: Problem, parts: Sequence[int], cur: Sequence[int | None], w: Sequence[int]
) -> list[_Class]:
    members: dict[tuple[object, ...], list[int]] = defaultdict(list)
    part: dict[tuple[object, ...], int] = {}
    for p in parts:
        for i in problem.partitions[p].vms:
            v = problem.vms[i]
            alone = i if v.group else -1  # group members are told apart
            key = (p, cur[i], v.cpu_m, v.mem_mib, v.fits, v.tags, w[i], v.group, alone)
            members[key].append(i)
            part[key] = p
    out = []
    for sig, vms in members.items():
        v = problem.vms[vms[0]]
        out.append(
            _Class(
                partition=part[sig],
                today=cur[vms[0]],
                demand=(v.cpu_m, v.mem_mib, 1),
                fits=frozenset(v.fits),
                tags=v.tags,
                weight=w[vms[0]],
                group=v.group,
                vms=tuple(vms),
            )
        )
    return out


# --------------------------------------------------------------------------- the plan


def attach_migration(problem: Problem, plan: Plan, stats: MoveStats | None) -> Plan:
    """``plan`` with owned hosts named by their host names, the retired hosts, and the moves
    in waves; verified (``waves.verify_migration``).

    Raises:
        PlannerError: the migration failed its verification (a bug, never expected).
    """
    if problem.policy.estate == "new":
        return plan
    plan = _rename(problem, plan)
    before, after, demand, capacity = migration_inputs(plan, problem)
    moves = plan_waves(before, after, demand, capacity)
    notes = list(stats.notes) if stats else []
    swings = [m for m in moves if m.swing]
    if swings:
        notes.append(
            f"{len(swings)} VMs stop on a swing host on their way, to free room: "
            + ", ".join(f"{m.vm} on {m.target}" for m in swings[:5])
        )
    exceptions = [m for m in moves if m.exception]
    if exceptions:
        notes.append(
            f"{len(exceptions)} moves need a temporary exception (their target exceeds its "
            "capacity during the wave): " + ", ".join(f"{m.vm} to {m.target}" for m in exceptions)
        )
    moved = [vm for vm in after if before.get(vm) != after[vm]]
    memory = sum(problem.inventory.vms[v.index].memory_gib for v in problem.vms if v.name in moved)
    migration = Migration(
        moves=moves,
        waves=max((m.wave for m in moves), default=0),
        moved_vms=len(moved),
        moved_memory_gib=round(memory, 3),
        moves_bound=stats.bound if stats else 0.0,
        moves_proven=stats.proven if stats else False,
        weight=problem.policy.move_weight,
        retired=_retired(problem, plan),
        unmatched=_unmatched(problem),
        before=_before(problem),
        notes=tuple(notes),
    )
    plan = plan.model_copy(update={"migration": migration})
    errors = verify_migration(plan, problem)
    if errors:
        raise PlannerError("the migration failed verification:\n" + "\n".join(errors))
    return plan


def _rename(problem: Problem, plan: Plan) -> Plan:
    """Owned hosts take their host names as ids (and ``existing``)."""
    names = {h.id: h.model for h in plan.hosts if problem.host_types[h.type_index].model.owned}
    hosts = tuple(
        h.model_copy(update={"id": names[h.id], "existing": True}) if h.id in names else h
        for h in plan.hosts
    )
    failures = tuple(
        f.model_copy(update={"host": names.get(f.host, f.host)}) for f in plan.failures
    )
    check = plan.failure_check
    if check is not None and check.counterexample:
        check = check.model_copy(
            update={"counterexample": tuple(names.get(h, h) for h in check.counterexample)}
        )
    return plan.model_copy(update={"hosts": hosts, "failures": failures, "failure_check": check})


def _retired(problem: Problem, plan: Plan) -> tuple[HostPlan, ...]:
    kept = {h.model for h in plan.hosts}
    return tuple(
        HostPlan(
            id=t.model.model,
            model=t.model.model,
            type_index=t.index,
            partition="",
            role="retired",
            cluster=t.model.cluster,
            vms=(),
            cpu_used_m=0,
            cpu_cap_m=t.cpu_cap_m,
            mem_used_mib=0,
            mem_cap_mib=t.mem_cap_mib,
            vm_count=0,
            vm_cap=t.vm_cap,
            existing=True,
            limiting="none",
        )
        for t in problem.host_types
        if t.model.owned and t.model.model not in kept
    )


def _unmatched(problem: Problem) -> dict[str, tuple[str, ...]]:
    owned = {t.model.model for t in problem.host_types if t.model.owned}
    out: dict[str, list[str]] = defaultdict(list)
    for vm in problem.inventory.vms:
        if vm.host not in owned:
            out[vm.host].append(vm.name)
    return {k: tuple(v) for k, v in sorted(out.items())}


def _before(problem: Problem) -> dict[str, tuple[str, ...]]:
    owned = [t.model.model for t in problem.host_types if t.model.owned]
    out: dict[str, list[str]] = {h: [] for h in owned}
    for vm in problem.inventory.vms:
        if vm.host in out:
            out[vm.host].append(vm.name)
    return {k: tuple(v) for k, v in out.items()}


# --------------------------------------------------------------------------- max_moves = 0


def today_plan(problem: Problem, params: SolverParams | None = None) -> Plan:
    """Today's placement as the plan (``max_moves = 0``), checked against the policy.

    Every VM stays on its host; a VM whose host the host list does not name stays unplaced
    (it cannot be placed without a move). Owned hosts that run nothing are the spares when
    the policy asks for N+k, else retired. Every rule today's placement breaks (capacity
    under the policy's overcommit and ceiling, fit, groups, zones, licences, N+k) is listed
    in ``Migration.violations`` and the notes; the status is then ``partial``.
    """
    cur = current_types(problem)
    part = _part_of(problem)
    members: dict[int, list[int]] = defaultdict(list)
    unplaced = list(problem.unplaced)
    for i, t in enumerate(cur):
        if t is None:
            host = problem.inventory.vms[problem.vms[i].index].host or "(no host given)"
            unplaced.append(
                Unplaced(
                    vm=problem.vms[i].name,
                    reason=f"runs on {host}, which the host list does not name; "
                    "max_moves = 0 leaves it where it is",
                    cause="no_room",
                )
            )
        else:
            members[t].append(i)
    hosts = [
        _as_is(problem, HostBin(part[vms[0]], t, tuple(vms)), "active")
        for t, vms in sorted(members.items())
    ]
    idle = [t for t in problem.host_types if t.model.owned and t.index not in members]
    role = "spare" if problem.policy.ha_host_failures else "retired"
    spares = [_as_is(problem, HostBin(0, t.index, ()), role) for t in idle if role == "spare"]
    all_hosts = tuple(hosts + spares)
    params = params or SolverParams()
    failures, failure_check = simulate_failures(problem, all_hosts, params.seed)
    bounds = lower_bounds(problem)
    cost = CostBreakdown.total_of(h.cost for h in all_hosts)
    lower_cost = (
        bounds.cost
        + workload_cost(
            (problem.inventory.vms[v.index] for v in problem.vms), problem.policy, "shared"
        ).total
    )
    plan = Plan(
        status="feasible",
        engine="today's placement (max_moves = 0)",
        objective=problem.policy.objective,
        hosts=all_hosts,
        unplaced=tuple(unplaced),
        lower_bound_hosts=bounds.hosts,
        lower_bound_cost=lower_cost,
        cost=cost,
        solve_seconds=0.0,
        failures=failures,
        failure_check=failure_check,
        dedicated=dedicated_baseline(problem),
        params=params,
        explanation=Explanation(summary="today's placement, as it runs (max_moves = 0)"),
        notes=problem.notes,
    )
    violations = [
        e
        for e in verify(plan, problem)
        if "below its lower bound" not in e and "spare hosts but the policy" not in e
    ]
    if failure_check is not None and not failure_check.all_restartable:
        failed_hosts = failure_check.counterexample
        verb = "fails" if len(failed_hosts) == 1 else "fail together"
        violations.append(
            f"N+{problem.policy.ha_host_failures}: when {', '.join(failed_hosts)} {verb}, "
            "some VMs cannot restart on the other hosts"
        )
    for f in failures:
        if not f.restartable:
            shown = ", ".join(f.stranded[:5])
            more = f" and {len(f.stranded) - 5} more" if len(f.stranded) > 5 else ""
            violations.append(
                f"when {f.host} fails, {len(f.stranded)} VMs cannot restart ({shown}{more})"
            )
    status = "partial" if violations or len(unplaced) > len(problem.unplaced) else "feasible"
    if status == "feasible" and meets_bound(plan.objective_value, plan.objective_bound):
        status = "optimal"
    notes = list(plan.notes)
    if violations:
        notes.append(f"today's placement breaks {len(violations)} rules (listed in the migration)")
    migration = Migration(
        retired=_retired(problem, plan) if role == "retired" else (),
        unmatched=_unmatched(problem),
        violations=tuple(violations),
        before=_before(problem),
        moves_proven=True,
        weight=problem.policy.move_weight,
    )
    return plan.model_copy(update={"status": status, "notes": tuple(notes), "migration": migration})


def _as_is(problem: Problem, b: HostBin, role: str) -> HostPlan:
    """One owned host as it runs today (its VMs, licences, costs), named by its host name."""
    t = problem.host_types[b.type_index]
    return host_plan(problem, b, t.model.model).model_copy(
        update={
            "partition": problem.partitions[b.partition].key if b.vms else "",
            "role": "active" if role == "active" else "spare",
            "cluster": t.model.cluster,
            "existing": True,
        }
    )
