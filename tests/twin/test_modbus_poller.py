"""The Modbus poller against real pymodbus TCP servers on loopback (free ports)."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from sim.devices import FieldDevices
from sim.modbus_bench import free_port
from twin.ingest.modbus import ModbusPoller, plan_reads
from twin.registermap import DeviceSpec, RegisterMap, RegisterSpec


class Recorder:
    """Sink and event sink that remember what they were given, with arrival times."""

    def __init__(self) -> None:
        self.readings: list[tuple[float, str, dict[str, float]]] = []
        self.events: list[dict] = []

    def sink(self, ids, values, observed_at, source) -> None:
        assert values.dtype == np.float64 and isinstance(observed_at, float)
        values_of = dict(zip(ids.tolist(), values.tolist(), strict=True))
        self.readings.append((time.monotonic(), source, values_of))

    def latest(self, sensor_id: str) -> float | None:
        for _, _, values in reversed(self.readings):
            if sensor_id in values:
                return values[sensor_id]
        return None

    def arrivals(self, source: str) -> list[float]:
        return [t for t, s, _ in self.readings if s == source]

    def of_type(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["type"] == kind]


async def wait_until(predicate, timeout: float = 5.0, step: float = 0.02) -> float:
    """Seconds until ``predicate()`` is true; fails the test after ``timeout``."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)
    return time.monotonic() - start


def device(dev: str, port: int, unit: int, interval: float = 0.2) -> DeviceSpec:
    return DeviceSpec(dev, "127.0.0.1", port, unit, interval, 0.3)


# every data type, both word orders, scaled, offset, with and without sentinels
ALL_TYPES = [
    ("f-big", "holding", 0, "float32", "big", 1.0, 0.0, "kW", None, 1500.0),
    ("f-little", "holding", 2, "float32", "little", 1.0, 0.0, "kW", None, 1500.0),
    ("i32-big", "holding", 4, "int32", "big", 0.001, 0.0, "kW", 0x80000000, -12345.0),
    ("i32-little", "holding", 6, "int32", "little", 0.001, 0.0, "kW", 0x80000000, -12345.0),
    ("u32-big", "input", 0, "uint32", "big", 1.0, 0.0, "count", 0xFFFFFFFF, 70000.0),
    ("u32-little", "input", 2, "uint32", "little", 1.0, 0.0, "count", 0xFFFFFFFF, 70000.0),
    ("i16", "input", 4, "int16", "big", 0.1, 0.0, "cm", 0x8000, -0.25),
    ("u16", "input", 5, "uint16", "big", 0.001, 0.2, "MPa", 0xFFFF, 3.5e5),
    ("i16-na", "input", 6, "int16", "big", 0.1, 0.0, "cm", 0x8000, np.nan),
    ("u32-na", "input", 8, "uint32", "big", 1.0, 0.0, "count", 0xFFFFFFFF, np.nan),
]


def all_types_map(port: int) -> tuple[RegisterMap, np.ndarray]:
    regs = tuple(
        RegisterSpec("dev-a", sid, table, addr, dtype, order, scale, offset, unit, sentinel)
        for sid, table, addr, dtype, order, scale, offset, unit, sentinel, _ in ALL_TYPES
    )
    values = np.array([row[-1] for row in ALL_TYPES])
    return RegisterMap((device("dev-a", port, 7),), regs), values


def test_plan_reads_batches_ranges_bridges_small_gaps_and_never_splits_a_value() -> None:
    specs = [RegisterSpec("d", f"h{a}", "holding", a, "float32") for a in range(0, 300, 2)]
    specs += [RegisterSpec("d", "far", "holding", 400, "int16")]
    specs += [RegisterSpec("d", f"i{a}", "input", a, "uint16") for a in (0, 1, 5, 20)]
    blocks, index, size = plan_reads(specs, max_gap=4, max_block=125)
    got = [(b.table, b.start, b.count) for b in blocks]
    # 150 float32 = 300 registers: 62 values (124 regs) fit a request, 125 would split one
    assert got == [
        ("holding", 0, 124),
        ("holding", 124, 124),
        ("holding", 248, 52),
        ("holding", 400, 1),
        ("input", 0, 6),
        ("input", 20, 1),
    ]
    assert size == 124 + 124 + 52 + 1 + 6 + 1
    assert index[specs.index(specs[-1])] == size - 1  # input 20 is the last register
    assert index[62] == 124  # first value of the second block


