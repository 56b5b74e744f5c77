"""The dispatch page (``/dispatch``): the operators' queue, crew suggestion, actions and history.

The queue is sorted by warning level, then by the nearest SLA deadline; countdowns tick in the
browser (``assets/streettwin_pages.js``). Every change goes through the ticket store with the
caller's own actor (the store re-checks role and scope) and is pushed to every open page as a
``{"type": "ticket"}`` event on ``/ws/live`` (:mod:`dashboard.ticket_feed`; REST steps, reports
and device or warning tickets publish the same event); pages refresh on such an event, and every
:data:`POLL_MS` anyway in case the socket is down. A refresh redraws the ticket panel only when
that ticket changed, so a note or crew choice being entered survives other tickets' events.
Escalate raises the ticket one stage (supervisor, then next level) with the note.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html
from sqlalchemy import select

from dashboard.dispatch_desk import (
    countdown_text,
    handle_action,
    in_my_grids,
    open_report_ticket,
    pending_deadlines,
    sort_queue,
    suggestion,
    ticket_text,
)
from dashboard.i18n_pages import (
    ACTION_NAMES,
    CREW_STATE_NAMES,
    LEVEL_NAMES,
    ROLE_NAMES,
    STATE_NAMES,
    TYPE_NAMES,
    tr,
)
from dashboard.pages._access import (
    denied,
    id_of,
    lang_of,
    may,
    may_open,
    page_principal,
    ticket_store,
)
from dashboard.ticket_feed import live_watch, register_live_watch

dash.register_page(__name__, path="/dispatch", name="Dispatch", title="StreetTwin 调度", order=3)

PATH = "/dispatch"
PAGE_ID = "st-dsp"
#: fallback refresh when the live socket is down [ms]
POLL_MS = 4000
#: states shown in the queue: open work, plus fixes waiting for verification and closure
QUEUE_STATES = ("reported", "dispatched", "accepted", "on_site", "resolved", "verified")
#: closed tickets kept at the bottom of the queue, newest first
RECENT_CLOSED = 10
#: what the queue lists → ``rounds`` of ``TicketStore.list_visible``: incidents (the default:
#: warnings, device alarms, reports, hazards found on rounds), the scheduled inspection rounds
#: (routine work: a month of them is thousands of tickets), or both
QUEUE_KINDS = {"incidents": False, "rounds": True, "all": None}
#: rows drawn at most, the most urgent first; the rest are counted under the table (thousands
#: of rows every refresh made the page too slow to draw at all)
QUEUE_ROWS = 200
#: escalation stage → what the facts line says (zh, en)
ESCALATION_NAMES = {1: ("已上报主管", "supervisor told"), 2: ("已上报上级", "next level told")}


def layout(lang: str = "zh", **_: Any) -> html.Div:
    """The page for operators and managers (leaders see it read-only)."""
    lang = lang_of(lang)
    principal = page_principal()
    if not may_open(principal, PATH):
        return denied(PATH, lang)
    writable = may(principal, "ticket.dispatch")
    return html.Div(
        className="st-wp st-dispatch",
        lang="zh-CN" if lang == "zh" else "en",
        children=[
            html.Header(
                className="st-wp-head",
                children=[
                    html.H1(tr("dispatch_title", lang)),
                    html.Span(principal.user.username, className="st-who"),
                    html.Span(
                        "" if writable else tr("read_only", lang),
                        id="st-dsp-readonly",
                        className="st-readonly",
                    ),
                ],
            ),
            html.Div(
                className="st-dsp-cols",
                children=[
                    html.Section(
                        [
                            html.H2(tr("queue", lang)),
                            dcc.RadioItems(
                                id="st-dsp-kind",
                                options=[
                                    {"label": tr(f"queue_{k}", lang), "value": k}
                                    for k in QUEUE_KINDS
                                ],
                                value="incidents",
                                inline=True,
                                className="st-dsp-kind",
                            ),
                            html.Div(id="st-dsp-queue"),
                        ],
                        className="st-dsp-queue",
                    ),
                    html.Section(
                        [
                            html.Div(tr("select_ticket", lang), id="st-dsp-detail"),
                            html.Div(id="st-dsp-msg", className="st-msg", role="status"),
                        ],
                        className="st-dsp-side",
                    ),
                ],
            ),
            html.Section(
                [html.H2(tr("reports", lang)), html.Div(id="st-dsp-reports")],
                className="st-dsp-reports",
            ),
            dcc.Store(id="st-dsp-lang", data=lang),
            dcc.Store(id="st-dsp-selected"),
            # "<ref>:<version>" of the panel on screen: a live bump for another ticket must
            # not redraw it (that would wipe the crew choice or note being typed)
            dcc.Store(id="st-dsp-shown"),
            # bumped on each ticket event from /ws/live (dashboard.ticket_feed.live_watch)
            *live_watch(PAGE_ID),
            dcc.Interval(id="st-dsp-poll", interval=POLL_MS),
        ],
    )


# -- pure helpers (tested as plain functions) -----------------------------------------------


def queue_table(
    tickets: list[Any], deadlines: dict[int, float], now: float, lang: str, limit: int = QUEUE_ROWS
):
    """The queue as an HTML table of its first ``limit`` tickets (the rest counted under it);
    rows are buttons selecting the ticket."""
    if not tickets:
        return html.P(tr("no_tickets", lang), className="st-empty")
    more = len(tickets) - limit
    tickets = tickets[:limit]
    head = html.Tr(
        [
            html.Th(h)
            for h in ("#", tr("level", lang), tr("type", lang), tr("state", lang))
            + (tr("grid", lang), tr("crew", lang), tr("deadline", lang))
        ]
    )
    rows = []
    for t in tickets:
        deadline = deadlines.get(t.id)
        left = "" if deadline is None else countdown_text(deadline - now, lang)
        rows.append(
            html.Tr(
                id={"type": "st-dsp-row", "id": t.ref},
                className=f"st-row st-level-{t.level} st-state-{t.state}",
                n_clicks=0,
                tabIndex="0",
                **{"data-ticket": t.ref, "data-state": t.state},
                children=[
                    html.Td(t.ref[:6], className="st-ref"),
                    html.Td(tr(t.level, lang, LEVEL_NAMES), className="st-level"),
                    html.Td(tr(t.type, lang, TYPE_NAMES)),
                    html.Td(tr(t.state, lang, STATE_NAMES), className="st-state"),
                    html.Td(t.grid_code),
                    html.Td(t.crew_id or "—"),
                    html.Td(
                        left,
                        className="st-countdown",
                        **({} if deadline is None else {"data-deadline": f"{deadline:.0f}"}),
                    ),
                ],
            )
        )
    table = html.Table([html.Thead(head), html.Tbody(rows)], className="st-table")
    if more <= 0:
        return table
    note = tr("queue_more", lang).format(n=more, limit=limit)
    return html.Div([table, html.P(note, id="st-dsp-more", className="st-empty")])


def history_list(steps: list[Any], lang: str) -> html.Ol:
    """A ticket's transitions, oldest first: time, who, from → to, note."""
    items = []
    for s in steps:
        when = time.strftime("%m-%d %H:%M:%S", time.localtime(s.at))
        to = tr(s.to_state, lang, STATE_NAMES)
        who = f"{s.actor} ({tr(s.actor_role, lang, ROLE_NAMES)})"
        text = f"{when} · {who} · {tr(s.action, lang, ACTION_NAMES)} → {to}"
        note = s.note
        if s.action == "relevel" and " → " in note:  # "yellow → red", written by the store
            note = " → ".join(tr(x, lang, LEVEL_NAMES) for x in note.split(" → "))
        if s.crew_id:
            text += f" · {s.crew_id}"
        if note:
            text += f" · {note}"
        items.append(html.Li(text))
    return html.Ol(items, className="st-history", id="st-dsp-history")


