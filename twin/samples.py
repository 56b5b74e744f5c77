"""A tiny hand-made registry near Dongguan, for tests across the rooms.

Layout (metric offsets from the origin, x east, y north, metres)::

    y=200 +---------------------+---------------------+
          |  M03     G02    M04 |  M07     G04    M08 |   C01 = x 0..200
    y=100 +-------J04----------J05----------J06-------+   C02 = x 200..400
          |  M01     G01    M02 |  M05     G03    M06 |
    y=0   +-------J01----------J02----------J03-------+
           ~~~~~~~~~~~~~~~ river (y -60..-20) ~~~~~~~~~~

Roads run along y=0, y=100 and x=0/200/400 plus a lane north from J05 to J07 (200, 200).
Twelve buildings, eight facilities, one sensor of every kind in
:data:`twin.fields.SENSOR_KINDS` (plus a second smoke detector), two feeders from one
substation, a five-node water network and a 10 m DEM sloping up from the river. Keep it
stable: other rooms' tests count on its ids and numbers.
"""

from __future__ import annotations

import functools

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon, box

from twin.fields import FIELDS, SENSOR_KINDS
from twin.registry import Registry
from twin.schema import DEFAULT_METRIC_CRS, GEOGRAPHIC_CRS, LAYERS, LOCAL_UTC_OFFSET

#: where the tiny district sits (WGS 84 degrees): Dongcheng, Dongguan
ORIGIN_LONLAT = (113.75, 23.02)
STREET_ID = "S01"

_JUNCTIONS = {
    "J01": (0, 0),
    "J02": (200, 0),
    "J03": (400, 0),
    "J04": (0, 100),
    "J05": (200, 100),
    "J06": (400, 100),
    "J07": (200, 200),
}
# road_id, from, to, kind, name_zh, name_en, width, speed
_ROADS = [
    ("R01", "J01", "J02", "arterial", "东江大道", "Dongjiang Avenue", 24.0, 50.0),
    ("R02", "J02", "J03", "arterial", "东江大道", "Dongjiang Avenue", 24.0, 50.0),
    ("R03", "J04", "J05", "secondary", "榕树路", "Rongshu Road", 12.0, 40.0),
    ("R04", "J05", "J06", "secondary", "榕树路", "Rongshu Road", 12.0, 40.0),
    ("R05", "J01", "J04", "lane", "西巷", "West Lane", 6.0, 20.0),
    ("R06", "J02", "J05", "secondary", "中心路", "Zhongxin Road", 12.0, 40.0),
    ("R07", "J03", "J06", "lane", "东巷", "East Lane", 6.0, 20.0),
    ("R08", "J05", "J07", "lane", "中心路", "Zhongxin Road", 6.0, 20.0),
]

# building_id, microgrid, x0, y0, w, h, use, levels, year, fire class, occupants,
# elderly_alone, disabled, children, feeder, water node
_BUILDINGS = [
    ("B0001", "M01", 20, 20, 30, 20, "residential", 6, 1998, "2", 120, 4, 2, 15, "FD01", "W02"),
    ("B0002", "M01", 60, 55, 25, 20, "residential", 8, 2005, "2", 160, 3, 1, 22, "FD01", "W02"),
    ("B0003", "M02", 120, 20, 40, 25, "school", 4, 2010, "1", 900, 0, 3, 800, "FD01", "W02"),
    ("B0004", "M02", 165, 60, 20, 20, "commercial", 3, 1995, "3", 60, 0, 0, 0, "FD01", "W03"),
    ("B0005", "M03", 20, 120, 30, 25, "elderly_home", 3, 2012, "1", 80, 40, 12, 0, "FD01", "W04"),
    ("B0006", "M03", 60, 160, 25, 20, "residential", 12, 2015, "1", 300, 6, 3, 40, "FD01", "W04"),
    ("B0007", "M04", 120, 130, 35, 30, "market", 2, 1990, "3", 400, 0, 0, 0, "FD01", "W04"),
    ("B0008", "M04", 165, 165, 20, 20, "residential", 5, 1988, "4", 90, 5, 2, 10, "FD01", "W04"),
    ("B0009", "M05", 220, 20, 40, 30, "hospital", 7, 2008, "1", 650, 0, 20, 30, "FD02", "W03"),
    ("B0010", "M06", 320, 20, 45, 30, "industrial", 2, 2001, "2", 120, 0, 0, 0, "FD02", "W05"),
    ("B0011", "M07", 230, 130, 30, 25, "office", 15, 2018, "1", 500, 0, 2, 0, "FD02", "W05"),
    ("B0012", "M08", 320, 140, 30, 30, "residential", 9, 2003, "2", 210, 7, 2, 30, "FD02", "W05"),
]

