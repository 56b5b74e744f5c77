"""Risk-based inspections (分级巡查): four management levels, 1–4 patrols a month, on schedule.

Each building gets a risk score from its twin data; the score sets its management level and
how often the grid's workers inspect it (the Dongguan practice of four management levels with
one to four inspections a month). Points (a convention of this project, tune per city):

============================  =====================================================  ======
factor                        rule                                                   points
============================  =====================================================  ======
fire load by use              warehouse, industrial, market 3; commercial, mixed,    0–3
                              garage, hospital, elderly home 2; others 1
use (people who cannot self-  school, hospital, elderly home                         2
evacuate)
age                           ≥ 35 years 2; ≥ 25 years 1                             0–2
fire resistance (GB 50016)    rating "4" 2; "3" 1                                    0–2
occupancy                     ≥ 500 people 2; ≥ 100 people 1                         0–2
vulnerable residents          elderly alone + disabled ≥ 10: 2; ≥ 1: 1               0–2
past hazards                  tickets at the building in the last year ≥ 3: 2; ≥ 1: 1 0–2
============================  =====================================================  ======

Score ≥ 9 → level 1 (4 inspections a month), 6–8 → level 2 (3), 3–5 → level 3 (2), else
level 4 (1). A month is cut into as many equal slots as inspections; a slot's ticket is created
once its slot has started (``source="inspection"``, ``source_ref="insp:<building>:<yyyy-mm>:<k>"``
— idempotent however often the generator runs), dispatched to a free crew of the building's
grid when there is one (:func:`assign_waiting` retries those that found every crew busy). A
hazard found on an inspection becomes its own ticket (:func:`report_hazard`,
``source_ref="hazard:<inspection ref>"``) and counts as a past hazard of the building.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import select

from twin.events.lifecycle import SYSTEM, Actor, TicketView
from twin.events.models import ROUND_PREFIX, Crew, Ticket, not_round_clause, round_clause
from twin.events.tickets import TicketStore

FIRE_LOAD_POINTS = {"warehouse": 3, "industrial": 3, "market": 3, "commercial": 2, "mixed": 2,
                    "garage": 2, "hospital": 2, "elderly_home": 2}  # fmt: skip
CANNOT_SELF_EVACUATE = frozenset({"school", "hospital", "elderly_home"})
#: management level → inspections a month
FREQUENCY = {1: 4, 2: 3, 3: 2, 4: 1}
#: lowest score of levels 1, 2, 3 (below the last: level 4)
LEVEL_FLOORS = ((9, 1), (6, 2), (3, 3))
YEAR_S = 365.25 * 86_400.0


@dataclass(frozen=True)
class RiskGrade:
    """A building's score, management level (1 = highest risk) and inspections a month."""

    building_id: str
    score: int
    level: int
    per_month: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class RoundInfo:
    """What a round's ticket says: building, management level, which of the month's rounds,
    and the score's factors (``(factor, points)``, factors as in the module table)."""

    building_id: str
    level: int
    k: int
    per_month: int
    reasons: tuple[tuple[str, int], ...]


def round_description(grade: RiskGrade, k: int) -> str:
    """The ticket text of round ``k`` (1-based) of a building (parsed by :func:`round_info`)."""
    return f"level {grade.level} inspection {k}/{grade.per_month}: " + ", ".join(grade.reasons)


_ROUND_TEXT = re.compile(r"level (\d) inspection (\d+)/(\d+):\s*(.*)")
_REASON = re.compile(r"([a-z_]+)\+(\d+)")


def round_info(source_ref: str | None, description: str | None) -> RoundInfo | None:
    """The parts of a round's ticket, or None if it is not a round (or its text is not
    :func:`round_description`'s).

    >>> round_info("insp:B7:2026-11:2", "level 3 inspection 2/2: fire_load+1, age+2")
    RoundInfo(building_id='B7', level=3, k=2, per_month=2, reasons=(('fire_load', 1), ('age', 2)))
    """
    if not (source_ref or "").startswith(ROUND_PREFIX):
        return None
    m = _ROUND_TEXT.fullmatch((description or "").strip())
    building = source_ref[len(ROUND_PREFIX) :].rsplit(":", 2)[0]
    if m is None or not building:
        return None
    reasons = tuple((f, int(p)) for f, p in _REASON.findall(m.group(4)))
    return RoundInfo(building, int(m.group(1)), int(m.group(2)), int(m.group(3)), reasons)


