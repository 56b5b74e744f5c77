"""Figures for leaders: hazards found vs handled, handling rate, and response times.

Grouped by any of type, grid, community and ISO week of creation. Found = tickets that are
neither merged duplicates nor dismissed false reports nor scheduled inspection rounds (routine
work, counted apart by :func:`inspection_figures`; a hazard found on a round is found);
handled = found tickets that reached resolved, verified or closed; times are means from
creation over the found tickets that reached dispatched, accepted, on site and closed [s].

Two ways to the same numbers, both SQL aggregates through SQLAlchemy:
:func:`kpi_figures` sums the ``kpi_rollup`` table, which every ticket change keeps exact in
its own transaction (fast at any history size), and :func:`kpi_figures_exact` scans the
tickets (any time window; the check on the rollup). :func:`rebuild_rollup` recomputes the
rollup from the tickets after a bulk import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, and_, case, delete, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from twin.events.lifecycle import HANDLED_STATES
from twin.events.models import KpiRollup, Ticket, is_round, not_round_clause, round_clause

NOT_FOUND_STATES = ("merged", "dismissed")
#: group key → (ticket column, rollup column)
GROUPS = {
    "type": (Ticket.type, KpiRollup.type),
    "grid": (Ticket.grid_code, KpiRollup.grid_code),
    "community": (Ticket.community_code, KpiRollup.community_code),
    "week": (Ticket.created_week, KpiRollup.created_week),
}
#: (rollup count column, rollup sum column, ticket milestone column) per time figure
STEPS = (
    ("n_dispatch", "sum_dispatch_s", "dispatched_at"),
    ("n_accept", "sum_accept_s", "accepted_at"),
    ("n_arrive", "sum_arrive_s", "on_site_at"),
    ("n_close", "sum_close_s", "closed_at"),
)
SUM_COLUMNS = ("found", "handled") + tuple(c for step in STEPS for c in step[:2])
ZERO = (0,) * len(SUM_COLUMNS)


@dataclass(frozen=True)
class KpiRow:
    """Figures for one group; times in seconds (None when no ticket reached the step)."""

    key: dict
    found: int
    handled: int
    handling_rate: float | None
    mean_time_to_dispatch_s: float | None
    mean_time_to_accept_s: float | None
    mean_time_to_arrive_s: float | None
    mean_time_to_close_s: float | None


# -- keeping the rollup ---------------------------------------------------------------------
def contribution(t: Ticket) -> tuple:
    """What one ticket adds to its rollup row, in :data:`SUM_COLUMNS` order."""
    if t.state in NOT_FOUND_STATES or is_round(t.source, t.source_ref):
        return ZERO
    out: list = [1, int(t.state in HANDLED_STATES)]
    for _, _, column in STEPS:
        at = getattr(t, column)
        out += [0, 0.0] if at is None else [1, at - t.created_at]
    return tuple(out)


def apply_delta(session: Session, t: Ticket, before: tuple) -> None:
    """Add ``contribution(t) - before`` to the ticket's rollup row (one upsert)."""
    after = contribution(t)
    delta = {c: a - b for c, a, b in zip(SUM_COLUMNS, after, before, strict=True)}
    if not any(delta.values()):
        return
    params = {
        "created_week": t.created_week,
        "type": t.type,
        "grid_code": t.grid_code,
        "community_code": t.community_code or "",
        **delta,
    }
    dialect = session.get_bind().dialect.name
    if dialect in _UPSERT_MAKERS:
        session.execute(_upsert(dialect), params)
        return
    key_where = [getattr(KpiRollup, k) == params[k] for k in KEY_COLUMNS]
    res = session.execute(  # other backends: update, else insert
        update(KpiRollup)
        .where(*key_where)
        .values({c: getattr(KpiRollup, c) + d for c, d in delta.items()})
        .execution_options(synchronize_session=False)
    )
    if res.rowcount == 0:
        session.execute(insert(KpiRollup).values(**params))


KEY_COLUMNS = ("created_week", "type", "grid_code", "community_code")
_UPSERT_MAKERS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
_UPSERTS: dict = {}


def _upsert(dialect: str):
    """One prebuilt upsert per dialect (built once, so SQLAlchemy's compile cache hits)."""
    if dialect not in _UPSERTS:
        ins = _UPSERT_MAKERS[dialect](KpiRollup)
        _UPSERTS[dialect] = ins.on_conflict_do_update(
            index_elements=list(KEY_COLUMNS),
            set_={c: getattr(KpiRollup, c) + ins.excluded[c] for c in SUM_COLUMNS},
        )
    return _UPSERTS[dialect]


def _ticket_sums():
    """SQL expressions of :func:`contribution`, for aggregating tickets."""
    found = and_(Ticket.state.not_in(NOT_FOUND_STATES), not_round_clause())
    exprs = [
        case((found, 1), else_=0),
        case((and_(found, Ticket.state.in_(HANDLED_STATES)), 1), else_=0),
    ]
    for _, _, column in STEPS:
        reached = and_(found, getattr(Ticket, column).is_not(None))
        exprs += [
            case((reached, 1), else_=0),
            case((reached, getattr(Ticket, column) - Ticket.created_at), else_=0.0),
        ]
    return [func.coalesce(func.sum(e), 0) for e in exprs]