# facility_id, kind, name_zh, name_en, building_id, grid, (x, y), capacity, area, critical
_FACILITIES = [
    (
        "F01",
        "pump_station",
        "东江排涝泵站",
        "Dongjiang pump station",
        "",
        "G01",
        (100, 8),
        4.0,
        300.0,
        True,
    ),
    (
        "F02",
        "substation",
        "榕树变电站",
        "Rongshu substation",
        "",
        "G03",
        (290, 80),
        2000.0,
        400.0,
        True,
    ),
    ("F03", "square", "榕树广场", "Rongshu square", "", "G04", (300, 180), 1500.0, 3000.0, False),
    (
        "F04",
        "school",
        "榕树小学",
        "Rongshu primary school",
        "B0003",
        "G01",
        (140, 32.5),
        900.0,
        4000.0,
        True,
    ),
    (
        "F05",
        "elderly_home",
        "康乐养老院",
        "Kangle elderly home",
        "B0005",
        "G02",
        (35, 132.5),
        80.0,
        2250.0,
        True,
    ),
    (
        "F06",
        "hospital",
        "东城医院",
        "Dongcheng hospital",
        "B0009",
        "G03",
        (240, 35),
        650.0,
        8400.0,
        True,
    ),
    (
        "F07",
        "weather_station",
        "东城雨量站",
        "Dongcheng rain station",
        "",
        "G02",
        (100, 190),
        0.0,
        20.0,
        False,
    ),
    (
        "F08",
        "drain_inlet",
        "东江大道雨水口",
        "Dongjiang Ave drain inlet",
        "",
        "G03",
        (300, 6),
        0.5,
        1.0,
        False,
    ),
]

_WATER_NODES = [
    ("W01", "source", (100, 4)),
    ("W02", "junction", (100, 50)),
    ("W03", "junction", (200, 50)),
    ("W04", "junction", (100, 100)),
    ("W05", "junction", (300, 100)),
]
_WATER_PIPES = [
    ("P01", "W01", "W02", 0.40),
    ("P02", "W02", "W03", 0.30),
    ("P03", "W02", "W04", 0.30),
    ("P04", "W03", "W05", 0.20),
]

# sensor kind, entity_id, grid, position source (entity id or explicit (x, y))
_SENSORS = [
    ("rain_gauge", "F07", "G02", None),
    ("river_level", "L01", "G01", (60, -18)),
    ("drain_level", "F08", "G03", None),
    ("road_water", "R03", "G01", (100, 100)),
    ("smoke", "B0001", "G01", None),
    ("smoke", "B0005", "G02", None),
    ("temperature", "B0005", "G02", None),
    ("gas", "B0002", "G01", None),
    ("people_counter", "F03", "G04", None),
    ("water_pressure", "W03", "G01", None),
    ("water_flow", "P02", "G01", (150, 50)),
    ("power_meter", "B0009", "G03", None),
    ("gas_meter", "B0012", "G04", None),
    ("elevator", "B0011", "G04", None),
    ("humidity", "B0006", "G02", None),
]


