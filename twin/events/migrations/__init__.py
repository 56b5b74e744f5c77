"""Alembic migrations of the event store; :func:`upgrade` brings a database to head.

Run at start-up (``upgrade(url)``) or by hand with ``alembic -c`` pointing at
:func:`alembic_config`'s script location.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from twin.events.db import make_engine

SCRIPT_LOCATION = Path(__file__).resolve().parent


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for these migrations (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine_or_url: str | Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (default: the newest).

    Parameters
    ----------
    engine_or_url : str or sqlalchemy.Engine
        The event store; a URL gets an engine from :func:`twin.events.db.make_engine`.
    """
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    if isinstance(engine_or_url, str):
        engine.dispose()