def test_every_type_and_word_order_round_trips_over_tcp_and_sentinels_are_not_readings() -> None:
    async def scenario() -> None:
        port = free_port()
        regmap, values = all_types_map(port)
        devices = FieldDevices(regmap, lambda now: values, tick_s=0.1)
        rec = Recorder()
        poller = ModbusPoller(regmap, sink=rec.sink, on_event=rec.events.append)
        await devices.start()
        try:
            await poller.start()
            await wait_until(lambda: len(rec.readings) >= 2)
            await poller.stop()
        finally:
            await devices.stop()
        delivered = rec.readings[-1][2]
        for sid, *_, expected in ALL_TYPES:
            if np.isnan(expected):
                assert sid not in delivered
            else:
                assert delivered[sid] == pytest.approx(expected, rel=1e-6), sid
        assert rec.readings[-1][1] == "modbus:dev-a"
        assert sorted(poller.not_available_sensors().tolist()) == ["i16-na", "u32-na"]
        health = poller.health()[0]
        assert health["not_available_total"] == 2 * health["polls_ok"]
        (event,) = rec.of_type("sensor_not_available")  # only on the transition
        assert event["sensor_ids"] == ["i16-na", "u32-na"] and event["device_id"] == "dev-a"
        # 8 holding registers in one read; input 0..9 in one read
        assert health["requests"] == 2 * health["polls_ok"]

    asyncio.run(scenario())


def test_contiguous_registers_are_read_in_batches_of_at_most_125() -> None:
    async def scenario() -> None:
        port = free_port()
        regs = tuple(
            RegisterSpec("dev-b", f"b{a}", "input", a, "uint16", unit="count") for a in range(300)
        )
        regmap = RegisterMap((device("dev-b", port, 1, interval=0.1),), regs)
        devices = FieldDevices(regmap, lambda now: np.arange(300.0), tick_s=0.1)
        rec = Recorder()
        poller = ModbusPoller(regmap, sink=rec.sink)
        await devices.start()
        try:
            await poller.start()
            await wait_until(lambda: len(rec.readings) >= 3)
            await poller.stop()
        finally:
            await devices.stop()
        polls = poller.pollers[0].polls_ok
        assert [(b.start, b.count) for b in poller.pollers[0].blocks] == [
            (0, 125),
            (125, 125),
            (250, 50),
        ]
        assert poller.totals()["requests"] == 3 * polls
        assert devices.units["dev-b"].reads == 3 * polls  # counted at the server
        assert rec.latest("b299") == 299.0 and rec.latest("b0") == 0.0

    asyncio.run(scenario())


