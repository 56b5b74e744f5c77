"""The dispatch desk's logic behind the ``/dispatch`` page: queue order, deadlines, crew
suggestion and the actions, each done as the calling account (the store re-checks role and scope).
"""

from __future__ import annotations

import time
from typing import Any

import flask
from sqlalchemy import func, select

from dashboard.i18n_pages import ROUND_FACTOR_NAMES, ROUND_LEVEL_NAMES, tr
from dashboard.pages._access import LEVEL_RANK, id_of, may
from dashboard.ticket_feed import publish_ticket

#: where H17's DispatchService lives (``server.extensions``)
DISPATCH_KEY = "streettwin_dispatch"


def sort_queue(tickets: list[Any], deadlines: dict[int, float]) -> list[Any]:
    """Tickets by level (red first), then nearest deadline, then age.

    >>> from types import SimpleNamespace as T
    >>> q = [T(id=1, level="blue", created_at=0), T(id=2, level="red", created_at=5),
    ...      T(id=3, level="red", created_at=1)]
    >>> [t.id for t in sort_queue(q, {2: 100.0, 3: 200.0})]
    [2, 3, 1]
    """
    return sorted(
        tickets,
        key=lambda t: (
            LEVEL_RANK.get(t.level, 9),
            deadlines.get(t.id, float("inf")),
            t.created_at,
        ),
    )


def in_my_grids(principal: Any, tickets: list[Any]) -> list[Any]:
    """Only the tickets in the caller's grids when the account is bound to grids (the same
    rule as the dispatch API's ``in_grids``)."""
    grids = tuple(principal.user.grid_codes or ())
    if not grids:
        return list(tickets)
    return [t for t in tickets if t.grid_code in grids]


