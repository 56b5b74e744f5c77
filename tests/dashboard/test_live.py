"""The live hub: coalesced values at ≤ 2 Hz, ordered events, resync instead of silent loss."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from dashboard import live
from dashboard.live import LiveHub
from twin.state import LiveState


def make_hub(n: int = 4) -> tuple[LiveHub, LiveState]:
    ids = [f"S{i}" for i in range(n)]
    state = LiveState(ids)

    return LiveHub(ids, state.changes), state


def put(state: LiveState, row: int, value: float, t: float) -> None:
    state.apply(np.array([row]), np.array([value]), np.array([t]), t + 0.1)


def test_values_coalesce_to_the_newest_per_sensor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "SETTLE_S", 0.0)
    hub, state = make_hub()
    client = hub.connect()
    for k in range(5):
        put(state, 1, float(k), 100.0 + k)
        hub.pump()
    frames = [json.loads(f) for f in client.next_frames(hub.sensor_ids, timeout=0)]
    values = [f for f in frames if f["type"] == "values"]
    assert len(values) == 1
    assert values[0]["ids"] == ["S1"] and values[0]["value"] == [4.0]


def test_value_frames_are_at_most_two_per_second(monkeypatch: pytest.MonkeyPatch) -> None:
    hub, state = make_hub()
    client = hub.connect()
    clock = [1000.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: clock[0])
    put(state, 0, 1.0, 10.0)
    hub.pump()
    assert client.next_frames(hub.sensor_ids, timeout=0) == []  # settling: a scan lands together
    clock[0] += live.SETTLE_S
    assert len(client.next_frames(hub.sensor_ids, timeout=0)) == 1
    put(state, 0, 2.0, 11.0)
    hub.pump()
    clock[0] += 0.2  # 0.2 s later: too early for another value frame
    assert client.next_frames(hub.sensor_ids, timeout=0) == []
    clock[0] += 0.3  # 0.5 s after the first: due
    (frame,) = client.next_frames(hub.sensor_ids, timeout=0)
    assert json.loads(frame)["value"] == [2.0]


def test_values_wait_while_a_scan_is_landing_but_not_past_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub, state = make_hub()
    landing = [True]
    hub.hold = lambda: landing[0]
    client = hub.connect()
    clock = [1000.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: clock[0])
    put(state, 0, 1.0, 10.0)
    hub.pump()
    clock[0] += live.SETTLE_S * 2
    assert client.next_frames(hub.sensor_ids, timeout=0) == []  # the scan is still landing
    put(state, 1, 2.0, 10.0)
    hub.pump()
    landing[0] = False  # the last device's readings are committed
    clock[0] += live.SETTLE_S
    (frame,) = client.next_frames(hub.sensor_ids, timeout=0)
    assert json.loads(frame)["ids"] == ["S0", "S1"]  # the whole scan in one frame
    landing[0] = True  # a device that never answers holds values only up to the cap
    clock[0] += live.MIN_VALUE_INTERVAL_S
    put(state, 2, 3.0, 11.0)
    hub.pump()
    clock[0] += live.SETTLE_MAX_S - 0.01
    assert client.next_frames(hub.sensor_ids, timeout=0) == []
    clock[0] += 0.02
    (frame,) = client.next_frames(hub.sensor_ids, timeout=0)
    assert json.loads(frame)["ids"] == ["S2"]


def test_events_arrive_in_order_and_are_never_coalesced() -> None:
    hub, _ = make_hub()
    client = hub.connect()
    for k in range(10):
        hub.publish_event({"type": "device_offline", "n": k})
    frames = [json.loads(f) for f in client.next_frames(hub.sensor_ids, timeout=0)]
    assert [f["event"]["n"] for f in frames] == list(range(10))


def test_a_client_that_falls_behind_is_told_to_resync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "MAX_EVENTS_PER_CLIENT", 5)
    hub, _ = make_hub()
    slow, fast = hub.connect(), hub.connect()
    for k in range(8):
        hub.publish_event({"n": k})
        for f in fast.next_frames(hub.sensor_ids, timeout=0):  # the fast client keeps up
            assert json.loads(f)["event"]["n"] == k
    frames = [json.loads(f) for f in slow.next_frames(hub.sensor_ids, timeout=0)]
    assert frames[0]["type"] == "resync"
    assert all(f["type"] != "event" for f in frames)


class StuckSocket:
    """A websocket whose send blocks until released, like a browser that stopped reading."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.sent: list[str] = []

    def send(self, frame: str) -> None:
        self.sent.append(frame)
        self.release.wait()


class QuickSocket:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, frame: str) -> None:
        self.sent.append(frame)


def test_a_stuck_client_never_stalls_ingest_or_other_clients() -> None:
    hub, state = make_hub()
    stuck, quick = StuckSocket(), QuickSocket()
    threads = [threading.Thread(target=hub.serve, args=(ws,), daemon=True) for ws in (stuck, quick)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    started = time.perf_counter()
    for k in range(200):
        put(state, k % 4, float(k), 100.0 + k)
        hub.pump()
        hub.publish_event({"n": k})
    assert time.perf_counter() - started < 5.0  # ingest + fan-out did not wait on the stuck one
    deadline = time.time() + 5
    while time.time() < deadline:
        events = [json.loads(f) for f in quick.sent if '"event"' in f]
        if len(events) == 200:
            break
        time.sleep(0.05)
    assert [e["event"]["n"] for e in events] == list(range(200))
    assert len(stuck.sent) == 1  # only the hello went out before it blocked
    stuck.release.set()
    hub.stop()
