"""The durable reading log: append-only, idempotent on reading id, replayed after a restart.

Backed by SQLite in WAL mode with ``synchronous=FULL``: one transaction per batch, so
:meth:`ReadingLog.append` returns only after the whole batch is on disk (fsync'd WAL
commit), and a crash leaves every batch either fully present or absent. A reading id that
is already stored is reported as a duplicate and not stored twice.

Layout: one row per appended batch holding its columns as little-endian numpy blobs and its
reading ids as one JSON array (fast to write and to replay). Idempotency uses an in-memory
set of the stored ids, rebuilt from the batches when the log is opened and caught up inside
each write transaction with batches other processes appended — so no per-reading index row
is written (that insert was the ingest bottleneck). SQLite was chosen over a hand-rolled
segment file because one transaction per batch gives atomic, fsync'd group commit.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson

from twin.readings import ReadingBatch

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY,          -- append order
    n INTEGER NOT NULL,
    min_observed_at REAL NOT NULL,    -- epoch s UTC, for replay(since) and pruning
    max_observed_at REAL NOT NULL,
    value BLOB NOT NULL,              -- float64 little-endian, SI
    observed_at BLOB NOT NULL,        -- float64 little-endian, epoch s UTC
    received_at BLOB NOT NULL,        -- float64 little-endian, epoch s UTC
    quality BLOB NOT NULL,            -- uint8
    reading_id TEXT NOT NULL,         -- JSON array of str
    sensor_id TEXT NOT NULL,          -- JSON array of str
    source TEXT NOT NULL              -- JSON array of str
);
"""
REPLAY_CHUNK = 50_000  # readings per batch yielded by replay (about)
_F8 = np.dtype("<f8")


