"""The field catalogue: every measured quantity, its SI unit, display unit and physical range.

Field names say what and of what (``object__quantity``). Values are SI inside the twin;
conversion to display units happens only at the edges (register maps, UI) through
:func:`to_display`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """A measured quantity.

    Parameters
    ----------
    name : str
        ``object__quantity`` field name.
    unit : str
        SI (or CF-accepted) unit used inside the twin.
    display_unit : str
        Unit shown to people.
    display_factor : float
        ``display = value * display_factor``.
    min_value, max_value : float
        Physical range; a reading outside it is rejected as ``out_of_range``.
    doc : str
        English description; ``doc_zh`` the Chinese one.
    """

    name: str
    unit: str
    display_unit: str
    display_factor: float
    min_value: float
    max_value: float
    doc: str
    doc_zh: str


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field(
            "rain__intensity", "m s-1", "mm/h", 3.6e6, 0.0, 300 / 3.6e6, "rain intensity", "雨强"
        ),
        Field(
            "river__water_level", "m", "m", 1.0, -5.0, 30.0, "river stage above datum", "河道水位"
        ),
        Field("drain__water_depth", "m", "m", 1.0, 0.0, 5.0, "water depth in a drain", "管渠水深"),
        Field(
            "road__water_depth", "m", "cm", 100.0, 0.0, 3.0, "ponding depth on a road", "路面积水"
        ),
        Field("building__smoke_alarm", "1", "", 1.0, 0.0, 1.0, "smoke detector state", "烟感状态"),
        Field(
            "building__air_temperature", "degC", "°C", 1.0, -20.0, 1200.0, "air temperature", "温度"
        ),
        Field(
            "building__gas_concentration",
            "1",
            "%LEL",
            100.0,
            0.0,
            1.0,
            "gas fraction of LEL",
            "燃气浓度",
        ),
        Field(
            "place__people_count",
            "1",
            "人",
            1.0,
            0.0,
            200000.0,
            "people counted in a place",
            "人数",
        ),
        Field("water_node__pressure", "Pa", "MPa", 1e-6, 0.0, 2.0e6, "water pressure", "水压"),
        Field("water_pipe__flow_rate", "m3 s-1", "m³/h", 3600.0, -5.0, 5.0, "water flow", "流量"),
        Field(
            "building__power_demand",
            "W",
            "kW",
            1e-3,
            0.0,
            2.0e7,
            "electric power demand",
            "用电功率",
        ),
        Field(
            "building__gas_flow_rate",
            "m3 s-1",
            "m³/h",
            3600.0,
            0.0,
            1.0,
            "gas consumption",
            "用气量",
        ),
        Field(
            "elevator__status",
            "1",
            "",
            1.0,
            0.0,
            3.0,
            "0 ok, 1 fault, 2 trapped, 3 off",
            "电梯状态",
        ),
        Field(
            "building__relative_humidity", "1", "%", 100.0, 0.0, 1.0, "relative humidity", "湿度"
        ),
    )
}


@dataclass(frozen=True)
class SensorKind:
    """A kind of sensor point: what it measures and what it is bound to."""

    kind: str
    quantity: str
    entity_type: str
    name_zh: str
    name_en: str


SENSOR_KINDS: dict[str, SensorKind] = {
    k.kind: k
    for k in (
        SensorKind("rain_gauge", "rain__intensity", "facility", "雨量计", "rain gauge"),
        SensorKind("river_level", "river__water_level", "landuse", "河道水位计", "river level"),
        SensorKind("drain_level", "drain__water_depth", "facility", "管渠液位计", "drain level"),
        SensorKind("road_water", "road__water_depth", "road", "路面积水监测", "road water depth"),
        SensorKind("smoke", "building__smoke_alarm", "building", "烟感", "smoke detector"),
        SensorKind(
            "temperature", "building__air_temperature", "building", "温度传感器", "thermometer"
        ),
        SensorKind("gas", "building__gas_concentration", "building", "燃气报警器", "gas detector"),
        SensorKind(
            "people_counter", "place__people_count", "facility", "客流计数", "people counter"
        ),
        SensorKind(
            "water_pressure", "water_node__pressure", "water_node", "水压计", "water pressure"
        ),
        SensorKind(
            "water_flow", "water_pipe__flow_rate", "water_pipe", "流量计", "water flow meter"
        ),
        SensorKind("power_meter", "building__power_demand", "building", "智能电表", "power meter"),
        SensorKind("gas_meter", "building__gas_flow_rate", "building", "燃气表", "gas meter"),
        SensorKind("elevator", "elevator__status", "building", "电梯监测", "elevator monitor"),
        SensorKind("humidity", "building__relative_humidity", "building", "湿度传感器", "humidity"),
    )
}


def to_display(quantity: str, value: float) -> float:
    """Convert an SI value of ``quantity`` to its display unit.

    >>> round(to_display("rain__intensity", 1e-5), 3)
    36.0
    """
    return value * FIELDS[quantity].display_factor
