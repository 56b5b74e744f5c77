"""Login, sessions, CSRF and the server-side permission check every dispatch route goes through.

- ``POST /auth/login`` (the ``/login`` page's form) and ``POST /api/login`` (JSON) check the
  password (:class:`twin.events.users.UserStore`: scrypt, lockout), then start a NEW session
  (fresh id and CSRF token; any session the browser carried is dropped: no fixation).
- Administrators and auditors also give a one-time code (TOTP, RFC 6238). JSON clients send
  ``code`` with the password (without it: 401 ``code_required``). The form asks in a second
  step: a right password sets a short-lived HttpOnly handle cookie and redirects to
  ``/login?step=code``, whose form posts the code alone. Wrong codes count towards the lockout.
- Cookies: the session cookie is HttpOnly, SameSite=Strict and Secure (``__Host-`` prefix) by
  default; ``AUTH_COOKIE_SECURE=False`` turns Secure off for plain http://localhost tests.
- CSRF: state-changing requests authenticated by cookie must carry the session's token in
  ``X-CSRF-Token`` (or a ``csrf_token`` form field) — a synchronizer token. Before login (the
  login form, anonymous report forms) a double-submit cookie is checked instead.
- Devices and systems send ``Authorization: Bearer <user>.<secret>``; no cookie, no CSRF.
- :func:`require` wraps every route: 401 without a valid principal, 403 (audited) when the role
  lacks the action. Object checks (a crew's own tickets → 404 otherwise) are in the routes and
  the ticket store.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import flask

from twin.events.lifecycle import Actor
from twin.events.ratelimit import RateLimiter
from twin.events.roles import can
from twin.events.users import CodeRequiredError, LoginError, SessionStore, UserStore, UserView

EXTENSION_KEY = "streettwin_auth"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: login attempts per client address: burst, then one per this many seconds
LOGIN_BURST = 10
LOGIN_REFILL_S = 6.0

auth_bp = flask.Blueprint("auth", __name__)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account, how it proved it, and its session (cookie logins)."""

    user: UserView
    via: str  # "session" / "token"
    session: Any = None

    @property
    def actor(self) -> Actor:
        return self.user.actor


@dataclass(eq=False)
class AuthService:
    """Accounts, sessions and cookie policy of one app (``server.extensions``)."""

    users: UserStore
    sessions: SessionStore
    secure: bool = True
    login_limiter: RateLimiter | None = None

    @property
    def session_cookie(self) -> str:
        # __Host-: browser-enforced Secure, path=/ and no Domain (needs Secure, so only then)
        return "__Host-st_session" if self.secure else "st_session"

    @property
    def csrf_cookie(self) -> str:
        return "__Host-st_csrf" if self.secure else "st_csrf"

    @property
    def pending_cookie(self) -> str:
        """Holds the handle of a right password awaiting its one-time code (form login)."""
        return "__Host-st_2fa" if self.secure else "st_2fa"


def install_auth(server: flask.Flask, service: AuthService) -> None:
    """Register the login routes and the pre-login CSRF cookie on an app."""
    if service.login_limiter is None:
        service.login_limiter = RateLimiter(rate_per_s=1 / LOGIN_REFILL_S, burst=LOGIN_BURST)
    server.extensions[EXTENSION_KEY] = service
    server.register_blueprint(auth_bp)
    server.after_request(_ensure_csrf_cookie)


def service() -> AuthService:
    """The :class:`AuthService` of the app serving this request."""
    return flask.current_app.extensions[EXTENSION_KEY]


def json_error(status: int, code: str, detail: str = "", **headers: str) -> flask.Response:
    """``{"error": code, "detail": detail}`` with a status."""
    resp = flask.jsonify(error=code, detail=detail)
    resp.status_code = status
    resp.headers.update(headers)
    return resp


def client_key() -> str:
    """The client's address (the reverse proxy, if any, must set REMOTE_ADDR via ProxyFix)."""
    return flask.request.remote_addr or "unknown"


# -- cookies ----------------------------------------------------------------------------------
def _set_cookie(resp: flask.Response, name: str, value: str, *, http_only: bool) -> None:
    resp.set_cookie(
        name,
        value,
        path="/",
        secure=service().secure,
        httponly=http_only,
        samesite="Strict",
    )


def _ensure_csrf_cookie(resp: flask.Response) -> flask.Response:
    """Give every browser a double-submit token before it has a session (login form)."""
    svc = flask.current_app.extensions.get(EXTENSION_KEY)
    if svc is None or flask.g.get("csrf_set") or flask.request.cookies.get(svc.csrf_cookie):
        return resp
    token = flask.g.get("csrf_new") or secrets.token_urlsafe(32)
    _set_cookie(resp, svc.csrf_cookie, token, http_only=False)
    return resp


