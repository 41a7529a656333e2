"""Migration waves: safe order, swing hosts, explicit exceptions, independent replay."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from planner.models import Move
from planner.waves import Demand, check_waves, plan_waves


def _d(cpu: int, mem: int = 0) -> Demand:
    return (cpu, mem, 1)


BIG = 100  # VM-count capacity that never binds in these tests


def test_a_move_waits_for_the_wave_that_frees_its_target() -> None:
    """b can reach h2 only after a left it: two waves, each within capacity."""
    before = {"a": "h2", "b": "h1"}
    after = {"a": "h3", "b": "h2"}
    demand = {"a": _d(6), "b": _d(6)}
    capacity = {"h1": (8, 0, BIG), "h2": (8, 0, BIG), "h3": (8, 0, BIG)}
    moves = plan_waves(before, after, demand, capacity)
    assert [(m.vm, m.wave) for m in moves] == [("a", 1), ("b", 2)]
    assert check_waves(moves, before, after, demand, capacity) == []


def test_a_swap_between_full_hosts_stops_on_a_swing_host() -> None:
    """Two full hosts swap VMs: one VM stops on the empty host, marked as a swing."""
    before = {"a": "h1", "b": "h2"}
    after = {"a": "h2", "b": "h1"}
    demand = {"a": _d(8), "b": _d(8)}
    capacity = {"h1": (8, 0, BIG), "h2": (8, 0, BIG), "swing": (8, 0, BIG)}
    moves = plan_waves(before, after, demand, capacity)
    assert [m for m in moves if m.swing] == [
        Move(vm="a", source="h1", target="swing", wave=1, swing=True)
    ]
    assert not any(m.exception for m in moves)
    assert check_waves(moves, before, after, demand, capacity) == []


def test_a_swap_with_no_room_anywhere_is_an_explicit_exception() -> None:
    """No swing host has room: the move is made and flagged as a temporary exception."""
    before = {"a": "h1", "b": "h2"}
    after = {"a": "h2", "b": "h1"}
    demand = {"a": _d(8), "b": _d(8)}
    capacity = {"h1": (8, 0, BIG), "h2": (8, 0, BIG)}
    moves = plan_waves(before, after, demand, capacity)
    assert sum(m.exception for m in moves) == 1
    assert check_waves(moves, before, after, demand, capacity) == []


def test_replay_finds_a_wave_that_overfills_its_target() -> None:
    """Two VMs arriving together on a host that holds one: the replay names the breach."""
    before = {"a": "h1", "b": "h1"}
    after = {"a": "h2", "b": "h2"}
    demand = {"a": _d(5), "b": _d(5)}
    capacity = {"h1": (10, 0, BIG), "h2": (8, 0, BIG)}
    bad = (
        Move(vm="a", source="h1", target="h2", wave=1),
        Move(vm="b", source="h1", target="h2", wave=1),
    )
    errors = check_waves(bad, before, after, demand, capacity)
    assert any("wave 1: host h2 would hold 10 m" in e for e in errors)
    assert any(
        "ends the migration" in e for e in check_waves(bad[:1], before, after, demand, capacity)
    )


def test_a_vm_from_an_unknown_host_is_placed_in_a_wave() -> None:
    """A VM whose host the list does not name (source "") arrives like a new VM."""
    moves = plan_waves({"a": ""}, {"a": "h1"}, {"a": _d(2)}, {"h1": (8, 0, BIG)})
    assert moves == (Move(vm="a", source="", target="h1", wave=1),)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_waves_always_replay_clean_and_move_exactly_the_changed_vms(data: st.DataObject) -> None:
    """For any start and any planned placement that fits: the waves replay without a breach
    (exceptions flagged), end on the plan, and move exactly the VMs whose host changes."""
    hosts = [f"h{i}" for i in range(data.draw(st.integers(2, 5)))]
    caps = {h: (data.draw(st.integers(4, 12)), data.draw(st.integers(4, 12)), BIG) for h in hosts}
    n = data.draw(st.integers(1, 10))
    demand = {
        f"v{i}": _d(data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))) for i in range(n)
    }
    after: dict[str, str] = {}
    load = {h: [0, 0] for h in hosts}
    for vm, (cpu, mem, _) in demand.items():
        fits = [
            h for h in hosts if load[h][0] + cpu <= caps[h][0] and load[h][1] + mem <= caps[h][1]
        ]
        if not fits:
            continue
        h = data.draw(st.sampled_from(fits))
        after[vm] = h
        load[h][0] += cpu
        load[h][1] += mem
    before = {vm: data.draw(st.sampled_from([*hosts, ""])) for vm in after}
    moves = plan_waves(before, after, demand, caps)
    assert check_waves(moves, before, after, demand, caps) == []
    assert {m.vm for m in moves} == {vm for vm in after if before[vm] != after[vm]}
    assert all(not m.swing for m in moves if m.exception)
