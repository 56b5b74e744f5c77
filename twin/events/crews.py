"""Crews and dispatch help: the nearest suitable free crew by travel time on the road graph.

A crew is suitable when it has the skill the ticket's type needs (or ``general`` for a general
ticket), is ``free`` and is on shift. Travel time is the shortest path on a networkx road graph
with edges the flood model marks impassable removed; the operator confirms the suggestion or
picks another crew.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from twin.events.models import Crew

SKILLS: tuple[str, ...] = ("water", "power", "gas", "fire", "medical", "general")
CREW_STATES: tuple[str, ...] = ("free", "busy", "off_duty")

#: ticket type → the skill a crew needs to take it
SKILL_FOR_TYPE: dict[str, str] = {s: s for s in SKILLS}

#: speed assumed for an edge that has a length but no travel time [m/s] (urban driving)
DEFAULT_SPEED_MPS = 8.0
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class CrewInfo:
    """A crew as dispatch sees it (the DB row's plain twin)."""

    id: str
    name: str
    skills: frozenset[str]
    node: object
    state: str = "free"
    shift_start_s: int = 0
    shift_end_s: int = SECONDS_PER_DAY
    grid_code: str | None = None

    def on_shift(self, second_of_day: float | None) -> bool:
        """True if on shift at ``second_of_day`` (local time; None = don't check)."""
        if second_of_day is None:
            return True
        start, end = self.shift_start_s, self.shift_end_s
        if start <= end:
            return start <= second_of_day < end
        return second_of_day >= start or second_of_day < end  # shift over midnight


@dataclass(frozen=True)
class Suggestion:
    """A suitable crew and its travel time to the ticket [s] with the route's nodes."""

    crew_id: str
    travel_time_s: float
    route: tuple


def edge_travel_time_s(data: dict) -> float:
    """Travel time of one edge [s]: ``travel_time_s``, else ``length_m`` (or ``length``)
    at :data:`DEFAULT_SPEED_MPS` or the edge's ``speed_mps``.

    >>> edge_travel_time_s({"length_m": 80.0})
    10.0
    """
    if "travel_time_s" in data:
        return float(data["travel_time_s"])
    length = data.get("length_m", data.get("length"))
    if length is None:
        raise ValueError("road edge has neither travel_time_s nor length_m")
    return float(length) / float(data.get("speed_mps", DEFAULT_SPEED_MPS))


def _passable_view(graph: nx.Graph, impassable: Iterable[tuple]) -> nx.Graph:
    blocked = {tuple(e[:2]) for e in impassable}
    if not graph.is_directed():
        blocked |= {(v, u) for u, v in blocked}
    if not blocked:
        return graph

    def ok(u, v, *_key) -> bool:
        return (u, v) not in blocked

    return nx.subgraph_view(graph, filter_edge=ok)


def suitable(crew: CrewInfo, ticket_type: str, second_of_day: float | None = None) -> bool:
    """True if the crew is free, on shift and has the skill the ticket type needs."""
    skill = SKILL_FOR_TYPE.get(ticket_type, "general")
    return crew.state == "free" and skill in crew.skills and crew.on_shift(second_of_day)


def rank_crews(
    ticket,
    crews: Sequence[CrewInfo],
    road_graph: nx.Graph,
    impassable_edges: Iterable[tuple] = frozenset(),
    *,
    second_of_day: float | None = None,
) -> list[Suggestion]:
    """Suitable crews that can reach the ticket, fastest first.

    Parameters
    ----------
    ticket
        Anything with ``type`` and ``node`` (a road-graph node) attributes.
    crews : sequence of CrewInfo
    road_graph : networkx.Graph or DiGraph or MultiDiGraph
        Edges carry ``travel_time_s`` [s] or ``length_m`` [m].
    impassable_edges : iterable of (u, v[, key])
        Roads closed (e.g. flooded); on an undirected graph both directions are closed.
    second_of_day : float, optional
        Local time of day [s] to check shifts against.
    """
    graph = _passable_view(road_graph, impassable_edges)
    if ticket.node not in graph:
        raise ValueError(f"ticket node {ticket.node!r} is not on the road graph")

    def weight(u, v, data):
        if graph.is_multigraph():
            return min(edge_travel_time_s(d) for d in data.values())
        return edge_travel_time_s(data)

    # one Dijkstra from the ticket on the reversed graph gives every crew's time to it
    search = graph.reverse(copy=False) if graph.is_directed() else graph
    times, paths = nx.single_source_dijkstra(search, ticket.node, weight=weight)
    out = []
    for crew in crews:
        if suitable(crew, ticket.type, second_of_day) and crew.node in times:
            route = tuple(reversed(paths[crew.node]))
            out.append(Suggestion(crew.id, float(times[crew.node]), route))
    out.sort(key=lambda s: (s.travel_time_s, s.crew_id))
    return out


def suggest_crew(
    ticket,
    crews: Sequence[CrewInfo],
    road_graph: nx.Graph,
    impassable_edges: Iterable[tuple] = frozenset(),
    *,
    second_of_day: float | None = None,
) -> Suggestion | None:
    """The nearest suitable free crew by travel time, or None if none can reach the ticket.

    See :func:`rank_crews` for the parameters.
    """
    ranked = rank_crews(ticket, crews, road_graph, impassable_edges, second_of_day=second_of_day)
    return ranked[0] if ranked else None


def upsert_crew(sessions: sessionmaker[Session], crew: CrewInfo) -> None:
    """Insert or update a crew row (its state included)."""
    bad = set(crew.skills) - set(SKILLS)
    if bad:
        raise ValueError(f"unknown skills {sorted(bad)}; choose from {SKILLS}")
    if crew.state not in CREW_STATES:
        raise ValueError(f"unknown crew state {crew.state!r}; choose from {CREW_STATES}")
    with sessions() as s, s.begin():
        row = s.get(Crew, crew.id) or Crew(id=crew.id)
        row.name = crew.name
        row.skills = ",".join(sorted(crew.skills))
        row.node = None if crew.node is None else str(crew.node)
        row.state = crew.state
        row.shift_start_s = crew.shift_start_s
        row.shift_end_s = crew.shift_end_s
        row.grid_code = crew.grid_code
        s.add(row)


def load_crews(sessions: sessionmaker[Session]) -> list[CrewInfo]:
    """Every crew as :class:`CrewInfo` (node ids come back as strings)."""
    with sessions() as s:
        return [
            CrewInfo(
                id=c.id,
                name=c.name,
                skills=frozenset(x for x in c.skills.split(",") if x),
                node=c.node,
                state=c.state,
                shift_start_s=c.shift_start_s,
                shift_end_s=c.shift_end_s,
                grid_code=c.grid_code,
            )
            for c in s.scalars(select(Crew).order_by(Crew.id))
        ]
