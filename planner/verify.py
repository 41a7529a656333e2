"""Independent check of a plan against the problem's rules, before any plan is returned.

It trusts nothing the solver reported: usage is recomputed from the sized demands, every
rule is checked again, and every VM of the inventory must appear exactly once, on one host
or in the unplaced list. Every host's cost is priced again by the one cost rule
(``costs.host_cost``) from its model, licences and VMs, and the plan's total must be their sum.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from operator import attrgetter

from planner.costs import host_cost
from planner.models import COST_CATEGORIES, CostBreakdown, HostPlan, Plan, Problem, SizedVM
from planner.tolerances import COST_EPS, COST_REL_TOL, meets_bound
from planner.waves import verify_migration

__all__ = ["verify"]


def verify(plan: Plan, problem: Problem) -> list[str]:
    """Every violation of the rules by ``plan``, in words; an empty list means valid."""
    errors: list[str] = []
    by_name = dict(zip(map(_NAME, problem.vms), problem.vms, strict=True))

    seen: Counter[str] = Counter()
    for h in plan.hosts:
        seen.update(h.vms)
    seen.update(u.vm for u in plan.unplaced)
    names = list(map(_NAME, problem.inventory.vms))
    if set(map(seen.__getitem__, names)) != {1}:  # the message for each VM where it is not
        errors.extend(
            f"VM {name} appears {seen[name]} times (must be exactly once)"
            for name in names
            if seen[name] != 1
        )
    extra = set(seen).difference(names)
    errors.extend(f"VM {n} is not in the inventory" for n in sorted(extra))

    ids = Counter(h.id for h in plan.hosts)
    errors.extend(f"host id {i} is used {n} times" for i, n in ids.items() if n > 1)
    for h in plan.hosts:
        errors.extend(_check_host(problem, h, by_name))
    total = CostBreakdown.total_of(h.cost for h in plan.hosts)
    errors.extend(
        f"the plan's {cat} cost {getattr(plan.cost, cat):,.2f} is not its hosts' sum "
        f"{getattr(total, cat):,.2f}"
        for cat in _cost_mismatches(plan.cost, total)
    )
    if plan.spare_hosts and problem.policy.ha_host_failures == 0:
        errors.append("the plan has spare hosts but the policy asks for none")

    used = Counter(h.model for h in plan.hosts)
    for t in problem.host_types:
        cap = t.model.max_count
        if cap is not None and used[t.model.model] > cap:
            errors.append(f"model {t.model.model} used {used[t.model.model]} times, max {cap}")
    # A full plan below its lower bound means the bound is wrong: no claim may rest on it.
    if plan.status in ("optimal", "feasible") and not meets_bound(
        plan.objective_bound, plan.objective_value
    ):
        errors.append(
            f"the plan's {plan.objective} {plan.objective_value:,.2f} is below its lower bound "
            f"{plan.objective_bound:,.2f}"
        )
    errors.extend(verify_migration(plan, problem))  # existing estates: the waves replayed
    return errors


def _check_host(problem: Problem, h: HostPlan, by_name: dict[str, SizedVM]) -> list[str]:
    errors: list[str] = []
    if not 0 <= h.type_index < len(problem.host_types):
        return [f"host {h.id}: unknown host type {h.type_index}"]
    t = problem.host_types[h.type_index]
    if t.model.model != h.model:
        errors.append(f"host {h.id}: model {h.model} does not match its type {t.model.model}")
    # Per VM through ``map`` (no Python code per VM): a plan may run a million of them.
    try:
        sized = list(map(by_name.__getitem__, h.vms))
    except KeyError:
        missing = [n for n in h.vms if n not in by_name]
        return [*errors, f"host {h.id}: runs VMs that are not placeable: {missing}"]
    cpu = sum(map(_CPU, sized))
    mem = sum(map(_MEM, sized))
    if cpu > t.cpu_cap_m:
        errors.append(f"host {h.id}: vCPU demand {cpu} m > capacity {t.cpu_cap_m} m")
    if mem > t.mem_cap_mib:
        errors.append(f"host {h.id}: memory demand {mem} MiB > capacity {t.mem_cap_mib} MiB")
    if len(sized) > t.vm_cap:
        errors.append(f"host {h.id}: {len(sized)} VMs > limit {t.vm_cap}")
    if (cpu, mem, len(sized)) != (h.cpu_used_m, h.mem_used_mib, h.vm_count):
        errors.append(f"host {h.id}: reported usage does not match its VMs")
    if not all(h.type_index in fits for fits in set(map(_FITS, sized))):
        errors.extend(
            f"host {h.id}: VM {v.name} does not fit model {h.model}"
            for v in sized
            if h.type_index not in v.fits
        )
    groups = Counter(filter(None, map(_GROUP, sized)))
    errors.extend(
        f"host {h.id}: {n} VMs of anti-affinity group {g}" for g, n in groups.items() if n > 1
    )
    if len(set(zip(map(_CLUSTER, sized), map(_ZONE, sized), strict=True))) > 1:
        errors.append(f"host {h.id}: mixes clusters or security zones")
    util = sum(map(_LOAD, sized)) / (1000.0 * t.model.cores)
    workloads = list(map(problem.inventory.vms.__getitem__, map(_INDEX, sized)))
    priced = host_cost(t.model, h.licences, util, problem.policy, workloads, "shared")
    errors.extend(
        f"host {h.id}: {cat} cost {getattr(h.cost, cat):,.2f}, the cost rule says "
        f"{getattr(priced, cat):,.2f}"
        for cat in _cost_mismatches(h.cost, priced)
    )
    tags = Counter(itertools.chain.from_iterable(map(_TAGS, sized)))
    held = {u.tag: u for u in h.licences if u.tag}
    for tag, n in tags.items():
        use = held.get(tag)
        if use is None:
            errors.append(f"host {h.id}: runs {n} VMs tagged {tag} without a licence for it")
        elif 0 <= use.covers_vms < n:
            errors.append(f"host {h.id}: licence {use.name} covers {use.covers_vms} VMs, runs {n}")
    return errors


_NAME, _CPU, _MEM, _FITS = (
    attrgetter("name"),
    attrgetter("cpu_m"),
    attrgetter("mem_mib"),
    attrgetter("fits"),
)
_GROUP, _CLUSTER, _ZONE = attrgetter("group"), attrgetter("cluster"), attrgetter("zone")
_LOAD, _INDEX, _TAGS = attrgetter("load_m"), attrgetter("index"), attrgetter("tags")


def _cost_mismatches(stated: CostBreakdown, priced: CostBreakdown) -> list[str]:
    """The cost categories in which ``stated`` is not ``priced`` (up to float rounding)."""
    return [
        cat
        for cat in COST_CATEGORIES
        if not math.isclose(
            getattr(stated, cat), getattr(priced, cat), rel_tol=COST_REL_TOL, abs_tol=COST_EPS
        )
    ]
