"""What the working pages share: who is calling, which page each role may open, the ticket store.

Dash skips ``_``-prefixed modules when it collects pages, so this is a plain helper module.
Pages and their callbacks run inside Flask requests that carry the browser's session cookie,
so :func:`dashboard.auth.current_principal` (H17) identifies the caller there too; every page
layout and every callback that changes something goes through :func:`page_principal` /
:func:`may`, and the ticket store checks the role and crew scope once more on each step.
"""

from __future__ import annotations

from typing import Any

import flask
from dash import html

from twin.events.roles import can

#: page path → roles that may open it (the role matrix of the dispatch issue, per page)
PAGE_ROLES: dict[str, frozenset[str]] = {
    "/dispatch": frozenset({"operator", "manager", "leader"}),
    "/crew": frozenset({"crew"}),
    "/trends": frozenset({"leader", "manager", "operator"}),
    "/scenarios": frozenset({"manager"}),
}
#: where the app keeps its :class:`twin.events.tickets.TicketStore` (``server.extensions``)
TICKETS_KEY = "streettwin_tickets"
LEVEL_RANK = {"red": 0, "orange": 1, "yellow": 2, "blue": 3}


def page_principal() -> Any:
    """The logged-in caller (:class:`dashboard.auth.Principal`) or None.

    None when the app has no auth installed or the browser has no valid session; pages then
    show :func:`denied` and callbacks refuse to change anything.
    """
    from dashboard import auth

    if auth.EXTENSION_KEY not in flask.current_app.extensions:
        return None
    principal, _why = auth.current_principal()
    return principal


def may(principal: Any, action: str) -> bool:
    """True if ``principal`` (None: nobody) may do ``action`` (``twin.events.roles``)."""
    return principal is not None and can(principal.user.role, action)


def may_open(principal: Any, path: str) -> bool:
    """True if ``principal`` may open the page at ``path``.

    >>> may_open(None, "/dispatch")
    False
    """
    return principal is not None and principal.user.role in PAGE_ROLES.get(path, frozenset())


def denied(path: str, lang: str = "zh") -> html.Div:
    """The page shown instead of ``path`` to a caller without the role (or not logged in)."""
    zh = lang == "zh"
    return html.Div(
        className="st-wp st-denied",
        id="st-denied",
        children=[
            html.H1("无权访问" if zh else "Not allowed"),
            html.P(
                "请使用有权限的账号登录。" if zh else "Sign in with an account that has this role."
            ),
            html.A("登录" if zh else "Sign in", href=f"/login?next={path}", className="st-btn"),
        ],
    )


def ticket_store() -> Any:
    """The app's ticket store, or None while dispatch is not wired into the app."""
    return flask.current_app.extensions.get(TICKETS_KEY)


def lang_of(value: Any) -> str:
    """``"en"`` or ``"zh"`` (the default) from a query value."""
    return "en" if value == "en" else "zh"


def id_of(store: Any, ref: Any) -> int | None:
    """The database id of the ticket with public ``ref`` (ids never reach a browser)."""
    from sqlalchemy import select

    from twin.events.models import Ticket

    if not ref:
        return None
    with store.sessions() as s:
        return s.scalar(select(Ticket.id).where(Ticket.ref == str(ref)))
