"""Generate a register map for a district from its registry's sensors table.

Every ``sensors.device_id`` becomes one Modbus unit; units are numbered 1..247 on ``port``,
then continue on ``port + 1`` and so on (one TCP endpoint per 247 units). Each sensor keeps
its registry ``register_address``; its data type, table, word order, scale, unit and
sentinel follow :data:`LAYOUTS` by quantity — a deliberate mix, as a street's real devices
from several vendors would have (scaled integers, high- and low-word-first floats, 32-bit
counters, 0x8000 / 0xFFFF sentinels). When a 32-bit layout does not fit before the next
sensor's address, a scaled 16-bit layout is used instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from twin.fields import FIELDS
from twin.registermap import (
    DTYPE_WORDS,
    MAX_UNIT_ID,
    UNITS,
    DeviceSpec,
    RegisterMap,
    RegisterSpec,
    parse_sentinel,
)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5020
DEFAULT_POLL_INTERVAL_S = 1.0
DEFAULT_TIMEOUT_S = 0.5

#: quantity → (table, dtype, word order, scale, unit, sentinel); engineering = raw*scale
LAYOUTS: dict[str, tuple[str, str, str, float, str, str]] = {
    "rain__intensity": ("input", "uint16", "big", 0.1, "mm/h", "0xFFFF"),
    "river__water_level": ("input", "float32", "big", 1.0, "m", ""),
    "drain__water_depth": ("input", "int16", "big", 0.001, "m", "0x8000"),
    "road__water_depth": ("input", "int16", "big", 0.1, "cm", "0x8000"),
    "building__smoke_alarm": ("input", "uint16", "big", 1.0, "1", "0xFFFF"),
    "building__air_temperature": ("input", "int16", "big", 0.1, "degC", "0x8000"),
    "building__gas_concentration": ("input", "uint16", "big", 0.1, "%LEL", "0xFFFF"),
    "place__people_count": ("input", "uint32", "big", 1.0, "count", "0xFFFFFFFF"),
    "water_node__pressure": ("holding", "float32", "little", 1.0, "MPa", ""),
    "water_pipe__flow_rate": ("holding", "float32", "little", 1.0, "m3/h", ""),
    "building__power_demand": ("holding", "float32", "little", 1.0, "kW", ""),
    "building__gas_flow_rate": ("holding", "uint32", "big", 0.001, "m3/h", "0xFFFFFFFF"),
    "elevator__status": ("holding", "uint16", "big", 1.0, "1", "0xFFFF"),
    "building__relative_humidity": ("input", "uint16", "big", 0.1, "%", "0xFFFF"),
}


def _fallback_16bit(quantity: str, table: str = "input") -> tuple[str, str, str, float, str, str]:
    """A scaled int16/uint16 layout in the SI unit that covers the quantity's range."""
    f = FIELDS.get(quantity)
    lo, hi = (f.min_value, f.max_value) if f else (-1e4, 1e4)
    signed = lo < 0
    limit = 32766 if signed else 65534
    scale = 10.0 ** math.ceil(math.log10(max(abs(lo), abs(hi), 1e-12) / limit))
    unit = f.unit if f else "1"
    if signed:
        return (table, "int16", "big", scale, unit, "0x8000")
    return (table, "uint16", "big", scale, unit, "0xFFFF")


def generate_register_map(
    sensors: pd.DataFrame,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> RegisterMap:
    """A register map serving every sensor of a registry.

    Parameters
    ----------
    sensors : pandas.DataFrame
        The registry's ``sensors`` layer (``sensor_id, quantity, device_id,
        register_address`` are used).
    host, port : str, int
        First endpoint; device number ``k`` (0-based, sorted by id) is unit
        ``k % 247 + 1`` on ``port + k // 247``.
    poll_interval_s, timeout_s : float
        Poll period and per-request timeout written into the device table, s.

    Returns
    -------
    RegisterMap
        Registers in the order of ``sensors`` rows.
    """
    device_ids = sorted(pd.unique(sensors["device_id"].astype(str)))
    devices = tuple(
        DeviceSpec(
            device_id=dev,
            host=host,
            port=port + k // MAX_UNIT_ID,
            unit_id=k % MAX_UNIT_ID + 1,
            poll_interval_s=poll_interval_s,
            timeout_s=timeout_s,
        )
        for k, dev in enumerate(device_ids)
    )
    frame = pd.DataFrame(
        {
            "sensor_id": sensors["sensor_id"].astype(str).to_numpy(),
            "quantity": sensors["quantity"].astype(str).to_numpy(),
            "device_id": sensors["device_id"].astype(str).to_numpy(),
            "address": sensors["register_address"].astype(np.int64).to_numpy(),
        }
    )
    layouts = [LAYOUTS.get(q) or _fallback_16bit(q) for q in frame["quantity"]]
    frame["table"] = [lay[0] for lay in layouts]
    # next used address on the same device and table: a 32-bit value must end before it
    order = frame.sort_values(["device_id", "table", "address"])
    nxt = order.groupby(["device_id", "table"])["address"].shift(-1)
    frame["next"] = nxt.reindex(frame.index).fillna(np.inf)
    dup = order.duplicated(["device_id", "table", "address"], keep=False)
    if dup.any():
        bad = order[dup].iloc[0]
        raise ValueError(f"two sensors at register {bad.address} of device {bad.device_id}")
    registers = []
    for row, layout in zip(frame.itertuples(index=False), layouts, strict=True):
        if row.address + DTYPE_WORDS[layout[1]] > min(row.next, 65536):
            layout = _fallback_16bit(row.quantity, layout[0])
        table, dtype, order_, scale, unit, sentinel = layout
        quantity = row.quantity if row.quantity in FIELDS else ""
        registers.append(
            RegisterSpec(
                device_id=row.device_id,
                sensor_id=row.sensor_id,
                table=table,
                address=int(row.address),
                dtype=dtype,
                word_order=order_,
                scale=scale,
                unit=unit if unit in UNITS else "",
                sentinel=parse_sentinel(sentinel, dtype) if sentinel else None,
                quantity=quantity,
            )
        )
    return RegisterMap(devices, tuple(registers), "generated")


def align_source(
    values_of: Callable[[float], np.ndarray], registry_ids: np.ndarray, regmap: RegisterMap
) -> Callable[[float], np.ndarray]:
    """Reorder a source aligned with ``registry_ids`` to the map's sensor order.

    Sensors in the map but not in the registry read NaN (silent).
    """
    pos = pd.Index(np.asarray(registry_ids, dtype=object)).get_indexer(regmap.sensor_ids)
    known = pos >= 0

    def source(now: float) -> np.ndarray:
        v = np.asarray(values_of(now), dtype=float)
        out = np.full(len(pos), np.nan)
        out[known] = v[pos[known]]
        return out

    return source
