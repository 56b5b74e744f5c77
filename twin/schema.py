"""The registry's layer schemas: one table of columns per layer, the contract every room shares.

A district on disk is one GeoPackage (``district.gpkg``) holding the layers below, a NetCDF DEM
(``dem.nc``) and ``meta.json``. Geometries are stored in EPSG:4326; computations use the
district's metric CRS (``meta.json`` → ``metric_crs``, UTM 49N for the Dongguan demo).

Each layer is described by a :class:`LayerSchema`: its id column, its required columns with
their kinds, and the geometry type. Loading checks data against these schemas
(:mod:`twin.registry_io`); builders (:mod:`sim.district`) produce data that satisfies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GEOGRAPHIC_CRS = "EPSG:4326"
DEFAULT_METRIC_CRS = "EPSG:32649"  # WGS 84 / UTM zone 49N: Dongguan, Guangdong
LOCAL_UTC_OFFSET = "+08:00"

#: column kinds: "str" (text id or label), "int", "float", "bool"
STR, INT, FLOAT, BOOL = "str", "int", "float", "bool"


@dataclass(frozen=True)
class LayerSchema:
    """Columns a registry layer must carry.

    Parameters
    ----------
    name : str
        Layer name in the GeoPackage.
    id_column : str
        Unique, non-empty identifier of a row.
    columns : dict
        Required column name → kind (``"str"``, ``"int"``, ``"float"``, ``"bool"``).
    geometry : tuple of str
        Allowed shapely geometry types.
    doc : str
        What a row is.
    """

    name: str
    id_column: str
    columns: dict[str, str]
    geometry: tuple[str, ...]
    doc: str = ""
    optional: dict[str, str] = field(default_factory=dict)


POLY = ("Polygon", "MultiPolygon")
LINE = ("LineString", "MultiLineString")
POINT = ("Point",)

LAYERS: dict[str, LayerSchema] = {
    s.name: s
    for s in (
        LayerSchema(
            "communities",
            "community_id",
            {"community_id": STR, "street_id": STR, "code": STR, "name_zh": STR, "name_en": STR},
            POLY,
            "社区 community, a part of the street (街道).",
        ),
        LayerSchema(
            "grids",
            "grid_id",
            {"grid_id": STR, "community_id": STR, "code": STR, "name_zh": STR, "name_en": STR},
            POLY,
            "网格 comprehensive grid, the unit of grid management (GB/T 34300-2017).",
        ),
        LayerSchema(
            "microgrids",
            "microgrid_id",
            {"microgrid_id": STR, "grid_id": STR, "code": STR},
            POLY,
            "微网格 micro-grid, a few buildings under one grid worker.",
        ),
        LayerSchema(
            "buildings",
            "building_id",
            {
                "building_id": STR,
                "address_id": STR,
                "microgrid_id": STR,
                "grid_id": STR,
                "community_id": STR,
                "name_zh": STR,
                "name_en": STR,
                # residential, commercial, office, industrial, school, hospital, elderly_home,
                # market, public, warehouse, mixed, garage
                "use": STR,
                "height_m": FLOAT,
                "levels": INT,
                "year_built": INT,
                # GB 50016 fire-resistance rating: "1" (best) .. "4" (worst)
                "fire_resistance": STR,
                "occupants": INT,  # usual number of people inside (aggregate count)
                "elderly_alone": INT,  # aggregate counts per building, never persons
                "disabled": INT,
                "children": INT,
                "ground_elev_m": FLOAT,  # DEM height at the entrance
                "feeder_id": STR,  # power feeder supplying it ("" if unknown)
                "water_node_id": STR,  # water network node supplying it ("" if unknown)
            },
            POLY,
            "A building footprint with its attributes.",
        ),
        LayerSchema(
            "addresses",
            "address_id",
            {
                "address_id": STR,
                "building_id": STR,
                "grid_id": STR,
                "text_zh": STR,
                "text_en": STR,
                "road_name_zh": STR,
                "house_number": STR,
            },
            POINT,
            "标准地址 standard address, one per building entrance.",
        ),
        LayerSchema(
            "facilities",
            "facility_id",
            {
                "facility_id": STR,
                # pump_station, substation, shelter, fire_station, hospital, school,
                # elderly_home, market, square, underground_garage, drain_inlet, ...
                "kind": STR,
                "name_zh": STR,
                "name_en": STR,
                "building_id": STR,  # "" for outdoor facilities (squares, inlets)
                "grid_id": STR,
                "capacity": FLOAT,  # people (shelter, square), m3/s (pump), kVA (substation)
                "area_m2": FLOAT,  # walkable / usable area
                "critical": BOOL,  # critical facility for exposure
            },
            POINT,
            "A facility: a key place or a piece of infrastructure.",
        ),
        LayerSchema(
            "sensors",
            "sensor_id",
            {
                "sensor_id": STR,
                "kind": STR,  # key of twin.fields.SENSOR_KINDS
                "quantity": STR,  # field name, e.g. "river__water_level"
                "unit": STR,  # SI unit of the quantity (see twin.fields)
                "min_value": FLOAT,  # physical range; readings outside are rejected
                "max_value": FLOAT,
                "entity_type": STR,  # building, facility, road, river, water_node, feeder
                "entity_id": STR,
                "grid_id": STR,
                "device_id": STR,  # field device (Modbus gateway) that reports it
                "register_address": INT,  # 0-based Modbus register on that device
            },
            POINT,
            "A sensor point bound to the entity it measures.",
        ),
        LayerSchema(
            "roads",
            "road_id",
            {
                "road_id": STR,
                "from_node": STR,
                "to_node": STR,
                "kind": STR,  # arterial, secondary, lane
                "name_zh": STR,
                "name_en": STR,
                "width_m": FLOAT,
                "length_m": FLOAT,
                "speed_kmh": FLOAT,
            },
            LINE,
            "A road segment between two junctions; together a routable graph.",
        ),
        LayerSchema(
            "water_nodes",
            "node_id",
            {"node_id": STR, "kind": STR, "elevation_m": FLOAT},
            POINT,
            "A node of the water supply network (junction, source, pump).",
        ),
        LayerSchema(
            "water_pipes",
            "pipe_id",
            {
                "pipe_id": STR,
                "from_node": STR,
                "to_node": STR,
                "diameter_m": FLOAT,
                "length_m": FLOAT,
            },
            LINE,
            "A water main between two water nodes.",
        ),
        LayerSchema(
            "power_feeders",
            "feeder_id",
            {"feeder_id": STR, "substation_id": STR, "voltage_kv": FLOAT},
            LINE,
            "A 10 kV feeder from a substation; buildings name theirs in feeder_id.",
        ),
        LayerSchema(
            "landuse",
            "landuse_id",
            {"landuse_id": STR, "kind": STR},  # water, park, residential, commercial, ...
            POLY,
            "Land use polygons for the base map; kind 'water' marks rivers and ponds.",
        ),
    )
}

#: order in which layers are written and checked (parents before children)
LAYER_ORDER: tuple[str, ...] = tuple(LAYERS)

#: references checked on load: (layer, column) → (target layer, allow_empty)
REFERENCES: dict[tuple[str, str], tuple[str, bool]] = {
    ("grids", "community_id"): ("communities", False),
    ("microgrids", "grid_id"): ("grids", False),
    ("buildings", "microgrid_id"): ("microgrids", False),
    ("buildings", "grid_id"): ("grids", False),
    ("buildings", "community_id"): ("communities", False),
    ("buildings", "address_id"): ("addresses", False),
    ("buildings", "feeder_id"): ("power_feeders", True),
    ("buildings", "water_node_id"): ("water_nodes", True),
    ("addresses", "building_id"): ("buildings", False),
    ("addresses", "grid_id"): ("grids", False),
    ("facilities", "building_id"): ("buildings", True),
    ("facilities", "grid_id"): ("grids", False),
    ("sensors", "grid_id"): ("grids", False),
    ("water_pipes", "from_node"): ("water_nodes", False),
    ("water_pipes", "to_node"): ("water_nodes", False),
    ("power_feeders", "substation_id"): ("facilities", False),
}

#: sensors.entity_type → layer holding the entity (roads/rivers use their own layers)
ENTITY_LAYERS: dict[str, str] = {
    "building": "buildings",
    "facility": "facilities",
    "road": "roads",
    "water_node": "water_nodes",
    "water_pipe": "water_pipes",
    "feeder": "power_feeders",
    "landuse": "landuse",
}
