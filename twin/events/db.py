"""Database engines for the event store: SQLite (WAL) embedded, PostgreSQL by URL, same code.

SQLite is tuned for durability, not speed: ``journal_mode=WAL``, ``synchronous=FULL`` (every
commit is fsynced before it returns, so an acknowledged change survives a power cut, not only a
crash), foreign keys on, and ``BEGIN IMMEDIATE`` for every transaction so read-check-write
sequences (a ticket's state check, the audit chain head) are serialised between processes.
PostgreSQL gets the same effect from ``SELECT ... FOR UPDATE`` row locks in the store code.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

#: How long a SQLite writer waits for another writer's lock before failing [ms].
SQLITE_BUSY_TIMEOUT_MS = 30_000


def sqlite_url(path: str | Path) -> str:
    """SQLAlchemy URL of a SQLite file.

    >>> sqlite_url("/tmp/events.db")
    'sqlite+pysqlite:////tmp/events.db'
    """
    return f"sqlite+pysqlite:///{Path(path)}"


def normalise_url(url: str) -> str:
    """Pick the psycopg 3 driver for bare ``postgresql://`` URLs.

    >>> normalise_url("postgresql://u@h:5432/db")
    'postgresql+psycopg://u@h:5432/db'
    """
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for the event store.

    Parameters
    ----------
    url : str
        ``sqlite+pysqlite:///path.db`` (see :func:`sqlite_url`) or a PostgreSQL URL
        (``postgresql://user@host:port/db``; the psycopg 3 driver is used).
    echo : bool
        Log SQL (never in production: statements may carry ticket notes).

    Returns
    -------
    sqlalchemy.Engine
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )
        _tune_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # take transaction control away from pysqlite so BEGIN IMMEDIATE is ours to emit
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def is_sqlite(engine: Engine) -> bool:
    """True if the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"