def countdown_text(seconds: float, lang: str = "zh") -> str:
    """Time left as ``m:ss`` (``h:mm:ss`` past an hour), or overdue.

    >>> countdown_text(75), countdown_text(3725), countdown_text(-3, "en")
    ('1:15', '1:02:05', 'overdue 0:03')
    """
    s = int(abs(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    text = f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"
    return f"{tr('overdue', lang)} {text}" if seconds < 0 else text


def pending_deadlines(store: Any) -> dict[int, float]:
    """Ticket id → the earliest deadline of its pending SLA timers [UTC epoch s]."""
    from twin.events.models import SlaTimer

    stmt = (
        select(SlaTimer.ticket_id, func.min(SlaTimer.deadline_at))
        .where(SlaTimer.fired_at.is_(None), SlaTimer.cancelled_at.is_(None))
        .group_by(SlaTimer.ticket_id)
    )
    with store.engine.connect() as conn:
        return {int(tid): float(d) for tid, d in conn.execute(stmt)}


def ticket_text(
    source: str, source_ref: str | None, description: str | None, lang: str,
    names: dict[str, str] | None = None,
) -> str:  # fmt: skip
    """What a ticket is about, for people: its description, except that a scheduled inspection
    round (stored as ``level L inspection k/n: factor+points, …``) is told in ``lang`` with the
    building's name (``names``: building id → name; default the running district's).

    >>> ticket_text("inspection", "insp:B7:2026-11:1",
    ...             "level 4 inspection 1/1: fire_load+1, fire_resistance+1", "zh",
    ...             {"B7": "周屋村一巷1号"})
    '周屋村一巷1号（B7） · 四级管理巡查 第 1/1 次 · 风险因素：火灾荷载 +1、耐火等级 +1'
    >>> ticket_text("report", "r1", "井盖缺失", "en")
    '井盖缺失'
    """
    from twin.events.inspections import round_info

    info = round_info(source_ref, description) if source == "inspection" else None
    if info is None:
        return description or ""
    if names is None:
        from dashboard.context import current_context

        registry = current_context().registry
        names = registry.building_names(lang) if registry is not None else {}
    name = names.get(info.building_id)
    place = f"{name}（{info.building_id}）" if lang == "zh" else f"{name} ({info.building_id})"
    factors = ("、" if lang == "zh" else ", ").join(
        f"{tr(f, lang, ROUND_FACTOR_NAMES)} +{p}" for f, p in info.reasons
    )
    return tr("round_text", lang).format(
        place=place if name else info.building_id,
        level=tr(str(info.level), lang, ROUND_LEVEL_NAMES),
        k=info.k,
        n=info.per_month,
        factors=factors or "—",
    )


def suggestion(store: Any, ticket: Any) -> tuple[list[Any], Any]:
    """Crews ranked for ``ticket`` on the district's road graph, and the best one (or None)."""
    from dashboard.context import current_context
    from twin.events.crews import load_crews, rank_crews

    crews = load_crews(store.sessions)
    graph = current_context().registry.road_graph()
    svc = flask.current_app.extensions.get(DISPATCH_KEY)
    closed = svc.impassable() if svc is not None else set()  # flooded roads, from the nowcast
    try:
        ranked = rank_crews(ticket, crews, graph, closed)
    except ValueError:  # the ticket has no node on the road graph
        ranked = []
    return crews, (ranked[0] if ranked else None)


def publish(view: Any, action: str) -> None:
    """Push a committed change to every open page (no-op without a live runtime)."""
    from dashboard.context import current_context

    publish_ticket(current_context().runtime, view, action)


def apply_action(store, principal, ticket_id: int, action: str, crew_id=None, into=None, note=""):
    """Do one dispatch action as ``principal``; returns the message to show.

    ``escalate`` is not a lifecycle step: the store's ``escalate`` raises the ticket one stage
    (supervisor, then next level) and records it with the note. Every committed change is
    published on the live feed.
    """
    from twin.events.lifecycle import ESCALATE, TicketError
    from twin.events.roles import PermissionDeniedError

    note = str(note or "")[:2000]
    if action == ESCALATE:
        try:
            store.escalate(ticket_id, actor=principal.actor, note=note)
        except (TicketError, PermissionDeniedError, ValueError) as exc:
            return f"✗ {exc}"
        publish(store.get(ticket_id), action)
        return "done"
    kwargs: dict[str, Any] = {"actor": principal.actor, "note": note}
    if action in ("dispatch", "reassign"):
        kwargs["crew_id"] = crew_id
    if action == "merge":
        kwargs["into"] = None if into is None else int(into)
    try:
        store.transition(ticket_id, action, **kwargs)
    except (TicketError, PermissionDeniedError, ValueError) as exc:
        return f"✗ {exc}"
    publish(store.get(ticket_id), action)
    return "done"


def handle_action(
    principal, store, ref, action: str, crew_id=None, into=None, lang="zh", note=""
) -> str:
    """The body of :func:`on_action`: role check, ref → id, the step; the message to show."""
    from twin.events.lifecycle import ESCALATE, ESCALATE_PERMISSION

    if store is None:
        return tr("not_wired", lang)
    needed = ESCALATE_PERMISSION if action == ESCALATE else f"ticket.{action}"
    ticket_id = id_of(store, ref)
    if not may(principal, needed) or ticket_id is None:
        return tr("read_only", lang)
    into_id = id_of(store, str(into).strip()) if into else None
    result = apply_action(store, principal, ticket_id, action, crew_id, into_id, note)
    # the time makes every message new, so the queue and detail always refresh after it
    return f"{tr(result, lang)} · {action} #{str(ref)[:6]} · {time.time():.0f}"


def open_report_ticket(store, principal, report_id: int) -> str:
    """Turn a report into a ticket (type from its category, level blue) and link it."""
    from twin.events.lifecycle import TICKET_TYPES
    from twin.events.models import Report

    with store.sessions() as s:
        r = s.get(Report, report_id)
        if r is None or r.ticket_id is not None:
            return "done"
        category, grid, lon, lat, text, ref = (
            r.category, r.grid_code, r.lon, r.lat, r.text, r.ref,
        )  # fmt: skip
    view = store.create(
        source="report",
        type=category if category in TICKET_TYPES else "general",
        level="blue",
        grid_code=grid or "",
        actor=principal.actor,
        source_ref=ref,
        lon=lon,
        lat=lat,
        description=text,
    )
    with store.sessions() as s, s.begin():
        s.get(Report, report_id).ticket_id = view.id
    publish(view, "create")
    return "done"
