"""Leaders' figures on a hand-made set of tickets, from the rollup and from a full scan."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from twin.events.kpi import kpi_figures, kpi_figures_exact, rebuild_rollup
from twin.events.lifecycle import Actor, iso_week
from twin.events.models import KpiRollup

OP = Actor("ann", "operator")
W1, W2, P1 = (Actor(n, "crew", c) for n, c in (("b", "w1"), ("c", "w2"), ("d", "p1")))


@pytest.fixture
def handmade(store, clock):
    """t1 water closed; t2 water accepted; t3 power resolved; t4 merged; t5 dismissed."""
    t0 = clock()

    def mk(type_, grid, community):
        return store.create(
            source="report", type=type_, level="yellow", grid_code=grid,
            community_code=community, actor=OP,
        ).id  # fmt: skip

    t1, t2, t3 = mk("water", "g1", "c1"), mk("water", "g1", "c1"), mk("power", "g2", "c2")
    t4, t5 = mk("water", "g2", "c2"), mk("water", "g1", "c1")
    plan = [
        (50, t3, "dispatch", OP, {"crew_id": "p1"}),
        (100, t1, "dispatch", OP, {"crew_id": "w1"}),
        (150, t3, "accept", P1, {}),
        (200, t1, "accept", W1, {}),
        (250, t3, "arrive", P1, {}),
        (300, t2, "dispatch", OP, {"crew_id": "w2"}),
        (300, t4, "merge", OP, {"into": t1}),
        (300, t5, "dismiss", OP, {}),
        (400, t1, "arrive", W1, {}),
        (500, t2, "accept", W2, {}),
        (600, t1, "resolve", W1, {}),
        (600, t3, "resolve", P1, {}),
        (800, t1, "verify", OP, {}),
        (1000, t1, "close", OP, {}),
    ]
    for at, tid, action, actor, kw in plan:
        clock.t = t0 + at
        store.transition(tid, action, actor=actor, **kw)
    return store


def figures(rows):
    return [
        (r.key, r.found, r.handled, r.handling_rate, r.mean_time_to_dispatch_s,
         r.mean_time_to_accept_s, r.mean_time_to_arrive_s, r.mean_time_to_close_s)
        for r in rows
    ]  # fmt: skip


BY_TYPE = [
    ({"type": "power"}, 1, 1, 1.0, 50.0, 150.0, 250.0, None),
    ({"type": "water"}, 2, 1, 0.5, 200.0, 350.0, 400.0, 1000.0),
]


def test_figures_by_type_match_hand_computed(handmade):
    engine = handmade.engine
    assert figures(kpi_figures(engine, ("type",))) == BY_TYPE
    assert figures(kpi_figures_exact(engine, ("type",))) == BY_TYPE


def test_figures_by_grid_community_and_week(handmade, clock):
    engine = handmade.engine
    week = iso_week(clock())
    grid = [(r.key["grid"], r.found, r.handled) for r in kpi_figures(engine, ("grid",))]
    assert grid == [("g1", 2, 1), ("g2", 1, 1)]
    comm = [(r.key["community"], r.found) for r in kpi_figures(engine, ("community",))]
    assert comm == [("c1", 2), ("c2", 1)]
    (wk,) = kpi_figures(engine, ("week",))
    assert (wk.key, wk.found, wk.handled) == ({"week": week}, 3, 2)
    assert wk.handling_rate == pytest.approx(2 / 3)
    assert kpi_figures(engine, ("week",), from_week=week + 1) == []


def test_rollup_kept_by_transitions_equals_a_rebuild(handmade):
    engine = handmade.engine

    def snapshot():
        with handmade.sessions() as s:
            return sorted(
                (r.created_week, r.type, r.grid_code, r.community_code, r.found, r.handled,
                 r.n_dispatch, round(r.sum_dispatch_s, 6), r.n_close, round(r.sum_close_s, 6))
                for r in s.scalars(select(KpiRollup))
                if r.found or r.n_dispatch
            )  # fmt: skip

    kept = snapshot()
    with handmade.sessions() as s, s.begin():
        rebuild_rollup(s)
    assert snapshot() == kept
    assert figures(kpi_figures(engine, ("type",))) == BY_TYPE


def test_reopen_takes_a_ticket_out_of_handled(handmade):
    (row,) = [r for r in kpi_figures(handmade.engine, ("type",)) if r.key["type"] == "water"]
    assert row.handled == 1
    water_closed = next(
        t for t in handmade.list_visible(OP, states=["closed"]) if t.type == "water"
    )
    handmade.transition(water_closed.id, "reopen", actor=OP)
    (row,) = [r for r in kpi_figures(handmade.engine, ("type",)) if r.key["type"] == "water"]
    assert (row.found, row.handled, row.mean_time_to_close_s) == (2, 0, None)
    assert row.mean_time_to_dispatch_s == 300.0  # only t2 is still dispatched


def test_unknown_group_key_is_refused(store):
    with pytest.raises(ValueError, match="unknown group keys"):
        kpi_figures(store.engine, ("colour",))
