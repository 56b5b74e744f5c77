"""Accounts, password hashes, login lockout, bearer tokens and idle-timed sessions.

MLPS 2.0 level 3 / OWASP ASVS L2 as data and small functions:

- passwords are stored as salted, cost-factored scrypt hashes (``hashlib.scrypt``, standard
  library; ``scrypt$n$r$p$salt$hash``), compared in constant time; an unknown user costs the
  same hash so timing does not tell which accounts exist;
- after :data:`MAX_FAILURES` wrong passwords in a row an account is locked for
  :data:`LOCKOUT_S` (even the right password is refused meanwhile);
- device and system accounts hold a bearer token ``<username>.<secret>``; only the secret's
  sha256 is stored (a 256-bit random secret needs no slow hash) and such accounts cannot log in
  with a password;
- every login, failure, lockout and account change goes to the hash-chained audit log;
  passwords and tokens never do;
- sessions live in memory (one serving process): an unguessable id, a CSRF token bound to the
  session, an idle timeout and an absolute lifetime. A restart logs everybody out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from sqlalchemy import Engine, select

from twin.events import audit
from twin.events.db import session_factory
from twin.events.lifecycle import SYSTEM, Actor
from twin.events.models import User
from twin.events.roles import ROLES, PermissionDeniedError, can

#: scrypt cost (N, r, p): 2**15 × 8 × 128 B = 32 MiB and ~0.1 s per hash here (OWASP's
#: minimum is N=2**17 with r=8, p=1 at 128 MiB; lower it only in tests)
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
#: wrong passwords in a row before an account is locked
MAX_FAILURES = 5
#: how long a locked account stays locked [s]
LOCKOUT_S = 15 * 60.0
#: a session unused this long is logged out [s] (MLPS: idle logout)
IDLE_TIMEOUT_S = 15 * 60.0
#: a session ends this long after login whatever its use [s]
ABSOLUTE_TIMEOUT_S = 12 * 3600.0
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "sha256$"


class LoginError(Exception):
    """Login refused; the message never says whether the account exists."""


@dataclass(frozen=True)
class HashParams:
    """scrypt cost parameters (tests pass a cheap one)."""

    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def hash_password(password: str, params: HashParams = HashParams()) -> str:
    """Salted scrypt hash as ``scrypt$n$r$p$salt_b64$hash_b64``.

    >>> h = hash_password("correct horse battery", HashParams(n=2**4))
    >>> h.split("$")[:4], verify_password("correct horse battery", h)
    (['scrypt', '16', '8', '1'], True)
    """
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        maxmem=256 * 1024 * 1024,
        dklen=HASH_BYTES,
    )
    return f"scrypt${params.n}${params.r}${params.p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str | None) -> bool:
    """True if ``password`` matches the stored hash (constant-time compare)."""
    if not encoded or not encoded.startswith("scrypt$"):
        return False
    _, n, r, p, salt, digest = encoded.split("$")
    got = hashlib.scrypt(
        password.encode("utf-8"),
        salt=base64.b64decode(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        maxmem=256 * 1024 * 1024,
        dklen=HASH_BYTES,
    )
    return hmac.compare_digest(got, base64.b64decode(digest))


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
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.time,
        params: HashParams = HashParams(),
        max_failures: int = MAX_FAILURES,
        lockout_s: float = LOCKOUT_S,
    ) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.clock = clock
        self.params = params
        self.max_failures = max_failures
        self.lockout_s = lockout_s
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

    def get(self, username: str) -> UserView | None:
        """An active account by name, or None."""
        with self.sessions() as s:
            u = self._user(s, username)
            return None if u is None or not u.active else _view(u)

    def count(self) -> int:
        """How many accounts exist (0 → bootstrap an admin)."""
        with self.sessions() as s:
            return len(s.scalars(select(User.id)).all())

    # -- authentication -----------------------------------------------------------------------
    def authenticate(self, username: str, password: str) -> UserView:
        """Check a password; audited; raises :class:`LoginError` (same text for every cause).

        Counts failures and locks the account for :attr:`lockout_s` after
        :attr:`max_failures` in a row; a locked account refuses even the right password.
        """
        now = self.clock()
        # the transaction commits before any refusal is raised: failure counts and audit
        # rows of a refused login must stick (raising inside would roll them back)
        with self.sessions() as s, s.begin():
            view = self._check(s, username, password, now)
        if view is None:
            raise LoginError("wrong user name or password")
        return view

    def _check(self, s, username: str, password: str, now: float) -> UserView | None:
        u = self._user(s, username, lock=True)
        if u is None or not u.active:
            verify_password(password, self._dummy)  # same cost as a real check
            # the name typed may be a mistyped password: never log it
            self._append(s, Actor("unknown", "none"), "auth.login", "", False,
                         {"reason": "unknown_user"}, now)  # fmt: skip
            return None
        who = Actor(u.username, u.role, u.crew_id)
        if u.locked_until is not None and u.locked_until > now:
            verify_password(password, self._dummy)
            self._append(s, who, "auth.login", u.username, False, {"reason": "locked"}, now)
            return None
        if not verify_password(password, u.password_hash):
            u.failed_logins = (u.failed_logins or 0) + 1
            detail = {"reason": "bad_password", "failures": u.failed_logins}
            if u.failed_logins >= self.max_failures:
                u.locked_until = now + self.lockout_s
                u.failed_logins = 0
                detail["locked_until"] = u.locked_until
            self._append(s, who, "auth.login", u.username, False, detail, now)
            if "locked_until" in detail:
                self._append(s, who, "auth.lockout", u.username, True,
                             {"until": u.locked_until}, now)  # fmt: skip
            return None
        u.failed_logins = 0
        u.locked_until = None
        self._append(s, who, "auth.login", u.username, True, {}, now)
        return _view(u)

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


@dataclass(frozen=True)
class WebSession:
    """One logged-in browser: the account, its CSRF token and its clocks [UTC epoch s]."""

    sid: str
    user: UserView
    csrf: str
    created_at: float
    last_seen: float


class SessionStore:
    """Server-side sessions with idle and absolute timeouts (in memory, thread-safe).

    Parameters
    ----------
    clock : callable
        UTC epoch seconds.
    idle_timeout_s, absolute_timeout_s : float
        Limits [s].
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        absolute_timeout_s: float = ABSOLUTE_TIMEOUT_S,
    ) -> None:
        self.clock = clock
        self.idle_timeout_s = idle_timeout_s
        self.absolute_timeout_s = absolute_timeout_s
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()

    def create(self, user: UserView) -> WebSession:
        """A fresh session (new id and CSRF token) for a user who just logged in."""
        now = self.clock()
        ws = WebSession(secrets.token_urlsafe(32), user, secrets.token_urlsafe(32), now, now)
        with self._lock:
            self._sessions[ws.sid] = ws
        return ws

    def get(self, sid: str | None, *, touch: bool = True) -> tuple[WebSession | None, str]:
        """The live session for ``sid`` and ``""``, or None and why (``"idle"``,
        ``"expired"``, ``"unknown"``); a timed-out session is removed."""
        if not sid:
            return None, "unknown"
        now = self.clock()
        with self._lock:
            ws = self._sessions.get(sid)
            if ws is None:
                return None, "unknown"
            if now - ws.last_seen > self.idle_timeout_s:
                del self._sessions[sid]
                return None, "idle"
            if now - ws.created_at > self.absolute_timeout_s:
                del self._sessions[sid]
                return None, "expired"
            if touch:
                ws = replace(ws, last_seen=now)
                self._sessions[sid] = ws
            return ws, ""

    def drop(self, sid: str | None) -> WebSession | None:
        """End a session (logout); returns it if it existed."""
        with self._lock:
            return self._sessions.pop(sid or "", None)

    def __len__(self) -> int:
        return len(self._sessions)
