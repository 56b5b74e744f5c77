"""The alerts API: warnings as JSON, CAP 1.2 messages, an Atom feed and acknowledgement.

Routes (blueprint ``api_alerts``, registered by the app factory when the runtime carries a
warning service, ``runtime.warnings``):

* ``GET /api/alerts`` — active warnings (``?all=1``: every warning, newest first);
* ``GET /api/alerts/<id>`` — one warning with its event history;
* ``GET /api/alerts/<id>.cap`` — its latest message as CAP 1.2 (``application/cap+xml``,
  ``zh-CN`` and ``en`` info blocks, the area as a polygon);
* ``POST /api/alerts/<id>/ack`` — acknowledge (JSON ``{"by": "operator"}``); answers 200
  after the acknowledgement is committed, 404 if the warning is not active;
* ``GET /api/alerts.atom`` — Atom feed of active warnings linking to their CAP messages.

Everything is read from the durable store, so the API shows the same after a restart.
"""

from __future__ import annotations

import datetime as dt

import flask

from dashboard import auth
from dashboard.context import current_context
from sim.warning.atom import atom_feed
from sim.warning.cap import CAP_MIME, to_cap
from sim.warning.engine import CST, iso

api_alerts = flask.Blueprint("api_alerts", __name__, url_prefix="/api")
#: longest acknowledging name kept
MAX_BY = 80


def _service():
    runtime = current_context().runtime
    service = getattr(runtime, "warnings", None)
    if service is None:
        flask.abort(503, description="no warning service running")
    return service


def _not_found(warning_id: str):
    return flask.jsonify(error="not found", warning_id=warning_id), 404


@api_alerts.get("/alerts")
def list_alerts() -> flask.Response:
    """``GET /api/alerts``: ``{"alerts": [...], "count": n}`` (active; ``?all=1`` all)."""
    store = _service().store
    show_all = flask.request.args.get("all", "0") not in ("0", "", "false")
    alerts = store.all() if show_all else store.active()
    return flask.jsonify(alerts=alerts, count=len(alerts))


@api_alerts.get("/alerts.atom")
def alerts_atom() -> flask.Response:
    """``GET /api/alerts.atom``: Atom feed of active warnings."""
    store = _service().store
    base = flask.request.host_url.rstrip("/")
    lang = "en" if flask.request.args.get("lang") == "en" else "zh"
    active = store.active()  # latest state; an Ack event carries the same texts
    now = iso(dt.datetime.now(CST))
    xml = atom_feed(active, updated=now, base_url=base, lang=lang)
    return flask.Response(xml, mimetype="application/atom+xml")


@api_alerts.get("/alerts/<warning_id>.cap")
def alert_cap(warning_id: str) -> flask.Response:
    """``GET /api/alerts/<id>.cap``: the warning's latest message as CAP 1.2 XML."""
    service = _service()
    message = service.store.message(warning_id)
    if message is None:
        return _not_found(warning_id)
    xml = to_cap(message, status=service.cap_status)
    return flask.Response(xml, mimetype=CAP_MIME)


@api_alerts.get("/alerts/<warning_id>")
def alert_detail(warning_id: str) -> flask.Response:
    """``GET /api/alerts/<id>``: latest state plus ``history`` (all events)."""
    store = _service().store
    alert = store.get(warning_id)
    if alert is None:
        return _not_found(warning_id)
    return flask.jsonify(alert=alert, history=store.history(warning_id))


@api_alerts.post("/alerts/<warning_id>/ack")
def alert_ack(warning_id: str) -> flask.Response:
    """``POST /api/alerts/<id>/ack`` with ``{"by": name}``: acknowledge an active warning."""
    if auth.EXTENSION_KEY in flask.current_app.extensions:
        # with accounts configured, acknowledging is an audited, permission-checked action and
        # the acknowledger is the logged-in user, never a name typed into the request
        return auth.require("alert.ack")(_ack_as_principal)(warning_id)
    return _ack(warning_id, None)


def _ack_as_principal(warning_id: str) -> flask.Response:
    return _ack(warning_id, flask.g.principal.user.username)


def _ack(warning_id: str, principal_name: str | None) -> flask.Response:
    service = _service()
    body = flask.request.get_json(silent=True)
    if body is None:
        body = {}
    if not isinstance(body, dict):
        return flask.jsonify(error="the body must be a JSON object"), 400
    by = principal_name or str(body.get("by") or flask.request.form.get("by") or "").strip()
    by = by[:MAX_BY]
    if not by:
        return flask.jsonify(error="'by' (who acknowledges) is required"), 400
    try:
        event = service.acknowledge(warning_id, by)
    except KeyError:
        return _not_found(warning_id)
    return flask.jsonify(
        acknowledged=True,
        warning_id=warning_id,
        acknowledged_by=event["acknowledged_by"],
        acknowledged_at=event["acknowledged_at"],
    )
