"""Warnings over HTTP: JSON list, CAP 1.2 that validates, Atom, acknowledgement, webhook, and
the whole chain world → devices → twin → nowcast → /api/alerts and /ws/live."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
import time
import urllib.request

import numpy as np
import pytest
from lxml import etree

from dashboard.app import create_app
from dashboard.runtime import build_runtime
from dashboard.warning_service import Webhook, attach_warning_service
from sim.nowcast.driver import Nowcaster
from sim.warning.cap_schema import validate_cap
from twin.samples import tiny_registry

T0 = 1_782_864_000.0


@pytest.fixture()
def served(tmp_path):
    registry = tiny_registry()
    runtime = build_runtime(registry, tmp_path / "run")
    nowcaster = Nowcaster(registry, runtime.state, hazards=("fire",))
    service = attach_warning_service(runtime, {}, nowcaster=nowcaster)
    pushed: list[dict] = []
    runtime.hub.publish_event = pushed.append  # what /ws/live would send
    app = create_app(registry, settings={"TESTING": True}, runtime=runtime)
    yield registry, runtime, service, app.server.test_client(), pushed
    runtime.log.close()


def smoke(runtime, sensor_id: str, value: float, t: float) -> None:
    row = runtime.state.index_of(sensor_id)
    runtime.state.apply(row, np.array([value]), np.array([t]), t)


def test_alerts_list_detail_cap_atom_and_ack(served) -> None:
    registry, runtime, service, client, pushed = served
    smoke(runtime, "SN006", 1.0, T0)
    (event,) = service.cycle(T0)
    wid = event["warning_id"]
    # pushed once, in the wall screen's shape plus the engine's fields
    (msg,) = pushed
    assert (msg["type"], msg["id"], msg["hazard"], msg["level"]) == ("warning", wid, "fire", "red")
    assert msg["lon"] is not None and msg["headline_zh"] and msg["headline_en"]

    body = client.get("/api/alerts").get_json()
    assert body["count"] == 1 and body["alerts"][0]["warning_id"] == wid
    detail = client.get(f"/api/alerts/{wid}").get_json()
    assert [e["action"] for e in detail["history"]] == ["issued"]

    cap = client.get(f"/api/alerts/{wid}.cap")
    assert cap.status_code == 200 and cap.mimetype == "application/cap+xml"
    assert validate_cap(cap.data) == []
    root = etree.fromstring(cap.data)
    ns = {"c": "urn:oasis:names:tc:emergency:cap:1.2"}
    assert root.xpath("//c:info/c:language/text()", namespaces=ns) == ["zh-CN", "en"]
    assert len(root.xpath("//c:area/c:polygon", namespaces=ns)) == 2
    # a broken message is rejected by the same validator
    assert validate_cap(cap.data.replace(b"<msgType>Alert", b"<msgType>Warning")) != []

    atom = client.get("/api/alerts.atom")
    feed = etree.fromstring(atom.data)  # well-formed
    a = {"a": "http://www.w3.org/2005/Atom"}
    assert feed.xpath("//a:entry/a:link/@href", namespaces=a)[0].endswith(f"/api/alerts/{wid}.cap")

    assert client.post(f"/api/alerts/{wid}/ack", json={}).status_code == 400
    ack = client.post(f"/api/alerts/{wid}/ack", json={"by": "值班员 Li"}).get_json()
    assert ack["acknowledged_by"] == "值班员 Li" and ack["acknowledged_at"].endswith("+08:00")
    assert client.get(f"/api/alerts/{wid}").get_json()["alert"]["acknowledged_by"] == "值班员 Li"
    assert pushed[-1]["action"] == "acknowledged"
    assert client.post("/api/alerts/nope/ack", json={"by": "x"}).status_code == 404
    assert client.get("/api/alerts/nope.cap").status_code == 404


class FlakyReceiver(http.server.BaseHTTPRequestHandler):
    fail_first = 2
    seen: list[dict] = []
    calls = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        cls = type(self)
        cls.calls += 1
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if cls.calls <= cls.fail_first:
            self.send_response(503)
        else:
            cls.seen.append(json.loads(body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_webhook_is_retried_until_the_receiver_takes_it() -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), FlakyReceiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        hook = Webhook(url, retries=5, backoff_s=0.05)
        assert hook.post({"id": "ST-1.1", "warning_id": "ST-1", "level": 3})
        assert FlakyReceiver.calls == 3 and hook.attempts == 3
        assert FlakyReceiver.seen == [{"id": "ST-1.1", "warning_id": "ST-1", "level": 3}]
        failing = Webhook(f"http://127.0.0.1:{server.server_port + 1}/x", retries=2, backoff_s=0.01)
        assert not failing.post({"id": "x"}) and failing.failed == 1
    finally:
        server.shutdown()


def test_storm_and_smoke_in_the_world_reach_api_and_websocket_untouched(tmp_path) -> None:
    """World → Modbus devices → poller → state → nowcast → store → /api/alerts and /ws/live."""
    from simple_websocket import Client
    from werkzeug.serving import make_server

    from sim.devices import FieldDevices
    from sim.modbus_bench import free_port
    from sim.registermap_gen import align_source, generate_register_map
    from sim.world import World

    registry = tiny_registry()
    speed = 60.0  # one wall second is one simulated minute
    wall0 = time.time()

    def clock() -> float:  # the demo's simulated time, shared by world and twin
        return T0 + speed * (time.time() - wall0)

    world = World(registry, seed=2, t0=T0, background_rain=False, spontaneous_faults=False)
    ids = registry.sensors["sensor_id"].to_numpy(dtype=object)
    regmap = generate_register_map(registry.sensors, port=free_port(), poll_interval_s=0.2)

    def values(_now: float) -> np.ndarray:
        world.advance_to(max(world.t, clock()))
        return world.sensor_values()

    devices = FieldDevices(regmap, align_source(values, ids, regmap), tick_s=0.1)
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    asyncio.run_coroutine_threadsafe(devices.start(), loop).result(10)

    runtime = build_runtime(registry, tmp_path / "run")
    runtime.attach_modbus(regmap)
    nowcaster = Nowcaster(
        registry, runtime.state, hazards=("rainstorm", "fire"), flood_kwargs={"horizon_s": 3600.0}
    )
    attach_warning_service(runtime, {}, nowcaster=nowcaster, interval_s=0.5, clock=clock)
    app = create_app(registry, settings={"TESTING": True}, runtime=runtime)
    http_server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=http_server.serve_forever, daemon=True).start()
    base = f"127.0.0.1:{http_server.server_port}"
    runtime.start()
    ws = Client.connect(f"ws://{base}/ws/live")
    try:
        time.sleep(1.0)
        # nobody touches the twin from here on: only the world changes
        world.start_storm(total_mm=120.0, duration_s=3600.0)
        world.inject_fault("smoke", "B0005")
        seen: dict[str, dict] = {}
        deadline = time.time() + 40.0
        while time.time() < deadline and not {"rainstorm", "fire"} <= set(seen):
            frame = ws.receive(timeout=0.5)
            if isinstance(frame, str):
                msg = json.loads(frame)
                ev = msg.get("event", {})
                if msg.get("type") == "event" and ev.get("type") == "warning":
                    seen.setdefault(ev["hazard"], ev)
        assert {"rainstorm", "fire"} <= set(seen), seen.keys()
        assert seen["fire"]["level"] == "red"
        with urllib.request.urlopen(f"http://{base}/api/alerts") as resp:
            listed = {a["hazard"] for a in json.load(resp)["alerts"]}
        assert {"rainstorm", "fire"} <= listed
    finally:
        ws.close()
        runtime.stop()
        http_server.shutdown()
        asyncio.run_coroutine_threadsafe(devices.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
