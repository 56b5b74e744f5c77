"""``POST /api/crew/sync``: a crew phone's queued actions, applied in order, each exactly once.

The crew page stores every tap (accept / arrive / resolve, with a note and an optional photo)
in ``localStorage`` with a random idempotency key and sends the queue whenever it is online.
A retry after a dropped answer sends the same keys again: a key already processed answers its
recorded outcome and changes nothing, so nothing is lost or doubled.

Processed keys live in a table of this module (``crew_sync_keys``, created on first use on the
ticket store's database; not part of the event-store migrations). A key is claimed by its
primary-key insert before the step runs, so two concurrent retries cannot both apply it.
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from pathlib import Path
from typing import Any

import flask
from sqlalchemy import Column, Double, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.exc import IntegrityError

from dashboard.auth import json_error, require

#: actions a crew phone may queue
CREW_ACTIONS = ("accept", "arrive", "resolve", "reject")
MAX_BATCH = 100
MAX_NOTE = 2000
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG\r\n\x1a\n": ".png"}
#: a claimed key whose step never finished (process died mid-step) may be retried after this [s]
STALE_CLAIM_S = 60.0
TICKETS_KEY = "streettwin_tickets"
DISPATCH_KEY = "streettwin_dispatch"

_META = MetaData()
SYNC_KEYS = Table(
    "crew_sync_keys",
    _META,
    Column("key", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("action", String(16), nullable=False),
    #: pending / applied / refused
    Column("status", String(16), nullable=False),
    Column("detail", Text, default=""),
    Column("at", Double, nullable=False),
)
_READY: set[int] = set()

api_crew_sync = flask.Blueprint("api_crew_sync", __name__)


def ensure_table(engine: Any) -> None:
    """Create the processed-keys table once per engine."""
    if id(engine) not in _READY:
        _META.create_all(engine, checkfirst=True)
        _READY.add(id(engine))


def _ticket_id(store: Any, ref_or_id: Any) -> int | None:
    """Tickets arrive by their public ref (ids never reach a browser)."""
    from dashboard.pages._access import id_of

    return id_of(store, str(ref_or_id))


def _save_photo(data_url: str) -> str | None:
    """Store a ``data:image/...;base64,`` photo; returns its file name, None if not an image."""
    if not data_url or "," not in data_url:
        return None
    try:
        raw = base64.b64decode(data_url.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) > MAX_PHOTO_BYTES:
        return None
    ext = next((e for magic, e in PHOTO_TYPES.items() if raw.startswith(magic)), None)
    if ext is None:
        return None
    from dashboard.context import current_context

    runtime = current_context().runtime
    svc = flask.current_app.extensions.get(DISPATCH_KEY)
    base = getattr(svc, "data_dir", None) or getattr(runtime, "data_dir", None)
    folder = Path(base or flask.current_app.instance_path) / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    name = uuid.uuid4().hex + ext
    (folder / name).write_bytes(raw)
    return name


def apply_queue(store: Any, principal: Any, items: list[dict], publish=None) -> list[dict]:
    """Apply queued crew actions in order; each key at most once.

    Parameters
    ----------
    store : twin.events.tickets.TicketStore
    principal : dashboard.auth.Principal
        The crew member; the store checks role and crew scope on every step.
    items : list of dict
        ``{"key", "ticket_id", "action", "note"?, "photo"?}`` in the order they were tapped.
    publish : callable, optional
        Called with ``(ticket_view, action)`` after each applied step.

    Returns
    -------
    list of dict
        ``{"key", "status": "applied" | "duplicate" | "refused", "detail"}`` per item.
    """
    from twin.events.lifecycle import TicketError
    from twin.events.roles import PermissionDeniedError

    ensure_table(store.engine)
    out = []
    for item in items:
        key = str(item.get("key", ""))[:64]
        action = str(item.get("action", ""))
        if not key or action not in CREW_ACTIONS:
            out.append({"key": key, "status": "refused", "detail": "bad item"})
            continue
        ticket_id = _ticket_id(store, item.get("ticket_id"))
        claimed, previous = _claim(store.engine, key, principal.user.username, item, action)
        if not claimed:
            out.append({"key": key, "status": "duplicate", "detail": previous})
            continue
        note = str(item.get("note") or "")[:MAX_NOTE]
        photo = _save_photo(str(item.get("photo") or "")) if item.get("photo") else None
        if photo:
            note = f"{note} [photo:{photo}]".strip()
        try:
            if ticket_id is None:
                raise TicketError("no such ticket")
            store.transition(ticket_id, action, actor=principal.actor, note=note)
        except (TicketError, PermissionDeniedError, ValueError) as exc:
            _finish(store.engine, key, "refused", str(exc)[:500])
            out.append({"key": key, "status": "refused", "detail": str(exc)[:500]})
            continue
        _finish(store.engine, key, "applied", "")
        out.append({"key": key, "status": "applied", "detail": ""})
        if publish is not None:
            publish(store.get(ticket_id), action)
    return out


def _claim(engine: Any, key: str, username: str, item: dict, action: str) -> tuple[bool, str]:
    """Insert the key (pending); False and the earlier outcome if it was already there."""
    now = time.time()
    row = {
        "key": key,
        "username": username,
        "ticket_id": str(item.get("ticket_id"))[:64],
        "action": action,
        "status": "pending",
        "detail": "",
        "at": now,
    }
    try:
        with engine.begin() as conn:
            conn.execute(insert(SYNC_KEYS).values(**row))
        return True, ""
    except IntegrityError:
        pass
    with engine.begin() as conn:
        got = conn.execute(
            select(SYNC_KEYS.c.status, SYNC_KEYS.c.at).where(SYNC_KEYS.c.key == key)
        ).first()
        if got is not None and got.status == "pending" and now - got.at > STALE_CLAIM_S:
            # the process died between claim and step: let this retry take the key over
            conn.execute(update(SYNC_KEYS).where(SYNC_KEYS.c.key == key).values(at=now))
            return True, ""
    return False, "" if got is None else got.status


def _finish(engine: Any, key: str, status: str, detail: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(SYNC_KEYS).where(SYNC_KEYS.c.key == key).values(status=status, detail=detail)
        )


@api_crew_sync.post("/api/crew/sync")
@require(None)
def crew_sync() -> flask.Response:
    """``POST /api/crew/sync`` ``{"actions": [{key, ticket_id, action, note, photo}, ...]}``
    → ``{"results": [{key, status, detail}, ...]}`` in the same order."""
    from dashboard.context import current_context
    from dashboard.ticket_feed import publish_ticket

    store = flask.current_app.extensions.get(TICKETS_KEY)
    if store is None:
        return json_error(503, "unavailable", "dispatch is not running")
    principal = flask.g.principal
    if principal.user.role != "crew":
        return json_error(403, "forbidden", "only crews sync queued actions")
    body = flask.request.get_json(silent=True) or {}
    items = body.get("actions")
    if not isinstance(items, list) or len(items) > MAX_BATCH:
        return json_error(422, "invalid", f"send 'actions': a list of at most {MAX_BATCH}")
    results = apply_queue(
        store,
        principal,
        [i for i in items if isinstance(i, dict)],
        publish=lambda view, action: publish_ticket(current_context().runtime, view, action),
    )
    return flask.jsonify(results=results)


def register_crew_sync(server: flask.Flask) -> None:
    """Add ``/api/crew/sync`` to an app (after the dispatch API is registered)."""
    server.register_blueprint(api_crew_sync)
