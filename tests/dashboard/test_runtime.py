"""The wired twin: real Modbus devices on loopback → poller → pipeline → state, events, stale."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from dashboard.runtime import build_runtime
from sim.devices import FieldDevices
from sim.modbus_bench import free_port
from sim.registermap_gen import align_source, generate_register_map
from twin.samples import tiny_registry
from twin.state import Quality


class DeviceThread:
    """Field devices served from their own event loop in a thread, with a settable source."""

    def __init__(self, regmap, source) -> None:
        self.devices = FieldDevices(regmap, source, tick_s=0.1)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.call(self.devices.start())

    def call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def close(self) -> None:
        self.call(self.devices.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


def wait_for(predicate, timeout: float = 5.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if predicate():
            return time.perf_counter() - start
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture()
def wired(tmp_path):
    registry = tiny_registry()
    sensors = registry.sensors
    port = free_port()
    regmap = generate_register_map(sensors, port=port, poll_interval_s=0.2, timeout_s=0.2)
    lo = sensors["min_value"].to_numpy()
    hi = sensors["max_value"].to_numpy()
    values = lo + 0.25 * (hi - lo)
    ids = sensors["sensor_id"].to_numpy(dtype=object)
    source = align_source(lambda now: values, ids, regmap)
    devices = DeviceThread(regmap, source)
    runtime = build_runtime(registry, tmp_path / "run")
    runtime.attach_modbus(regmap)
    events: list[dict] = []
    runtime.hub.publish_event = events.append  # observe events as the websocket would
    runtime.start()
    yield registry, runtime, devices, values, events
    runtime.stop()
    devices.close()


def test_a_register_change_at_a_device_reaches_the_twin_state_quickly(wired) -> None:
    registry, runtime, _, values, _ = wired
    sensors = registry.sensors
    row = int(np.flatnonzero(sensors["quantity"] == "river__water_level")[0])
    wait_for(lambda: runtime.state.quality[row] == Quality.GOOD)
    assert runtime.state.value[row] == pytest.approx(values[row], abs=0.01)
    values[row] += 1.5  # the river rises at the device
    elapsed = wait_for(lambda: abs(runtime.state.value[row] - values[row]) < 0.01)
    assert elapsed < 2.0
    # the reading is durable: the log holds it
    assert len(runtime.log) > 0


def test_a_dead_device_raises_offline_then_back_and_its_sensors_go_stale(wired) -> None:
    registry, runtime, devices, _, events = wired
    wait_for(lambda: (runtime.state.quality == Quality.GOOD).sum() > 0)
    gw2_rows = np.flatnonzero(registry.sensors["device_id"] == "gw-02")
    endpoint = next(iter(devices.devices.endpoints))
    devices.call(devices.devices.stop_endpoint(endpoint))
    wait_for(lambda: any(e["type"] == "device_offline" for e in events), timeout=10)
    offline = {e["device_id"] for e in events if e["type"] == "device_offline"}
    assert "gw-02" in offline
    # 3 poll intervals (0.6 s) after the last reading the sweep marks them stale
    wait_for(lambda: (runtime.state.quality[gw2_rows] == Quality.STALE).all(), timeout=5)
    assert runtime.status()["devices_offline"] >= 1
    devices.call(devices.devices.start_endpoint(endpoint))
    wait_for(lambda: any(e["type"] == "device_back" for e in events), timeout=15)
    wait_for(lambda: (runtime.state.quality[gw2_rows] == Quality.GOOD).all(), timeout=5)
