"""Re-packing a cost plan's plain hosts by host count.

Under the cost objective most hosts of a large partition are *plain*: none of their VMs
carries a licence priced by the host (SQL Server per core, Datacenter), so each costs what
its model costs, the licences of VMs that may move onto it included (``vm_mobility =
cluster``). Among them, fewer hosts of the model they mostly use is cheaper: that is bin
packing by host count, which the exact engine solves far better than the cost search at
thousands of VMs (it proves the host count of 10,000 VMs in seconds). So the plain hosts'
VMs are packed again with ``objective = hosts`` on that one model, the licensed hosts kept
as they are, and the result is kept where it is cheaper with its spares.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from planner.heuristic import first_fit_decreasing
from planner.models import Problem
from planner.packing import HostBin, Packing, host_priced_tags
from planner.spares import with_spares

__all__ = ["MIN_PLAIN_HOSTS", "plain_share", "repack_plain"]

MIN_PLAIN_HOSTS = 20  # partitions with fewer plain hosts are left to the cost search


Improve = Callable[[Problem, Packing], Packing]  # the exact engine: a problem, a start


def _plain(problem: Problem, b: HostBin, priced: frozenset[str]) -> bool:
    return not any(set(problem.vms[i].tags) & priced for i in b.vms)


def plain_share(problem: Problem, packing: Packing, parts: Sequence[int]) -> dict[int, int]:
    """The partitions of ``parts`` worth re-packing, with their plain hosts' model: those
    where ``packing`` has at least ``MIN_PLAIN_HOSTS`` plain hosts, and their VMs fit it."""
    if problem.policy.objective != "cost" or any(
        t.model.max_count is not None for t in problem.host_types
    ):
        return {}
    priced = host_priced_tags(problem)
    chosen: dict[int, int] = {}
    for p in parts:
        plain = [b for b in packing if b.partition == p and b.vms and _plain(problem, b, priced)]
        if len(plain) < MIN_PLAIN_HOSTS:
            continue
        model = Counter(b.type_index for b in plain).most_common(1)[0][0]
        if all(model in problem.vms[i].fits for b in plain for i in b.vms):
            chosen[p] = model
    return chosen


def repack_plain(
    problem: Problem,
    packing: Packing,
    chosen: dict[int, int],
    improve: Improve,
) -> Packing:
    """``packing`` with the plain hosts of each ``chosen`` partition packed again by host
    count on its model (``improve``: the exact engine, from first fit), partition by
    partition where that is cheaper with the spares."""
    priced = host_priced_tags(problem)
    plain_vms: dict[int, list[int]] = {}
    for p in chosen:
        plain_vms[p] = sorted(
            i
            for b in packing
            if b.partition == p and b.vms and _plain(problem, b, priced)
            for i in b.vms
        )
    vms = list(problem.vms)
    for p, model in chosen.items():
        for i in plain_vms[p]:
            vms[i] = vms[i].model_copy(update={"fits": (model,)})
    sub = problem.model_copy(
        update={
            "vms": tuple(vms),
            "policy": problem.policy.model_copy(update={"objective": "hosts"}),
            "partitions": tuple(
                part.model_copy(update={"vms": tuple(plain_vms.get(p, ()))})
                for p, part in enumerate(problem.partitions)
            ),
        }
    )
    start, failed = first_fit_decreasing(sub)
    if failed:  # pragma: no cover - every plain VM fits the model (``plain_share``)
        return packing
    repacked = improve(sub, start)
    result = list(packing)
    for p in chosen:
        mine = [b for b in result if b.partition == p]
        candidate = [b for b in mine if not _plain(problem, b, priced)]
        candidate += [b for b in repacked if b.partition == p and b.vms]
        if with_spares(problem, tuple(candidate)) < with_spares(problem, tuple(mine)):
            result = [b for b in result if b.partition != p] + candidate
    return tuple(sorted(result, key=lambda b: b.partition))
