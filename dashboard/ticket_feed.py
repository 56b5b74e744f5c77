"""Ticket changes on the live feed: the ``{"type": "ticket"}`` event every open page listens to.

Whatever changes a ticket — a REST step, a page button, a report, a device or warning event,
an escalation — publishes one event through ``runtime.publish_event`` after the change is
committed, so ``/ws/live`` pushes it to every dispatch and crew page at once
(``assets/streettwin_pages.js`` refreshes the page and beeps on a crew's new dispatch); the
pages' polling stays as the fallback. ``/ws/live`` is read by the public wall screen too, so the
event holds only what a page needs to decide whether to refresh: the public ``ref`` (never a
database id), the action, state, level, grid, crew and escalation stage — no free text.
"""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger(__name__)

#: keys of a ticket event (besides ``type`` and ``at``)
EVENT_KEYS = ("ref", "action", "state", "level", "grid", "crew_id", "escalation")


def ticket_event(view: Any, action: str) -> dict[str, Any]:
    """The live-feed event of a committed change to ticket ``view`` (a TicketView).

    >>> from types import SimpleNamespace as V
    >>> v = V(ref="ab12", state="dispatched", level="red", grid_code="G01", crew_id="K1",
    ...       escalation=0)
    >>> ticket_event(v, "dispatch")["crew_id"], ticket_event(v, "dispatch")["grid"]
    ('K1', 'G01')
    """
    return {
        "type": "ticket",
        "ref": view.ref,
        "action": action,
        "state": view.state,
        "level": view.level,
        "grid": view.grid_code,
        "crew_id": view.crew_id,
        "escalation": int(view.escalation),
    }


def publish_ticket(runtime: Any, view: Any, action: str) -> bool:
    """Publish the change on ``runtime``'s live feed; False when there is no feed.

    Never raises: the change is already committed, and a broken feed must not turn a done
    step into an error for the caller (pages poll as well).
    """
    publish = getattr(runtime, "publish_event", None)
    if publish is None:
        return False
    try:
        publish({"at": time.time(), **ticket_event(view, action)})
    except Exception:
        log.exception("publishing a ticket event failed")
        return False
    return True


# -- the pages' side -------------------------------------------------------------------------------
#: how often a page looks for a new ticket event the live socket brought in [ms]; in-browser
#: only (no request unless there is news)
WATCH_MS = 400

#: a page's clientside watcher: ``assets/streettwin_pages.js`` counts news in
#: ``streettwinPages.bumps`` (a ticket event or a resync on ``/ws/live``, the socket coming back
#: after a drop, a finished crew sync); a new count writes the time into the page's
#: ``st-live-bump`` store, which its server callbacks listen to
WATCH_JS = """
function (_n) {
    var P = window.streettwinPages;
    var nu = window.dash_clientside.no_update;
    if (!P) { return nu; }
    var n = P.bumps || 0;
    var news = n !== (P.seenBumps || 0);
    P.seenBumps = n;
    return news ? Date.now() : nu;
}
"""


def live_watch(page_id: str) -> list[Any]:
    """The bump store and the watcher's interval a page puts in its layout (see
    :func:`register_live_watch`)."""
    from dash import dcc

    return [
        dcc.Store(id="st-live-bump", data=0),
        dcc.Interval(id=f"{page_id}-live-watch", interval=WATCH_MS),
    ]


def register_live_watch(page_id: str) -> None:
    """Register the page's clientside watcher (call once, at the page module's import)."""
    from dash import Input, Output, clientside_callback

    clientside_callback(
        WATCH_JS,
        Output("st-live-bump", "data", allow_duplicate=True),
        Input(f"{page_id}-live-watch", "n_intervals"),
        prevent_initial_call=True,
    )
