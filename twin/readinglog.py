"""The durable reading log: append-only, idempotent on reading id, replayed after a restart.

Backed by SQLite in WAL mode with ``synchronous=FULL``: one transaction per batch, so
:meth:`ReadingLog.append` returns only after the whole batch is on disk (fsync'd WAL
commit), and a crash leaves every batch either fully present or absent. A reading id that
is already stored is reported as a duplicate and not stored twice.

Layout: one row per appended batch holding its columns as little-endian numpy blobs (fast
to write and to replay), plus a ``reading_ids`` table (primary key) for idempotency. SQLite
was chosen over a hand-rolled segment file because idempotency needs a persistent index of
ids anyway, and one transaction per batch gives atomic, fsync'd group commit.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

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
CREATE TABLE IF NOT EXISTS reading_ids (
    reading_id TEXT PRIMARY KEY,
    batch_seq INTEGER NOT NULL
) WITHOUT ROWID;
"""
_IN_CHUNK = 900  # ids per "IN (...)" query, below SQLite's host-parameter limit
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

    def close(self) -> None:
        """Close the database (further calls fail)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> ReadingLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM reading_ids").fetchone()[0]

    def _existing(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for k in range(0, len(ids), _IN_CHUNK):
            chunk = ids[k : k + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT reading_id FROM reading_ids WHERE reading_id IN ({marks})"
            found.update(r[0] for r in self._db.execute(sql, chunk))
        return found

    def contains(self, reading_ids: np.ndarray | list[str]) -> np.ndarray:
        """Boolean mask: which reading ids are already stored."""
        ids = [str(x) for x in reading_ids]
        with self._lock:
            found = self._existing(ids)
        return np.fromiter((x in found for x in ids), dtype=bool, count=len(ids))

    def append_mask(self, batch: ReadingBatch) -> np.ndarray:
        """Append a batch durably; return the mask of readings newly stored.

        ``False`` marks a duplicate: its id is already in the log or earlier in this batch.
        Returns after the transaction is committed with a full sync.
        """
        n = len(batch)
        stored = np.zeros(n, dtype=bool)
        if n == 0:
            return stored
        ids = [str(x) for x in batch.reading_id]
        with self._lock:
            # optimistic path (the common case, no duplicates): insert ids with OR IGNORE and
            # check that every one was new; otherwise roll back and split out the duplicates
            if len(set(ids)) == n and self._write_all_new(batch, ids):
                stored[:] = True
                return stored
            self._db.execute("BEGIN IMMEDIATE")
            try:
                found = self._existing(ids)
                for i, rid in enumerate(ids):
                    if rid not in found:
                        stored[i] = True
                        found.add(rid)  # a repeat later in the batch is a duplicate
                sel = np.flatnonzero(stored)
                if sel.size:
                    self._insert(batch.take(sel), [ids[i] for i in sel], ignore=False)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return stored

    def _write_all_new(self, batch: ReadingBatch, ids: list[str]) -> bool:
        """Insert all of ``batch`` in one transaction; False (rolled back) if an id existed."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            before = self._db.total_changes
            self._insert(batch, ids, ignore=True)
            # one batches row + one reading_ids row per reading, when none was a duplicate
            if self._db.total_changes - before != len(ids) + 1:
                self._db.execute("ROLLBACK")
                return False
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return True

    def _insert(self, b: ReadingBatch, ids: list[str], ignore: bool) -> None:
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
                json.dumps(ids),
                json.dumps([str(x) for x in b.sensor_id]),
                json.dumps([str(x) for x in b.source]),
            ),
        )
        seq = cur.lastrowid
        self._db.executemany(
            f"INSERT {'OR IGNORE ' if ignore else ''}INTO reading_ids (reading_id, batch_seq)"
            " VALUES (?, ?)",
            zip(ids, itertools.repeat(seq)),
        )

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
                    json.loads(rid),
                    json.loads(sid),
                    np.full(obs.size, -1),
                    np.frombuffer(v, dtype=_F8),
                    obs,
                    np.frombuffer(r, dtype=_F8),
                    np.frombuffer(q, dtype=np.uint8),
                    json.loads(src),
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
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                old = "SELECT seq FROM batches WHERE max_observed_at < ?"
                args = (float(before),)
                self._db.execute(f"DELETE FROM reading_ids WHERE batch_seq IN ({old})", args)
                n = self._db.execute(
                    "SELECT coalesce(sum(n), 0) FROM batches WHERE max_observed_at < ?", args
                ).fetchone()[0]
                self._db.execute("DELETE FROM batches WHERE max_observed_at < ?", args)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return int(n)


def _concat(parts: list[ReadingBatch]) -> ReadingBatch:
    if len(parts) == 1:
        return parts[0]
    names = ReadingBatch.__dataclass_fields__
    return ReadingBatch(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in names})
