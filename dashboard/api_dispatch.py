"""Dispatch REST API: tickets, their steps, crew suggestions, crews, figures, reports in.

Every route goes through :func:`dashboard.auth.require` (401/403) and then object checks:
a ticket the caller may not see answers 404 exactly like one that does not exist, and tickets
are addressed by their unguessable ``ref`` — database ids never leave the server. Writes go
through :class:`twin.events.tickets.TicketStore`, which checks the role again and audits.

========================================  ======  ===================================
route                                     method  permission
========================================  ======  ===================================
/api/tickets                              GET     ticket.read (crews: own; grids)
/api/tickets                              POST    ticket.create
/api/tickets/<ref>                        GET     ticket.read + visible
/api/tickets/<ref>/history                GET     ticket.read + visible
/api/tickets/<ref>/suggest                GET     crew.suggest + visible
/api/tickets/<ref>/<action>               POST    ticket.<action> + visible
/api/tickets/<ref>/escalate               POST    ticket.dispatch + visible
/api/crews                                GET     crew.read
/api/kpi                                  GET     kpi.read
/api/reports                              POST    report.create, or anonymous (rate-limited)
/api/reports/<receipt>                    GET     the receipt itself (rate-limited)
/api/buildings/<id>/vulnerable            GET     vulnerable.read (every access audited)
========================================  ======  ===================================
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

import flask

from dashboard.auth import (
    AuthService,
    Principal,
    client_key,
    install_auth,
    json_error,
    require,
)
from dashboard.dispatch_service import DispatchService, in_grids, subscribe
from twin.events.crews import rank_crews
from twin.events.kpi import GROUPS, kpi_figures
from twin.events.lifecycle import (
    ACTIONS,
    ESCALATABLE_STATES,
    ESCALATE,
    ESCALATE_PERMISSION,
    LEVELS,
    MAX_ESCALATION,
    TICKET_TYPES,
    TRANSITIONS,
    Actor,
    InvalidTransitionError,
    StaleTicketError,
    TicketNotFoundError,
    TicketView,
)
from twin.events.roles import PermissionDeniedError, can

EXTENSION_KEY = "streettwin_dispatch"
TICKETS_KEY = "streettwin_tickets"
ANONYMOUS = Actor("anonymous", "anonymous")

api_dispatch = flask.Blueprint("api_dispatch", __name__, url_prefix="/api")


def register_dispatch_api(server: flask.Flask, svc: DispatchService, *, secure: bool) -> None:
    """Add login and dispatch routes to an app and subscribe to the runtime's events."""
    server.extensions[EXTENSION_KEY] = svc
    server.extensions[TICKETS_KEY] = svc.store  # the working pages read the store from here
    install_auth(server, AuthService(svc.users, svc.sessions, secure=secure))
    server.register_blueprint(api_dispatch)
    if svc.runtime is not None:
        subscribe(svc.runtime, svc)


def dispatch() -> DispatchService:
    """The :class:`DispatchService` of the app serving this request."""
    return flask.current_app.extensions[EXTENSION_KEY]


def _principal() -> Principal:
    return flask.g.principal


def _actor() -> Actor:
    p = flask.g.get("principal")
    return ANONYMOUS if p is None else p.actor


def _grids() -> tuple[str, ...]:
    p = flask.g.get("principal")
    return () if p is None else p.user.grid_codes


def ticket_json(t: TicketView, actor: Actor) -> dict[str, Any]:
    """A ticket as the API shows it: ``ref`` instead of ids; actions this actor may take."""
    svc = dispatch()
    actions = {a for (st, a) in TRANSITIONS if st == t.state and can(actor.role, f"ticket.{a}")}
    if may_escalate(t, actor):
        actions.add(ESCALATE)
    return {
        "ref": t.ref,
        "source": t.source,
        "type": t.type,
        "level": t.level,
        "state": t.state,
        "grid": t.grid_code,
        "community": t.community_code,
        "node": t.node,
        "crew_id": t.crew_id,
        "merged_into": svc.ref_of(t.merged_into_id),
        "escalation": t.escalation,
        "version": t.version,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "actions": sorted(actions),
    }