def rebuild_rollup(session: Session) -> None:
    """Recompute the whole rollup from the tickets (after a bulk import; the caller commits)."""
    session.execute(delete(KpiRollup))
    community = func.coalesce(Ticket.community_code, literal(""))
    keys = [Ticket.created_week, Ticket.type, Ticket.grid_code, community]
    source = select(*keys, *_ticket_sums()).group_by(*keys)
    cols = ["created_week", "type", "grid_code", "community_code", *SUM_COLUMNS]
    session.execute(insert(KpiRollup).from_select(cols, source))


# -- reading the figures ---------------------------------------------------------------------
def _check(by: Sequence[str]) -> None:
    unknown = set(by) - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown group keys {sorted(unknown)}; choose from {list(GROUPS)}")


def _rows(result, by: Sequence[str]) -> list[KpiRow]:
    out = []
    for row in result:
        key = {k: row[i] for i, k in enumerate(by)}
        if "community" in key and key["community"] == "":
            key["community"] = None
        sums = dict(zip(SUM_COLUMNS, row[len(by) :], strict=True))
        found, handled = int(sums["found"]), int(sums["handled"])
        if found == 0:
            continue
        means = [float(sums[s]) / int(sums[n]) if int(sums[n]) else None for n, s, _ in STEPS]
        out.append(KpiRow(key, found, handled, handled / found, *means))
    return out


def kpi_figures(
    engine: Engine,
    by: Sequence[str] = ("type",),
    *,
    from_week: int | None = None,
    to_week: int | None = None,
) -> list[KpiRow]:
    """Leaders' figures from the rollup, grouped by ``by``, sorted by the group keys.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    by : sequence of {"type", "grid", "community", "week"}
        Group keys in order; empty for one overall row.
    from_week, to_week : int, optional
        Inclusive ISO-week range as yyyyww (e.g. 202640, 202652).
    """
    _check(by)
    keys = [GROUPS[k][1] for k in by]
    stmt = select(*keys, *[func.sum(getattr(KpiRollup, c)) for c in SUM_COLUMNS])
    if from_week is not None:
        stmt = stmt.where(KpiRollup.created_week >= from_week)
    if to_week is not None:
        stmt = stmt.where(KpiRollup.created_week <= to_week)
    if keys:
        stmt = stmt.group_by(*keys).order_by(*keys)
    with engine.connect() as conn:
        return _rows(conn.execute(stmt), by)


def kpi_figures_exact(
    engine: Engine,
    by: Sequence[str] = ("type",),
    *,
    since: float | None = None,
    until: float | None = None,
) -> list[KpiRow]:
    """The same figures by scanning tickets created in [since, until) (UTC epoch s)."""
    _check(by)
    keys = [GROUPS[k][0] for k in by]
    stmt = select(*keys, *_ticket_sums())
    if since is not None:
        stmt = stmt.where(Ticket.created_at >= since)
    if until is not None:
        stmt = stmt.where(Ticket.created_at < until)
    if keys:
        stmt = stmt.group_by(*keys).order_by(*keys)
    with engine.connect() as conn:
        return _rows(conn.execute(stmt), by)


def week_label(yyyyww: int) -> str:
    """ISO week key as text.

    >>> week_label(202647)
    '2026-W47'
    """
    return f"{yyyyww // 100}-W{yyyyww % 100:02d}"


# -- inspections done vs due ---------------------------------------------------------------------
@dataclass(frozen=True)
class InspectionRow:
    """Inspection rounds of one group: due (their slot has started, so the ticket exists),
    done (resolved, verified or closed) and the share done (None with nothing due)."""

    key: dict
    due: int
    done: int
    done_rate: float | None


def inspection_figures(
    engine: Engine,
    by: Sequence[str] = ("week",),
    *,
    from_week: int | None = None,
    to_week: int | None = None,
    grid: str | None = None,
) -> list[InspectionRow]:
    """Inspections done vs due, grouped by ``by`` (any of :data:`GROUPS`), sorted by the keys.

    A round is due from the start of its slot in the month, when the scheduler creates its
    ticket; ``week`` is the week of that creation (the week it fell due while the scheduler
    runs on time). One aggregate over the tickets (the ``(source, source_ref)`` index finds
    the rounds).

    Parameters
    ----------
    engine : sqlalchemy.Engine
    by : sequence of {"type", "grid", "community", "week"}
    from_week, to_week : int, optional
        Inclusive ISO-week range as yyyyww.
    grid : str, optional
        Only this grid's rounds.
    """
    _check(by)
    keys = [GROUPS[k][0] for k in by]
    done = func.sum(case((Ticket.state.in_(HANDLED_STATES), 1), else_=0))
    stmt = select(*keys, func.count(), done).where(round_clause())
    if from_week is not None:
        stmt = stmt.where(Ticket.created_week >= from_week)
    if to_week is not None:
        stmt = stmt.where(Ticket.created_week <= to_week)
    if grid:
        stmt = stmt.where(Ticket.grid_code == grid)
    if keys:
        stmt = stmt.group_by(*keys).order_by(*keys)
    out = []
    with engine.connect() as conn:
        for row in conn.execute(stmt):
            n_due, n_done = int(row[len(by)] or 0), int(row[len(by) + 1] or 0)
            if n_due == 0:
                continue
            key = dict(zip(by, row[: len(by)], strict=True))
            out.append(InspectionRow(key, n_due, n_done, n_done / n_due))
    return out
