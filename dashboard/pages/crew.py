"""The crew page (``/crew``): a phone screen with my tickets, a route map and three big buttons.

Taps never call the server directly: ``assets/streettwin_pages.js`` puts each one (with a
random idempotency key, the note and a downscaled photo) in a ``localStorage`` queue and sends
the queue in order to ``POST /api/crew/sync`` whenever the phone is online, so a dropped
connection loses nothing and a retry doubles nothing. New dispatches arrive over ``/ws/live``
(with a WebAudio beep; :mod:`dashboard.ticket_feed`) and by polling as a fallback; the cards
are redrawn only when one of this crew's tickets changed. The map shows the route from the crew to
the ticket on the road graph, avoiding roads the flood nowcast marks impassable.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import dash
import flask
import pydeck as pdk
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html
from sqlalchemy import select

from dashboard.dispatch_desk import ticket_text
from dashboard.i18n_pages import LEVEL_NAMES, STATE_NAMES, TYPE_NAMES, tr
from dashboard.pages._access import denied, lang_of, may_open, page_principal, ticket_store
from dashboard.ticket_feed import live_watch, register_live_watch

dash.register_page(__name__, path="/crew", name="Crew", title="StreetTwin 外勤", order=4)

PATH = "/crew"
PAGE_ID = "st-crew"
POLL_MS = 5000
#: states a crew still works on (resolved ones stay visible until verified)
CREW_STATES = ("dispatched", "accepted", "on_site", "resolved")
#: state → the one next step a crew can take from it
NEXT_ACTION = {"dispatched": "accept", "accepted": "arrive", "on_site": "resolve"}
DISPATCH_KEY = "streettwin_dispatch"
ROUTE_RGB = [0, 120, 255]
TICKET_RGB = [220, 30, 30]
CREW_RGB = [20, 160, 60]


def layout(lang: str = "zh", **_: Any) -> html.Div:
    """The phone page of the logged-in crew member."""
    lang = lang_of(lang)
    principal = page_principal()
    if not may_open(principal, PATH):
        return denied(PATH, lang)
    return html.Div(
        id="st-crew",
        className="st-wp st-crew",
        lang="zh-CN" if lang == "zh" else "en",
        **{"data-crew": principal.user.crew_id or "", "data-user": principal.user.username},
        children=[
            html.Header(
                className="st-crew-head",
                children=[
                    html.H1(tr("crew_title", lang)),
                    html.Span(tr("online", lang), id="st-net", className="st-net st-online"),
                    html.Span("", id="st-queue-count", className="st-queue-count"),
                ],
            ),
            html.Div(
                tr("offline", lang), id="st-offline-note", className="st-offline", hidden=True
            ),
            html.Div(tr("new_dispatch", lang), id="st-new", className="st-new", hidden=True),
            html.Div(id="st-crew-list", className="st-crew-list"),
            html.H2(tr("route", lang), className="st-crew-map-title"),
            html.Div(id="st-crew-map", className="st-crew-map", role="img"),
            html.Div(id="st-crew-map-status", hidden=True),
            html.Div(id="st-crew-seen", hidden=True),
            dcc.Store(id="st-crew-deck"),
            dcc.Store(id="st-crew-lang", data=lang),
            dcc.Store(id="st-crew-refs"),
            # "<ref>:<version>" of the cards on screen: a live event about someone else's
            # ticket must not redraw them (that would wipe a note being typed)
            dcc.Store(id="st-crew-sig"),
            # bumped on each ticket event from /ws/live (dashboard.ticket_feed.live_watch)
            *live_watch(PAGE_ID),
            dcc.Interval(id="st-crew-poll", interval=POLL_MS),
        ],
    )


# -- pure helpers ---------------------------------------------------------------------------
def ticket_card(t: Any, lang: str) -> html.Article:
    """One ticket: what, where, and the next step as a big button (resolve with note + photo)."""
    action = NEXT_ACTION.get(t.state)
    what = ticket_text(t.source, t.source_ref, t.description, lang)
    body: list[Any] = [
        html.H2(
            [
                html.Span(tr(t.level, lang, LEVEL_NAMES), className=f"st-pill st-{t.level}"),
                f" {tr(t.type, lang, TYPE_NAMES)} · {t.grid_code}",
            ]
        ),
        html.P(what, className="st-where"),
        html.P(tr(t.state, lang, STATE_NAMES), className="st-tcard-state"),
    ]
    # every step is on the card; the page script reveals the next one right after a tap, so
    # a crew can accept, arrive and resolve while offline (the queue carries them in order)
    body.append(
        html.Div(
            [
                dcc.Textarea(className="st-note", placeholder=tr("note", lang)),
                html.Label(
                    [
                        tr("photo", lang),
                        # Dash has no plain file input: the page script puts one in here
                        html.Span(className="st-photo-slot"),
                    ],
                    className="st-photo-label",
                ),
            ],
            className="st-resolve-box",
            hidden=action != "resolve",
        )
    )
    for step in ("accept", "arrive", "resolve"):
        body.append(
            html.Button(
                tr(step, lang),
                className=f"st-big st-do-{step}",
                hidden=step != action,
                **{"data-ref": t.ref, "data-action": step},
            )
        )
    return html.Article(
        body,
        className=f"st-tcard st-level-{t.level}",
        **{"data-ref": t.ref, "data-state": t.state},
    )


def route_lonlat(graph: Any, route: tuple, crs: Any) -> list[list[float]]:
    """Road-graph nodes (``x``, ``y`` in the metric CRS, m) as ``[lon, lat]`` degrees."""
    from pyproj import Transformer

    to_wgs = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    xs = [graph.nodes[n]["x"] for n in route]
    ys = [graph.nodes[n]["y"] for n in route]
    lon, lat = to_wgs.transform(xs, ys)
    return [[round(float(a), 7), round(float(b), 7)] for a, b in zip(lon, lat, strict=True)]


def route_deck(base: dict[str, Any], path: list[list[float]], target: list[float] | None) -> dict:
    """The district deck plus the route (path) and the ticket (red) and crew (green) points."""
    out = copy.deepcopy(base)
    deck = out["deck"]
    extra = []
    if len(path) >= 2:
        extra.append(
            pdk.Layer(
                "PathLayer",
                id="crew-route",
                data=[{"path": path}],
                get_path="path",
                get_color=ROUTE_RGB,
                width_min_pixels=5,
            )
        )
    points = []
    if path:
        points.append({"position": path[0], "color": CREW_RGB})
    if target is not None:
        points.append({"position": target, "color": TICKET_RGB})
    if points:
        extra.append(
            pdk.Layer(
                "ScatterplotLayer",
                id="crew-points",
                data=points,
                get_position="position",
                get_fill_color="color",
                radius_min_pixels=9,
            )
        )
    if extra:
        added = pdk.Deck(layers=extra, map_provider=None, map_style=None).to_json()
        deck["layers"] = list(deck["layers"]) + json.loads(added)["layers"]
    if target is not None:
        deck["initialViewState"] = {
            **deck.get("initialViewState", {}),
            "longitude": target[0],
            "latitude": target[1],
            "zoom": 16,
            "pitch": 0,
        }
    out["style"] = "crew"
    return out


def crew_tickets(store: Any, principal: Any) -> list[Any]:
    """This crew's tickets in :data:`CREW_STATES` (full rows: description and position)."""
    from twin.events.models import Ticket

    visible = store.list_visible(principal.actor, states=CREW_STATES)
    ids = [t.id for t in visible]
    if not ids:
        return []
    with store.sessions() as s:
        rows = list(s.scalars(select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id)))
        s.expunge_all()
    order = {"on_site": 0, "accepted": 1, "dispatched": 2, "resolved": 3}
    return sorted(rows, key=lambda t: (order.get(t.state, 9), t.id))


