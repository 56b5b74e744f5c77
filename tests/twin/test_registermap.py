"""Register-map files: parsing, validation messages, and the register codec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pymodbus.client import ModbusTcpClient

from twin.registercodec import RegisterCodec, decode_value, encode_value
from twin.registermap import (
    RegisterMapError,
    RegisterSpec,
    load_register_map,
    parse_sentinel,
    write_register_map,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "registermaps" / "example"
DEV_HEADER = "device_id,host,port,unit_id,poll_interval_s,timeout_s\n"
REG_HEADER = "device_id,sensor_id,table,address,dtype,word_order,scale,offset,unit,sentinel\n"


def write_map(tmp_path: Path, devices: str, registers: str) -> Path:
    (tmp_path / "devices.csv").write_text(DEV_HEADER + devices, encoding="utf-8")
    (tmp_path / "registers.csv").write_text(REG_HEADER + registers, encoding="utf-8")
    return tmp_path


def spec(dtype: str, order: str = "big", **kw) -> RegisterSpec:
    return RegisterSpec("d", f"s-{dtype}-{order}", "holding", 0, dtype, order, **kw)


def test_example_map_loads_with_hex_addresses_and_si_units() -> None:
    m = load_register_map(EXAMPLE)
    assert [d.device_id for d in m.devices] == ["lvl-river-01", "pm-b0009", "pt-w03"]
    assert [d.unit_id for d in m.devices] == [1, 2, 3]
    assert m.device("pt-w03").max_gap == 0
    demand = next(r for r in m.registers if r.sensor_id == "EXT-B0009-DEMAND")
    assert (demand.address, demand.word_order, demand.sentinel) == (256, "little", 0x80000000)
    assert (demand.si_unit, demand.si_factor) == ("W", 1000.0)
    level = m.registers[0]
    assert decode_value(level, [245]) == pytest.approx(2.45)  # 245 cm
    assert np.isnan(decode_value(level, [0x8000]))


@pytest.mark.parametrize(
    ("devices", "registers", "where", "words"),
    [
        ("d1,h,502,1,1,0.5\n", "d1,s1,holding,0,float64,big,1,0,m,\n", ":2:5 (dtype)", "float64"),
        ("d1,h,502,0,1,0.5\n", "", "devices.csv:2:4 (unit_id)", "outside 1..247"),
        ("d1,h,502,1,-1,0.5\n", "", "devices.csv:2:5 (poll_interval_s)", "positive"),
        (
            "d1,h,502,1,1,0.5\n",
            "d1,s1,holding,0,float32,big,1,0,m,\nd1,s2,holding,1,int16,,1,0,m,\n",
            "registers.csv:3:4 (address)",
            "overlaps s1 (line 2)",
        ),
        ("d1,h,502,1,1,0.5\n", "d9,s1,input,0,int16,,1,0,m,\n", ":2:1 (device_id)", "d9"),
        ("d1,h,502,1,1,0.5\n", "d1,s1,input,0,int16,,1,0,furlong,\n", ":2:9 (unit)", "furlong"),
        ("d1,h,502,1,1,0.5\n", "d1,s1,input,0,int16,,1,0,m,0x10000\n", ":2:10 (sentinel)", "16"),
        ("d1,h,502,1,1,0.5\n", "d1,s1,input,0,int16,middle,1,0,m,\n", ":2:6 (word_order)", "mid"),
        ("d1,h,502,1,1,0.5\n", "d1,s1,coil,0,int16,,1,0,m,\n", ":2:3 (table)", "coil"),
        ("d1,h,502,1,1,0.5\n", "d1,s1,input,0,int16,,0,0,m,\n", ":2:7 (scale)", "not be 0"),
        (
            "d1,h,502,1,1,0.5\n",
            "d1,s1,input,0,int16,,1,0,m,\nd1,s1,input,4,int16,,1,0,m,\n",
            ":3:2 (sensor_id)",
            "duplicate",
        ),
        ("d1,h,502,1,1,0.5\nd2,h,502,1,1,0.5\n", "", "devices.csv:3:4 (unit_id)", "d1"),
        ("d1,h,502,1,1,0.5\n", "d1,s1,input,65535,float32,big,1,0,m,\n", ":2:4 (address)", "past"),
    ],
)
def test_load_errors_name_file_line_and_column(
    tmp_path: Path, devices: str, registers: str, where: str, words: str
) -> None:
    write_map(tmp_path, devices, registers)
    with pytest.raises(RegisterMapError) as err:
        load_register_map(tmp_path)
    message = str(err.value)
    assert where in message and words in message
    assert str(tmp_path) in message


def test_unknown_column_and_quantity_unit_mismatch_are_errors(tmp_path: Path) -> None:
    (tmp_path / "devices.csv").write_text(DEV_HEADER.strip() + ",colour\n", encoding="utf-8")
    (tmp_path / "registers.csv").write_text(REG_HEADER, encoding="utf-8")
    with pytest.raises(RegisterMapError, match=r"devices.csv:1:7 \(colour\): unknown column"):
        load_register_map(tmp_path)
    write_map(tmp_path, "d1,h,502,1,1,0.5\n", "")
    (tmp_path / "registers.csv").write_text(
        REG_HEADER.strip() + ",quantity\nd1,s1,input,0,int16,,1,0,kW,,river__water_level\n",
        encoding="utf-8",
    )
    with pytest.raises(RegisterMapError, match=r":2:9 \(unit\): 'kW' is W, river__water_level"):
        load_register_map(tmp_path)


def test_comments_and_blank_lines_keep_line_numbers(tmp_path: Path) -> None:
    write_map(tmp_path, "# gateway A\n\nd1,h,502,1,1,0.5\n", "# bad row below\nd1,s1,x,0,int16\n")
    with pytest.raises(RegisterMapError, match=r"registers.csv:3:3 \(table\)"):
        load_register_map(tmp_path)


def test_write_then_load_gives_the_same_map(tmp_path: Path) -> None:
    m = load_register_map(EXAMPLE)
    again = load_register_map(write_register_map(m, tmp_path / "copy", header="copy"))
    assert again == m


# hand-checked encodings: value (SI), spec kwargs, registers on the wire
CASES = [
    (1500.0, dict(dtype="float32", order="big", unit="kW"), [0x3FC0, 0x0000]),
    (1500.0, dict(dtype="float32", order="little", unit="kW"), [0x0000, 0x3FC0]),
    (-2.0, dict(dtype="int32", order="big"), [0xFFFF, 0xFFFE]),
    (-2.0, dict(dtype="int32", order="little"), [0xFFFE, 0xFFFF]),
    (70000.0, dict(dtype="uint32", order="big"), [0x0001, 0x1170]),
    (70000.0, dict(dtype="uint32", order="little"), [0x1170, 0x0001]),
    (-0.01, dict(dtype="int16", scale=0.1, unit="cm"), [0xFFF6]),  # -1.0 cm = raw -10
    (65.5, dict(dtype="uint16", scale=0.1, unit="degC"), [655]),
    (3e5, dict(dtype="uint16", scale=0.001, offset=0.2, unit="MPa"), [100]),  # 0.3 MPa
]


@pytest.mark.parametrize(("value", "kw", "registers"), CASES)
def test_encode_and_decode_by_hand(value: float, kw: dict, registers: list[int]) -> None:
    kw = dict(kw)
    s = spec(kw.pop("dtype"), kw.pop("order", "big"), **kw)
    assert encode_value(s, value) == registers
    assert decode_value(s, registers) == pytest.approx(value, rel=1e-6)


@pytest.mark.parametrize("dtype", ["int16", "uint16", "int32", "uint32", "float32"])
@pytest.mark.parametrize("order", ["big", "little"])
def test_codec_agrees_with_pymodbus_convert_from_registers(dtype: str, order: str) -> None:
    rng = np.random.default_rng(7)
    specs = [RegisterSpec("d", f"s{i}", "holding", 2 * i, dtype, order) for i in range(50)]
    image = rng.integers(0, 1 << 16, 100, dtype=np.uint16)
    image[1::2] &= 0x3FFF  # keep float32 exponents finite in both word orders
    image[::2] &= 0x3FFF
    values, na = RegisterCodec.from_specs(specs).decode(image)
    assert not na.any()
    kind = getattr(ModbusTcpClient.DATATYPE, dtype.upper())
    for i, v in enumerate(values):
        words = image[2 * i : 2 * i + (1 if dtype.endswith("16") else 2)].tolist()
        expected = ModbusTcpClient.convert_from_registers(words, kind, word_order=order)
        assert v == pytest.approx(expected, rel=1e-7)


def test_wrong_word_order_gives_silent_garbage() -> None:
    right = spec("float32", "little", unit="kW")
    wrong = spec("float32", "big", unit="kW")
    registers = encode_value(right, 1500.0)
    assert decode_value(right, registers) == pytest.approx(1500.0)
    garbage = decode_value(wrong, registers)  # 0x00003FC0: a denormal, no error raised
    assert np.isfinite(garbage) and 0 < garbage < 1e-30


def test_sentinels_decode_as_not_available_and_are_never_encoded_by_a_value() -> None:
    specs = [
        spec("int16", sentinel=0x8000),
        RegisterSpec("d", "u", "holding", 1, "uint16", sentinel=0xFFFF),
        RegisterSpec("d", "i32", "holding", 2, "int32", "little", sentinel=0x80000000),
        RegisterSpec("d", "f", "holding", 4, "float32", "big"),
    ]
    codec = RegisterCodec.from_specs(specs)
    image = np.array([0x8000, 0xFFFF, 0x0000, 0x8000, 0x7FC0, 0x0000], dtype=np.uint16)
    values, na = codec.decode(image)
    assert na.tolist() == [True, True, True, True] and np.isnan(values).all()
    # the most negative int16 and the largest uint16 would look like "not available"
    codec.encode(np.array([-1e9, 1e9, -1e12, 1.0]), image)
    assert image[:2].tolist() == [0x8001, 0xFFFE]
    values, na = codec.decode(image)
    assert not na.any() and values[3] == 1.0
    # NaN in writes the sentinel (or a float NaN)
    written_na = codec.encode(np.array([np.nan, np.nan, np.nan, np.nan]), image)
    assert written_na.all() and codec.decode(image)[1].all()


def test_parse_sentinel_decimal_and_hex_forms() -> None:
    assert parse_sentinel("-32768", "int16") == 0x8000
    assert parse_sentinel("65535", "uint16") == 0xFFFF
    assert parse_sentinel("0x80000000", "int32") == 0x80000000
    with pytest.raises(ValueError):
        parse_sentinel("70000", "uint16")
