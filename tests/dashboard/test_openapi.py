"""The OpenAPI contract: the document is the routes, and schemathesis finds no 5xx and no
response outside it on a live server running the whole app (runtime, dispatch, warnings)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import flask
import numpy as np
import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from dashboard.api_readings import CONFIG_KEY as INGEST_KEY
from dashboard.app import create_app
from dashboard.openapi import (
    EXTENSION_KEY,
    OPENAPI,
    openapi_document,
    undocumented_api_routes,
    unserved_operations,
)
from dashboard.runtime import build_runtime
from dashboard.warning_service import attach_warning_service
from sim.nowcast.driver import Nowcaster
from twin.events.db import sqlite_url
from twin.events.users import HashParams
from twin.samples import tiny_registry

#: checks run on every response; ``ignored_auth`` drops the credentials of operations that
#: declare security and fails if they still answer 2xx
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,response_headers_conformance,ignored_auth"
)
#: a point inside building B0001, grid G01 of the tiny district
LON, LAT = 113.75034, 23.02026


@dataclass
class FullApp:
    """The app with everything on, seeded with one of each thing the API shows."""

    app: object
    runtime: object
    token: str  # bearer token of the operator "op" (also the ingest token)
    ticket_ref: str
    receipt: str
    warning_id: str

    @property
    def server(self):
        return self.app.server


def build_full_app(tmp_path: Path) -> FullApp:
    """Runtime + warning service + dispatch (SQLite in ``tmp_path``) + an operator token."""
    registry = tiny_registry()
    runtime = build_runtime(registry, tmp_path / "run")
    nowcaster = Nowcaster(registry, runtime.state, hazards=("fire",))
    service = attach_warning_service(runtime, {}, nowcaster=nowcaster)
    runtime.hub.publish_event = lambda event: None  # no websocket clients here
    app = create_app(
        registry,
        settings={
            "TESTING": True,
            "DATABASE_URL": sqlite_url(tmp_path / "events.sqlite"),
            "DATA_DIR": str(tmp_path / "dispatch"),
            "AUTH_COOKIE_SECURE": False,
            "AUTH_HASH_PARAMS": HashParams(n=2**10),
        },
        runtime=runtime,
    )
    server = app.server
    svc = server.extensions["streettwin_dispatch"]
    svc.users.add_user("op", "operator", "correct horse battery staple")
    token = svc.users.issue_token("op")
    # one Authorization header for every route: devices push readings with the same token
    server.config[INGEST_KEY] = dataclasses.replace(server.config[INGEST_KEY], token=token)
    http = server.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    now = time.time()
    observed = datetime.fromtimestamp(now - 5, UTC).isoformat()
    pushed = http.post(
        "/api/readings",
        json={"readings": [{"sensor_id": "SN002", "value": 1.5, "observed_at": observed}]},
        headers=auth,
    )
    assert pushed.status_code == 200 and pushed.json["accepted"] == 1
    row = runtime.state.index_of("SN006")  # smoke in a building → a fire warning
    runtime.state.apply(row, np.array([1.0]), np.array([now]), now)
    (event,) = service.cycle(now)
    ticket = http.post("/api/tickets", json={"type": "water", "lon": LON, "lat": LAT}, headers=auth)
    assert ticket.status_code == 201, ticket.json
    report = http.post(
        "/api/reports", json={"category": "gas", "lon": LON, "lat": LAT}, headers=auth
    )
    assert report.status_code == 201, report.json
    return FullApp(
        app, runtime, token, ticket.json["ref"], report.json["receipt"], event["warning_id"]
    )


def set_examples(full: FullApp) -> None:
    """Real ids as path examples, so schemathesis also reaches the 200s behind them."""
    doc = full.server.extensions[EXTENSION_KEY]
    examples = {
        "sensor_id": "SN002",
        "ref": full.ticket_ref,
        "receipt": full.receipt,
        "building_id": "B0001",
        "warning_id": full.warning_id,
        "layer_id": "sensors",
    }
    for item in doc["paths"].values():
        for op in item.values():
            for param in op.get("parameters", []):
                if param["in"] == "path" and param["name"] in examples:
                    param["example"] = examples[param["name"]]


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    app = build_full_app(tmp_path_factory.mktemp("full"))
    yield app
    app.runtime.log.close()
    app.server.extensions["streettwin_dispatch"].store.engine.dispose()


class QuietHandler(WSGIRequestHandler):
    """No access log line per request (schemathesis sends about a thousand)."""

    def log_request(self, *args, **kwargs) -> None:
        pass


@pytest.fixture(scope="module")
def live(full):
    """(base URL, FullApp) of a real threaded Werkzeug server on a free loopback port."""
    set_examples(full)
    server = make_server("127.0.0.1", 0, full.server, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", full
    server.shutdown()
    thread.join(10)


def test_full_app_serves_every_documented_route_and_documents_every_route(full):
    assert undocumented_api_routes(full.server) == []
    assert unserved_operations(full.server) == []


def test_undocumented_route_is_reported():
    server = flask.Flask(__name__)
    server.add_url_rule("/api/secret/<int:n>", "secret", lambda n: "x", methods=["GET", "DELETE"])
    server.add_url_rule("/metrics", "metrics", lambda: "x")
    assert undocumented_api_routes(server) == ["DELETE /api/secret/{n}", "GET /api/secret/{n}"]
    assert "GET /api/health" in unserved_operations(server)


def test_unknown_api_path_is_a_json_404(full):
    client = full.server.test_client()
    resp = client.get("/api/nothing-here")
    assert resp.status_code == 404 and resp.get_json()["error"] == "not_found"
    resp = client.get("/api/readings")
    assert resp.status_code == 405 and "POST" in resp.headers["Allow"]


def test_served_document_is_the_contract_of_the_full_app(full):
    doc = full.server.test_client().get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert doc["paths"].keys() == OPENAPI["paths"].keys()
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_registry_only_app_serves_only_its_own_routes():
    app = create_app(tiny_registry(), settings={"TESTING": True})
    doc = app.server.test_client().get("/api/openapi.json").get_json()
    # no runtime: no readings, metrics; no DATABASE_URL: no tickets or login
    assert "/api/tickets" not in doc["paths"] and "/api/login" not in doc["paths"]
    assert "/api/readings" not in doc["paths"] and "/metrics" not in doc["paths"]
    assert {"/api/health", "/api/live/status", "/api/openapi.json"} <= doc["paths"].keys()
    assert doc == openapi_document(app.server)


def test_documented_errors_are_what_the_routes_answer(live):
    """Hand-checked answers for the codes fuzzing rarely reaches (401, 403, 409, 429)."""
    import requests

    base, full = live
    auth = {"Authorization": f"Bearer {full.token}"}
    ops = OPENAPI["paths"]
    r = requests.get(f"{base}/api/tickets", timeout=10)
    assert r.status_code == 401 and "401" in ops["/api/tickets"]["get"]["responses"]
    r = requests.post(f"{base}/api/crew/sync", json={"actions": []}, headers=auth, timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"  # operators are no crew
    r = requests.post(f"{base}/api/tickets/{full.ticket_ref}/accept", headers=auth, timeout=10)
    assert r.status_code == 403  # only crews accept
    r = requests.post(f"{base}/api/tickets/{full.ticket_ref}/verify", headers=auth, timeout=10)
    assert r.status_code == 409  # a reported ticket is not yet resolved
    codes = [
        requests.get(f"{base}/api/reports/{full.receipt}", timeout=10).status_code
        for _ in range(32)
    ]
    assert codes[0] == 200 and codes[-1] == 429  # 30 look-ups, then slow down
    r = requests.get(f"{base}/api/live/replay?minutes=nan", timeout=10)
    assert r.status_code == 400 and "minutes" in r.json()["detail"]


def test_schemathesis_finds_no_5xx_and_no_response_outside_the_schema(live, tmp_path):
    base, full = live
    cmd = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{base}/api/openapi.json",
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "8",
        "--seed",
        "7",
        "--header",
        f"Authorization: Bearer {full.token}",
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        "--max-redirects",
        "0",
        "--no-shrink",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=150, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]
    assert "No issues found" in proc.stdout or "passed" in proc.stdout.lower()
