"""The read-only live API and the compact websocket format the browser map uses."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from dashboard import live
from dashboard.api_live import active_warnings
from dashboard.app import create_app
from dashboard.live import LiveHub, binary_values_frame, decode_binary_values
from dashboard.runtime import build_runtime
from twin.samples import tiny_registry


@pytest.fixture()
def runtime(tmp_path):
    rt = build_runtime(tiny_registry(), tmp_path, restore=False)
    yield rt
    rt.log.close()


@pytest.fixture()
def client(runtime):
    return create_app(
        runtime.registry, settings={"TESTING": True}, runtime=runtime
    ).server.test_client()


def test_status_says_not_live_without_a_runtime() -> None:
    app = create_app(tiny_registry(), settings={"TESTING": True})
    c = app.server.test_client()
    assert c.get("/api/live/status").get_json() == {"live": False}
    assert c.get("/api/live/snapshot").status_code == 404


def test_snapshot_and_kpis_count_live_stale_and_alarm(client, runtime) -> None:
    now = time.time()
    rows = runtime.state.index_of(["SN004", "SN010"])
    runtime.pipeline.submit_arrays(rows, np.array([0.42, 3.0e5]), now, source="test")
    snap = client.get("/api/live/snapshot").get_json()
    assert snap["ids"][3] == "SN004" and snap["value"][3] == 0.42
    assert snap["state"][3] == 3 and snap["state"][9] == 0  # alarm (≥ 0.15 m), ok
    kpi = client.get("/api/live/status").get_json()["kpi"]
    assert kpi["sensors"] == {"ok": 1, "stale": 13, "rejected": 0, "alarm": 1}
    # no event store and no warning service in this app: the screen says so ("—")
    assert kpi["tickets_open"] is None and kpi["people_warned"] is None


def test_kpis_count_open_and_overdue_tickets_and_people_under_warnings(runtime, tmp_path):
    from dashboard.api_dispatch import EXTENSION_KEY
    from twin.events.lifecycle import OPEN_STATES, Actor

    app = create_app(
        runtime.registry,
        settings={"TESTING": True, "DATABASE_URL": None, "DATA_DIR": str(tmp_path / "ev")},
        runtime=runtime,
    )
    store = app.server.extensions[EXTENSION_KEY].store
    op = Actor("ann", "operator")
    late = store.create(source="report", type="water", level="red", grid_code="G01", actor=op)
    store.create(source="report", type="water", level="blue", grid_code="G01", actor=op)
    store.create(source="report", type="fire", level="red", grid_code="G01", actor=op)
    store.transition(store.get(late.id).id, "dismiss", actor=op)
    # two warnings on one area (the same people) and one on another
    runtime.warnings = object()  # a warning service is attached (its output is the events)
    now = time.time()
    for wid, area, level, people in (
        ("w1", "G01", "orange", 120),
        ("w2", "G01", "yellow", 90),
        ("w3", "G02", "blue", 15),
    ):
        runtime.publish_event(
            {"type": "warning", "id": wid, "area_id": area, "level": level, "issued": now,
             "affected": {"people": people, "buildings": 3}}
        )  # fmt: skip
    # warnings open tickets of their own (dispatch listens to the events): wait for them
    open_now = 0
    for _ in range(100):
        views = store.list_visible(op)
        if len(views) == open_now and open_now > 3:
            break
        open_now = len(views)
        time.sleep(0.1)
    n_open = sum(v.state in OPEN_STATES for v in store.list_visible(op))
    assert n_open == len(store.list_visible(op)) - 1 >= 2  # all but the dismissed one
    c = app.server.test_client()
    kpi = c.get("/api/live/status").get_json()["kpi"]
    assert kpi["tickets_open"] == n_open and kpi["tickets_overdue"] == 0
    assert kpi["people_warned"] == 135  # 120 in G01 (its largest), 15 in G02
    assert kpi["warnings"] == {"red": 0, "orange": 1, "yellow": 1, "blue": 1}
    # a day later every dispatch clock has run out; none of the open tickets was dispatched
    assert store.wall_counts(now + 24 * 3600) == {"open": n_open, "overdue": n_open}
    # a warning on the whole street (district) covers everyone once: its count, not a sum
    runtime.publish_event(
        {"type": "warning", "id": "w4", "area_id": "S01", "level": "red", "issued": now,
         "affected": {"people": 500}}
    )  # fmt: skip
    kpi = c.get("/api/live/status").get_json()["kpi"]
    assert kpi["people_warned"] == 500 and kpi["warnings"]["red"] == 1


def test_sensor_card_has_value_history_grid_building_and_address(client, runtime) -> None:
    now = time.time()
    row = runtime.state.index_of(["SN005"])
    for k, v in enumerate([0.0, 0.0, 1.0]):
        runtime.pipeline.submit_arrays(row, np.array([v]), now - 120 + 60 * k, source="test")
    card = client.get("/api/live/sensor/SN005?minutes=60").get_json()
    assert card["value"] == 1.0 and card["kind_zh"] == "烟感" and card["alarm_at"] == 0.5
    assert card["history"]["v"] == [0.0, 0.0, 1.0]
    assert card["grid"]["id"] == "G01" and card["building"]["id"]
    assert card["address"]["zh"] and card["address"]["en"]
    assert client.get("/api/live/sensor/NOPE").status_code == 404


def test_events_and_active_warnings(client, runtime) -> None:
    runtime.publish_event({"type": "warning", "id": "W1", "level": "orange", "issued": 1.0})
    runtime.publish_event({"type": "warning", "id": "W2", "level": "red", "issued": 2.0})
    runtime.publish_event({"type": "warning", "id": "W1", "level": "orange", "status": "cancelled"})
    body = client.get("/api/live/events").get_json()
    assert len(body["events"]) == 3
    assert [w["id"] for w in body["warnings"]] == ["W2"]


def test_active_warnings_sort_most_severe_then_newest() -> None:
    ev = [
        {"type": "warning", "id": "a", "level": "yellow", "issued": 5},
        {"type": "warning", "id": "b", "level": "red", "issued": 1},
        {"type": "warning", "id": "c", "level": "red", "issued": 3},
        {"type": "device_offline", "id": "x"},
    ]
    assert [w["id"] for w in active_warnings(ev, now=10)] == ["c", "b", "a"]


def test_replay_steps_carry_states_per_sensor_and_worst_per_grid(client, runtime) -> None:
    now = time.time()
    row = runtime.state.index_of(["SN004"])
    runtime.pipeline.submit_arrays(row, np.array([0.05]), now - 150, source="test")
    runtime.pipeline.submit_arrays(row, np.array([0.40]), now - 30, source="test")
    body = client.get("/api/live/replay?minutes=5&step=60").get_json()
    assert len(body["times"]) == 5
    col = [s[3] for s in body["states"]]
    # no reading before t-150 s: stale; then 5 cm (ok) carried over ≤ 2 steps; then alarm
    assert col == ["1", "1", "0", "0", "3"]
    g01 = body["grids"].index("G01")
    assert body["grid_states"][-1][g01] == 3


def test_binary_frame_round_trips_rows_values_quality_and_age() -> None:
    vals = [(1.5, 0, 1000.0), (float("nan"), 1, float("nan")), (-2.25, 2, 990.0)]
    frame = binary_values_frame(np.array([7, 0, 3]), vals)
    assert len(frame) == 16 + 11 * 3  # 11 bytes per sensor
    out = decode_binary_values(frame)
    assert out["rows"].tolist() == [7, 0, 3]
    assert out["value"][0] == 1.5 and np.isnan(out["value"][1]) and out["value"][2] == -2.25
    assert out["quality"].tolist() == [0, 1, 2]
    assert out["t"][0] == 1000.0 and np.isnan(out["t"][1]) and out["t"][2] == 990.0


class Sock:
    def __init__(self, hub: LiveHub, n: int) -> None:
        self.sent: list = []
        self.hub, self.n = hub, n

    def send(self, frame) -> None:
        self.sent.append(frame)
        if len(self.sent) >= self.n:
            self.hub.stop()


def test_compact_client_gets_ids_then_the_whole_state_then_heartbeats(monkeypatch) -> None:
    monkeypatch.setattr(live, "HEARTBEAT_S", 0.05)
    rt_state = tiny_registry().sensors["sensor_id"].tolist()
    from twin.state import LiveState

    state = LiveState(rt_state)
    state.apply(np.array([2, 5]), np.array([1.0, 2.0]), np.array([10.0, 11.0]), 12.0)

    def read_changes(version):
        rows = state.changed_since(version)
        snap = state.snapshot(rows)
        return (state.version, rows, snap["value"].to_numpy(), snap["quality"].to_numpy(),
                snap["observed_at"].to_numpy())  # fmt: skip

    hub = LiveHub(rt_state, read_changes)
    sock = Sock(hub, 3)
    hub.serve(sock, binary=True)
    hello = json.loads(sock.sent[0])
    assert hello["format"] == "bin1" and hello["ids"][2] == "SN003"
    first = decode_binary_values(sock.sent[1])
    assert sorted(first["rows"].tolist()) == [2, 5]
    assert json.loads(sock.sent[2])["type"] == "heartbeat"


@pytest.mark.bench
def test_bench_ui_ws_smoke_sends_11_bytes_per_changed_sensor() -> None:
    from dashboard.bench_ui import measure_ws_bytes

    out = measure_ws_bytes(1_000, seconds=2.0)
    # ~1 frame/s of 16 + 11 × 1000 bytes while every sensor changes every second
    assert 5_000 < out["ws_bytes_per_s"] < 2 * 11_016
    assert out["ws_hello_bytes"] > 1_000 * len('"S000000", ')  # the ids travel once
