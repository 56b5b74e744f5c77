"""The whole app on a live runtime: push ingest, sensor API, metrics and the OpenAPI document."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from dashboard.app import create_app
from dashboard.openapi import undocumented_api_routes, unserved_operations
from dashboard.runtime import build_runtime
from dashboard.warning_service import attach_warning_service
from twin.events.db import sqlite_url
from twin.samples import tiny_registry

TOKEN = "test-token-not-a-secret"


@pytest.fixture()
def client(tmp_path):
    registry = tiny_registry()
    runtime = build_runtime(registry, tmp_path / "run", ingest_token=TOKEN)
    app = create_app(registry, settings={"TESTING": True}, runtime=runtime)
    yield app.server.test_client(), registry
    runtime.stop()


def iso_now() -> str:
    return datetime.fromtimestamp(time.time() - 5, UTC).isoformat()


def test_pushed_reading_lands_in_state_and_metrics(client) -> None:
    http, registry = client
    sensor = registry.sensors.loc[registry.sensors["kind"] == "river_level", "sensor_id"].iloc[0]
    body = {
        "readings": [
            {"sensor_id": sensor, "value": 2.25, "observed_at": iso_now()},
            {"sensor_id": "NO-SUCH-SENSOR", "value": 1.0, "observed_at": iso_now()},
        ]
    }
    res = http.post("/api/readings", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert res.status_code == 200
    assert res.json["accepted"] == 1
    assert [r["reason"] for r in res.json["rejected"]] == ["unknown_sensor"]
    one = http.get(f"/api/sensors/{sensor}").json
    assert one["value"] == pytest.approx(2.25)
    metrics = http.get("/metrics").get_data(as_text=True)
    assert 'streettwin_readings_accepted_total{source="http"} 1' in metrics
    assert "unknown_sensor" in metrics


def test_push_without_token_is_refused(client) -> None:
    http, _ = client
    assert http.post("/api/readings", json={"readings": []}).status_code == 401


def test_every_api_route_of_the_real_app_is_in_the_openapi_document(tmp_path) -> None:
    registry = tiny_registry()
    runtime = build_runtime(registry, tmp_path / "run", ingest_token=TOKEN)
    app = create_app(registry, settings={"TESTING": True}, runtime=runtime)
    try:
        assert undocumented_api_routes(app.server) == []
        served = app.server.test_client().get("/api/openapi.json").get_json()["paths"]
        assert "/api/live/snapshot" in served and "/api/tickets" not in served
    finally:
        runtime.stop()


def test_every_route_of_the_app_with_dispatch_and_warnings_is_documented(tmp_path) -> None:
    """DATABASE_URL (SQLite in tmp) adds login and dispatch; a warning service the alerts."""
    registry = tiny_registry()
    runtime = build_runtime(registry, tmp_path / "run", ingest_token=TOKEN)
    attach_warning_service(runtime, {})
    settings = {
        "TESTING": True,
        "DATABASE_URL": sqlite_url(tmp_path / "events.sqlite"),
        "DATA_DIR": str(tmp_path / "dispatch"),
    }
    app = create_app(registry, settings=settings, runtime=runtime)
    try:
        rules = {r.rule for r in app.server.url_map.iter_rules()}
        assert {"/api/tickets", "/api/login", "/auth/login", "/api/alerts/<warning_id>"} <= rules
        assert undocumented_api_routes(app.server) == []
        assert unserved_operations(app.server) == []  # and nothing documented is missing
        served = app.server.test_client().get("/api/openapi.json").get_json()["paths"]
        assert {"/api/tickets/{ref}/{action}", "/api/alerts/{warning_id}.cap"} <= served.keys()
    finally:
        runtime.stop()
        app.server.extensions["streettwin_dispatch"].store.engine.dispose()
