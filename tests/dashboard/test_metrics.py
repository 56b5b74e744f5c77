"""GET /metrics: Prometheus text from providers, broken providers left out."""

from __future__ import annotations

import flask
import numpy as np
import pytest

from dashboard.api_readings import IngestContext, register_readings_api
from dashboard.bench_ingest import bench_http
from dashboard.metrics import (
    CONTENT_TYPE,
    MetricsProviders,
    providers_from_pipeline,
    register_metrics,
    render_metrics,
)
from tests.twin.test_pipeline import make_pipeline, reading
from tests.twin.test_readings import NOW


@pytest.fixture
def pipe(tmp_path):
    p = make_pipeline(tmp_path / "r.sqlite")
    yield p
    p.log.close()


def samples(text: str) -> dict[str, float]:
    """Sample lines as {'name{labels}': value}."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def test_metrics_endpoint_reports_ingest_quality_lag_and_runtime_figures(pipe):
    app = flask.Flask(__name__)
    register_readings_api(app, IngestContext(pipe, "t"))
    register_metrics(
        app,
        providers_from_pipeline(
            pipe,
            poll_latency_s=lambda: {"gw-1": 0.012, 'odd"dev': 0.5},
            devices_offline=lambda: 2,
            websocket_clients=lambda: 3,
        ),
    )
    client = app.test_client()
    auth = {"Authorization": "Bearer t"}
    client.post(
        "/api/readings",
        json=[reading("a", value=1.0, dt=-4), reading("b", sensor="NOPE"), reading("c", dt=99)],
        headers=auth,
    )
    client.post("/api/readings", data=b"{oops", headers=auth)
    pipe.submit_arrays(np.array([3]), np.array([2e5]), NOW - 10.0, source="modbus")
    resp = client.get("/metrics")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == CONTENT_TYPE
    text = resp.get_data(as_text=True)
    got = samples(text)
    assert got['streettwin_readings_accepted_total{source="http"}'] == 1
    assert got['streettwin_readings_accepted_total{source="modbus"}'] == 1
    rej = "streettwin_readings_rejected_total"
    assert got[f'{rej}{{source="http",reason="unknown_sensor"}}'] == 1
    assert got[f'{rej}{{source="http",reason="future_timestamp"}}'] == 1
    assert got[f'{rej}{{source="http",reason="malformed"}}'] == 1
    # live values: RIV-1 observed NOW-4, PRES-1 NOW-10, both received at NOW
    assert got["streettwin_ingest_lag_seconds"] == 7.0
    assert got["streettwin_ingest_lag_max_seconds"] == 10.0
    assert got['streettwin_sensors{quality="good"}'] == 2
    assert got['streettwin_sensors{quality="stale"}'] == 2
    assert got["streettwin_stale_sensors"] == 2
    assert got['streettwin_poll_latency_seconds{device="gw-1"}'] == 0.012
    assert got['streettwin_poll_latency_seconds{device="odd\\"dev"}'] == 0.5
    assert got["streettwin_devices_offline"] == 2
    assert got["streettwin_websocket_clients"] == 3
    assert "# TYPE streettwin_readings_rejected_total counter" in text
    assert "# TYPE streettwin_devices_offline gauge" in text
    assert text.count("# HELP streettwin_readings_rejected_total") == 1


def test_missing_or_failing_providers_are_left_out():
    def broken():
        raise RuntimeError("hub not running")

    text = render_metrics(MetricsProviders(websocket_clients=broken, devices_offline=lambda: 0))
    assert text == (
        "# HELP streettwin_devices_offline Field devices that do not answer.\n"
        "# TYPE streettwin_devices_offline gauge\n"
        "streettwin_devices_offline 0\n"
    )


def test_no_lag_before_any_reading(pipe):
    got = samples(render_metrics(providers_from_pipeline(pipe)))
    assert "streettwin_ingest_lag_seconds" not in got
    assert got["streettwin_stale_sensors"] == 4


@pytest.mark.bench
def test_bench_http_smoke():
    out = bench_http(n_sensors=100, batch=200, batches_per_repeat=2, repeat=1)
    assert out["http_batch"] == 200 and len(out["http_runs_s"]) == 1
    assert out["http_readings_per_s"] > 0
    cpu_rate = out["http_readings_per_server_cpu_s"]  # None: too short for the CPU clock
    assert cpu_rate is None or cpu_rate > 0
