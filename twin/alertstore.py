"""Durable store of warning events: every issue, update, cancel, expiry and acknowledgement.

SQLite in WAL mode with ``synchronous=FULL``: :meth:`AlertStore.append` returns only after
the event is committed, so a caller may acknowledge (push, answer HTTP 2xx, post a webhook)
only what survives a crash. Two tables:

* ``alert_events`` — append-only log, one row per event (``event_id`` unique, so re-appending
  the same event is a no-op: at-least-once producers are safe);
* ``alerts`` — the current state of each warning (``warning_id``): its latest event as JSON,
  status (``active`` / ``cancelled`` / ``expired``), level, and who acknowledged it when.

The event dicts are those of :class:`sim.warning.engine.WarningEngine` (plain JSON); the
store does not interpret them beyond the columns above. Thread-safe (one connection, a lock).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    warning_id TEXT NOT NULL,
    msg_type TEXT NOT NULL,
    action TEXT NOT NULL,
    sent TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_events_warning ON alert_events (warning_id, seq);
CREATE TABLE IF NOT EXISTS alerts (
    warning_id TEXT PRIMARY KEY,
    hazard TEXT NOT NULL,
    area_id TEXT NOT NULL,
    level INTEGER NOT NULL,
    status TEXT NOT NULL,
    issued TEXT NOT NULL,
    updated TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at TEXT,
    latest TEXT NOT NULL,
    message TEXT NOT NULL
);
"""


class AlertStore:
    """Warning events on disk.

    Parameters
    ----------
    path : str or Path
        SQLite file (created with its folder); ``":memory:"`` for tests that need no file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    # -- writing -----------------------------------------------------------------------
    def append(self, event: dict[str, Any]) -> bool:
        """Store one event durably; returns False if its ``id`` was stored before.

        ``Alert``/``Update``/``Cancel`` events replace the warning's latest message; an
        ``Ack`` event records who and when. Returns after the commit.
        """
        body = json.dumps(event, ensure_ascii=False, default=str)
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                cur.execute(
                    "INSERT OR IGNORE INTO alert_events "
                    "(event_id, warning_id, msg_type, action, sent, body) VALUES (?,?,?,?,?,?)",
                    (
                        event["id"],
                        event["warning_id"],
                        event["msg_type"],
                        event["action"],
                        event["sent"],
                        body,
                    ),
                )
                if cur.rowcount == 0:
                    cur.execute("ROLLBACK")
                    return False
                self._upsert(cur, event, body)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return True

    def _upsert(self, cur: sqlite3.Cursor, ev: dict[str, Any], body: str) -> None:
        row = cur.execute(
            "SELECT message FROM alerts WHERE warning_id = ?", (ev["warning_id"],)
        ).fetchone()
        message = body if ev["msg_type"] != "Ack" or row is None else row[0]
        cur.execute(
            "INSERT INTO alerts (warning_id, hazard, area_id, level, status, issued, updated, "
            "acknowledged_by, acknowledged_at, latest, message) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(warning_id) DO UPDATE SET level=excluded.level, "
            "status=excluded.status, updated=excluded.updated, "
            "acknowledged_by=excluded.acknowledged_by, acknowledged_at=excluded.acknowledged_at, "
            "latest=excluded.latest, message=excluded.message",
            (
                ev["warning_id"],
                ev["hazard"],
                ev["area_id"],
                int(ev["level"]),
                ev["status"],
                ev["issued"],
                ev["updated"],
                ev.get("acknowledged_by"),
                ev.get("acknowledged_at"),
                body,
                message,
            ),
        )

    # -- reading -----------------------------------------------------------------------
    def _rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def active(self) -> list[dict[str, Any]]:
        """Latest state of every active warning, oldest first."""
        rows = self._rows("SELECT latest FROM alerts WHERE status = 'active' ORDER BY issued")
        return [json.loads(r[0]) for r in rows]

    def all(self, limit: int = 500) -> list[dict[str, Any]]:
        """Latest state of every warning (active and ended), newest first."""
        rows = self._rows("SELECT latest FROM alerts ORDER BY updated DESC LIMIT ?", (limit,))
        return [json.loads(r[0]) for r in rows]

    def get(self, warning_id: str) -> dict[str, Any] | None:
        """Latest state of one warning (``None`` if unknown)."""
        rows = self._rows("SELECT latest FROM alerts WHERE warning_id = ?", (warning_id,))
        return json.loads(rows[0][0]) if rows else None

    def message(self, warning_id: str) -> dict[str, Any] | None:
        """Latest Alert/Update/Cancel event of a warning (what its CAP shows)."""
        rows = self._rows("SELECT message FROM alerts WHERE warning_id = ?", (warning_id,))
        return json.loads(rows[0][0]) if rows else None

    def history(self, warning_id: str) -> list[dict[str, Any]]:
        """Every event of one warning in order."""
        rows = self._rows(
            "SELECT body FROM alert_events WHERE warning_id = ? ORDER BY seq", (warning_id,)
        )
        return [json.loads(r[0]) for r in rows]

    def events(self, after_seq: int = 0, limit: int = 1000) -> list[tuple[int, dict[str, Any]]]:
        """``(seq, event)`` pairs after a sequence number (for replay to late consumers)."""
        rows = self._rows(
            "SELECT seq, body FROM alert_events WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [(int(s), json.loads(b)) for s, b in rows]

    def __len__(self) -> int:
        return int(self._rows("SELECT COUNT(*) FROM alert_events")[0][0])
