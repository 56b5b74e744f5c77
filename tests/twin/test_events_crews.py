"""Crew suggestion on a small hand-made road graph with hand-computed travel times."""

from __future__ import annotations

from types import SimpleNamespace

import networkx as nx
import pytest

from twin.events.crews import CrewInfo, edge_travel_time_s, rank_crews, suggest_crew

#   w1 at a ──100── x ──50── t (ticket) ──400── b (w2)      p1 (power) at c ──10── t
#         └──200── y ──250──┘
EDGES = [("a", "x", 100), ("x", "t", 50), ("a", "y", 200), ("y", "t", 250), ("b", "t", 400)]
EDGES += [("c", "t", 10)]


@pytest.fixture
def roads():
    g = nx.Graph()
    for u, v, s in EDGES:
        g.add_edge(u, v, travel_time_s=s)
    return g


def crews(w2_state="free"):
    return [
        CrewInfo("w1", "w1", frozenset({"water"}), "a"),
        CrewInfo("w2", "w2", frozenset({"water", "general"}), "b", state=w2_state),
        CrewInfo("p1", "p1", frozenset({"power"}), "c"),
    ]


WATER_AT_T = SimpleNamespace(type="water", node="t")


def test_nearest_suitable_crew_by_travel_time(roads):
    best = suggest_crew(WATER_AT_T, crews(), roads)
    assert (best.crew_id, best.travel_time_s, best.route) == ("w1", 150.0, ("a", "x", "t"))
    # p1 is 10 s away but has no water skill
    assert [s.crew_id for s in rank_crews(WATER_AT_T, crews(), roads)] == ["w1", "w2"]


def test_flooded_road_makes_another_crew_nearest(roads):
    # with x–t under water w1 needs a–y–t = 450 s; w2 at 400 s is now nearest
    best = suggest_crew(WATER_AT_T, crews(), roads, impassable_edges={("t", "x")})
    assert (best.crew_id, best.travel_time_s) == ("w2", 400.0)


def test_flooded_road_forces_the_longer_route_when_no_one_else_is_free(roads):
    best = suggest_crew(WATER_AT_T, crews("busy"), roads, impassable_edges={("x", "t")})
    assert (best.crew_id, best.travel_time_s, best.route) == ("w1", 450.0, ("a", "y", "t"))


def test_cut_off_crews_are_not_suggested(roads):
    blocked = {("x", "t"), ("y", "t")}
    assert suggest_crew(WATER_AT_T, crews("busy"), roads, impassable_edges=blocked) is None


def test_off_shift_crew_is_not_suggested(roads):
    night = CrewInfo(
        "w1", "w1", frozenset({"water"}), "a", shift_start_s=20 * 3600, shift_end_s=6 * 3600
    )
    assert suggest_crew(WATER_AT_T, [night], roads, second_of_day=12 * 3600) is None
    assert suggest_crew(WATER_AT_T, [night], roads, second_of_day=2 * 3600).crew_id == "w1"


def test_one_way_streets_and_parallel_edges_by_length():
    g = nx.MultiDiGraph()
    g.add_edge("a", "t", length_m=800.0)  # 100 s at 8 m/s
    g.add_edge("a", "t", length_m=400.0, speed_mps=4.0)  # parallel lane, also 100 s
    g.add_edge("t", "b", length_m=80.0)  # one way: b cannot drive to t
    g.add_edge("b", "a", length_m=160.0)  # b reaches t through a: 20 + 100 s
    got = rank_crews(WATER_AT_T, crews(), g)
    assert [(s.crew_id, s.travel_time_s) for s in got] == [("w1", 100.0), ("w2", 120.0)]


def test_edge_time_needs_time_or_length():
    assert edge_travel_time_s({"length_m": 80.0, "speed_mps": 4.0}) == 20.0
    with pytest.raises(ValueError, match="neither travel_time_s nor length_m"):
        edge_travel_time_s({})
