"""Sequential value correction: hosts filled one at a time by a knapsack, with VM values
learnt over repeated passes (Mukhacheva et al., 2000; Belov and Scheithauer, 2007).

One pass fills a host with the VMs of highest total value that fit (branch and bound over
the classes, ``kernels.best_pattern``), then the next host with what is left, until every
VM is placed. After a pass, each VM's value moves towards its share of the hosts it sat on:
its size divided by how full its host was. VMs that ended on badly filled hosts, typically
the last ones, where what is left fits poorly together, are worth more in the next pass and
go in earlier, next to VMs they combine well with. Values are raised to a power above one so
that big VMs go first and small ones fill the gaps, and jittered a little from pass to pass.

Where many small VMs share a host (tens per host), this is what gets close to the volume
bound: first-fit decreasing and the dot-product rule leave the CPU-heavy small VMs for the
end. Every pass also yields well-filled hosts, which are good columns for the LP master.
Two more parts make it work on large estates:

- the knapsack sees sizes, not classes: VMs of one size are interchangeable on a host, and a
  size offers one VM per anti-affinity group (100k VMs: 962 classes, 99 sizes);
- the best packing is then *repacked* (ruin and recreate): its two emptiest hosts and a few
  others are packed again by short runs, which end passes lose about two hosts to.

Runs for the host count on partitions with a single model worth buying (``types_of``); the
dives use ``complete`` to pack what their fixed hosts leave.
"""

from __future__ import annotations

import numpy as np

from planner.exact.classes import Pattern, State, accept, make_pattern, to_packing, types_of
from planner.exact.kernels import arrays, best_pattern
from planner.tolerances import SCORE_EPS

__all__ = ["complete", "value_correction"]

PASSES = 40  # passes per run (each run starts afresh, with its own power)
RUNS = 1000  # runs per partition (the work limit ends them first)
POWERS = (2.0, 1.0, 1.5, 1.25, 1.75)  # values are raised to a power (one per run): big VMs
# first, small ones filling the gaps; 2 suits many small VMs per host, lower powers few.
JITTER = 0.03  # values vary by up to this share from pass to pass
NODES = 20_000  # branch-and-bound nodes per host filled
REPEAT_SHARE = 0.02  # a host's pattern may be repeated for up to this share of the hosts left
RUNS_SHARE = 0.5  # of a completion's work, for the runs; the rest repacks their best
REPACK_HOSTS = 10  # hosts one repacking step takes apart
REPACK_RUNS, REPACK_PASSES = 2, 4  # the short runs that repack them
STALL_PASSES = 60  # passes without a better packing before the runs give up
STALL_STEPS = 120  # repacking steps without a host fewer before repacking gives up
MAX_COLUMNS = 4000  # patterns one partition's passes add to the LP (the latest ones)
HOST_WORK = 30.0  # work units per host a pass fills, besides its knapsack's nodes
REPEAT_WORK = 10.0  # work units per repetition of a host's pattern


def value_correction(state: State, parts: list[int], until: float) -> None:
    """Run passes on each partition in ``parts`` until the work clock reaches ``until``; keep
    the best packing (when it improves the incumbent) and add the hosts of the passes as
    columns."""
    if not (state.by_hosts and state.separable):
        return
    sizes = {p: sum(state.classes[ci].count for ci in state.by_partition[p]) for p in parts}
    for n, p_index in enumerate(parts):
        types = types_of(state, p_index)
        if len(types) != 1 or state.clock() >= until:
            continue
        now = state.work
        share = sizes[p_index] / max(1, sum(sizes[p] for p in parts[n:]))
        _partition(state, p_index, types[0], now + share * (until - now))


def _partition(state: State, p_index: int, t: int, until: float) -> None:
    counts = {ci: state.classes[ci].count for ci in state.by_partition[p_index]}
    target = int(state.rounded(state.bound.get(p_index, 0.0)))
    found = complete(state, p_index, t, counts, target, until, MAX_COLUMNS)
    if found is not None:
        accept(state, to_packing(state, found, [p_index]))