def pre_session_csrf() -> str:
    """The double-submit token for forms shown before login (read by the page layouts)."""
    svc = flask.current_app.extensions.get(EXTENSION_KEY)
    if svc is None or not flask.has_request_context():
        return ""
    token = flask.request.cookies.get(svc.csrf_cookie) or flask.g.get("csrf_new")
    if not token:  # first visit: this response sets the cookie the form will be checked against
        token = flask.g.csrf_new = secrets.token_urlsafe(32)
    return token


def _submitted_csrf() -> str:
    token = flask.request.headers.get(CSRF_HEADER, "")
    if not token and flask.request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        token = flask.request.form.get(CSRF_FIELD, "")
    return token


def csrf_ok_anonymous() -> bool:
    """Double-submit check: the submitted token equals the CSRF cookie."""
    cookie = flask.request.cookies.get(service().csrf_cookie, "")
    sent = _submitted_csrf()
    return bool(cookie) and bool(sent) and hmac.compare_digest(cookie, sent)


# -- who is calling ---------------------------------------------------------------------------
def current_principal() -> tuple[Principal | None, str]:
    """The caller and ``""``, or None and why (``"no_credentials"``, ``"bad_token"``,
    ``"session_idle"``, ``"session_expired"``, ``"no_session"``). Cached per request."""
    cached = flask.g.get("st_principal")
    if cached is not None:
        return cached
    svc = service()
    out: tuple[Principal | None, str]
    header = flask.request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user = svc.users.authenticate_token(header[7:].strip())
        if user is None:
            svc.users.audit(Actor("unknown", "none"), "auth.token", "", False, {"path": _rule()})
            out = (None, "bad_token")
        else:
            out = (Principal(user, "token"), "")
    else:
        sid = flask.request.cookies.get(svc.session_cookie)
        ws, why = svc.sessions.get(sid)
        if ws is not None:
            out = (Principal(ws.user, "session", ws), "")
        elif sid and why in ("idle", "expired"):
            svc.users.audit(Actor("session", "none"), f"auth.{why}_logout", "", True, {})
            out = (None, f"session_{why}")
        else:
            out = (None, "no_session" if sid else "no_credentials")
    flask.g.st_principal = out
    return out


def _rule() -> str:
    """The route pattern (never the concrete URL: it may carry receipts or ids)."""
    rule = flask.request.url_rule
    return rule.rule if rule is not None else ""


def deny(principal: Principal, action: str, status: int = 403) -> flask.Response:
    """Audit a refused request and answer it."""
    service().users.audit(principal.actor, "access.denied", _rule(), False, {"wanted": action})
    return json_error(status, "forbidden", f"role {principal.user.role!r} may not {action}")


def require(action: str | None, *, allow_anonymous: bool = False):
    """Route decorator: authenticate, check CSRF on cookie writes, check ``action``.

    Parameters
    ----------
    action : str or None
        Permission from :data:`twin.events.roles.PERMISSIONS`; None = any logged-in user.
    allow_anonymous : bool
        Let callers without credentials through (``flask.g.principal`` is None then); their
        state-changing requests must pass the double-submit CSRF check.

    The principal is left in ``flask.g.principal``.
    """

    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            principal, why = current_principal()
            unsafe = flask.request.method not in SAFE_METHODS
            if principal is None:
                if why == "no_credentials" and allow_anonymous:
                    if unsafe and not csrf_ok_anonymous() and not _is_json_request():
                        return json_error(403, "csrf", "missing or wrong CSRF token")
                    flask.g.principal = None
                    return view(*args, **kwargs)
                return json_error(401, "unauthorized", why, **{"WWW-Authenticate": "Bearer"})
            if unsafe and principal.via == "session":
                sent = _submitted_csrf()
                if not sent or not hmac.compare_digest(sent, principal.session.csrf):
                    service().users.audit(
                        principal.actor, "access.denied", _rule(), False, {"reason": "csrf"}
                    )
                    return json_error(403, "csrf", "missing or wrong CSRF token")
            if action is not None and not can(principal.user.role, action):
                return deny(principal, action)
            flask.g.principal = principal
            return view(*args, **kwargs)

        return inner

    return wrap


def _is_json_request() -> bool:
    # a cross-site page cannot send application/json without a CORS preflight, which this
    # server never grants; forms and multipart can, so they need the double-submit token
    return flask.request.mimetype == "application/json"


# -- routes -----------------------------------------------------------------------------------
def _login(
    username: str, password: str, code: str | None = None, *, pending: str | None = None
) -> tuple[Any, flask.Response | None]:
    """Check a password (+ code), or with ``pending`` the code of a password checked before.

    Returns the new session, or None and the refusal (401 ``login_failed``, 401
    ``code_required`` carrying the pending handle in ``flask.g.pending_login``, 429)."""
    svc = service()
    ok, wait = svc.login_limiter.allow(client_key())
    if not ok:
        return None, json_error(429, "too_many_requests", "", **{"Retry-After": f"{wait:.0f}"})
    try:
        if pending is not None:
            user = svc.users.authenticate_code(pending, code or "")
        else:
            user = svc.users.authenticate(username, password, code or None)
    except CodeRequiredError as exc:
        flask.g.pending_login = exc.pending
        return None, json_error(401, "code_required", "one-time code required")
    except LoginError as exc:
        return None, json_error(401, "login_failed", str(exc))
    svc.sessions.drop(flask.request.cookies.get(svc.session_cookie))  # no session fixation
    return svc.sessions.create(user), None