def test_dead_device_goes_offline_and_back_while_the_other_keeps_its_schedule(caplog) -> None:
    async def scenario() -> None:
        port_a, port_b = free_port(), free_port()
        interval = 0.2
        regmap = RegisterMap(
            (device("live", port_a, 1, interval), device("dead", port_b, 1, interval)),
            (
                RegisterSpec("live", "x", "input", 0, "float32", unit="m"),
                RegisterSpec("dead", "y", "input", 0, "float32", unit="m"),
            ),
        )
        devices = FieldDevices(regmap, lambda now: np.array([1.0, 2.0]), tick_s=0.1)
        rec = Recorder()
        poller = ModbusPoller(regmap, sink=rec.sink, on_event=rec.events.append, backoff_max_s=0.4)
        await devices.start()
        await poller.start()
        try:
            await wait_until(lambda: len(rec.arrivals("modbus:dead")) >= 2)
            await devices.stop_endpoint(("127.0.0.1", port_b))
            stopped_at = time.monotonic()
            await wait_until(lambda: rec.of_type("device_offline"), timeout=5)
            (offline,) = rec.of_type("device_offline")
            assert offline["device_id"] == "dead" and offline["detail"]
            assert poller.offline_devices() == ["dead"]
            # its sensor goes stale 3 intervals after its last reading
            last = poller.last_update[1]
            assert "y" not in poller.stale_sensors(last + 2.9 * interval)
            assert "y" in poller.stale_sensors(last + 3.1 * interval)
            assert "x" not in poller.stale_sensors(time.time())
            await asyncio.sleep(0.6)
            await devices.start_endpoint(("127.0.0.1", port_b))
            await wait_until(lambda: rec.of_type("device_back"), timeout=5)
            assert rec.of_type("device_back")[0]["device_id"] == "dead"
            assert poller.offline_devices() == []
        finally:
            await poller.stop()
            await devices.stop()
        live = np.array(rec.arrivals("modbus:live"))
        during = live[live > stopped_at]
        assert during.size >= 5
        # the live device kept its 0.2 s schedule while the other one was dead
        assert np.diff(live).max() < interval + 0.15
        # one warning line for the streak of failed polls, whatever their number
        failed = [r for r in caplog.records if r.getMessage().startswith("dead: poll failed (")]
        assert len(failed) == 1 and failed[0].levelname == "WARNING"
        assert next(p for p in poller.pollers if p.device_id == "dead").polls_failed >= 3

    asyncio.run(scenario())


def test_register_changed_at_device_reaches_sink_within_one_poll_interval() -> None:
    async def scenario() -> None:
        port = free_port()
        interval = 0.25
        regmap = RegisterMap(
            (device("dev-c", port, 3, interval),),
            (RegisterSpec("dev-c", "level", "input", 10, "int16", scale=0.1, unit="cm"),),
        )
        value = np.array([0.5])
        devices = FieldDevices(regmap, lambda now: value, tick_s=10.0)  # only manual ticks
        rec = Recorder()
        poller = ModbusPoller(regmap, sink=rec.sink)
        await devices.start()
        await poller.start()
        try:
            await wait_until(lambda: rec.latest("level") == pytest.approx(0.5))
            value[0] = 1.25
            devices.tick()  # the register changes at the device now
            took = await wait_until(lambda: rec.latest("level") == pytest.approx(1.25))
        finally:
            await poller.stop()
            await devices.stop()
        assert took <= interval + 0.05

    asyncio.run(scenario())


def test_silent_unit_and_unknown_unit_make_the_device_offline() -> None:
    async def scenario() -> None:
        port = free_port()
        regmap = RegisterMap(
            (device("quiet", port, 1, 0.1),),
            (RegisterSpec("quiet", "q", "input", 0, "uint16"),),
        )
        wrong_unit = RegisterMap(
            (device("ghost", port, 42, 0.1),),
            (RegisterSpec("ghost", "g", "input", 0, "uint16"),),
        )
        devices = FieldDevices(regmap, lambda now: np.array([np.nan]), tick_s=0.1)
        rec = Recorder()
        poller = ModbusPoller(regmap, sink=rec.sink, on_event=rec.events.append)
        ghost = ModbusPoller(wrong_unit, sink=rec.sink, on_event=rec.events.append)
        await devices.start()
        await poller.start()
        await ghost.start()
        try:
            await wait_until(lambda: len(rec.of_type("device_offline")) == 2)
        finally:
            await poller.stop()
            await ghost.stop()
            await devices.stop()
        details = {e["device_id"]: e["detail"] for e in rec.of_type("device_offline")}
        assert "exception 11" in details["quiet"]  # 0x0B gateway target failed to respond
        assert "exception 10" in details["ghost"]  # 0x0A gateway path unavailable
        assert rec.readings == []

    asyncio.run(scenario())