def complete(
    state: State,
    p_index: int,
    t: int,
    residual: dict[int, int],
    target: int,
    until: float,
    columns: int = 0,
) -> list[tuple[Pattern, int]] | None:
    """The fewest hosts of type t the passes find for the VMs ``residual`` (per class) of a
    partition, stopping at ``target`` hosts or when the work clock reaches ``until``; also
    adds the latest
    ``columns`` patterns of the passes to the LP. None when no pass completed or some VMs
    need another model."""
    items, dem, most, grp, cap = arrays(state, p_index, t)
    counts = np.array([residual.get(ci, 0) for ci in items], dtype=np.int64)
    if (most[counts > 0] == 0).any():
        return None
    sizes = _Sizes(dem, grp, cap)
    rng = np.random.default_rng(state.seed * 7919 + p_index)
    seen: dict[bytes, np.ndarray] = {}
    start = state.work
    runs_end = start + RUNS_SHARE * (until - start)
    best = _runs(
        state, sizes, counts, target, runs_end, rng, seen if columns else None, RUNS, PASSES
    )
    if best is not None and len(best) > target:
        best = _repack(state, sizes, best, target, until, rng)
    for k in list(seen.values())[-columns:] if columns else []:
        state.add(_pattern(state, p_index, t, items, k))
    if best is None:
        return None
    found: dict[bytes, tuple[np.ndarray, int]] = {}
    for k in best:
        key = k.tobytes()
        found[key] = (k, found[key][1] + 1 if key in found else 1)
    return [(_pattern(state, p_index, t, items, k), r) for k, r in found.values()]


def _runs(
    state: State,
    sizes: _Sizes,
    counts: np.ndarray,
    target: int,
    until: float,
    rng: np.random.Generator,
    seen: dict[bytes, np.ndarray] | None,
    runs: int,
    passes: int,
) -> list[np.ndarray] | None:
    """Up to ``runs`` runs of ``passes`` passes each (every run starts afresh, with the next
    power): the fewest hosts found (VMs per class each), or None if no pass completed."""
    best: list[np.ndarray] | None = None
    since = 0  # passes since the best last improved
    for run in range(runs):
        power = POWERS[run % len(POWERS)]
        values, weight = sizes.size.copy(), 1.0
        for n in range(passes):
            jitter = rng.uniform(1 - JITTER, 1 + JITTER, len(values)) if n else 1.0
            done = _pass(state, (values * jitter) ** power, sizes, counts, until)
            if done is None:
                return best
            hosts, learnt = done
            if seen is not None:
                for k in hosts:
                    seen[k.tobytes()] = k
            since += 1
            if best is None or len(hosts) < len(best):
                best, since = hosts, 0
            if len(best) <= target or since >= STALL_PASSES:
                return best
            # The values move towards what this pass learnt, later passes weighing more.
            step = 1.0 + 0.5 * n
            values = (values * weight + learnt * step) / (weight + step)
            weight += step
    return best


