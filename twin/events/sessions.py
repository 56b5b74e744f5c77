"""Server-side web sessions: unguessable ids, a CSRF token each, idle and absolute timeouts.

Sessions live in memory (one serving process); a restart logs everybody out.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # users re-exports this module: import only for type checkers
    from twin.events.users import UserView

#: a session unused this long is logged out [s] (MLPS: idle logout)
IDLE_TIMEOUT_S = 15 * 60.0
#: a session ends this long after login whatever its use [s]
ABSOLUTE_TIMEOUT_S = 12 * 3600.0


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
