"""Exact cost plans for small partitions: one CP-SAT model over VMs, hosts and their prices.

On a few dozen VMs the pattern LP's bound can sit far below the optimum (a host pays a
licence per tag it carries: bin packing with setups), so the cost of a small plan is proved
here directly. Each VM takes one host slot; each slot is of one model or unused; a slot pays
what ``costs.host_total`` charges a host, term by term: its model's fixed cost, for each
licence tag the cheapest licence for the tagged VMs it runs (``costs.licence_cost``, a table
per model and count), and the energy its load draws (linear, capped at full load).

What makes the bound close within a small work budget: a host's slot is its first VM and
interchangeable VMs take slots in order (one labelling per plan); licences are set-up costs
the LP sees (a boolean per slot, tag and model); redundant linear constraints give the LP
each VM's model, each model's capacity against its VMs' demand, the energy per VM on its
model and the spare's capacity against the average host; CP-SAT linearises at level 2.

Every price is scaled to integers and rounded *down*, so the model's optimum is a valid lower
bound on the true cost of every plan; the plan it returns is priced again by the one cost rule
(``packing``). The search stops on CP-SAT's deterministic time with one worker, so its answer
does not depend on the machine's load.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from planner.bounds import spare_candidates
from planner.costs import host_total, licence_cost
from planner.exact.classes import reproducible_solver
from planner.models import Problem
from planner.packing import HostBin, Packing, mobile_licence_cost, mobile_tags

__all__ = ["MAX_VMS", "CostAssignment", "assign_cost"]

MAX_VMS = 24  # partitions up to this many VMs are solved exactly by this model
SCALE = 10_000  # integer cost units per currency unit


@dataclass(frozen=True)
class CostAssignment:
    """The best plan found for the partitions and a valid lower bound on their cost."""

    bins: Packing
    bound: float
    proven: bool


def assign_cost(
    problem: Problem,
    parts: list[int],
    work: float,
    spares: int = 0,
    wall: float = 60.0,
    seed: int = 0,
) -> CostAssignment | None:
    """Solve the cost objective exactly on ``parts`` (each at most ``MAX_VMS`` VMs).

    ``work`` is CP-SAT's deterministic time, shared out over the partitions; ``wall``
    (seconds) is only a safety cap; ``seed`` seeds CP-SAT. With ``spares`` = k > 0 the
    partitions' N+k spares are part of the model and of the bound (which then covers active
    hosts and spares). Returns None when a partition is too large, has no model for its
    spares, or no plan was found.
    """
    bins: list[HostBin] = []
    bound, proven = 0.0, True
    for p in parts:
        share = max(1, len(parts))
        out = _partition(problem, p, work / share, spares, wall / share, seed)
        if out is None:
            return None
        bins += out[0]
        bound += out[1]
        proven = proven and out[2]
    return CostAssignment(tuple(bins), bound, proven)


def _add_spares(
    m: cp_model.CpModel,
    problem: Problem,
    p: int,
    z: dict[tuple[int, int], cp_model.IntVar],
    x: dict[tuple[int, int], cp_model.IntVar],
    vms: list[int],
    counts: dict[str, list[tuple[cp_model.IntVar, int]]],
    table: Callable[[str, int, int], list[int]],
    k: int,
) -> list[cp_model.LinearExprT]:
    """The k spares of the partition (``solve._spares``' rule): one model that runs every VM
    and holds each host's load, with licences for the busiest host's count of each tag."""
    hts = problem.host_types
    able = spare_candidates(problem, problem.partitions[p])
    s = {t: m.new_bool_var(f"spare_{t}") for t in able}
    m.add_exactly_one(s.values())
    n = len(vms)
    for j in range(n):
        on = range(j, n)
        for dim, cap in (("cpu_m", "cpu_cap_m"), ("mem_mib", "mem_cap_mib")):
            m.add(
                sum(getattr(problem.vms[vms[a]], dim) * x[a, j] for a in on)
                <= sum(getattr(hts[t], cap) * v for t, v in s.items())
            )
        m.add(sum(x[a, j] for a in on) <= sum(hts[t].vm_cap * v for t, v in s.items()))
    # Redundant, for the LP: the spare holds the busiest host's load, at least the average:
    # hosts x spare capacity >= demand (q_t = hosts when t is the spare's model, else 0).
    q = {t: m.new_int_var(0, n, f"spare_hosts_{t}") for t in s}
    m.add(sum(q.values()) == sum(x[j, j] for j in range(n)))
    for t, v in s.items():
        m.add(q[t] <= n * v)
    for dim, cap in (("cpu_m", "cpu_cap_m"), ("mem_mib", "mem_cap_mib")):
        m.add(
            sum(getattr(hts[t], cap) * q[t] for t in s)
            >= sum(getattr(problem.vms[i], dim) for i in vms)
        )
    for t, v in s.items():
        cap_count = hts[t].model.max_count
        if cap_count is not None:
            m.add(sum(z[j, t] for j in range(n) if (j, t) in z) + k <= cap_count).only_enforce_if(v)
    terms: list[cp_model.LinearExprT] = [
        k * math.floor(host_total(hts[t], mobile_licence_cost(problem, p, t)) * SCALE) * v
        for t, v in s.items()
    ]
    for tag, per_slot in sorted(counts.items()):
        most = max(most_here for _, most_here in per_slot)
        rows = {t: table(tag, t, most) for t in s}
        # Some host runs a tagged VM, so the spare holds at least one grant of the tag.
        floor = sum(rows[t][1] * v for t, v in s.items())
        if all(r[k] == r[1] for r in rows.values() for k in range(1, len(r))):
            terms.append(k * floor)
            continue
        peak = m.new_int_var(1, most, f"peak_{tag}")
        m.add_max_equality(peak, [c for c, _ in per_slot])
        lic = m.new_int_var(0, cp_model.INT32_MAX * 1000, f"spare_lic_{tag}")
        m.add(lic >= floor)
        for t, v in s.items():
            row = rows[t]
            price = m.new_int_var(0, max(row), f"spare_price_{tag}_{t}")
            m.add_element(peak, row, price)
            m.add(lic >= price).only_enforce_if(v)
        terms.append(k * lic)
    return terms


def _partition(
    problem: Problem,
    p: int,
    work: float,
    spares: int,
    wall: float,
    seed: int,
) -> tuple[list[HostBin], float, bool] | None:
    vms = sorted(problem.partitions[p].vms, key=lambda i: _vm_key(problem, i))
    n = len(vms)
    if n == 0:
        return [], 0.0, True
    if n > MAX_VMS:
        return None
    types = sorted({t for i in vms for t in problem.vms[i].fits})
    hts = problem.host_types
    years = problem.policy.horizon_years
    m = cp_model.CpModel()

    # Variables: slot j's model; VM a's slot; VM a's model. Slot j is led by the j-th VM:
    # it is open exactly when VM j sits on it and holds only VMs a >= j (a host's slot is
    # its first VM), so each plan has one labelling and no two labellings compete.
    z = {(j, t): m.new_bool_var(f"z_{j}_{t}") for j in range(n) for t in types}
    x = {(a, j): m.new_bool_var(f"x_{a}_{j}") for a in range(n) for j in range(a + 1)}
    y = {
        (a, t): m.new_bool_var(f"y_{a}_{t}") for a, i in enumerate(vms) for t in problem.vms[i].fits
    }
    for j in range(n):
        m.add(sum(z[j, t] for t in types) == x[j, j])
        for a in range(j + 1, n):
            m.add_implication(x[a, j], x[j, j])

    # Constraints: each VM on one slot of a model that runs it; capacity; anti-affinity.
    slot = [m.new_int_var(0, a, f"slot_{a}") for a in range(n)]
    for a, i in enumerate(vms):
        m.add_exactly_one(x[a, j] for j in range(a + 1))
        m.add_exactly_one(y[a, t] for t in problem.vms[i].fits)
        m.add(slot[a] == sum(j * x[a, j] for j in range(a + 1)))
        for j in range(a + 1):
            for t in types:  # VM a's model is its slot's model
                if t in problem.vms[i].fits:
                    m.add_bool_or([x[a, j].Not(), z[j, t].Not(), y[a, t]])
                    m.add_bool_or([x[a, j].Not(), y[a, t].Not(), z[j, t]])
                else:
                    m.add_bool_or([x[a, j].Not(), z[j, t].Not()])
    # VMs alike in every respect are interchangeable: the earlier one's slot comes first
    # (any plan can be relabelled so: hand the class's VMs out in slot order).
    for a in range(n - 1):
        if _vm_key(problem, vms[a]) == _vm_key(problem, vms[a + 1]):
            m.add(slot[a] <= slot[a + 1])
    for j in range(n):
        on = [a for a in range(j, n)]
        for dim, cap in (("cpu_m", "cpu_cap_m"), ("mem_mib", "mem_cap_mib")):
            m.add(
                sum(getattr(problem.vms[vms[a]], dim) * x[a, j] for a in on)
                <= sum(getattr(hts[t], cap) * z[j, t] for t in types)
            )
        m.add(sum(x[a, j] for a in on) <= sum(hts[t].vm_cap * z[j, t] for t in types))
        groups: dict[str, list[int]] = defaultdict(list)
        for a in on:
            if problem.vms[vms[a]].group:
                groups[problem.vms[vms[a]].group].append(a)
        for members in groups.values():
            if len(members) > 1:
                m.add_at_most_one(x[a, j] for a in members)
    for t in types:
        cap_count = hts[t].model.max_count
        if cap_count is not None:
            m.add(sum(z[j, t] for j in range(n)) <= cap_count)
    # Redundant, for the LP: the fewest hosts, and each model's hosts hold its VMs' demand.
    m.add(sum(x[j, j] for j in range(n)) >= _least_hosts(problem, vms, types))
    for dim, cap in (("cpu_m", "cpu_cap_m"), ("mem_mib", "mem_cap_mib")):
        m.add(
            sum(getattr(hts[t], cap) * z[j, t] for j in range(n) for t in types)
            >= sum(getattr(problem.vms[i], dim) for i in vms)
        )
    for t in types:
        hosts_t = sum(z[j, t] for j in range(n))
        on_t = [a for a in range(n) if (a, t) in y]
        for dim, cap in (("cpu_m", "cpu_cap_m"), ("mem_mib", "mem_cap_mib")):
            m.add(
                sum(getattr(problem.vms[vms[a]], dim) * y[a, t] for a in on_t)
                <= getattr(hts[t], cap) * hosts_t
            )
        m.add(sum(y[a, t] for a in on_t) <= hts[t].vm_cap * hosts_t)

    # Objective: fixed cost, licences by tag count, energy by load (all rounded down).
    cost_terms: list[cp_model.LinearExprT] = []
    counts: dict[str, list[tuple[cp_model.IntVar, int]]] = defaultdict(list)  # per slot: n, most
    tables: dict[tuple[str, int], list[int]] = {}
    energies: list[cp_model.IntVar] = []
    # vm_mobility = cluster: the stacking tags' licences are part of every host's fixed cost.
    mobile = mobile_tags(problem)
    fixed = {
        t: math.floor(host_total(hts[t], mobile_licence_cost(problem, p, t)) * SCALE) for t in types
    }

    def table(tag: str, t: int, most: int) -> list[int]:
        """Scaled cost of the cheapest licence for 0..most tagged VMs on model t."""
        key = (tag, t)
        if key not in tables or len(tables[key]) <= most:
            row = [0]
            for k in range(1, most + 1):
                cost = licence_cost(tag, hts[t].model, k, problem.catalog.licences, years)
                row.append(math.floor(cost * SCALE))
            tables[key] = row
        return tables[key][: most + 1]

    def draw(a: int, t: int) -> int:
        """VM a's share of the energy above idle on model t, rounded down (a sum of floors
        never exceeds the floor of the sum)."""
        per = 1000 * hts[t].model.cores
        return math.floor(hts[t].energy_per_util_cost * SCALE * problem.vms[vms[a]].load_m / per)

    for j in range(n):
        on = list(range(j, n))
        cost_terms += [fixed[t] * z[j, t] for t in types]
        # Tags whose licence depends on the slot's VMs (a mobile tag's is in ``fixed``).
        for tag in sorted({tag for a in on for tag in problem.vms[vms[a]].tags} - mobile):
            tagged = [a for a in on if tag in problem.vms[vms[a]].tags]
            count = m.new_int_var(0, len(tagged), f"n_{j}_{tag}")
            m.add(count == sum(x[a, j] for a in tagged))
            counts[tag].append((count, len(tagged)))
            cost_terms.append(_add_licence(m, j, tag, tagged, count, x, z, types, table))
        energies.append(_add_energy(m, problem, j, [vms[a] for a in on], x, z, types, draw))
    cost_terms += energies
    if all(_never_full(problem, vms, t) for t in types):
        # No host can reach full load: each VM draws its share on its own model (linear).
        m.add(sum(energies) >= sum(draw(a, t) * v for (a, t), v in y.items()))
    if spares:
        cost_terms += _add_spares(m, problem, p, z, x, vms, counts, table, spares)
    m.minimize(sum(cost_terms))

    solver = reproducible_solver(max(0.05, work), seed, max(0.1, wall))
    # OR-Tools 9.15's presolve was seen to return a worse plan as OPTIMAL on this model (a
    # 9-VM estate: 1,185,745 "optimal" where 330,594 is feasible; tests/test_status.py pins
    # it); the model is small, so it is solved as written.
    solver.parameters.cp_model_presolve = False
    # The LP sees the licence tables' and the enforced constraints' linear relaxations too:
    # on the small estates of benchmarks/small_cost.py the bound then closes (measured:
    # every one proven within 0.1 deterministic second, against 6 of 20 open after 1.0).
    solver.parameters.linearization_level = 2
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    bins = []
    for j in range(n):
        placed = tuple(sorted(vms[a] for a in range(j, n) if solver.value(x[a, j])))
        if placed:
            t = next(t for t in types if solver.value(z[j, t]))
            bins.append(HostBin(p, t, placed))
    bound = solver.best_objective_bound / SCALE
    return bins, bound, status == cp_model.OPTIMAL


def _add_licence(
    m: cp_model.CpModel,
    j: int,
    tag: str,
    tagged: list[int],
    count: cp_model.IntVar,
    x: dict[tuple[int, int], cp_model.IntVar],
    z: dict[tuple[int, int], cp_model.IntVar],
    types: list[int],
    table: Callable[[str, int, int], list[int]],
) -> cp_model.LinearExprT:
    """Slot j's licence for ``tag``: the cheapest for its ``count`` tagged VMs on its model.

    Per model, a boolean says the slot is of that model and holds the licence, and a count
    says how many tagged VMs it covers there. The price table's lower convex hull, in those
    two, is linear (the LP sees the set-up cost and the slope); where a price does not grow
    with the count (per-core licences such as SQL Server Enterprise) that is the whole cost;
    otherwise an element constraint per model adds the exact table."""
    most = len(tagged)
    rows = {t: table(tag, t, most) for t in types}
    held = {t: m.new_bool_var(f"w_{j}_{tag}_{t}") for t in types}
    for t in types:
        m.add_implication(held[t], z[j, t])
    for a in tagged:
        m.add(sum(held.values()) >= x[a, j])
    if all(r[k] == r[1] for r in rows.values() for k in range(1, len(r))):
        return sum(rows[t][1] * held[t] for t in types)
    part = {t: m.new_int_var(0, most, f"n_{j}_{tag}_{t}") for t in types}
    m.add(sum(part.values()) == count)
    lics = []
    for t in types:
        m.add(part[t] <= most * held[t])
        lic = m.new_int_var(0, max(rows[t]), f"lic_{j}_{tag}_{t}")
        m.add(lic >= rows[t][1] * held[t])
        for (k1, f1), (k2, f2) in itertools.pairwise(_lower_hull(rows[t])):
            # The hull's edge through (k1, f1) and (k2, f2), scaled to integers.
            m.add(
                (k2 - k1) * lic >= (f2 - f1) * part[t] + (f1 * (k2 - k1) - (f2 - f1) * k1) * held[t]
            )
        price = m.new_int_var(0, max(rows[t]), f"price_{j}_{tag}_{t}")
        m.add_element(count, rows[t], price)
        m.add(lic >= price).only_enforce_if(z[j, t])
        lics.append(lic)
    return sum(lics)


def _lower_hull(row: list[int]) -> list[tuple[int, int]]:
    """The lower convex hull of the points (k, row[k]) for k = 1.. (Andrew's monotone chain):
    its edges lie on or below every point."""
    hull: list[tuple[int, int]] = []
    for point in enumerate(row):
        if point[0] == 0:
            continue
        while len(hull) >= 2:
            (k1, f1), (k2, f2) = hull[-2], hull[-1]
            if (f2 - f1) * (point[0] - k1) >= (point[1] - f1) * (k2 - k1):
                hull.pop()  # the middle point lies on or above the chord: not on the hull
            else:
                break
        hull.append(point)
    return hull


def _add_energy(
    m: cp_model.CpModel,
    problem: Problem,
    j: int,
    later: list[int],
    x: dict[tuple[int, int], cp_model.IntVar],
    z: dict[tuple[int, int], cp_model.IntVar],
    types: list[int],
    draw: Callable[[int, int], int],
) -> cp_model.IntVar:
    """Slot j's energy above idle: its VMs' shares on its model, capped at full load only
    where they could exceed it. ``later`` are the VMs slot j may hold (positions j...)."""
    hts = problem.host_types
    top = max(math.floor(hts[t].energy_per_util_cost * SCALE) for t in types)
    energy = m.new_int_var(0, max(0, top), f"energy_{j}")
    on = range(j, j + len(later))
    if all(_never_full(problem, later, t) for t in types):
        # Whatever the model, the slot draws at least each VM's least share (linear).
        m.add(energy >= sum(min(draw(a, t) for t in types) * x[a, j] for a in on))
    for t in types:
        share = sum(draw(a, t) * x[a, j] for a in on)
        if _never_full(problem, later, t):
            m.add(energy >= share).only_enforce_if(z[j, t])
            continue
        capped = m.new_bool_var(f"capped_{j}_{t}")
        full = math.floor(hts[t].energy_per_util_cost * SCALE)
        m.add(energy >= full).only_enforce_if([z[j, t], capped])
        m.add(energy >= share).only_enforce_if([z[j, t], capped.Not()])
    return energy


def _vm_key(problem: Problem, i: int) -> tuple[object, ...]:
    """Largest first; VMs with equal keys are interchangeable in the model."""
    v = problem.vms[i]
    return (-v.cpu_m, -v.mem_mib, v.tags, v.group, v.load_m, v.fits)


def _least_hosts(problem: Problem, vms: list[int], types: list[int]) -> int:
    """Hosts the VMs need at least: by vCPU, memory and VM count on the largest model, and
    one per member of the largest anti-affinity group."""
    hts = [problem.host_types[t] for t in types]
    cpu = sum(problem.vms[i].cpu_m for i in vms)
    mem = sum(problem.vms[i].mem_mib for i in vms)
    groups = Counter(problem.vms[i].group for i in vms if problem.vms[i].group)
    group = max(groups.values(), default=1)
    return max(
        1,
        group,
        -(-cpu // max(t.cpu_cap_m for t in hts)),
        -(-mem // max(t.mem_cap_mib for t in hts)),
        -(-len(vms) // max(t.vm_cap for t in hts)),
    )


def _never_full(problem: Problem, vms: list[int], t: int) -> bool:
    """No host of model ``t`` running some of ``vms`` can reach full CPU load: their loads
    sum to at most its cores, or no VM's load per vCPU would fill it at full vCPU capacity."""
    ht = problem.host_types[t]
    cores_m = 1000 * ht.model.cores
    if sum(problem.vms[i].load_m for i in vms) <= cores_m:
        return True
    return all(ht.cpu_cap_m * problem.vms[i].load_m <= cores_m * problem.vms[i].cpu_m for i in vms)