def _repack(
    state: State,
    sizes: _Sizes,
    hosts: list[np.ndarray],
    target: int,
    until: float,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """Ruin and recreate: the two emptiest hosts and a few others drawn at random, repacked
    by short runs of passes; kept when they need fewer hosts, or as many but fuller ones
    (a larger sum of squared loads: the free space gathers on one host until it empties)."""
    hosts = list(hosts)
    load = np.stack([sizes.dem[:, 0], sizes.dem[:, 1]], axis=1)[sizes.of] / sizes.cap[:2]

    def spread(group: list[np.ndarray]) -> float:
        return float(sum(((k @ load) ** 2).sum() for k in group))

    since = 0  # steps since the host count last fell
    while len(hosts) > max(target, 1) and state.clock() < until:
        since += 1
        if since > STALL_STEPS:
            break
        fill = np.array([(k @ load).max() for k in hosts])
        order = np.argsort(fill, kind="stable")
        others = order[2:]
        drawn = rng.choice(others, size=min(REPACK_HOSTS - 2, len(others)), replace=False)
        pick = [int(i) for i in order[:2]] + [int(i) for i in drawn]
        old = [hosts[i] for i in pick]
        vms = np.sum(old, axis=0)
        state.spend(HOST_WORK * len(hosts))
        new = _runs(state, sizes, vms, len(pick) - 1, until, rng, None, REPACK_RUNS, REPACK_PASSES)
        if new is None:
            break
        if len(new) < len(old):
            since = 0
        if len(new) < len(old) or (len(new) == len(old) and spread(new) > spread(old) + SCORE_EPS):
            keep = set(pick)
            hosts = [k for i, k in enumerate(hosts) if i not in keep] + new
    return hosts


class _Sizes:
    """The classes merged by size for the knapsack: VMs of one size are interchangeable on
    a host, except that members of one anti-affinity group need distinct hosts. A size
    offers a host its ungrouped VMs plus one VM of each of its groups with VMs left, so the
    knapsack sees about as many items as there are sizes, however many groups there are.
    A group whose members differ in size keeps its classes apart, as knapsack items of one
    group (the knapsack then takes at most one of them)."""

    def __init__(self, dem: np.ndarray, grp: np.ndarray, cap: np.ndarray) -> None:
        shapes: dict[int, set[tuple[int, int]]] = {}  # group -> the sizes of its members
        for (c, m, _), g in zip(dem, grp, strict=True):
            if g >= 0:
                shapes.setdefault(int(g), set()).add((int(c), int(m)))
        keys = [
            (int(c), int(m), int(g) if g >= 0 and len(shapes[int(g)]) > 1 else -1)
            for (c, m, _), g in zip(dem, grp, strict=True)
        ]
        first: dict[tuple[int, int, int], int] = {}  # item -> its first class
        for q, key in enumerate(keys):
            first.setdefault(key, q)
        number = {key: n for n, key in enumerate(first)}
        self.of = np.array([number[key] for key in keys], dtype=np.int64)
        reps = list(first.values())
        self.dem = dem[reps]
        by_cpu, by_mem = cap[0] // self.dem[:, 0], cap[1] // self.dem[:, 1]
        self.fit = np.minimum(np.minimum(by_cpu, by_mem), cap[2])
        self.grouped = grp >= 0
        self.grp = np.array([key[2] for key in first], dtype=np.int64)  # -1: merged size
        self.cap = cap
        self.size = np.maximum(dem[:, 0] / cap[0], dem[:, 1] / cap[1])
        # Members of each item: grouped classes first (they are the harder to place).
        self.members = [
            sorted(np.flatnonzero(self.of == m).tolist(), key=lambda q: not self.grouped[q])
            for m in range(len(reps))
        ]

    def offer(self, left: np.ndarray) -> np.ndarray:
        """VMs each size can put on one host: ungrouped ones plus one per group."""
        per_class = np.where(self.grouped, np.minimum(left, 1), left)
        avail = np.bincount(self.of, weights=per_class, minlength=len(self.dem))
        offered: np.ndarray = np.minimum(avail.astype(np.int64), self.fit)
        return offered

    def spread(self, k: np.ndarray, left: np.ndarray) -> np.ndarray:
        """VMs per class for ``k`` VMs per size: groups with the most VMs left first, one
        VM each, then the ungrouped classes."""
        out = np.zeros(len(left), dtype=np.int64)
        for m in np.flatnonzero(k):
            need = int(k[m])
            members = sorted(self.members[m], key=lambda q: (not self.grouped[q], -left[q]))
            for q in members:
                take = min(need, int(left[q]), 1 if self.grouped[q] else need)
                out[q] = take
                need -= take
                if not need:
                    break
        return out


def _pass(
    state: State, values: np.ndarray, sizes: _Sizes, counts: np.ndarray, until: float
) -> tuple[list[np.ndarray], np.ndarray] | None:
    """One pass with knapsack values ``values`` (per class): the hosts (VMs per class) and
    each class's learnt value (its mean size / host fill); None when the work clock reaches
    ``until``."""
    left = counts.copy()
    hosts: list[np.ndarray] = []
    share = np.zeros(len(values))  # sum over the class's VMs of size / host fill
    placed = np.zeros(len(values))
    size = sizes.size
    while left.any():
        if state.clock() >= until:
            return None
        offer = sizes.offer(left)
        # A size is worth the mean value of its VMs left.
        weight = np.bincount(sizes.of, weights=values * left, minlength=len(offer))
        number = np.bincount(sizes.of, weights=left, minlength=len(offer))
        worth = np.where(number > 0, weight / np.maximum(number, 1), 0.0)
        k, work = best_pattern(worth, sizes.dem, offer, sizes.grp, sizes.cap, NODES)
        state.spend(work + HOST_WORK)
        if not k.any():  # pragma: no cover - every VM fits an empty host on its own
            return None
        hosts_left = max(float(size @ left), 1.0)
        for _ in range(int(1 + REPEAT_SHARE * hosts_left)):
            if (sizes.offer(left) < k).any():
                break
            per_class = sizes.spread(k, left)
            state.spend(REPEAT_WORK)
            left -= per_class
            hosts.append(per_class)
            used = np.flatnonzero(per_class)
            fill = float(size @ per_class)
            share[used] += per_class[used] * size[used] / fill
            placed[used] += per_class[used]
    return hosts, np.where(placed > 0, share / np.maximum(placed, 1), size)


def _pattern(state: State, p_index: int, t: int, items: list[int], k: np.ndarray) -> Pattern:
    return make_pattern(state, p_index, t, {items[q]: int(k[q]) for q in np.flatnonzero(k)})
