"""The OpenAPI contract: every /api route documented; schemathesis against a live server."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import flask
import pytest
from werkzeug.serving import make_server

from dashboard.api import api
from dashboard.api_readings import IngestContext, register_api_errors, register_readings_api
from dashboard.context import CONFIG_KEY, TwinContext
from dashboard.metrics import providers_from_pipeline, register_metrics
from dashboard.openapi import (
    OPENAPI,
    openapi_document,
    register_openapi,
    undocumented_api_routes,
)
from tests.twin.test_pipeline import make_pipeline, reading
from twin.samples import tiny_registry

TOKEN = "contract-token"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)


def build_app(pipe) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config[CONFIG_KEY] = TwinContext(registry=tiny_registry())
    app.register_blueprint(api)
    register_readings_api(app, IngestContext(pipe, TOKEN))
    register_metrics(app, providers_from_pipeline(pipe))
    doc = openapi_document()
    # a real sensor as the path example, so schemathesis also checks a 200 look-up
    doc["paths"]["/api/sensors/{sensor_id}"]["get"]["parameters"][0]["example"] = "RIV-1"
    register_openapi(app, doc)
    register_api_errors(app)
    return app


@pytest.fixture
def live(tmp_path):
    """(base URL, app) of a real threaded Werkzeug server on a free loopback port."""
    pipe = make_pipeline(tmp_path / "r.sqlite")
    pipe.submit([reading("seed", value=2.0)], source="http")  # one sensor with history
    app = build_app(pipe)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(10)
    pipe.log.close()


def test_every_api_route_is_documented(live):
    _, app = live
    assert undocumented_api_routes(app) == []
    paths = set(OPENAPI["paths"])
    assert {"/api/health", "/api/readings", "/api/sensors/{sensor_id}", "/api/openapi.json"} <= (
        paths
    )


def test_undocumented_route_is_reported(live):
    _, app = live
    app.add_url_rule("/api/secret/<int:n>", "secret", lambda n: "x", methods=["GET", "DELETE"])
    assert undocumented_api_routes(app) == ["DELETE /api/secret/{n}", "GET /api/secret/{n}"]


def test_unknown_api_path_is_a_json_404(live):
    _, app = live
    client = app.test_client()
    resp = client.get("/api/nothing-here")
    assert resp.status_code == 404 and resp.get_json()["error"] == "not_found"
    resp = client.get("/api/readings")
    assert resp.status_code == 405 and "POST" in resp.headers["Allow"]


def test_served_document_is_the_contract(live):
    _, app = live
    doc = app.test_client().get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1") and doc["paths"].keys() == OPENAPI["paths"].keys()


def test_schemathesis_finds_no_5xx_and_no_response_outside_the_schema(live, tmp_path):
    base, _ = live
    cmd = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{base}/api/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        "15",
        "--seed",
        "7",
        "--header",
        f"Authorization: Bearer {TOKEN}",
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=150, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "No issues found" in proc.stdout or "passed" in proc.stdout.lower()