def may_escalate(t: TicketView, actor: Actor) -> bool:
    """True if ``actor`` may escalate ``t`` now (a running SLA clock, a stage left)."""
    return (
        t.state in ESCALATABLE_STATES
        and t.escalation < MAX_ESCALATION
        and can(actor.role, ESCALATE_PERMISSION)
    )


def _visible_ticket(ref: str) -> TicketView | flask.Response:
    try:
        return dispatch().ticket(ref, _actor(), _grids())
    except TicketNotFoundError:
        return json_error(404, "not_found", "no such ticket")


# -- tickets ------------------------------------------------------------------------------------
@api_dispatch.get("/tickets")
@require("ticket.read")
def list_tickets() -> flask.Response:
    """``GET /api/tickets[?state=a,b]``: tickets this caller may see, newest first."""
    states = [s for s in flask.request.args.get("state", "").split(",") if s] or None
    actor = _actor()
    rows = dispatch().store.list_visible(actor, states=states)
    rows = [t for t in rows if in_grids(t, actor, _grids())]
    return flask.jsonify(tickets=[ticket_json(t, actor) for t in rows[:500]])


@api_dispatch.post("/tickets")
@require("ticket.create")
def create_ticket() -> flask.Response:
    """``POST /api/tickets`` ``{"type", "level", "lon", "lat" | "grid", "description"}`` → 201."""
    body = flask.request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        return json_error(400, "bad_request", "the body must be a JSON object")
    svc = dispatch()
    ttype, level = body.get("type"), body.get("level", "yellow")
    if ttype not in TICKET_TYPES or level not in LEVELS:
        return json_error(422, "invalid", f"type in {TICKET_TYPES}, level in {LEVELS}")
    lon, lat = _float(body.get("lon")), _float(body.get("lat"))
    grid, community, node = body.get("grid"), None, None
    if lon is not None and lat is not None:
        grid, community, _ = svc.grid_at(lon, lat)
        node = svc.nearest_road_node(lon, lat)
    if grid is None or grid not in set(svc.registry.grids["grid_id"].astype(str)):
        return json_error(422, "invalid", "give lon/lat inside the district or a grid id")
    grids = _grids()
    if grids and grid not in grids:
        return json_error(403, "forbidden", "outside your grids")
    t = svc.store.create(
        source="report",
        type=ttype,
        level=level,
        grid_code=str(grid),
        community_code=community,
        node=node,
        lon=lon,
        lat=lat,
        description=str(body.get("description", ""))[:2000],
        actor=_actor(),
    )
    svc.publish(t, "create")
    resp = flask.jsonify(ticket_json(t, _actor()))
    resp.status_code = 201
    return resp


@api_dispatch.get("/tickets/<ref>")
@require("ticket.read")
def get_ticket(ref: str) -> flask.Response:
    """``GET /api/tickets/<ref>``: one ticket (404 if absent or not yours)."""
    t = _visible_ticket(ref)
    if isinstance(t, flask.Response):
        return t
    return flask.jsonify(ticket_json(t, _actor()))


@api_dispatch.get("/tickets/<ref>/history")
@require("ticket.read")
def ticket_history(ref: str) -> flask.Response:
    """``GET /api/tickets/<ref>/history``: every step — who, when, from, to, note."""
    t = _visible_ticket(ref)
    if isinstance(t, flask.Response):
        return t
    steps = dispatch().store.history(t.id)
    return flask.jsonify(
        ref=t.ref,
        steps=[
            {
                "seq": h.seq,
                "action": h.action,
                "from": h.from_state,
                "to": h.to_state,
                "actor": h.actor,
                "role": h.actor_role,
                "at": h.at,
                "note": h.note,
                "crew_id": h.crew_id,
            }
            for h in steps
        ],
    )


@api_dispatch.get("/tickets/<ref>/suggest")
@require("crew.suggest")
def suggest(ref: str) -> flask.Response:
    """``GET /api/tickets/<ref>/suggest``: the nearest suitable free crew by travel time on the
    road graph, avoiding impassable roads; the operator confirms with ``POST .../dispatch``."""
    t = _visible_ticket(ref)
    if isinstance(t, flask.Response):
        return t
    svc = dispatch()
    if t.node is None:
        return json_error(422, "no_location", "the ticket has no road-graph node")
    ranked = rank_crews(t, svc.crews(), svc.registry.road_graph(), svc.impassable())
    out = [
        {"crew_id": s.crew_id, "travel_time_s": round(s.travel_time_s, 1), "route": list(s.route)}
        for s in ranked
    ]
    return flask.jsonify(ref=t.ref, suggested=out[0] if out else None, ranked=out[:10])


