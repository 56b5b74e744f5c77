"""Alembic migrations build exactly the schema the models declare, on both backends."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from twin.events.db import make_engine
from twin.events.migrations import alembic_config, upgrade
from twin.events.models import Base


def test_migrated_schema_equals_models(events_url):
    engine = make_engine(events_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert MigrationContext.configure(conn).get_current_revision() == "0003"
    engine.dispose()


def test_upgrade_is_idempotent_and_downgrade_removes_tables(events_url):
    upgrade(events_url)  # already at head: nothing to do
    engine = make_engine(events_url)
    assert "tickets" in inspect(engine).get_table_names()
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