def _step(value: float, high: float, low: float) -> int:
    return 2 if value >= high else 1 if value >= low else 0


def grade_building(b: Mapping, *, year: int, past_hazards: int = 0) -> RiskGrade:
    """Score one building (a mapping with the registry's building columns).

    >>> g = grade_building({"building_id": "B1", "use": "elderly_home", "year_built": 1985,
    ...     "fire_resistance": "3", "occupants": 80, "elderly_alone": 40, "disabled": 12},
    ...     year=2026, past_hazards=1)
    >>> (g.score, g.level, g.per_month)
    (10, 1, 4)
    """
    use = str(b.get("use", ""))
    parts = {
        "fire_load": FIRE_LOAD_POINTS.get(use, 1),
        "use": 2 if use in CANNOT_SELF_EVACUATE else 0,
        "age": _step(year - int(b.get("year_built") or year), 35, 25),
        "fire_resistance": {"4": 2, "3": 1}.get(str(b.get("fire_resistance", "")), 0),
        "occupancy": _step(int(b.get("occupants") or 0), 500, 100),
        "vulnerable": _step(int(b.get("elderly_alone") or 0) + int(b.get("disabled") or 0), 10, 1),
        "past_hazards": _step(past_hazards, 3, 1),
    }
    score = sum(parts.values())
    level = next((lv for floor, lv in LEVEL_FLOORS if score >= floor), 4)
    reasons = tuple(f"{k}+{v}" for k, v in parts.items() if v)
    return RiskGrade(str(b["building_id"]), score, level, FREQUENCY[level], reasons)


def month_bounds(month: str) -> tuple[float, float]:
    """UTC start and end [epoch s] of a ``yyyy-mm`` month.

    >>> month_bounds("2026-02")[1] - month_bounds("2026-02")[0]
    2419200.0
    """
    y, m = (int(x) for x in month.split("-"))
    start = datetime(y, m, 1, tzinfo=UTC)
    end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
    return start.timestamp(), end.timestamp()


def hazard_counts(
    store: TicketStore,
    buildings: pd.DataFrame,
    registry,
    since: float,
    until: float | None = None,
) -> dict:
    """Tickets created in ``[since, until)`` per building, located by lon/lat.

    Every ticket counts but the inspection rounds themselves: hazards found on an inspection
    (``hazard:`` refs) are past hazards too.
    """
    where = [Ticket.created_at >= since, not_round_clause(), Ticket.lon.is_not(None)]
    if until is not None:
        where.append(Ticket.created_at < until)
    with store.sessions() as s:
        rows = s.execute(select(Ticket.lon, Ticket.lat).where(*where)).all()
    if not rows:
        return {}
    b_rows, _ = registry.locate([r[0] for r in rows], [r[1] for r in rows])
    ids = registry.buildings["building_id"].astype(str).to_numpy()
    out: dict[str, int] = {}
    for i in b_rows[b_rows >= 0]:
        out[ids[i]] = out.get(ids[i], 0) + 1
    return out