def _button(label: str, action: str, enabled: bool) -> html.Button:
    return html.Button(
        label,
        id={"type": "st-dsp-act", "action": action},
        className=f"st-btn st-act-{action}",
        disabled=not enabled,
        n_clicks=0,
    )


def detail_panel(store: Any, ticket: Any, principal: Any, lang: str) -> list[Any]:
    """Everything about one ticket: facts, suggestion, actions allowed to the caller, history."""
    from twin.events.lifecycle import (
        ESCALATABLE_STATES,
        ESCALATE_PERMISSION,
        MAX_ESCALATION,
        TRANSITIONS,
    )
    from twin.events.models import Ticket

    crews, best = suggestion(store, ticket)
    with store.sessions() as s:  # not in TicketView: free text stays off the lists and feeds
        description = s.scalar(select(Ticket.description).where(Ticket.id == ticket.id))
    stage = int(getattr(ticket, "escalation", 0) or 0)
    can_escalate = (
        ticket.state in ESCALATABLE_STATES
        and stage < MAX_ESCALATION
        and may(principal, ESCALATE_PERMISSION)
    )
    allowed = {a for (st, a) in TRANSITIONS if st == ticket.state}

    def ok(action: str) -> bool:
        return action in allowed and may(principal, f"ticket.{action}")

    if best is not None:
        sug = f"{best.crew_id} · {tr('travel', lang)} {best.travel_time_s / 60:.1f} min"
    else:
        sug = tr("no_suggestion", lang)
    options = [
        {"label": f"{c.id} {c.name} ({tr(c.state, lang, CREW_STATE_NAMES)})", "value": c.id}
        for c in crews
    ]
    assign_action = "dispatch" if ticket.state == "reported" else "reassign"
    children = [
        html.H2(
            f"#{ticket.ref[:6]} · {tr(ticket.type, lang, TYPE_NAMES)}",
            **{"data-ticket": ticket.ref},
        ),
        html.P(
            [
                html.Span(
                    tr(ticket.level, lang, LEVEL_NAMES), className=f"st-pill st-{ticket.level}"
                ),
                f" {tr(ticket.state, lang, STATE_NAMES)} · {ticket.grid_code}",
                f" · {ticket.crew_id}" if ticket.crew_id else "",
                html.Span(
                    f" · ⚠ {tr(stage, lang, ESCALATION_NAMES)}" if stage else "",
                    className="st-escalation",
                    **{"data-escalation": str(stage)},
                ),
            ],
            id="st-dsp-facts",
        ),
        html.P(
            ticket_text(ticket.source, ticket.source_ref, description, lang),
            id="st-dsp-what",
            className="st-what",
        ),
        html.P([html.B(tr("suggested", lang) + ": "), sug], id="st-dsp-suggest"),
        dcc.Dropdown(
            id="st-dsp-crew",
            options=options,
            value=best.crew_id if best is not None else None,
            clearable=False,
            disabled=not ok(assign_action),
        ),
        html.Div(
            className="st-actions",
            children=[
                _button(tr("assign", lang), "dispatch", ok("dispatch")),
                _button(tr("reassign", lang), "reassign", ok("reassign")),
                _button(tr("escalate", lang), "escalate", can_escalate),
                _button(tr("verify", lang), "verify", ok("verify")),
                _button(tr("close", lang), "close", ok("close")),
                _button(tr("dismiss", lang), "dismiss", ok("dismiss")),
            ],
        ),
        html.Div(
            className="st-actions",
            children=[
                dcc.Input(
                    id="st-dsp-into",
                    type="text",
                    placeholder=tr("merge_into", lang),
                    disabled=not ok("merge"),
                ),
                _button(tr("merge", lang), "merge", ok("merge")),
            ],
        ),
        dcc.Input(
            id="st-dsp-note",
            type="text",
            placeholder=tr("note", lang),
            maxLength=2000,
            className="st-note",
            disabled=not may(principal, "ticket.dispatch"),
        ),
        html.H3(tr("history", lang)),
        history_list(store.history(ticket.id, principal.actor), lang),
    ]
    return children


