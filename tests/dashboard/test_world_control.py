"""The demo's control channel into the world: storms, faults, crowds; bad requests named."""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request

import pytest

from dashboard.commands import world as world_command
from dashboard.world_control import serve_world_control
from sim.modbus_bench import free_port
from sim.world import World
from twin.samples import tiny_registry


@pytest.fixture()
def control():
    world = World(tiny_registry(), seed=1, t0=1_700_000_000.0)
    port = free_port()
    server = serve_world_control(world, "127.0.0.1", port)
    yield world, f"http://127.0.0.1:{port}"
    server.shutdown()


def post(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_storm_and_a_fault_started_over_http_are_in_the_world(control) -> None:
    world, url = control
    status, storm = post(f"{url}/storm", {"total_mm": 80, "duration_min": 60})
    assert status == 200
    pipe = world.registry.layers["water_pipes"]["pipe_id"].iloc[0]
    status, fault = post(f"{url}/fault", {"kind": "pipe_burst", "target": pipe})
    assert status == 200
    kinds = {e["event_id"]: e["kind"] for e in world.events()}
    assert kinds[storm["event_id"]] == "storm" and kinds[fault["event_id"]] == "pipe_burst"


def test_bad_requests_name_what_is_wrong(control) -> None:
    _, url = control
    assert post(f"{url}/storm", {"duration_min": 60}) == (
        400,
        {"error": "missing field 'total_mm'"},
    )
    status, body = post(f"{url}/fault", {"kind": "meteor", "target": "P01"})
    assert status == 400 and "meteor" in body["error"]
    assert post(f"{url}/nothing", {})[0] == 404


def test_cli_world_storm_reaches_the_control_channel(control, capsys) -> None:
    world, url = control
    args = argparse.Namespace(action="storm", control=url, total_mm=50.0, duration_min=30.0)
    assert world_command.run(args) == 0
    assert any(e["kind"] == "storm" for e in world.events())
    assert "event_id" in capsys.readouterr().out
