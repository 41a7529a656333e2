"""Independent check of a plan against the problem's rules, before any plan is returned.

It trusts nothing the solver reported: usage is recomputed from the sized demands, every
rule is checked again, and every VM of the inventory must appear exactly once, on one host
or in the unplaced list. Every host's cost is priced again by the one cost rule
(``costs.host_cost``) from its model, licences and VMs, and the plan's total must be their sum.
"""

from __future__ import annotations

import math
from collections import Counter

from planner.costs import host_cost
from planner.models import COST_CATEGORIES, CostBreakdown, HostPlan, Plan, Problem, SizedVM
from planner.tolerances import COST_EPS, COST_REL_TOL, meets_bound
from planner.waves import verify_migration

__all__ = ["verify"]


def verify(plan: Plan, problem: Problem) -> list[str]:
    """Every violation of the rules by ``plan``, in words; an empty list means valid."""
    errors: list[str] = []
    by_name = {v.name: v for v in problem.vms}

    seen: Counter[str] = Counter()
    for h in plan.hosts:
        seen.update(h.vms)
    seen.update(u.vm for u in plan.unplaced)
    for vm in problem.inventory.vms:
        if seen[vm.name] != 1:
            errors.append(f"VM {vm.name} appears {seen[vm.name]} times (must be exactly once)")
    extra = set(seen) - {vm.name for vm in problem.inventory.vms}
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
    missing = [n for n in h.vms if n not in by_name]
    if missing:
        return [*errors, f"host {h.id}: runs VMs that are not placeable: {missing}"]
    sized = [by_name[n] for n in h.vms]
    cpu = sum(v.cpu_m for v in sized)
    mem = sum(v.mem_mib for v in sized)
    if cpu > t.cpu_cap_m:
        errors.append(f"host {h.id}: vCPU demand {cpu} m > capacity {t.cpu_cap_m} m")
    if mem > t.mem_cap_mib:
        errors.append(f"host {h.id}: memory demand {mem} MiB > capacity {t.mem_cap_mib} MiB")
    if len(sized) > t.vm_cap:
        errors.append(f"host {h.id}: {len(sized)} VMs > limit {t.vm_cap}")
    if (cpu, mem, len(sized)) != (h.cpu_used_m, h.mem_used_mib, h.vm_count):
        errors.append(f"host {h.id}: reported usage does not match its VMs")
    for v in sized:
        if h.type_index not in v.fits:
            errors.append(f"host {h.id}: VM {v.name} does not fit model {h.model}")
    groups = Counter(v.group for v in sized if v.group)
    errors.extend(
        f"host {h.id}: {n} VMs of anti-affinity group {g}" for g, n in groups.items() if n > 1
    )
    if len({(v.cluster, v.zone) for v in sized}) > 1:
        errors.append(f"host {h.id}: mixes clusters or security zones")
    util = sum(v.load_m for v in sized) / (1000.0 * t.model.cores)
    workloads = [problem.inventory.vms[v.index] for v in sized]
    priced = host_cost(t.model, h.licences, util, problem.policy, workloads, "shared")
    errors.extend(
        f"host {h.id}: {cat} cost {getattr(h.cost, cat):,.2f}, the cost rule says "
        f"{getattr(priced, cat):,.2f}"
        for cat in _cost_mismatches(h.cost, priced)
    )
    tags = Counter(tag for v in sized for tag in v.tags)
    held = {u.tag: u for u in h.licences if u.tag}
    for tag, n in tags.items():
        use = held.get(tag)
        if use is None:
            errors.append(f"host {h.id}: runs {n} VMs tagged {tag} without a licence for it")
        elif 0 <= use.covers_vms < n:
            errors.append(f"host {h.id}: licence {use.name} covers {use.covers_vms} VMs, runs {n}")
    return errors


def _cost_mismatches(stated: CostBreakdown, priced: CostBreakdown) -> list[str]:
    """The cost categories in which ``stated`` is not ``priced`` (up to float rounding)."""
    return [
        cat
        for cat in COST_CATEGORIES
        if not math.isclose(
            getattr(stated, cat), getattr(priced, cat), rel_tol=COST_REL_TOL, abs_tol=COST_EPS
        )
    ]
