"""The integer phases: diving, the CP-SAT restricted master, the CP-SAT assignment.

- *Diving*: fix the patterns the LP likes most, re-price the residual, repeat.
- *Restricted master*: CP-SAT over the generated patterns, warm-started from the incumbent,
  with the bound as a cut.
- *Assignment*: for the host count on small partitions (a single model worth buying), a
  CP-SAT model of VM classes onto ``incumbent - 1`` hosts: it finds the better plan or proves
  there is none. VMs that pairwise cannot share a host are pinned to distinct hosts and the
  other hosts are ordered by load, which removes most symmetry.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter, defaultdict

from ortools.sat.python import cp_model

from planner.exact.classes import (
    COST_SCALE,
    LP_ENTRY_WORK,
    Pattern,
    PatternKey,
    State,
    accept,
    clip,
    fit_count,
    make_pattern,
    run_cp_sat,
    to_packing,
    types_of,
)
from planner.exact.kernels import applies, bb_columns
from planner.exact.master import Master, exchanges
from planner.exact.pricing import add_capacity, greedy_columns
from planner.exact.sequential import complete
from planner.packing import HostBin, Packing
from planner.tolerances import IMPROVEMENT_TOL, INTEGRAL_TOL, REDUCED_COST_TOL

__all__ = ["ASSIGN_MAX_VMS", "DIVE_BACKTRACKS", "assignment_phase", "dive", "restricted_master"]


ASSIGN_MAX_VMS = 120  # partitions up to this many VMs get the assignment model


DIVE_BACKTRACKS = 20  # undone diving steps before the dive must finish
DIVE_PRICING_ROUNDS = 8  # LP re-solves with new columns per diving step (host count)
DIVE_BB_NODES = 100_000  # branch-and-bound nodes per pricing inside a dive
MIN_CP_SAT_WORK = 50_000  # work units below which a CP-SAT model is not worth building
MODEL_ENTRY_WORK = 3.0  # work units per term of a CP-SAT model built here


def dive(
    state: State,
    parts: list[int],
    until: float,
    backtracks: int = 0,
    rng: random.Random | None = None,
) -> Packing | None:
    """Price-and-dive: fix the patterns the LP likes most, re-solve on the rest, repeat.

    One LP over the known patterns is kept; each step lowers the cover rows to the residual
    VMs, adds greedy columns for the residual until none improves, then fixes every pattern
    the LP uses at least once (or else the one it uses most), clipped to what is left. When
    the fixed hosts plus the residual LP cannot beat the incumbent, the last step is undone
    and its pattern banned (at most ``backtracks`` times). With ``rng``, a step without
    integral LP values fixes one pattern drawn at random (weighted by its value squared)
    instead of the one used most: repeated dives then explore different plans. Returns a
    complete packing of ``parts``, or None when the work clock reaches ``until``.
    """
    problem = state.problem
    cls = state.classes
    counts0 = {ci: cls[ci].count for p in parts for ci in state.by_partition[p]}
    caps0 = {
        t.index: t.model.max_count for t in problem.host_types if t.model.max_count is not None
    }
    for p_index in state.bins:
        if p_index not in parts:
            for b in state.bins[p_index]:
                if b.type_index in caps0:
                    caps0[b.type_index] -= 1
    # Aim at the bound for the host count (an integer), at any improvement for the cost.
    if state.by_hosts and state.separable:
        target = sum(state.rounded(state.bound.get(p, 0.0)) for p in parts) + 0.5
    else:
        target = sum(state.value[p] for p in parts)
    lp = Master(state, [p for p in state.patterns if p.partition in parts])
    for ci in range(len(cls)):
        if ci not in counts0:
            lp.cover[ci].SetLb(0.0)
    steps: list[tuple[list[Pattern], int]] = []  # fixed patterns, LP column behind the last
    while True:
        residual, caps = dict(counts0), dict(caps0)
        spent = 0.0
        for cols, _ in steps:
            for col in cols:
                spent += col.cost
                for ci, k in col.counts:
                    residual[ci] -= k
                if col.type_index in caps:
                    caps[col.type_index] -= 1
        if not any(residual.values()):
            break
        for t, n in caps.items():
            lp.caps[t].SetUb(float(max(0, n)))
        for ci, n in residual.items():
            lp.cover[ci].SetLb(float(max(0, n)))
        state.spend(LP_ENTRY_WORK * (len(residual) + len(caps)))
        started = state.work
        step = _dive_step(state, lp, parts, residual, caps, until, rng)
        if step is None:
            return None
        cols, last, z = step
        if state.by_hosts and state.separable:
            # An anytime dive: what the fixed hosts leave, packed by sequential value
            # correction for about as much work as the step took.
            now = state.work
            slice_end = min(until, now + (now - started))
            fixed = [c for done, _ in steps for c in done] + cols
            finished = _finish(state, parts, fixed, slice_end)
            if finished is not None:
                accept(state, finished)
                if all(state.done(p) for p in parts):
                    return finished
        future = math.ceil(z - INTEGRAL_TOL) if state.by_hosts else z
        if (
            spent + future >= target - IMPROVEMENT_TOL * max(1.0, target)
            and steps
            and backtracks > 0
        ):
            backtracks -= 1
            _, banned = steps.pop()
            lp.xs[banned].SetUb(0.0)
            continue
        steps.append((cols, last))
    chosen = [(col, 1) for cols, _ in steps for col in cols]
    return to_packing(state, chosen, parts)


def _finish(state: State, parts: list[int], fixed: list[Pattern], until: float) -> Packing | None:
    """The ``fixed`` patterns plus the rest of each partition's VMs packed by sequential
    value correction (host count, one model per partition); None when that is not possible
    or the work clock reaches ``until`` first."""
    residual = Counter({ci: state.classes[ci].count for p in parts for ci in state.by_partition[p]})
    for col in fixed:
        residual.subtract(dict(col.counts))
    chosen = [(col, 1) for col in fixed]
    for p_index in parts:
        types = types_of(state, p_index)
        left = {ci: residual[ci] for ci in state.by_partition[p_index] if residual[ci] > 0}
        if not left:
            continue
        if len(types) != 1:
            return None
        fixed_here = sum(col.partition == p_index for col in fixed)
        target = int(state.rounded(state.bound.get(p_index, 0.0))) - fixed_here
        found = complete(state, p_index, types[0], left, target, until)
        if found is None:
            return None
        chosen.extend(found)
    return to_packing(state, chosen, parts)


def _dive_step(
    state: State,
    lp: Master,
    parts: list[int],
    residual: dict[int, int],
    caps: dict[int, int],
    until: float,
    rng: random.Random | None = None,
) -> tuple[list[Pattern], int, float] | None:
    """One diving step: the patterns (clipped to the residual) to fix next, the LP column of
    the last one, and the residual LP value (greedy pricing: an estimate, not a bound)."""
    # The host count prices a few rounds per step (each dive is one of many); the cost
    # solves the residual LP fully (its single dive must choose well).
    for _ in range(DIVE_PRICING_ROUNDS if state.by_hosts else 10**9):
        if state.clock() > until:
            return None
        solved = lp.solve()
        if solved is None:
            return None
        z, duals, mu, values = solved
        added = 0
        for p_index in parts:
            for t in types_of(state, p_index):
                if t in caps and caps[t] <= 0:
                    continue
                for col in greedy_columns(state, p_index, t, duals, mu[t], residual):
                    if state.add(col):
                        added += 1
                    if col.key() not in lp.keys:
                        lp.add(col)
        if not added and applies(state):  # exact pricing of the residual
            for p_index in parts:
                for t in types_of(state, p_index):
                    if t in caps and caps[t] <= 0:
                        continue
                    cols, value, _ = bb_columns(state, p_index, t, duals, residual, DIVE_BB_NODES)
                    if value + mu[t] <= 1.0 + REDUCED_COST_TOL:
                        continue
                    for col in cols:
                        state.add(col)
                        if col.key() not in lp.keys:
                            lp.add(col)
                            added += 1
        if not added:
            break
    order = sorted(
        (j for j, v in enumerate(values) if v > INTEGRAL_TOL),
        key=lambda j: (-values[j], lp.patterns[j].key()),
    )
    if rng is not None and order and values[order[0]] < 1 - INTEGRAL_TOL:
        weights = [values[j] ** 2 for j in order]
        order = [rng.choices(order, weights)[0]]
    left = dict(residual)
    room = dict(caps)
    smaller: dict[int, list[int]] = defaultdict(list)  # the exchange rows of the LP
    for big, small in exchanges(state):
        smaller[big].append(small)
    out: list[Pattern] = []
    last = -1
    for j in order:
        n = math.floor(values[j] + INTEGRAL_TOL) if out or values[j] >= 1 - INTEGRAL_TOL else 1
        if n <= 0:
            break
        for _ in range(n):
            clipped = clip(state, _substitute(state, lp.patterns[j], left, smaller), left)
            t = lp.patterns[j].type_index
            if clipped is None or (t in room and room[t] <= 0):
                break
            col = clipped
            out.append(col)
            last = j
            for ci, k in col.counts:
                left[ci] -= k
            if t in room:
                room[t] -= 1
    return (out, last, z) if out else None


def _substitute(
    state: State, p: Pattern, left: dict[int, int], smaller: dict[int, list[int]]
) -> Pattern:
    """The pattern with the VMs of classes nothing is left of replaced by smaller VMs still to
    place, as the LP's exchange rows allow (a smaller VM fits where a bigger one did); the
    pattern itself when nothing needs replacing."""
    if all(left.get(ci, 0) >= k for ci, k in p.counts):
        return p
    counts: dict[int, int] = {}
    need = dict(left)
    for ci, k in p.counts:
        take = min(k, max(0, need.get(ci, 0)))
        if take:
            counts[ci] = counts.get(ci, 0) + take
            need[ci] -= take
        for small in smaller.get(ci, []):
            if take >= k:
                break
            more = min(k - take, max(0, need.get(small, 0)))
            if more:
                counts[small] = counts.get(small, 0) + more
                need[small] -= more
                take += more
    if not any(counts.values()):
        return p
    return make_pattern(state, p.partition, p.type_index, counts)


def restricted_master(state: State, until: float, by_class: dict[int, int]) -> None:
    """CP-SAT over the generated patterns, warm-started from the incumbent, until the work
    clock reaches ``until``."""
    problem = state.problem
    parts = [p for p in state.by_partition if not (state.separable and state.done(p))]
    patterns = [p for p in state.patterns if p.partition in parts]
    remaining = state.left(until)
    if remaining <= MIN_CP_SAT_WORK or not patterns:
        return
    m = cp_model.CpModel()
    xs: list[cp_model.IntVar] = []
    for j, p in enumerate(patterns):
        ub = max(math.ceil(state.classes[ci].count / k) for ci, k in p.counts)
        xs.append(m.new_int_var(0, ub, f"x{j}"))
    rows: dict[int, list[tuple[cp_model.IntVar, int]]] = defaultdict(list)
    for x, p in zip(xs, patterns, strict=True):
        for ci, k in p.counts:
            rows[ci].append((x, k))
    for ci in (ci for p in parts for ci in state.by_partition[p]):
        m.add(sum(x * k for x, k in rows[ci]) >= state.classes[ci].count)
    for t in problem.host_types:
        if t.model.max_count is not None:
            m.add(
                sum(x for x, p in zip(xs, patterns, strict=True) if p.type_index == t.index)
                <= t.model.max_count
            )
    if state.by_hosts:
        if state.separable:
            for p_index in parts:
                in_part = [x for x, p in zip(xs, patterns, strict=True) if p.partition == p_index]
                m.add(sum(in_part) >= math.ceil(state.bound.get(p_index, 0.0) - INTEGRAL_TOL))
        else:
            m.add(sum(xs) >= math.ceil(state.joint_bound - INTEGRAL_TOL))
        m.minimize(sum(xs))
    else:
        costs = [round(p.cost * COST_SCALE) for p in patterns]
        m.minimize(cp_model.LinearExpr.weighted_sum(xs, costs))
    hint: Counter[PatternKey] = Counter()
    for b in state.packing():
        if b.partition in parts:
            counts = Counter(by_class[i] for i in b.vms)
            hint[(b.partition, b.type_index, tuple(sorted(counts.items())))] += 1
    for x, p in zip(xs, patterns, strict=True):
        m.add_hint(x, hint.get(p.key(), 0))
    state.spend(MODEL_ENTRY_WORK * sum(len(p.counts) + 2 for p in patterns))
    solver, status = run_cp_sat(state, m, remaining)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return
    chosen = [(p, int(solver.value(x))) for x, p in zip(xs, patterns, strict=True)]
    accept(state, to_packing(state, chosen, parts))


def assignment_phase(state: State, until: float) -> None:
    """Per small partition with one model to buy: try ``incumbent - 1`` hosts until proven
    or the work clock reaches ``until``."""
    for p_index in sorted(state.by_partition):
        while not state.done(p_index) and state.left(until) > MIN_CP_SAT_WORK:
            types = types_of(state, p_index)
            n_vms = sum(state.classes[ci].count for ci in state.by_partition[p_index])
            if len(types) != 1 or n_vms > ASSIGN_MAX_VMS:
                break
            hosts = round(state.value[p_index]) - 1
            outcome = _assign(state, p_index, types[0], hosts, state.left(until))
            if outcome is None:  # out of work: nothing learnt
                break
            if isinstance(outcome, str):  # infeasible: the incumbent is optimal
                state.bound[p_index] = max(state.bound.get(p_index, 0.0), float(hosts + 1))
                break
            state.bins[p_index], state.value[p_index] = outcome, float(len(outcome))


def _conflict_clique(state: State, p_index: int, t: int) -> list[int]:
    """Classes of VMs, one entry per VM, that pairwise cannot share a host of type t."""
    ht = state.problem.host_types[t]
    cls = state.classes
    vms = sorted(
        (ci for ci in state.by_partition[p_index] for _ in range(cls[ci].count)),
        key=lambda ci: (
            -max(cls[ci].cpu / ht.cpu_cap_m, cls[ci].mem / ht.mem_cap_mib),
            ci,
        ),
    )

    def clash(a: int, b: int) -> bool:
        ca, cb = cls[a], cls[b]
        return (
            ca.cpu + cb.cpu > ht.cpu_cap_m
            or ca.mem + cb.mem > ht.mem_cap_mib
            or ht.vm_cap < 2
            or bool(ca.group and ca.group == cb.group)
        )

    clique: list[int] = []
    for ci in vms:
        if all(clash(ci, cj) for cj in clique):
            clique.append(ci)
    return clique


def _assign(
    state: State, p_index: int, t: int, hosts: int, work: float
) -> list[HostBin] | str | None:
    """Pack partition p_index onto ``hosts`` hosts of type t within ``work`` units: bins,
    "infeasible", or None."""
    if hosts <= 0 or work <= MIN_CP_SAT_WORK:
        return "infeasible" if hosts <= 0 else None
    items = list(state.by_partition[p_index])
    cls = state.classes
    clique = _conflict_clique(state, p_index, t)
    if len(clique) > hosts:
        return "infeasible"
    m = cp_model.CpModel()
    y = {
        (ci, b): m.new_int_var(0, fit_count(state, ci, t), f"y{ci}_{b}")
        for ci in items
        for b in range(hosts)
    }
    for ci in items:
        m.add(sum(y[ci, b] for b in range(hosts)) == cls[ci].count)
    for b in range(hosts):
        add_capacity(m, state, t, [(y[ci, b], ci) for ci in items])
    # Symmetry: clique VMs on hosts 0..q-1; the other hosts in decreasing CPU then memory load.
    for b, ci in enumerate(clique):
        m.add(y[ci, b] >= 1)
    free = list(range(len(clique), hosts))
    loads = {b: sum(y[ci, b] * cls[ci].cpu for ci in items) for b in free}
    for b, b2 in itertools.pairwise(free):
        m.add(loads[b] >= loads[b2])
    state.spend(MODEL_ENTRY_WORK * len(y) * 4)
    solver, status = run_cp_sat(state, m, work)
    if status == cp_model.INFEASIBLE:
        return "infeasible"
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    queues = {ci: list(cls[ci].members) for ci in items}
    bins = []
    for b in range(hosts):
        vms: list[int] = []
        for ci in items:
            k = int(solver.value(y[ci, b]))
            take, queues[ci] = queues[ci][:k], queues[ci][k:]
            vms.extend(take)
        if vms:
            bins.append(HostBin(p_index, t, tuple(sorted(vms))))
    return bins