def reports_list(store: Any, principal: Any, lang: str):
    """Reports not yet turned into tickets, newest first, each with an "open ticket" button."""
    from twin.events.models import Report

    with store.sessions() as s:
        rows = list(
            s.scalars(
                select(Report)
                .where(Report.ticket_id.is_(None))
                .order_by(Report.id.desc())
                .limit(50)
            )
        )
    if not rows:
        return html.P(tr("no_reports", lang), className="st-empty")
    can_make = may(principal, "ticket.create")
    items = []
    for r in rows:
        when = time.strftime("%m-%d %H:%M", time.localtime(r.created_at))
        items.append(
            html.Li(
                [
                    html.Span(f"{when} · {r.category} · {r.address or ''} · {r.text[:120]}"),
                    html.Button(
                        tr("make_ticket", lang),
                        id={"type": "st-dsp-report", "id": r.id},
                        className="st-btn",
                        disabled=not can_make,
                        n_clicks=0,
                    ),
                ]
            )
        )
    return html.Ul(items, className="st-reports")


# -- callbacks ------------------------------------------------------------------------------
@callback(
    Output("st-dsp-queue", "children"),
    Output("st-dsp-reports", "children"),
    Input("st-dsp-poll", "n_intervals"),
    Input("st-live-bump", "data"),
    Input("st-dsp-msg", "children"),
    State("st-dsp-lang", "data"),
    Input("st-dsp-kind", "value"),
)
def refresh_queue(_n, _bump, _msg, lang, kind="incidents"):
    """The queue of ``kind`` (see :data:`QUEUE_KINDS`) and the reports to triage, re-read
    from the store."""
    lang = lang_of(lang)
    principal = page_principal()
    store = ticket_store()
    if not may_open(principal, PATH):
        return denied(PATH, lang), ""
    if store is None:
        return html.P(tr("not_wired", lang), className="st-na"), ""
    rounds = QUEUE_KINDS.get(kind, False)
    visible = functools.partial(store.list_visible, principal.actor, rounds=rounds)
    tickets = in_my_grids(principal, visible(states=QUEUE_STATES))
    deadlines = pending_deadlines(store)
    closed = in_my_grids(principal, visible(states=("closed",)))
    closed = closed[:RECENT_CLOSED]
    ordered = sort_queue(tickets, deadlines) + sorted(closed, key=lambda t: -t.updated_at)
    table = queue_table(ordered, deadlines, time.time(), lang)
    return table, reports_list(store, principal, lang)


