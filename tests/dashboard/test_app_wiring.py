"""The whole app on a live runtime: push ingest, sensor API, metrics and the OpenAPI document."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from dashboard.app import create_app
from dashboard.openapi import undocumented_api_routes
from dashboard.runtime import build_runtime
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
    finally:
        runtime.stop()
