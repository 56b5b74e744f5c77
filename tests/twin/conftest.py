"""Shared fixtures for twin tests: the tiny hand-made registry, in memory and on disk."""

from __future__ import annotations

import pytest

from twin.registry_io import save_registry
from twin.samples import tiny_registry


@pytest.fixture(scope="session")
def tiny():
    """The tiny registry, shared read-only across the session (never modify it)."""
    return tiny_registry()


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory, tiny):
    """The tiny registry saved once to a folder."""
    return save_registry(tiny, tmp_path_factory.mktemp("tiny"))


# event-store fixtures (real PostgreSQL server, stores on both backends)
from tests.twin.events_fixtures import (  # noqa: E402, F401
    clock,
    events_url,
    pg_events_template,
    pg_server,
    store,
)