@api_dispatch.post("/tickets/<ref>/<action>")
@require("ticket.read")
def act(ref: str, action: str) -> flask.Response:
    """``POST /api/tickets/<ref>/<action>`` ``{"note", "crew_id", "into", "expected_version"}``
    → the committed step; 403 if the role may not, 409 if the state does not allow it.

    ``escalate`` (``{"note", "expected_version"}``) raises the ticket one stage up the chain
    (supervisor, then the next level) without changing its state. Every committed step is
    pushed to the open pages on ``/ws/live``."""
    if action not in ACTIONS and action != ESCALATE:
        return json_error(404, "not_found", "no such action")
    t = _visible_ticket(ref)
    if isinstance(t, flask.Response):
        return t
    body = flask.request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        return json_error(400, "bad_request", "the body must be a JSON object")
    svc = dispatch()
    into = None
    if body.get("into") is not None:
        into = svc.id_of(str(body["into"]))
        if into is None:
            return json_error(422, "invalid", "no ticket to merge into")
    version = body.get("expected_version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        return json_error(400, "bad_request", "expected_version must be an integer")
    note = str(body.get("note", ""))[:2000]
    expected = int(version) if version is not None else None
    try:
        if action == ESCALATE:
            step = svc.store.escalate(t.id, actor=_actor(), note=note, expected_version=expected)
        else:
            step = svc.store.transition(
                t.id,
                action,
                actor=_actor(),
                note=note,
                crew_id=None if body.get("crew_id") is None else str(body["crew_id"]),
                into=into,
                expected_version=expected,
            )
    except PermissionDeniedError:  # already audited by the store
        return json_error(403, "forbidden", f"you may not {action} this ticket")
    except (InvalidTransitionError, StaleTicketError) as exc:
        return json_error(409, "conflict", str(exc))
    svc.publish(svc.store.get(t.id), action)
    return flask.jsonify(
        ref=t.ref,
        seq=step.seq,
        action=step.action,
        **{"from": step.from_state, "to": step.to_state},
        crew_id=step.crew_id,
        at=step.at,
    )


# -- crews and figures ---------------------------------------------------------------------------
@api_dispatch.get("/crews")
@require("crew.read")
def list_crews() -> flask.Response:
    """``GET /api/crews``: crews with skills, shift, node and state."""
    return flask.jsonify(
        crews=[
            {
                "id": c.id,
                "name": c.name,
                "skills": sorted(c.skills),
                "state": c.state,
                "node": c.node,
                "grid": c.grid_code,
                "shift_start_s": c.shift_start_s,
                "shift_end_s": c.shift_end_s,
            }
            for c in dispatch().crews()
        ]
    )


@api_dispatch.get("/kpi")
@require("kpi.read")
def kpi() -> flask.Response:
    """``GET /api/kpi?by=type,grid,community,week&from_week=yyyyww&to_week=yyyyww``."""
    by = [b for b in flask.request.args.get("by", "type").split(",") if b]
    if not by or set(by) - set(GROUPS):
        return json_error(422, "invalid", f"by: any of {', '.join(GROUPS)}")
    fw, tw = flask.request.args.get("from_week"), flask.request.args.get("to_week")
    try:
        rows = kpi_figures(
            dispatch().store.engine,
            by,
            from_week=int(fw) if fw else None,
            to_week=int(tw) if tw else None,
        )
    except ValueError:
        return json_error(422, "invalid", "weeks are yyyyww integers")
    return flask.jsonify(
        by=by,
        rows=[
            {
                **r.key,
                "found": r.found,
                "handled": r.handled,
                "handling_rate": r.handling_rate,
                "mean_time_to_dispatch_s": r.mean_time_to_dispatch_s,
                "mean_time_to_accept_s": r.mean_time_to_accept_s,
                "mean_time_to_arrive_s": r.mean_time_to_arrive_s,
                "mean_time_to_close_s": r.mean_time_to_close_s,
            }
            for r in rows
        ],
    )


# -- reports in -----------------------------------------------------------------------------------
@api_dispatch.post("/reports")
@require("report.create", allow_anonymous=True)
def post_report() -> flask.Response:
    """``POST /api/reports`` (JSON or multipart form): category, lon/lat or address, text,
    optional photo → 201 ``{"receipt"}``; 429 when this client reports too often."""
    svc = dispatch()
    p = flask.g.get("principal")
    ok, wait = svc.report_limiter.allow(p.user.username if p else client_key())
    if not ok:
        return json_error(429, "too_many_requests", "", **{"Retry-After": f"{math.ceil(wait)}"})
    if flask.request.mimetype == "application/json":
        form: dict = flask.request.get_json(silent=True) or {}
        if not isinstance(form, dict):
            return json_error(400, "bad_request", "the body must be a JSON object")
        photo = None
    else:
        form = flask.request.form.to_dict()
        f = flask.request.files.get("photo")
        photo = f.read(6 * 1024 * 1024) if f and f.filename else None
    try:
        receipt = svc.submit_report(
            category=str(form.get("category", "")),
            text=str(form.get("text", "")),
            lon=_float(form.get("lon")),
            lat=_float(form.get("lat")),
            address=str(form.get("address") or "") or None,
            photo=photo,
            actor=_actor(),
        )
    except ValueError as exc:
        if flask.request.mimetype == "application/json":
            return json_error(422, "invalid", str(exc))
        # the residents' form: back to it with the reason and the place and category kept
        # (not the address or text, which must not travel in a URL into access logs)
        back = {k: str(form[k]) for k in ("lang", "category", "lon", "lat") if form.get(k)}
        return flask.redirect(f"/report?{urlencode({**back, 'error': str(exc)})}", code=303)
    if flask.request.mimetype != "application/json":
        lang = form.get("lang", "zh")
        return flask.redirect(f"/report?lang={lang}&receipt={receipt}", code=303)
    resp = flask.jsonify(receipt=receipt, status_url=f"/api/reports/{receipt}")
    resp.status_code = 201
    return resp


@api_dispatch.get("/reports/<receipt>")
@require(None, allow_anonymous=True)
def get_report(receipt: str) -> flask.Response:
    """``GET /api/reports/<receipt>``: status for the reporter (no names, no ticket ids)."""
    svc = dispatch()
    ok, wait = svc.status_limiter.allow(client_key())
    if not ok:
        return json_error(429, "too_many_requests", "", **{"Retry-After": f"{math.ceil(wait)}"})
    status = svc.report_status(receipt)
    if status is None:
        return json_error(404, "not_found", "no such receipt")
    return flask.jsonify(status)


# -- sensitive aggregates -------------------------------------------------------------------------
@api_dispatch.get("/buildings/<building_id>/vulnerable")
@require("vulnerable.read")
def vulnerable(building_id: str) -> flask.Response:
    """``GET /api/buildings/<id>/vulnerable``: counts of elderly living alone, disabled people
    and children in one building (aggregates only, PIPL sensitive data). Operators and
    managers only — crews get the building's address from their ticket, not who lives there;
    every access, granted or not, is audited."""
    svc = dispatch()
    p = _principal()
    b = svc.registry.buildings
    hit = b[b["building_id"].astype(str).to_numpy() == building_id]
    grids = _grids()
    if hit.empty or (grids and str(hit["grid_id"].iloc[0]) not in grids):
        svc.users.audit(p.actor, "vulnerable.read", building_id, False, {"found": False},
                        object_type="building")  # fmt: skip
        return json_error(404, "not_found", "no such building")
    row = hit.iloc[0]
    svc.users.audit(p.actor, "vulnerable.read", building_id, True, {}, object_type="building")
    return flask.jsonify(
        building_id=building_id,
        grid=str(row["grid_id"]),
        elderly_alone=int(row["elderly_alone"]),
        disabled=int(row["disabled"]),
        children=int(row["children"]),
    )


def _float(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
