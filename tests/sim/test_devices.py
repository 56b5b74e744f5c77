"""Simulated field devices: generated register maps, live values over Modbus TCP, the CLI."""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np
import pytest
from pymodbus.client import AsyncModbusTcpClient

from dashboard.commands import devices as devices_command
from sim.devices import FieldDevices
from sim.modbus_bench import bench_modbus, free_port
from sim.registermap_gen import align_source, generate_register_map
from twin.registermap import load_register_map, write_register_map
from twin.samples import tiny_registry


@pytest.fixture(scope="module")
def registry():
    return tiny_registry()


def test_generated_map_keeps_registry_addresses_and_numbers_units(registry, tmp_path) -> None:
    sensors = registry.sensors
    m = generate_register_map(sensors, port=6000, poll_interval_s=0.5)
    assert [(d.device_id, d.port, d.unit_id) for d in m.devices] == [
        ("gw-01", 6000, 1),
        ("gw-02", 6000, 2),
    ]
    assert m.sensor_ids.tolist() == sensors["sensor_id"].tolist()
    assert [r.address for r in m.registers] == sensors["register_address"].tolist()
    by_quantity = {r.quantity: r for r in m.registers}
    power = by_quantity["building__power_demand"]
    assert (power.table, power.dtype, power.word_order, power.unit) == (
        "holding",
        "float32",
        "little",
        "kW",
    )
    road = by_quantity["road__water_depth"]
    assert (road.dtype, road.scale, road.unit, road.sentinel) == ("int16", 0.1, "cm", 0x8000)
    assert load_register_map(write_register_map(m, tmp_path)) == m


def test_units_spill_to_the_next_port_after_247(registry) -> None:
    sensors = registry.sensors.iloc[:1]
    many = sensors.loc[sensors.index.repeat(250)].reset_index(drop=True)
    many["sensor_id"] = [f"S{i}" for i in range(250)]
    many["device_id"] = [f"gw-{i:03d}" for i in range(250)]
    m = generate_register_map(many, port=7000)
    assert (m.devices[246].port, m.devices[246].unit_id) == (7000, 247)
    assert (m.devices[247].port, m.devices[247].unit_id) == (7001, 1)


def test_a_32_bit_layout_that_does_not_fit_falls_back_to_16_bits(registry) -> None:
    sensors = registry.sensors.copy()
    gw2 = sensors["device_id"] == "gw-02"
    sensors.loc[gw2, "register_address"] = np.arange(gw2.sum())  # packed: 1 register each
    m = generate_register_map(sensors)
    # power (holding 2) is followed by gas flow at holding 3: no room for a float32
    power = next(r for r in m.registers if r.quantity == "building__power_demand")
    assert (power.dtype, power.unit, power.scale, power.sentinel) == ("uint16", "W", 1e3, 0xFFFF)
    # people (input 1) has input 2 free: its uint32 still fits
    people = next(r for r in m.registers if r.quantity == "place__people_count")
    assert people.dtype == "uint32"


def test_devices_serve_live_values_that_an_independent_client_decodes(registry) -> None:
    async def scenario() -> None:
        port = free_port()
        sensors = registry.sensors
        m = generate_register_map(sensors, port=port)
        ids = sensors["sensor_id"].to_numpy(dtype=object)
        base = sensors["min_value"].to_numpy() + 0.25 * (
            sensors["max_value"].to_numpy() - sensors["min_value"].to_numpy()
        )
        t0 = time.time()
        # the source is aligned with the registry in reverse order: align_source reorders it
        source = align_source(lambda now: (base + (now - t0) * 1e-3 * base)[::-1], ids[::-1], m)
        devices = FieldDevices(m, source, tick_s=0.1)
        await devices.start()
        client = AsyncModbusTcpClient("127.0.0.1", port=port)
        await client.connect()
        try:
            power = next(r for r in m.registers if r.quantity == "building__power_demand")
            unit = m.device(power.device_id).unit_id
            rr = await client.read_holding_registers(power.address, count=2, device_id=unit)
            kw = client.convert_from_registers(
                rr.registers, client.DATATYPE.FLOAT32, word_order="little"
            )
            expected = base[m.sensor_ids.tolist().index(power.sensor_id)]
            assert kw * 1e3 == pytest.approx(expected, rel=1e-3)
            first = list(rr.registers)
            await asyncio.sleep(0.35)  # a few ticks later the value has moved
            rr = await client.read_holding_registers(power.address, count=2, device_id=unit)
            assert list(rr.registers) != first
            rr = await client.write_register(power.address, 1, device_id=unit)
            assert rr.isError() and rr.exception_code == 2  # registers are read-only
        finally:
            client.close()
            await devices.stop()
        assert devices.ticks >= 3

    asyncio.run(scenario())


def test_devices_command_writes_the_map_and_serves(registry, tmp_path) -> None:
    from twin.registry_io import save_registry

    save_registry(registry, tmp_path)
    parser = argparse.ArgumentParser()
    devices_command.add_parser(parser.add_subparsers())
    port = free_port()
    args = parser.parse_args(
        ["devices", "--district", str(tmp_path), "--port", str(port), "--seconds", "0.3"]
    )
    assert args.func(args) == 0
    m = load_register_map(tmp_path / "registermap")
    assert {d.port for d in m.devices} == {port} and len(m.registers) == len(registry.sensors)


@pytest.mark.bench
def test_bench_modbus_smoke() -> None:
    result = bench_modbus(n_devices=3, registers_per_device=130, seconds=0.5, warmup_s=0.5)
    assert result["modbus_registers_per_s"] > 0
    assert result["modbus_polls_failed"] == 0
    # 16 cycles of the 5-value mix (8 registers each) and one more float32 fill 130 registers
    assert result["values_per_device"] == 81
