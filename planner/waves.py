"""Migration waves: the moves from today's placement to the plan, in an order that is safe.

The rule (conservative, as a live migration holds memory on both ends until it completes):
during a wave, a moving VM counts on its source **and** its target. A wave may start a move
only if every host receiving VMs in that wave stays within its capacity (vCPU, memory, VM
count) with its VMs at the wave's start plus everything arriving in the wave. A host that
is over capacity today only loses load until it is back under.

When no pending move fits (every target waits for room that only another pending move would
free), one VM makes a stop on a swing host: a host with room that the moves do not target
(a retired or spare host), so a later wave can finish the move. If no such host has room,
the move is made with an explicit temporary exception (``Move.exception``), reported.

``plan_waves`` orders; ``check_waves`` replays the waves independently and lists every
breach, so a plan's migration is verified like its placement.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from planner.models import Move, Plan, Problem

__all__ = ["Demand", "check_waves", "migration_inputs", "plan_waves", "verify_migration"]

Demand = tuple[int, int, int]  # milli-vCPU, MiB, VM count


def _add(a: Demand, b: Demand, sign: int = 1) -> Demand:
    return (a[0] + sign * b[0], a[1] + sign * b[1], a[2] + sign * b[2])


def _within(load: Demand, cap: Demand) -> bool:
    return load[0] <= cap[0] and load[1] <= cap[1] and load[2] <= cap[2]


def _loads(placement: Mapping[str, str], demand: Mapping[str, Demand]) -> dict[str, Demand]:
    loads: dict[str, Demand] = {}
    for vm, host in placement.items():
        loads[host] = _add(loads.get(host, (0, 0, 0)), demand[vm])
    return loads


def plan_waves(
    before: Mapping[str, str],
    after: Mapping[str, str],
    demand: Mapping[str, Demand],
    capacity: Mapping[str, Demand],
) -> tuple[Move, ...]:
    """The moves from ``before`` (VM -> its host today, any text when the host is unknown)
    to ``after`` (VM -> planned host), in waves under the rule of the module.

    ``capacity`` holds every host a VM may be on (today's owned hosts and the plan's);
    VMs on a host not in it (unknown hosts) only leave it. Deterministic: moves are taken
    largest memory first, then by name.
    """
    pending = sorted(
        (vm for vm in after if before.get(vm) != after[vm]),
        key=lambda vm: (-demand[vm][1], -demand[vm][0], vm),
    )
    where = {vm: before.get(vm, "") for vm in after}
    loads = _loads({vm: h for vm, h in where.items() if h in capacity}, demand)
    targets = Counter(after[vm] for vm in pending)
    swung: set[str] = set()
    moves: list[Move] = []
    wave = 0
    while pending:
        wave += 1
        during = dict(loads)
        started: list[tuple[str, str, str, bool, bool]] = []  # vm, from, to, swing, exception
        for vm in pending:
            dst = after[vm]
            grown = _add(during.get(dst, (0, 0, 0)), demand[vm])
            if _within(grown, capacity[dst]):
                during[dst] = grown
                started.append((vm, where[vm], dst, False, False))
        if not started:
            started.append(
                _unblock(pending, where, after, demand, capacity, during, targets, swung)
            )
        for vm, src, dst, swing, exception in started:
            moves.append(
                Move(vm=vm, source=src, target=dst, wave=wave, swing=swing, exception=exception)
            )
            if src in loads:
                loads[src] = _add(loads[src], demand[vm], -1)
            loads[dst] = _add(loads.get(dst, (0, 0, 0)), demand[vm])
            where[vm] = dst
        pending = [vm for vm in pending if where[vm] != after[vm]]
    return tuple(moves)


def _unblock(
    pending: Sequence[str],
    where: Mapping[str, str],
    after: Mapping[str, str],
    demand: Mapping[str, Demand],
    capacity: Mapping[str, Demand],
    during: dict[str, Demand],
    targets: Counter[str],
    swung: set[str],
) -> tuple[str, str, str, bool, bool]:
    """No pending move fits: a swing stop for one VM, else a temporary exception."""
    for vm in pending:
        if vm in swung:
            continue  # each VM stops on a swing host at most once
        # Hosts no pending move targets first (retired, spares), the roomiest first.
        hosts = sorted(
            (h for h in capacity if h not in (where[vm], after[vm])),
            key=lambda h: (
                targets[h] > 0,
                -(capacity[h][1] - during.get(h, (0, 0, 0))[1]),
                h,
            ),
        )
        for h in hosts:
            grown = _add(during.get(h, (0, 0, 0)), demand[vm])
            if _within(grown, capacity[h]):
                during[h] = grown
                swung.add(vm)
                return vm, where[vm], h, True, False
    vm = pending[0]
    return vm, where[vm], after[vm], False, True


def check_waves(
    moves: Sequence[Move],
    before: Mapping[str, str],
    after: Mapping[str, str],
    demand: Mapping[str, Demand],
    capacity: Mapping[str, Demand],
) -> list[str]:
    """Replay ``moves`` wave by wave from ``before``; every breach of the rule, in words.

    Checks: waves numbered 1, 2, ... without a hole; each move leaves the host the VM is on;
    in each wave every host receiving VMs holds its load at the wave's start plus all
    arrivals (moves marked ``exception`` excepted); every VM ends on its planned host.
    """
    errors: list[str] = []
    where = {vm: before.get(vm, "") for vm in after}
    loads = _loads({vm: h for vm, h in where.items() if h in capacity}, demand)
    waves = sorted({m.wave for m in moves})
    if waves and waves != list(range(1, len(waves) + 1)):
        errors.append(f"migration waves are not numbered 1..{len(waves)}: {waves}")
    for w in waves:
        batch = [m for m in moves if m.wave == w]
        during = dict(loads)
        moving = Counter(m.vm for m in batch)
        errors.extend(
            f"wave {w}: VM {vm} moves {n} times" for vm, n in sorted(moving.items()) if n > 1
        )
        for m in batch:
            if m.vm not in where:
                errors.append(f"wave {w}: VM {m.vm} is not a planned VM")
                continue
            if where[m.vm] != m.source:
                errors.append(f"wave {w}: VM {m.vm} moves from {m.source} but is on {where[m.vm]}")
            if m.target not in capacity:
                errors.append(f"wave {w}: VM {m.vm} moves to unknown host {m.target}")
                continue
            during[m.target] = _add(during.get(m.target, (0, 0, 0)), demand[m.vm])
        strict = {m.target for m in batch if not m.exception and m.target in capacity}
        for host in sorted(strict):
            load, cap = during[host], capacity[host]
            if not _within(load, cap):
                errors.append(
                    f"wave {w}: host {host} would hold {load[0]} m vCPU, {load[1]} MiB, "
                    f"{load[2]} VMs during the wave, over its capacity {cap[0]} m, {cap[1]} MiB, "
                    f"{cap[2]} VMs"
                )
        for m in batch:
            if m.vm in where and m.target in capacity:
                if where[m.vm] in loads:
                    loads[where[m.vm]] = _add(loads[where[m.vm]], demand[m.vm], -1)
                loads[m.target] = _add(loads.get(m.target, (0, 0, 0)), demand[m.vm])
                where[m.vm] = m.target
    errors.extend(
        f"VM {vm} ends the migration on {where[vm] or '(unknown)'}, planned on {host}"
        for vm, host in sorted(after.items())
        if where[vm] != host
    )
    return errors


def migration_inputs(
    plan: Plan, problem: Problem
) -> tuple[dict[str, str], dict[str, str], dict[str, Demand], dict[str, Demand]]:
    """From a plan: each planned VM's host today (``""`` when the host list does not name
    it) and in the plan, each VM's demand, and the capacity of every host involved (the
    owned hosts, by host name, and the plan's hosts, by id), all recomputed from the problem.
    """
    types = problem.host_types
    capacity = {
        t.model.model: (t.cpu_cap_m, t.mem_cap_mib, t.vm_cap) for t in types if t.model.owned
    }
    for h in plan.hosts:
        t = types[h.type_index]
        capacity[h.id] = (t.cpu_cap_m, t.mem_cap_mib, t.vm_cap)
    owned = {t.model.model for t in types if t.model.owned}
    after = {vm: h.id for h in plan.hosts for vm in h.vms}
    before = {}
    for v in problem.vms:
        if v.name in after:
            host = problem.inventory.vms[v.index].host
            before[v.name] = host if host in owned else ""
    demand = {v.name: (v.cpu_m, v.mem_mib, 1) for v in problem.vms}
    return before, after, demand, capacity


def verify_migration(plan: Plan, problem: Problem) -> list[str]:
    """Every flaw of ``plan.migration``, in words: the waves replayed (``check_waves``), the
    moved count, owned hosts named and flagged, retired hosts empty and not in the plan."""
    migration = plan.migration
    if migration is None:
        return []
    before, after, demand, capacity = migration_inputs(plan, problem)
    errors = check_waves(migration.moves, before, after, demand, capacity)
    moved = sum(1 for vm, host in after.items() if before.get(vm) != host)
    if moved != migration.moved_vms:
        errors.append(f"the migration says {migration.moved_vms} VMs move; {moved} change host")
    owned = {t.model.model for t in problem.host_types if t.model.owned}
    for h in plan.hosts:
        if (h.model in owned) != h.existing or (h.existing and h.id != h.model):
            errors.append(f"host {h.id}: owned hosts (only) are existing and named by host name")
    planned = {h.id for h in plan.hosts}
    for h in migration.retired:
        if h.vms or h.id in planned or h.id not in owned:
            errors.append(f"retired host {h.id} is not an owned host left empty by the plan")
    return errors