def _start_session(resp: flask.Response, ws) -> flask.Response:
    svc = service()
    _set_cookie(resp, svc.session_cookie, ws.sid, http_only=True)
    # the CSRF cookie now carries the session's token, so page scripts can send it back
    _set_cookie(resp, svc.csrf_cookie, ws.csrf, http_only=False)
    flask.g.csrf_set = True
    resp.headers["Cache-Control"] = "no-store"
    if flask.request.cookies.get(svc.pending_cookie):
        resp.delete_cookie(svc.pending_cookie, path="/", secure=svc.secure, samesite="Strict")
    return resp


@auth_bp.post("/api/login")
def api_login() -> flask.Response:
    """``POST /api/login`` ``{"username", "password", "code"?}`` → 200 ``{"user", "role",
    "csrf_token"}`` and a new session cookie; 401 ``login_failed`` on any failure (same answer
    for every cause), 401 ``code_required`` when the password was right and the account needs
    a one-time code, 429 when an address tries too often."""
    if not _is_json_request():
        return json_error(415, "unsupported_media_type", "send application/json")
    body = flask.request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        return json_error(400, "bad_request", "the body must be a JSON object")
    username, password = str(body.get("username", "")), str(body.get("password", ""))
    code = body.get("code")
    ws, err = _login(username, password, None if code is None else str(code))
    if err is not None:
        return err
    resp = flask.jsonify(user=ws.user.username, role=ws.user.role, csrf_token=ws.csrf)
    return _start_session(resp, ws)


@auth_bp.post("/auth/login")
def form_login() -> flask.Response:
    """The ``/login`` page's form: double-submit CSRF checked, then like ``/api/login``;
    redirects to ``next`` (a local path only) or back to ``/login?failed=1``.

    Step two (``step=code``): the one-time code alone, with the handle cookie the first step
    set; a wrong code goes back to ``/login?step=code&failed=1`` while the handle lives."""
    if not csrf_ok_anonymous():
        return json_error(403, "csrf", "missing or wrong CSRF token")
    svc = service()
    form = flask.request.form
    nxt = _local_path(form.get("next", "/ops"))
    code = form.get("code") or None
    if form.get("step") == "code":
        pending = flask.request.cookies.get(svc.pending_cookie, "")
        ws, err = _login("", "", code, pending=pending)
        if err is not None:
            step = "code" if svc.users.pending_alive(pending) else ""
            return _back_to_login(nxt, failed=True, step=step)
        return _start_session(flask.redirect(nxt, code=303), ws)
    ws, err = _login(form.get("username", ""), form.get("password", ""), code)
    if err is not None:
        pending = flask.g.get("pending_login")
        if pending is None:
            return _back_to_login(nxt, failed=True)
        resp = _back_to_login(nxt, step="code")
        resp.set_cookie(
            svc.pending_cookie,
            pending,
            path="/",
            max_age=int(svc.users.pending_ttl_s),
            secure=svc.secure,
            httponly=True,
            samesite="Strict",
        )
        return resp
    return _start_session(flask.redirect(nxt, code=303), ws)


def _local_path(nxt: str) -> str:
    parts = urlsplit(nxt)
    if parts.scheme or parts.netloc or not nxt.startswith("/") or nxt.startswith("//"):
        return "/ops"  # never an open redirect
    return nxt


def _back_to_login(nxt: str, *, failed: bool = False, step: str = "") -> flask.Response:
    query = {k: v for k, v in (("step", step), ("failed", "1" if failed else "")) if v}
    if nxt != "/ops":
        query["next"] = nxt
    return flask.redirect("/login" + ("?" + urlencode(query) if query else ""), code=303)


@auth_bp.post("/api/logout")
@require(None)
def api_logout() -> flask.Response:
    """``POST /api/logout``: ends the session (CSRF token required)."""
    svc = service()
    principal: Principal = flask.g.principal
    if principal.via == "session":
        svc.sessions.drop(principal.session.sid)
    svc.users.audit(principal.actor, "auth.logout", principal.user.username, True, {})
    resp = flask.jsonify(ok=True)
    resp.delete_cookie(svc.session_cookie, path="/", secure=svc.secure, samesite="Strict")
    return resp


@auth_bp.get("/api/me")
@require(None)
def api_me() -> flask.Response:
    """``GET /api/me``: the caller's name, role, crew, grids and idle limit."""
    p: Principal = flask.g.principal
    return flask.jsonify(
        user=p.user.username,
        role=p.user.role,
        crew_id=p.user.crew_id,
        grids=list(p.user.grid_codes),
        idle_timeout_s=service().sessions.idle_timeout_s,
        now=time.time(),
    )