def generate_inspections(
    buildings: pd.DataFrame,
    store: TicketStore,
    month: str,
    now: float,
    *,
    past_hazards: Mapping[str, int] | None = None,
    assign: bool = True,
    actor: Actor = SYSTEM,
) -> list[TicketView]:
    """Create the inspection tickets due by ``now`` in ``month`` that do not exist yet.

    Parameters
    ----------
    buildings : DataFrame
        Registry buildings (``building_id``, ``grid_id``, ``community_id``, ``use``,
        ``year_built``, ``fire_resistance``, ``occupants``, ``elderly_alone``, ``disabled``;
        optional ``lon``/``lat`` columns or a geometry for the ticket's place, and ``node``,
        the road-graph junction nearest the building, for travel times).
    store : TicketStore
    month : str
        ``yyyy-mm`` (UTC).
    now : float
        UTC epoch seconds; slots that start later are left for a later run.
    past_hazards : mapping, optional
        building id → tickets in the last year (see :func:`hazard_counts`).
    assign : bool
        Dispatch each new inspection to a free crew whose ``grid_code`` is the building's grid.

    Returns
    -------
    list of TicketView
        The tickets created by this call (empty when everything due already exists).
    """
    start, end = month_bounds(month)
    year = datetime.fromtimestamp(start, UTC).year
    past_hazards = past_hazards or {}
    prefix = ROUND_PREFIX
    with store.sessions() as s:
        existing = set(
            s.scalars(
                select(Ticket.source_ref).where(
                    Ticket.source == "inspection", Ticket.source_ref.like(f"{prefix}%:{month}:%")
                )
            )
        )
    created = []
    has_geom = hasattr(buildings, "geometry") and "geometry" in buildings
    for i, b in enumerate(buildings.to_dict("records")):
        grade = grade_building(b, year=year, past_hazards=past_hazards.get(b["building_id"], 0))
        slot = (end - start) / grade.per_month
        for k in range(grade.per_month):
            ref = f"{prefix}{b['building_id']}:{month}:{k + 1}"
            if start + k * slot > now or ref in existing:
                continue
            lon, lat = b.get("lon"), b.get("lat")
            if lon is None and has_geom:
                c = buildings.geometry.iloc[i].representative_point()
                lon, lat = float(c.x), float(c.y)
            t = store.create(
                source="inspection",
                source_ref=ref,
                type="fire" if FIRE_LOAD_POINTS.get(str(b.get("use")), 1) >= 2 else "general",
                level="blue",
                grid_code=str(b["grid_id"]),
                community_code=str(b.get("community_id") or "") or None,
                node=None if pd.isna(b.get("node")) else str(b.get("node")),
                lon=lon,
                lat=lat,
                description=round_description(grade, k + 1),
                actor=actor,
            )
            if assign:
                t = _assign(store, t, actor) or t
            created.append(t)
    return created


def _assign(store: TicketStore, t: TicketView, actor: Actor) -> TicketView | None:
    with store.sessions() as s:
        crew = s.scalars(
            select(Crew.id)
            .where(Crew.grid_code == t.grid_code, Crew.state == "free")
            .order_by(Crew.id)
        ).first()
    if crew is None:
        return None
    operator = actor if actor.role in ("operator", "manager") else Actor("inspections", "manager")
    store.transition(t.id, "dispatch", actor=operator, crew_id=crew, note="scheduled inspection")
    return store.get(t.id)


def assign_waiting(
    store: TicketStore, *, actor: Actor = SYSTEM, limit: int = 500
) -> list[TicketView]:
    """Dispatch inspection rounds still ``reported`` (no crew was free) to free grid crews.

    Oldest first, at most ``limit`` per call; returns the tickets dispatched now.
    """
    with store.sessions() as s:
        ids = s.scalars(
            select(Ticket.id)
            .where(round_clause(), Ticket.state == "reported")
            .order_by(Ticket.created_at, Ticket.id)
            .limit(limit)
        ).all()
    done = []
    for tid in ids:
        t = _assign(store, store.get(tid), actor)
        if t is not None:
            done.append(t)
    return done


def report_hazard(
    store: TicketStore,
    inspection_id: int,
    *,
    type: str,
    level: str,
    note: str,
    actor: Actor,
) -> TicketView:
    """Open a hazard ticket found on an inspection (same grid and place), by the inspector.

    The crew must see the inspection (its own), so nobody files hazards on others' rounds.
    """
    insp = store.get(inspection_id, actor)
    if insp.source != "inspection":
        raise ValueError("not an inspection ticket")
    with store.sessions() as s:
        t = s.get(Ticket, inspection_id)
        lon, lat, node = t.lon, t.lat, t.node
    return store.create(
        source="inspection",
        source_ref=f"hazard:{insp.ref}",
        type=type,
        level=level,
        grid_code=insp.grid_code,
        community_code=insp.community_code,
        node=node,
        lon=lon,
        lat=lat,
        description=note,
        actor=Actor(actor.user, "system") if actor.role == "crew" else actor,
    )