def tiny_registry() -> Registry:
    """A small, valid, hand-made registry near Dongguan.

    1 street, 2 communities, 4 grids, 8 micro-grids, 12 buildings with addresses,
    8 facilities, 15 sensors (every kind of :data:`twin.fields.SENSOR_KINDS`), 8 roads over
    7 junctions, 5 water nodes and 4 pipes, 2 feeders, 4 land-use polygons and a 10 m DEM.

    Returns
    -------
    Registry
        Fresh copies on every call (safe to modify).
    """
    template = _tiny_template()
    return Registry(
        layers={k: v.copy() for k, v in template.layers.items()},
        dem=template.dem.copy(deep=True),
        meta=dict(template.meta),
    )


@functools.cache
def _tiny_template() -> Registry:
    fwd = Transformer.from_crs(GEOGRAPHIC_CRS, DEFAULT_METRIC_CRS, always_xy=True)
    ox, oy = fwd.transform(*ORIGIN_LONLAT)
    ox, oy = round(ox), round(oy)
    layers: dict[str, gpd.GeoDataFrame] = {}

    def frame(name: str, rows: list[dict], geoms: list) -> None:
        df = pd.DataFrame(rows, columns=list(LAYERS[name].columns))
        metric = gpd.GeoSeries(geoms, crs=DEFAULT_METRIC_CRS).translate(ox, oy)
        geometry = metric.to_crs(GEOGRAPHIC_CRS).to_numpy()
        layers[name] = _typed(name, gpd.GeoDataFrame(df, geometry=geometry, crs=GEOGRAPHIC_CRS))

    frame(
        "communities",
        [
            dict(
                community_id="C01",
                street_id=STREET_ID,
                code="441900001001",
                name_zh="榕树社区",
                name_en="Rongshu Community",
            ),
            dict(
                community_id="C02",
                street_id=STREET_ID,
                code="441900001002",
                name_zh="东江社区",
                name_en="Dongjiang Community",
            ),
        ],
        [box(0, 0, 200, 200), box(200, 0, 400, 200)],
    )
    grid_boxes = {"G01": (0, 0), "G02": (0, 100), "G03": (200, 0), "G04": (200, 100)}
    frame(
        "grids",
        [
            dict(
                grid_id=g,
                community_id="C01" if x < 200 else "C02",
                code=f"4419000010{i:02d}",
                name_zh=f"第{i}网格",
                name_en=f"Grid {i}",
            )
            for i, (g, (x, _y)) in enumerate(grid_boxes.items(), start=1)
        ],
        [box(x, y, x + 200, y + 100) for x, y in grid_boxes.values()],
    )
    micro_rows, micro_geoms = [], []
    for i, (g, (x, y)) in enumerate(grid_boxes.items()):
        for j in range(2):
            micro_rows.append(
                dict(microgrid_id=f"M{2 * i + j + 1:02d}", grid_id=g, code=f"{g}-{j + 1}")
            )
            micro_geoms.append(box(x + 100 * j, y, x + 100 * (j + 1), y + 100))
    frame("microgrids", micro_rows, micro_geoms)
    micro_grid = {r["microgrid_id"]: r["grid_id"] for r in micro_rows}
    grid_comm = {g: ("C01" if x < 200 else "C02") for g, (x, _y) in grid_boxes.items()}

    dem = _tiny_dem(ox, oy)
    b_rows, b_geoms, a_rows, a_geoms = [], [], [], []
    for n, (bid, mg, x0, y0, w, h, use, levels, year, fr, occ, eld, dis, chi, fd, wn) in enumerate(
        _BUILDINGS, start=1
    ):
        gid = micro_grid[mg]
        entrance = (x0 + w / 2, y0)
        south_road = "东江大道" if y0 < 100 else "榕树路"
        south_road_en = "Dongjiang Avenue" if y0 < 100 else "Rongshu Road"
        aid = f"A{n:04d}"
        ground = float(dem.interp(x=ox + entrance[0], y=oy + entrance[1]).item())
        b_rows.append(
            dict(
                building_id=bid,
                address_id=aid,
                microgrid_id=mg,
                grid_id=gid,
                community_id=grid_comm[gid],
                name_zh=f"{south_road}{2 * n}号楼",
                name_en=f"No. {2 * n} {south_road_en}",
                use=use,
                height_m=3.2 * levels,
                levels=levels,
                year_built=year,
                fire_resistance=fr,
                occupants=occ,
                elderly_alone=eld,
                disabled=dis,
                children=chi,
                ground_elev_m=round(ground, 2),
                feeder_id=fd,
                water_node_id=wn,
            )
        )
        b_geoms.append(box(x0, y0, x0 + w, y0 + h))
        a_rows.append(
            dict(
                address_id=aid,
                building_id=bid,
                grid_id=gid,
                text_zh=f"广东省东莞市东城街道{south_road}{2 * n}号",
                text_en=f"No. {2 * n} {south_road_en}, Dongcheng, Dongguan, Guangdong",
                road_name_zh=south_road,
                house_number=str(2 * n),
            )
        )
        a_geoms.append(Point(entrance[0], entrance[1] + 0.5))
    frame("buildings", b_rows, b_geoms)
    frame("addresses", a_rows, a_geoms)

    frame(
        "facilities",
        [
            dict(
                facility_id=f,
                kind=k,
                name_zh=nz,
                name_en=ne,
                building_id=b,
                grid_id=g,
                capacity=c,
                area_m2=a,
                critical=cr,
            )
            for f, k, nz, ne, b, g, _p, c, a, cr in _FACILITIES
        ],
        [Point(*p) for *_, p, _c, _a, _cr in _FACILITIES],
    )
    frame(
        "roads",
        [
            dict(
                road_id=r,
                from_node=u,
                to_node=v,
                kind=k,
                name_zh=nz,
                name_en=ne,
                width_m=w,
                length_m=float(np.hypot(*np.subtract(_JUNCTIONS[u], _JUNCTIONS[v]))),
                speed_kmh=s,
            )
            for r, u, v, k, nz, ne, w, s in _ROADS
        ],
        [LineString([_JUNCTIONS[u], _JUNCTIONS[v]]) for _r, u, v, *_ in _ROADS],
    )
    node_xy = {n: p for n, _k, p in _WATER_NODES}
    frame(
        "water_nodes",
        [
            dict(
                node_id=n,
                kind=k,
                elevation_m=round(float(dem.interp(x=ox + p[0], y=oy + p[1]).item()) - 1.5, 2),
            )
            for n, k, p in _WATER_NODES
        ],
        [Point(*p) for _n, _k, p in _WATER_NODES],
    )
    frame(
        "water_pipes",
        [
            dict(
                pipe_id=p,
                from_node=u,
                to_node=v,
                diameter_m=d,
                length_m=float(np.hypot(*np.subtract(node_xy[u], node_xy[v]))),
            )
            for p, u, v, d in _WATER_PIPES
        ],
        [LineString([node_xy[u], node_xy[v]]) for _p, u, v, _d in _WATER_PIPES],
    )
    frame(
        "power_feeders",
        [
            dict(feeder_id="FD01", substation_id="F02", voltage_kv=10.0),
            dict(feeder_id="FD02", substation_id="F02", voltage_kv=10.0),
        ],
        [
            LineString([(290, 80), (200, 96), (10, 96), (10, 196), (190, 196)]),
            LineString([(290, 80), (290, 104), (390, 104), (390, 196)]),
        ],
    )
    frame(
        "landuse",
        [
            dict(landuse_id="L01", kind="water"),
            dict(landuse_id="L02", kind="residential"),
            dict(landuse_id="L03", kind="commercial"),
            dict(landuse_id="L04", kind="park"),
        ],
        [
            Polygon([(-60, -60), (460, -60), (460, -20), (-60, -20)]),
            box(0, 0, 200, 200),
            box(200, 0, 400, 150),
            box(250, 150, 400, 200),
        ],
    )

    pos = {f[0]: f[6] for f in _FACILITIES} | node_xy
    for bid, _mg, x0, y0, w, h, *_ in _BUILDINGS:
        pos[bid] = (x0 + w / 2, y0 + h / 2)
    s_rows, s_geoms = [], []
    registers = {"gw-01": 0, "gw-02": 0}
    for n, (kind, entity, gid, where) in enumerate(_SENSORS, start=1):
        spec = SENSOR_KINDS[kind]
        f = FIELDS[spec.quantity]
        device = "gw-01" if grid_comm[gid] == "C01" else "gw-02"
        s_rows.append(
            dict(
                sensor_id=f"SN{n:03d}",
                kind=kind,
                quantity=spec.quantity,
                unit=f.unit,
                min_value=f.min_value,
                max_value=f.max_value,
                entity_type=spec.entity_type,
                entity_id=entity,
                grid_id=gid,
                device_id=device,
                register_address=registers[device],
            )
        )
        registers[device] += 2  # one float32 = two 16-bit registers
        s_geoms.append(Point(*(where if where is not None else pos[entity])))
    frame("sensors", s_rows, s_geoms)

    meta = {
        "name_zh": "东城示例街道",
        "name_en": "Dongcheng Sample Street",
        "street_id": STREET_ID,
        "metric_crs": DEFAULT_METRIC_CRS,
        "utc_offset": LOCAL_UTC_OFFSET,
        "seed": 0,
        "source": "twin.samples.tiny_registry",
    }
    return Registry(layers={k: layers[k] for k in LAYERS}, dem=dem, meta=meta)