def route_for(store: Any, ticket: Any, crew_id: str | None) -> tuple[list, list | None]:
    """(route as [lon, lat] points, ticket position) from the crew's node to the ticket."""
    from dashboard.context import current_context
    from twin.events.crews import load_crews, rank_crews

    registry = current_context().registry
    graph = registry.road_graph()
    target = [ticket.lon, ticket.lat] if ticket.lon is not None else None
    crew = next((c for c in load_crews(store.sessions) if c.id == crew_id), None)
    if crew is None or ticket.node is None or ticket.node not in graph:
        return [], target
    svc = flask.current_app.extensions.get(DISPATCH_KEY)
    closed = svc.impassable() if svc is not None else set()
    # rank only this crew, whatever its state: it is already on its way
    mine = [replace(crew, state="free", shift_start_s=0, shift_end_s=86_400)]
    try:
        ranked = rank_crews(ticket, mine, graph, closed)
    except ValueError:
        ranked = []
    if not ranked:
        return [], target
    path = route_lonlat(graph, ranked[0].route, registry.metric_crs)
    if target is None and path:
        target = path[-1]
    return path, target


# -- callbacks ------------------------------------------------------------------------------
@callback(
    Output("st-crew-list", "children"),
    Output("st-crew-deck", "data"),
    Output("st-crew-refs", "data"),
    Output("st-crew-sig", "data"),
    Input("st-crew-poll", "n_intervals"),
    Input("st-live-bump", "data"),
    State("st-crew-lang", "data"),
    State("st-crew-refs", "data"),
    State("st-crew-sig", "data"),
)
def refresh(_n, _bump, lang, old_refs, old_sig=None):
    """My tickets and the route to the first one; nothing is redrawn while they are unchanged
    (the page refreshes on every ticket event on ``/ws/live`` and on each poll)."""
    from dashboard.context import current_context

    lang = lang_of(lang)
    principal, store = page_principal(), ticket_store()
    if not may_open(principal, PATH):
        return denied(PATH, lang), dash.no_update, dash.no_update, None
    if store is None:
        nu = dash.no_update
        return html.P(tr("not_wired", lang), className="st-na"), nu, nu, None
    tickets = crew_tickets(store, principal)
    refs = [t.ref for t in tickets]
    sig = [f"{t.ref}:{t.version}" for t in tickets]
    if old_sig is not None and sig == old_sig:
        return dash.no_update, dash.no_update, dash.no_update, dash.no_update
    cards = [ticket_card(t, lang) for t in tickets] or [html.P(tr("no_tickets", lang))]
    if old_refs == refs and _n:
        deck = dash.no_update  # same tickets: keep the map as it is
    else:
        base = current_context().deck("plain")
        first = next((t for t in tickets if t.state != "resolved"), None)
        path, target = route_for(store, first, principal.user.crew_id) if first else ([], None)
        deck = route_deck(base, path, target)
    return cards, deck, refs, sig


clientside_callback(
    ClientsideFunction(namespace="streettwin", function_name="renderDeck"),
    Output("st-crew-map-status", "children"),
    Input("st-crew-deck", "data"),
    Input("st-crew-lang", "data"),
    State("st-crew-map", "id"),
)

clientside_callback(
    ClientsideFunction(namespace="streettwinPages", function_name="crewTickets"),
    Output("st-crew-seen", "children"),
    Input("st-crew-refs", "data"),
)

register_live_watch(PAGE_ID)
