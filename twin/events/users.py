"""Accounts, password hashes, second factor, login lockout and bearer tokens.

MLPS 2.0 level 3 / OWASP ASVS L2 as data and small functions:

- passwords are stored as salted, cost-factored scrypt hashes (``hashlib.scrypt``, standard
  library; ``scrypt$n$r$p$salt$hash``), compared in constant time; an unknown user costs the
  same hash so timing does not tell which accounts exist;
- administrators and auditors (:data:`twin.events.totp.TOTP_ROLES`) give a one-time code
  (RFC 6238 TOTP) after their password; an account of those roles without an enrolled secret
  cannot log in at all; each code is accepted once (the used time step is stored);
- after :data:`MAX_FAILURES` wrong passwords or codes in a row an account is locked for
  :data:`LOCKOUT_S` (even the right password is refused meanwhile);
- device and system accounts hold a bearer token ``<username>.<secret>``; only the secret's
  sha256 is stored (a 256-bit random secret needs no slow hash) and such accounts cannot log in
  with a password;
- every login, failure, lockout and account change goes to the hash-chained audit log;
  passwords, codes, TOTP secrets and tokens never do;
- sessions are in :mod:`twin.events.sessions` (re-exported here).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from sqlalchemy import Engine, select

from twin.events import audit
from twin.events.db import session_factory
from twin.events.lifecycle import SYSTEM, Actor
from twin.events.models import User
from twin.events.passwords import (  # noqa: F401 - re-exported: hashing used to live here
    DEFAULT_HASH_PARAMS,
    HASH_BYTES,
    SALT_BYTES,
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    HashParams,
    hash_password,
    verify_password,
)
from twin.events.roles import ROLES, PermissionDeniedError, can
from twin.events.sessions import (  # noqa: F401 - re-exported: sessions used to live here
    ABSOLUTE_TIMEOUT_S,
    IDLE_TIMEOUT_S,
    SessionStore,
    WebSession,
)
from twin.events.totp import TOTP_ROLES, matching_step, new_secret, provisioning_uri

#: wrong passwords in a row before an account is locked
MAX_FAILURES = 5
#: how long a locked account stays locked [s]
LOCKOUT_S = 15 * 60.0
#: how long a right password waits for its one-time code (the login's second step) [s]
PENDING_TTL_S = 300.0
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "sha256$"


class LoginError(Exception):
    """Login refused; the message never says whether the account exists."""


class CodeRequiredError(LoginError):
    """The password was right and the account needs a one-time code.

    ``pending`` is an unguessable handle valid for :data:`PENDING_TTL_S`: the login's second
    step passes it with the code to :meth:`UserStore.authenticate_code`, so the password need
    not travel again.
    """

    def __init__(self, pending: str) -> None:
        super().__init__("one-time code required")
        self.pending = pending


def _token_hash(secret: str) -> str:
    return TOKEN_PREFIX + hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class UserView:
    """An account as the web layer sees it (no hash)."""

    username: str
    role: str
    crew_id: str | None
    grid_codes: tuple[str, ...]
    active: bool

    @property
    def actor(self) -> Actor:
        """The :class:`Actor` the ticket store checks."""
        return Actor(self.username, self.role, self.crew_id)


def _view(u: User) -> UserView:
    grids = tuple(g for g in (u.grid_codes or "").split(",") if g)
    return UserView(u.username, u.role, u.crew_id, grids, bool(u.active))


def needs_code(role: str, totp_secret: str | None) -> bool:
    """True if a login of this account needs a one-time code.

    >>> needs_code("admin", None), needs_code("operator", None), needs_code("operator", "X")
    (True, False, True)
    """
    return role in TOTP_ROLES or bool(totp_secret)


class UserStore:
    """Accounts on the event store.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The event store (migrated).
    clock : callable
        UTC epoch seconds.
    params : HashParams
        scrypt cost for new hashes.
    max_failures : int
        Wrong passwords in a row before a lockout.
    lockout_s : float
        Lockout duration [s].
    pending_ttl_s : float
        How long a right password waits for its one-time code [s].
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.time,
        params: HashParams = DEFAULT_HASH_PARAMS,
        max_failures: int = MAX_FAILURES,
        lockout_s: float = LOCKOUT_S,
        pending_ttl_s: float = PENDING_TTL_S,
    ) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.clock = clock
        self.params = params
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.pending_ttl_s = pending_ttl_s
        # password checked, code awaited: handle → (username, created_at); memory only
        self._pending: dict[str, tuple[str, float]] = {}
        self._pending_lock = threading.Lock()
        # hashed once: unknown users are checked against it so timing reveals nothing
        self._dummy = hash_password(secrets.token_hex(8), params)

    # -- accounts ---------------------------------------------------------------------------
    def add_user(
        self,
        username: str,
        role: str,
        password: str | None = None,
        *,
        crew_id: str | None = None,
        grid_codes: Iterable[str] = (),
        actor: Actor = SYSTEM,
    ) -> UserView:
        """Create an account (``actor`` must be an admin, or SYSTEM when bootstrapping).

        Admin and auditor are separate roles of separate accounts; a crew account names its
        crew. Passwords shorter than :data:`MIN_PASSWORD_LENGTH` are refused.
        """
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
        if actor != SYSTEM and not can(actor.role, "user.manage"):
            self._audit(actor, "access.denied", username, False, {"wanted": "user.manage"})
            raise PermissionDeniedError(f"role {actor.role!r} may not user.manage")
        if (role == "crew") != (crew_id is not None):
            raise ValueError("a crew account needs a crew_id, and only a crew account has one")
        if password is not None and len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
        now = self.clock()
        with self.sessions() as s, s.begin():
            if s.scalars(select(User).where(User.username == username)).first() is not None:
                raise ValueError(f"user {username!r} exists")
            u = User(
                username=username,
                role=role,
                password_hash=None if password is None else hash_password(password, self.params),
                crew_id=crew_id,
                grid_codes=",".join(grid_codes),
                active=True,
                failed_logins=0,
                created_at=now,
            )
            s.add(u)
            self._append(s, actor, "user.create", username, True, {"role": role}, now)
            return _view(u)

    def issue_token(self, username: str, *, actor: Actor = SYSTEM) -> str:
        """A new bearer token ``<username>.<secret>`` for a device/system account.

        Replaces the account's previous token; the secret is shown once and stored hashed.
        """
        if actor != SYSTEM and not can(actor.role, "user.manage"):
            raise PermissionDeniedError(f"role {actor.role!r} may not user.manage")
        secret = secrets.token_urlsafe(32)
        now = self.clock()
        with self.sessions() as s, s.begin():
            u = self._user(s, username)
            if u is None:
                raise LookupError(f"no user {username!r}")
            u.password_hash = _token_hash(secret)
            self._append(s, actor, "user.token", username, True, {}, now)
        return f"{username}.{secret}"

    def enrol_totp(self, username: str, *, actor: Actor = SYSTEM) -> str:
        """Give an account a new TOTP secret; returns the ``otpauth://`` URI for its app.

        ``actor`` must be an admin, or SYSTEM (the command line). Replaces any earlier secret
        (a lost phone); the URI is shown once and the secret is never logged. Administrators
        and auditors cannot log in before this; other human roles may opt in, and from then
        on need a code too.
        """
        if actor != SYSTEM and not can(actor.role, "user.manage"):
            self._audit(actor, "access.denied", username, False, {"wanted": "user.manage"})
            raise PermissionDeniedError(f"role {actor.role!r} may not user.manage")
        secret = new_secret()
        now = self.clock()
        with self.sessions() as s, s.begin():
            u = self._user(s, username, lock=True)
            if u is None:
                raise LookupError(f"no user {username!r}")
            if u.role == "system":
                raise ValueError("device and system accounts use bearer tokens, not codes")
            u.totp_secret = secret
            u.totp_last_step = None
            self._append(s, actor, "user.totp_enrol", username, True, {}, now)
        return provisioning_uri(secret, username)

    def get(self, username: str) -> UserView | None:
        """An active account by name, or None."""
        with self.sessions() as s:
            u = self._user(s, username)
            return None if u is None or not u.active else _view(u)

    def list_users(self) -> list[dict]:
        """Every account, without secrets: username, role, crew_id, grids, active, totp."""
        with self.sessions() as s:
            return [
                {
                    **asdict(_view(u)),
                    "grid_codes": list(_view(u).grid_codes),
                    "totp": u.totp_secret is not None,
                }
                for u in s.scalars(select(User).order_by(User.username))
            ]

    def count(self) -> int:
        """How many accounts exist (0 → bootstrap an admin)."""
        with self.sessions() as s:
            return len(s.scalars(select(User.id)).all())

    # -- authentication -----------------------------------------------------------------------
    def authenticate(self, username: str, password: str, code: str | None = None) -> UserView:
        """Check a password (and, for :data:`TOTP_ROLES` or enrolled accounts, a one-time
        code); audited; raises :class:`LoginError` (same text for every cause).

        Counts wrong passwords and wrong or replayed codes alike and locks the account for
        :attr:`lockout_s` after :attr:`max_failures` in a row; a locked account refuses even
        the right password. A right password without the code it needs raises
        :class:`CodeRequiredError` (finish with :meth:`authenticate_code`).
        """
        now = self.clock()
        # the transaction commits before any refusal is raised: failure counts and audit
        # rows of a refused login must stick (raising inside would roll them back)
        with self.sessions() as s, s.begin():
            view, why = self._check(s, username, password, code, now)
        if why == "code_required":
            raise CodeRequiredError(self._new_pending(username, now))
        if view is None:
            raise LoginError("wrong user name or password")
        return view

    def authenticate_code(self, pending: str, code: str) -> UserView:
        """The login's second step: a :class:`CodeRequiredError` handle and the code.

        Raises :class:`LoginError` when the handle is unknown or older than
        :attr:`pending_ttl_s`, or the code is wrong or used (counted towards the lockout).
        """
        now = self.clock()
        with self._pending_lock:
            username, at = self._pending.get(str(pending), ("", 0.0))
        if not username or now - at > self.pending_ttl_s:
            self._drop_pending(pending)
            self.audit(Actor("unknown", "none"), "auth.login", "", False,
                       {"reason": "no_pending_login"})  # fmt: skip
            raise LoginError("wrong user name or password")
        with self.sessions() as s, s.begin():
            u = self._user(s, username, lock=True)
            view = None
            if u is not None and u.active and not self._locked(s, u, now):
                view = self._second_factor(s, u, code, now)
            locked = u is None or (u.locked_until is not None and u.locked_until > now)
        if view is not None or locked:  # done, or no point in more tries
            self._drop_pending(pending)
        if view is None:
            raise LoginError("wrong user name or password")
        return view

    def _check(
        self, s, username: str, password: str, code: str | None, now: float
    ) -> tuple[UserView | None, str]:
        u = self._user(s, username, lock=True)
        if u is None or not u.active:
            verify_password(password, self._dummy)  # same cost as a real check
            # the name typed may be a mistyped password: never log it
            self._append(s, Actor("unknown", "none"), "auth.login", "", False,
                         {"reason": "unknown_user"}, now)  # fmt: skip
            return None, "refused"
        if self._locked(s, u, now):
            verify_password(password, self._dummy)
            return None, "refused"
        if not verify_password(password, u.password_hash):
            self._fail(s, u, "bad_password", now)
            return None, "refused"
        if needs_code(u.role, u.totp_secret) and (not code or not u.totp_secret):
            who = Actor(u.username, u.role, u.crew_id)
            # the failure count stays (only a full login clears it) and does not grow: the
            # password was right
            reason = "totp_not_enrolled" if not u.totp_secret else "code_required"
            self._append(s, who, "auth.login", u.username, False, {"reason": reason}, now)
            return None, "refused" if not u.totp_secret else "code_required"
        if needs_code(u.role, u.totp_secret):
            view = self._second_factor(s, u, str(code), now)
            return view, "" if view is not None else "refused"
        return self._succeed(s, u, now), ""

    def _second_factor(self, s, u: User, code: str, now: float) -> UserView | None:
        """Check a code against the account's secret; one use per time step."""
        if not u.totp_secret:
            self._fail(s, u, "totp_not_enrolled", now)
            return None
        step = matching_step(u.totp_secret, code, now)
        if step is None:
            self._fail(s, u, "bad_code", now)
            return None
        if u.totp_last_step is not None and step <= u.totp_last_step:
            self._fail(s, u, "code_reused", now)
            return None
        u.totp_last_step = step
        return self._succeed(s, u, now)

    def _locked(self, s, u: User, now: float) -> bool:
        if u.locked_until is None or u.locked_until <= now:
            return False
        who = Actor(u.username, u.role, u.crew_id)
        self._append(s, who, "auth.login", u.username, False, {"reason": "locked"}, now)
        return True

    def _fail(self, s, u: User, reason: str, now: float) -> None:
        """Count one failure (password or code) and lock the account at the limit."""
        who = Actor(u.username, u.role, u.crew_id)
        u.failed_logins = (u.failed_logins or 0) + 1
        detail = {"reason": reason, "failures": u.failed_logins}
        if u.failed_logins >= self.max_failures:
            u.locked_until = now + self.lockout_s
            u.failed_logins = 0
            detail["locked_until"] = u.locked_until
        self._append(s, who, "auth.login", u.username, False, detail, now)
        if "locked_until" in detail:
            self._append(s, who, "auth.lockout", u.username, True,
                         {"until": u.locked_until}, now)  # fmt: skip

    def _succeed(self, s, u: User, now: float) -> UserView:
        u.failed_logins = 0
        u.locked_until = None
        self._append(s, Actor(u.username, u.role, u.crew_id), "auth.login", u.username, True,
                     {}, now)  # fmt: skip
        return _view(u)

    def _new_pending(self, username: str, now: float) -> str:
        handle = secrets.token_urlsafe(32)
        with self._pending_lock:
            for h, (_, at) in list(self._pending.items()):  # forget the stale ones
                if now - at > self.pending_ttl_s:
                    del self._pending[h]
            self._pending[handle] = (username, now)
        return handle

    def pending_alive(self, pending: str | None) -> bool:
        """True while a :class:`CodeRequiredError` handle still waits for its code."""
        with self._pending_lock:
            _, at = self._pending.get(str(pending or ""), ("", None))
        return at is not None and self.clock() - at <= self.pending_ttl_s

    def _drop_pending(self, pending: str) -> None:
        with self._pending_lock:
            self._pending.pop(str(pending), None)

    def authenticate_token(self, token: str) -> UserView | None:
        """The account a bearer token belongs to, or None (constant-time compare)."""
        username, _, secret = token.partition(".")
        if not username or not secret:
            return None
        with self.sessions() as s:
            u = self._user(s, username)
            stored = None if u is None else u.password_hash
            ok = (
                stored is not None
                and stored.startswith(TOKEN_PREFIX)
                and hmac.compare_digest(stored, _token_hash(secret))
            )
            return _view(u) if ok and u.active else None

    def audit(
        self,
        actor: Actor,
        action: str,
        object_id: str,
        success: bool,
        detail: dict | None = None,
        *,
        object_type: str = "user",
    ) -> None:
        """Append one audit row (logout, idle logout, denials, sensitive reads) in its own
        transaction."""
        now = self.clock()
        with self.sessions() as s, s.begin():
            self._append(s, actor, action, object_id, success, detail or {}, now, object_type)

    # -- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _user(s, username: str, lock: bool = False) -> User | None:
        stmt = select(User).where(User.username == username)
        if lock:
            stmt = stmt.with_for_update()
        return s.scalars(stmt).first()

    def _audit(self, actor: Actor, action: str, object_id: str, success: bool, detail: dict):
        self.audit(actor, action, object_id, success, detail)

    @staticmethod
    def _append(s, actor, action, object_id, success, detail, now, object_type="user"):
        audit.append(
            s,
            at=now,
            actor=actor.user,
            role=actor.role,
            action=action,
            object_type=object_type,
            object_id=object_id,
            success=success,
            detail=detail,
        )
