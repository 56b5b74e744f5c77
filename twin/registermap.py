"""Register-map files: which Modbus registers of which field device carry which sensor.

A register map is a folder holding two CSV files (format documented in
``data/registermaps/FORMAT.md``):

``devices.csv``
    one row per field device (Modbus unit): ``device_id, host, port, unit_id,
    poll_interval_s, timeout_s`` and optionally ``max_gap, max_block, description``.
``registers.csv``
    one row per sensor value: ``device_id, sensor_id, table, address, dtype, word_order,
    scale, offset, unit, sentinel`` and optionally ``quantity, description``.

Addresses are 0-based protocol addresses (a manual's "40001" is holding address 0).
The engineering value is ``raw * scale + offset`` in ``unit``; ingestion converts it to the
SI unit of the quantity (:data:`UNITS`). A raw bit pattern equal to ``sentinel`` means
"not available" and is never a reading. Errors name the file, line and column.
Encoding and decoding of register values lives in :mod:`twin.registercodec`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from twin.csvrows import CsvTableError, Row, read_csv
from twin.fields import FIELDS

DEVICES_FILE = "devices.csv"
REGISTERS_FILE = "registers.csv"

#: data type → number of 16-bit registers
DTYPE_WORDS: dict[str, int] = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2}
TABLES = ("holding", "input")
WORD_ORDERS = ("big", "little")
#: Modbus allows at most 125 registers in one read (function codes 3 and 4)
MAX_READ_REGISTERS = 125
DEFAULT_MAX_GAP = 8
MAX_UNIT_ID = 247  # 0 is broadcast, 248..255 reserved


def _build_units() -> dict[str, tuple[str, float]]:
    """Unit accepted in a register map → (SI unit, factor): ``si = value * factor``."""
    units: dict[str, tuple[str, float]] = {}
    for f in FIELDS.values():
        units[f.unit] = (f.unit, 1.0)
        if f.display_unit:
            units.setdefault(f.display_unit, (f.unit, 1.0 / f.display_factor))
    units.update(
        {
            "": ("1", 1.0),
            "mm": ("m", 1e-3),
            "cm": ("m", 1e-2),
            "m": ("m", 1.0),
            "mm/h": ("m s-1", 1.0 / 3.6e6),
            "Pa": ("Pa", 1.0),
            "kPa": ("Pa", 1e3),
            "MPa": ("Pa", 1e6),
            "bar": ("Pa", 1e5),
            "W": ("W", 1.0),
            "kW": ("W", 1e3),
            "MW": ("W", 1e6),
            "m3/h": ("m3 s-1", 1.0 / 3600.0),
            "m³/h": ("m3 s-1", 1.0 / 3600.0),
            "L/s": ("m3 s-1", 1e-3),
            "degC": ("degC", 1.0),
            "°C": ("degC", 1.0),
            "%": ("1", 1e-2),
            "%LEL": ("1", 1e-2),
            "%RH": ("1", 1e-2),
            "count": ("1", 1.0),
        }
    )
    return units


#: units a register may carry: name → (SI unit, factor to SI)
UNITS: dict[str, tuple[str, float]] = _build_units()


class RegisterMapError(CsvTableError):
    """A register map that cannot be used; the message starts with ``file:line:column``."""


@dataclass(frozen=True)
class DeviceSpec:
    """One field device (Modbus unit) and how to reach it.

    Parameters
    ----------
    device_id : str
        Name of the device in the twin (the registry's ``sensors.device_id``).
    host : str
        TCP host of the device or of its gateway.
    port : int
        TCP port (502 on real devices).
    unit_id : int
        Modbus unit identifier, 1..247 (pymodbus calls it ``device_id=``).
    poll_interval_s : float
        Time between polls, s.
    timeout_s : float
        Time to wait for one response, s.
    max_gap : int
        Unused registers a batched read may span between two values.
    max_block : int
        Registers per read request, at most 125.
    """

    device_id: str
    host: str
    port: int
    unit_id: int
    poll_interval_s: float
    timeout_s: float
    max_gap: int = DEFAULT_MAX_GAP
    max_block: int = MAX_READ_REGISTERS
    description: str = ""
    line: int = field(default=0, compare=False)  # where it was read, for messages

    @property
    def endpoint(self) -> tuple[str, int]:
        """``(host, port)`` of the TCP server that answers for this device."""
        return (self.host, self.port)


@dataclass(frozen=True)
class RegisterSpec:
    """One sensor value held in one or two registers of a device.

    Parameters
    ----------
    device_id, sensor_id : str
        The device holding it and the sensor it reports.
    table : {"holding", "input"}
        Register table (function code 3 or 4).
    address : int
        0-based protocol address of the first register.
    dtype : {"int16", "uint16", "int32", "uint32", "float32"}
        How the registers encode the raw value.
    word_order : {"big", "little"}
        ``"big"``: high word first (at ``address``); ``"little"``: low word first.
    scale, offset : float
        Engineering value in ``unit`` is ``raw * scale + offset``.
    unit : str
        Unit of the engineering value, a key of :data:`UNITS`.
    sentinel : int or None
        Raw unsigned bit pattern (16 or 32 bits, after word order) meaning "not available".
    """

    device_id: str
    sensor_id: str
    table: str
    address: int
    dtype: str
    word_order: str = "big"
    scale: float = 1.0
    offset: float = 0.0
    unit: str = ""
    sentinel: int | None = None
    quantity: str = ""
    description: str = ""
    line: int = field(default=0, compare=False)

    @property
    def words(self) -> int:
        """Number of 16-bit registers the value occupies."""
        return DTYPE_WORDS[self.dtype]

    @property
    def si_unit(self) -> str:
        """SI unit the value is converted to on ingest."""
        return UNITS[self.unit][0]

    @property
    def si_factor(self) -> float:
        """``si = (raw * scale + offset) * si_factor``."""
        return UNITS[self.unit][1]


@dataclass(frozen=True)
class RegisterMap:
    """Devices and the registers they expose."""

    devices: tuple[DeviceSpec, ...]
    registers: tuple[RegisterSpec, ...]
    source: str = field(default="", compare=False)

    @property
    def sensor_ids(self) -> np.ndarray:
        """Sensor ids in register-row order (the order of value arrays), dtype object."""
        return np.array([r.sensor_id for r in self.registers], dtype=object)

    def device(self, device_id: str) -> DeviceSpec:
        """The device named ``device_id``."""
        for d in self.devices:
            if d.device_id == device_id:
                return d
        raise KeyError(device_id)

    def register_rows(self, device_id: str) -> np.ndarray:
        """Row numbers (into :attr:`registers`) of one device's registers."""
        return np.array(
            [i for i, r in enumerate(self.registers) if r.device_id == device_id], dtype=np.int64
        )

    def endpoints(self) -> dict[tuple[str, int], list[DeviceSpec]]:
        """Devices grouped by the TCP endpoint that answers for them."""
        out: dict[tuple[str, int], list[DeviceSpec]] = {}
        for d in self.devices:
            out.setdefault(d.endpoint, []).append(d)
        return out

    def with_devices(self, **changes: object) -> RegisterMap:
        """A copy where every device has ``changes`` applied (e.g. ``poll_interval_s=0.2``)."""
        return replace(self, devices=tuple(replace(d, **changes) for d in self.devices))


# -- reading ---------------------------------------------------------------------------------

_DEVICE_COLUMNS = ("device_id", "host", "port", "unit_id", "poll_interval_s", "timeout_s")
_DEVICE_OPTIONAL = ("max_gap", "max_block", "description")
_REGISTER_COLUMNS = (
    "device_id",
    "sensor_id",
    "table",
    "address",
    "dtype",
    "word_order",
    "scale",
    "offset",
    "unit",
    "sentinel",
)
_REGISTER_OPTIONAL = ("quantity", "description")


def _parse_device(row: Row) -> DeviceSpec:
    return DeviceSpec(
        device_id=row.text("device_id"),
        host=row.text("host"),
        port=row.integer("port", 1, 65535),
        unit_id=row.integer("unit_id", 1, MAX_UNIT_ID),
        poll_interval_s=row.number("poll_interval_s", positive=True),
        timeout_s=row.number("timeout_s", positive=True),
        max_gap=row.integer("max_gap", 0, MAX_READ_REGISTERS, DEFAULT_MAX_GAP),
        max_block=row.integer("max_block", 2, MAX_READ_REGISTERS, MAX_READ_REGISTERS),
        description=row.text("description", ""),
        line=row.line,
    )


def parse_sentinel(text: str, dtype: str) -> int:
    """Raw unsigned bit pattern of a sentinel given as hex (bits) or decimal (a raw value).

    >>> hex(parse_sentinel("0x8000", "int16")), hex(parse_sentinel("-32768", "int16"))
    ('0x8000', '0x8000')
    >>> hex(parse_sentinel("-9999", "float32"))
    '0xc61c3c00'
    """
    bits = 16 * DTYPE_WORDS[dtype]
    if text.lower().startswith("0x"):
        value = int(text, 16)
        if not 0 <= value < 1 << bits:
            raise ValueError(f"{text} does not fit {bits} bits")
        return value
    if dtype == "float32":
        return int(np.array([float(text)], dtype=">f4").view(">u4")[0])
    value = int(text, 10)
    if dtype.startswith("uint"):
        lo, hi = 0, (1 << bits) - 1
    else:
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if not lo <= value <= hi:
        raise ValueError(f"{value} is outside {dtype} ({lo}..{hi})")
    return value & ((1 << bits) - 1)


def _parse_register(row: Row) -> RegisterSpec:
    dtype = row.choice("dtype", DTYPE_WORDS)
    words = DTYPE_WORDS[dtype]
    address = row.integer("address", 0, 65535)
    if address + words - 1 > 65535:
        raise row.error("address", f"{dtype} at {address} runs past register 65535")
    order = row.choice("word_order", WORD_ORDERS, "big")
    unit = row.text("unit", "")
    if unit not in UNITS:
        raise row.error("unit", f"unknown unit {unit!r}; known: {', '.join(sorted(UNITS))}")
    quantity = row.text("quantity", "")
    if quantity:
        if quantity not in FIELDS:
            raise row.error("quantity", f"unknown quantity {quantity!r}")
        if UNITS[unit][0] != FIELDS[quantity].unit:
            raise row.error(
                "unit", f"{unit!r} is {UNITS[unit][0]}, {quantity} needs {FIELDS[quantity].unit}"
            )
    sentinel_text = row.text("sentinel", "")
    try:
        sentinel = parse_sentinel(sentinel_text, dtype) if sentinel_text else None
    except ValueError as exc:
        raise row.error("sentinel", str(exc)) from None
    scale = row.number("scale", 1.0)
    if scale == 0:
        raise row.error("scale", "scale must not be 0")
    return RegisterSpec(
        device_id=row.text("device_id"),
        sensor_id=row.text("sensor_id"),
        table=row.choice("table", TABLES),
        address=address,
        dtype=dtype,
        word_order=order,
        scale=scale,
        offset=row.number("offset", 0.0),
        unit=unit,
        sentinel=sentinel,
        quantity=quantity,
        description=row.text("description", ""),
        line=row.line,
    )


def resolve_map_paths(path: str | Path) -> tuple[Path, Path]:
    """``(devices.csv, registers.csv)`` for a map folder or either file inside it."""
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    return folder / DEVICES_FILE, folder / REGISTERS_FILE


def load_register_map(path: str | Path) -> RegisterMap:
    """Read and validate a register map.

    Parameters
    ----------
    path : str or Path
        The map folder, or its ``devices.csv`` / ``registers.csv``.

    Raises
    ------
    RegisterMapError
        With ``file:line:column (name): reason`` for the first problem found.
    """
    try:
        return _load(*resolve_map_paths(path))
    except RegisterMapError:
        raise
    except CsvTableError as exc:
        raise RegisterMapError(str(exc)) from None


def _load(dev_path: Path, reg_path: Path) -> RegisterMap:
    dev_rows = read_csv(dev_path, _DEVICE_COLUMNS, _DEVICE_OPTIONAL)
    reg_rows = read_csv(reg_path, _REGISTER_COLUMNS, _REGISTER_OPTIONAL)
    devices: dict[str, DeviceSpec] = {}
    units: dict[tuple[str, int, int], str] = {}
    for row in dev_rows:
        d = _parse_device(row)
        if d.device_id in devices:
            raise row.error("device_id", f"duplicate device {d.device_id!r}")
        key = (d.host, d.port, d.unit_id)
        if key in units:
            raise row.error("unit_id", f"unit {d.unit_id} at {d.host}:{d.port} is {units[key]!r}")
        devices[d.device_id], units[key] = d, d.device_id
    registers: list[RegisterSpec] = []
    seen: set[str] = set()
    used: dict[tuple[str, str, int], RegisterSpec] = {}
    for row in reg_rows:
        r = _parse_register(row)
        if r.device_id not in devices:
            raise row.error("device_id", f"device {r.device_id!r} is not in {dev_path.name}")
        if r.sensor_id in seen:
            raise row.error("sensor_id", f"duplicate sensor {r.sensor_id!r}")
        seen.add(r.sensor_id)
        for a in range(r.address, r.address + r.words):
            other = used.get((r.device_id, r.table, a))
            if other is not None:
                raise row.error(
                    "address", f"register {a} overlaps {other.sensor_id} (line {other.line})"
                )
            used[(r.device_id, r.table, a)] = r
        registers.append(r)
    return RegisterMap(tuple(devices.values()), tuple(registers), str(dev_path.parent))


# -- writing ---------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return repr(float(x)) if x != int(x) or abs(x) >= 1e15 else str(int(x))


def write_register_map(regmap: RegisterMap, folder: str | Path, *, header: str = "") -> Path:
    """Write ``devices.csv`` and ``registers.csv`` into ``folder``; returns the folder."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    with open(out / DEVICES_FILE, "w", encoding="utf-8", newline="") as fh:
        fh.write(comment)
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(_DEVICE_COLUMNS + _DEVICE_OPTIONAL)
        for d in regmap.devices:
            w.writerow(
                [d.device_id, d.host, d.port, d.unit_id, _fmt(d.poll_interval_s)]
                + [_fmt(d.timeout_s), d.max_gap, d.max_block, d.description]
            )
    with open(out / REGISTERS_FILE, "w", encoding="utf-8", newline="") as fh:
        fh.write(comment)
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(_REGISTER_COLUMNS + _REGISTER_OPTIONAL)
        for r in regmap.registers:
            sentinel = "" if r.sentinel is None else f"0x{r.sentinel:0{4 * r.words}X}"
            order = r.word_order if r.words == 2 else ""
            w.writerow(
                [r.device_id, r.sensor_id, r.table, r.address, r.dtype, order]
                + [_fmt(r.scale), _fmt(r.offset), r.unit, sentinel, r.quantity, r.description]
            )
    return out