def _tiny_dem(ox: float, oy: float) -> xr.DataArray:
    """10 m DEM: a river channel at 0 m, banks rising 2 cm/m, a hollow in grid G03."""
    x = ox + np.arange(-75.0, 480.0, 10.0)
    y = oy + np.arange(-75.0, 280.0, 10.0)
    yy, xx = np.meshgrid(y - oy, x - ox, indexing="ij")
    elev = 3.0 + 0.02 * np.clip(yy, 0, None)
    elev = np.where((yy > -60) & (yy < -20), 0.0, elev)
    elev = np.where((yy >= -20) & (yy < 0), 1.5 + 0.075 * (yy + 20), elev)
    hollow = np.exp(-(((xx - 300) / 50) ** 2 + ((yy - 50) / 30) ** 2))
    elev = elev - 1.2 * hollow  # low-lying block that floods first
    return xr.DataArray(
        elev.round(3),
        dims=("y", "x"),
        coords={"y": y, "x": x},
        name="elevation",
        attrs={"crs": DEFAULT_METRIC_CRS, "units": "m"},
    )


_KIND_DTYPES = {"str": "str", "int": "int64", "float": "float64", "bool": "bool"}


def _typed(name: str, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Cast a layer's columns to the kinds of its schema, with a RangeIndex."""
    for col, kind in LAYERS[name].columns.items():
        gdf[col] = gdf[col].astype(_KIND_DTYPES[kind])
    return gdf.reset_index(drop=True)


def tiny_lonlat(x_m, y_m) -> tuple[np.ndarray, np.ndarray]:
    """WGS 84 lon/lat (degrees) of offsets (m) in the tiny district's local frame above.

    >>> lon, lat = tiny_lonlat(0.0, 0.0)
    >>> bool(abs(lon - 113.75) < 1e-4 and abs(lat - 23.02) < 1e-4)
    True
    """
    fwd = Transformer.from_crs(GEOGRAPHIC_CRS, DEFAULT_METRIC_CRS, always_xy=True)
    ox, oy = fwd.transform(*ORIGIN_LONLAT)
    inv = Transformer.from_crs(DEFAULT_METRIC_CRS, GEOGRAPHIC_CRS, always_xy=True)
    lon, lat = inv.transform(round(ox) + np.asarray(x_m, float), round(oy) + np.asarray(y_m, float))
    return np.asarray(lon), np.asarray(lat)