@callback(
    Output("st-dsp-selected", "data"),
    Input({"type": "st-dsp-row", "id": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def select_ticket(clicks):
    """A queue row clicked: remember its ticket id."""
    if not ctx.triggered_id or not any(clicks or []):
        return dash.no_update
    return ctx.triggered_id["id"]


@callback(
    Output("st-dsp-detail", "children"),
    Output("st-dsp-shown", "data"),
    Input("st-dsp-selected", "data"),
    Input("st-dsp-msg", "children"),
    Input("st-live-bump", "data"),
    Input("st-dsp-poll", "n_intervals"),
    State("st-dsp-lang", "data"),
    State("st-dsp-shown", "data"),
)
def show_detail(ref, _msg, _bump, _n, lang, shown=None):
    """The selected ticket's panel; a live event or poll redraws it only if it changed."""
    lang = lang_of(lang)
    principal, store = page_principal(), ticket_store()
    if ref is None or store is None or not may_open(principal, PATH):
        return tr("select_ticket", lang), None
    from twin.events.lifecycle import TicketNotFoundError

    try:
        ticket = store.get(id_of(store, ref) or -1, principal.actor)
    except TicketNotFoundError:
        return tr("select_ticket", lang), None
    if not in_my_grids(principal, [ticket]):
        return tr("select_ticket", lang), None
    now_shown = f"{ticket.ref}:{ticket.version}"
    pushed = _triggered_id() in ("st-live-bump", "st-dsp-poll")
    if pushed and shown == now_shown:
        return dash.no_update, dash.no_update
    return detail_panel(store, ticket, principal, lang), now_shown


def _triggered_id() -> Any:
    """The input that fired the running callback (None when called as a plain function)."""
    try:
        return ctx.triggered_id
    except Exception:  # no callback context: a direct call, as in the tests
        return None


@callback(
    Output("st-dsp-msg", "children", allow_duplicate=True),
    Input({"type": "st-dsp-report", "id": ALL}, "n_clicks"),
    State("st-dsp-lang", "data"),
    prevent_initial_call=True,
)
def on_report(report_clicks, lang):
    """ "Open ticket" on a report (operators and managers only)."""
    lang = lang_of(lang)
    trig = ctx.triggered_id
    if not trig or not any(report_clicks or []):
        return dash.no_update
    principal, store = page_principal(), ticket_store()
    if store is None:
        return tr("not_wired", lang)
    if not may(principal, "ticket.create"):
        return tr("read_only", lang)
    return f"{tr(open_report_ticket(store, principal, trig['id']), lang)} · {time.time():.0f}"


@callback(
    Output("st-dsp-msg", "children"),
    Input({"type": "st-dsp-act", "action": ALL}, "n_clicks"),
    State("st-dsp-selected", "data"),
    State("st-dsp-crew", "value"),
    State("st-dsp-into", "value"),
    State("st-dsp-lang", "data"),
    State("st-dsp-note", "value"),
    prevent_initial_call=True,
)
def on_action(act_clicks, ref, crew_id, into, lang, note=None):
    """An action button: checked against the caller's role here and again in the store."""
    lang = lang_of(lang)
    trig = ctx.triggered_id
    if not trig or not any(act_clicks or []):
        return dash.no_update
    principal, store = page_principal(), ticket_store()
    return handle_action(principal, store, ref, trig["action"], crew_id, into, lang, note)


register_live_watch(PAGE_ID)