class ReadingLog:
    """Append-only durable log of accepted readings.

    Parameters
    ----------
    path : str or Path
        SQLite file (created if absent, with its parent folder).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # autocommit mode: transactions are opened and committed explicitly per batch
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._ids: set[str] = set()  # every stored reading id
        self._last_seq = 0  # newest batch whose ids are in self._ids
        with self._lock:
            self._catch_up()

    def _catch_up(self) -> None:
        """Add ids of batches appended since the last look (by us before, or another process)."""
        rows = self._db.execute(
            "SELECT seq, reading_id FROM batches WHERE seq > ? ORDER BY seq", (self._last_seq,)
        )
        for seq, ids in rows:
            self._ids.update(orjson.loads(ids))
            self._last_seq = seq

    def close(self) -> None:
        """Close the database (further calls fail)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> ReadingLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        """Number of stored readings (distinct ids)."""
        with self._lock:
            return len(self._ids)

    def contains(self, reading_ids: np.ndarray | list[str]) -> np.ndarray:
        """Boolean mask: which reading ids are already stored."""
        ids = [str(x) for x in reading_ids]
        with self._lock:
            known = self._ids
            return np.fromiter(map(known.__contains__, ids), dtype=bool, count=len(ids))

    def append_mask(self, batch: ReadingBatch) -> np.ndarray:
        """Append a batch durably; return the mask of readings newly stored.

        ``False`` marks a duplicate: its id is already in the log or earlier in this batch.
        Returns after the transaction is committed with a full sync.
        """
        n = len(batch)
        stored = np.zeros(n, dtype=bool)
        if n == 0:
            return stored
        ids = _strs(batch.reading_id)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._catch_up()  # under the write lock: no other writer can slip in now
                known = self._ids
                if known.isdisjoint(ids) and len(set(ids)) == n:
                    stored[:] = True  # the common case: every id is new
                else:
                    seen: set[str] = set()
                    for i, rid in enumerate(ids):
                        if rid not in known and rid not in seen:
                            stored[i] = True
                            seen.add(rid)  # a repeat later in the batch is a duplicate
                sel = np.flatnonzero(stored)
                new_ids = ids if sel.size == n else [ids[i] for i in sel]
                if sel.size:
                    b = batch if sel.size == n else batch.take(sel)
                    self._last_seq = self._insert(b, new_ids)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            # only after the commit: a failed write must not make its ids look stored
            known.update(new_ids)
        return stored

    def _insert(self, b: ReadingBatch, ids: list[str]) -> int:
        """Insert one batch row; return its ``seq``."""
        cur = self._db.execute(
            "INSERT INTO batches (n, min_observed_at, max_observed_at, value, observed_at,"
            " received_at, quality, reading_id, sensor_id, source)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                len(b),
                float(b.observed_at.min()),
                float(b.observed_at.max()),
                b.value.astype(_F8).tobytes(),
                b.observed_at.astype(_F8).tobytes(),
                b.received_at.astype(_F8).tobytes(),
                b.quality.astype(np.uint8).tobytes(),
                orjson.dumps(ids).decode(),
                orjson.dumps(_strs(b.sensor_id)).decode(),
                orjson.dumps(_strs(b.source)).decode(),
            ),
        )
        return int(cur.lastrowid)

    def append(self, batch: ReadingBatch) -> int:
        """Append a batch durably; return how many readings were new (not duplicates)."""
        return int(self.append_mask(batch).sum())

    def replay(
        self, since: float | None = None, chunk: int = REPLAY_CHUNK
    ) -> Iterator[ReadingBatch]:
        """Yield stored readings in append order, in batches of about ``chunk`` readings.

        Parameters
        ----------
        since : float, optional
            Only readings observed at or after this epoch s UTC.

        The yielded batches carry ``row = -1``; map ``sensor_id`` to rows with the catalogue.
        """
        sql = (
            "SELECT value, observed_at, received_at, quality, reading_id, sensor_id, source"
            " FROM batches WHERE max_observed_at >= ? ORDER BY seq"
        )
        lo = -np.inf if since is None else float(since)
        # a separate connection so replay never holds the append lock between yields
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            pending: list[ReadingBatch] = []
            size = 0
            for v, o, r, q, rid, sid, src in db.execute(sql, (lo,)):
                obs = np.frombuffer(o, dtype=_F8)
                b = ReadingBatch.from_columns(
                    orjson.loads(rid),
                    orjson.loads(sid),
                    np.full(obs.size, -1),
                    np.frombuffer(v, dtype=_F8),
                    obs,
                    np.frombuffer(r, dtype=_F8),
                    np.frombuffer(q, dtype=np.uint8),
                    orjson.loads(src),
                )
                if since is not None:
                    b = b.take(obs >= lo)
                pending.append(b)
                size += len(b)
                if size >= chunk:
                    yield _concat(pending)
                    pending, size = [], 0
            if size:
                yield _concat(pending)
        finally:
            db.close()

    def prune(self, before: float) -> int:
        """Delete batches whose readings were all observed before ``before``; return readings.

        Pruning works per stored batch, so a batch straddling the cut-off stays until its
        newest reading is old. Keep ``before`` at or before the ingest retention cut-off so a
        pruned id cannot be accepted again (validation rejects it as ``too_old`` first).
        """
        args = (float(before),)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._catch_up()
                old = self._db.execute(
                    "SELECT n, reading_id FROM batches WHERE max_observed_at < ?", args
                ).fetchall()
                self._db.execute("DELETE FROM batches WHERE max_observed_at < ?", args)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            for _, ids in old:
                self._ids.difference_update(orjson.loads(ids))
        return int(sum(n for n, _ in old))


def _strs(items: np.ndarray) -> list[str]:
    """Items as a list of str (converting only when something is not a str already)."""
    out = items.tolist()
    if set(map(type, out)) != {str}:
        out = [str(x) for x in out]
    return out


def _concat(parts: list[ReadingBatch]) -> ReadingBatch:
    if len(parts) == 1:
        return parts[0]
    names = ReadingBatch.__dataclass_fields__
    return ReadingBatch(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in names})
