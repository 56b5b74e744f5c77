"""The explicit table of map layers the UI iterates: id, builder, sources, names and legend.

:data:`LAYERS` is a plain dict in draw order (bottom first). Adding a layer means writing a
pure builder in its own module and one :class:`LayerSpec` row here; the dashboard's layer
switcher and legend read this table, and one meta-test checks every row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import geopandas as gpd
import pydeck as pdk

from layers.basemap import build_grids_layer, build_landuse_layer, build_roads_layer
from layers.buildings import build_buildings_layer
from layers.sensors import build_sensor_grids_layer, build_sensors_layer
from layers.style import RGB, STYLES, MapStyle, sensor_state_legend, use_legend, warning_legend
from layers.warnings import build_warnings_layer

Sources = Mapping[str, gpd.GeoDataFrame]


@dataclass(frozen=True)
class LayerSpec:
    """One row of the layer table.

    Parameters
    ----------
    id : str
        deck.gl layer id (stable; the builder must return a layer with this id).
    build : callable
        ``build(sources, style) -> pydeck.Layer``; ``sources`` maps registry layer names to
        GeoDataFrames (EPSG:4326).
    sources : tuple of str
        Registry layers the builder needs (all must be present).
    name_zh, name_en : str
        Name in the layer switcher.
    legend : callable or None
        ``legend(lang) -> [(label, rgb), ...]``; ``None`` for layers explained by the map.
    visible : bool
        Shown when the page opens.
    """

    id: str
    build: Callable[[Sources, MapStyle], pdk.Layer]
    sources: tuple[str, ...]
    name_zh: str
    name_en: str
    legend: Callable[[str], list[tuple[str, RGB]]] | None = None
    visible: bool = True


def _landuse(src: Sources, style: MapStyle) -> pdk.Layer:
    return build_landuse_layer(src["landuse"], style=style)


def _roads(src: Sources, style: MapStyle) -> pdk.Layer:
    return build_roads_layer(src["roads"], style=style)


def _grids(src: Sources, style: MapStyle) -> pdk.Layer:
    return build_grids_layer(src["grids"], style=style)


def _buildings(src: Sources, style: MapStyle) -> pdk.Layer:
    return build_buildings_layer(src["buildings"], style=style, addresses=src.get("addresses"))


def _sensor_grids(src: Sources, style: MapStyle) -> pdk.Layer:
    return build_sensor_grids_layer(src["grids"], style=style)


def _sensors(src: Sources, style: MapStyle) -> pdk.Layer:
    return build_sensors_layer(src["sensors"], style=style, buildings=src.get("buildings"))


def _warnings(src: Sources, style: MapStyle) -> pdk.Layer:
    return build_warnings_layer((), style=style)  # the browser fills in live warnings


LAYERS: dict[str, LayerSpec] = {
    spec.id: spec
    for spec in (
        LayerSpec("landuse", _landuse, ("landuse",), "用地与水系", "Land use & water"),
        LayerSpec("roads", _roads, ("roads",), "道路", "Roads"),
        LayerSpec("grids", _grids, ("grids",), "网格边界", "Grid boundaries"),
        LayerSpec(
            "sensor-grids",
            _sensor_grids,
            ("grids", "sensors"),
            "网格实时状态（最差）",
            "Grid live state (worst)",
        ),
        LayerSpec(
            "buildings",
            _buildings,
            ("buildings",),
            "建筑",
            "Buildings",
            legend=use_legend,
        ),
        LayerSpec(
            "sensors",
            _sensors,
            ("sensors",),
            "传感器实时状态",
            "Sensors, live state",
            legend=sensor_state_legend,
        ),
        LayerSpec("warnings", _warnings, (), "预警", "Warnings", legend=warning_legend),
    )
}


def build_layers(
    sources: Sources, *, style: str | MapStyle = "plain", only: Iterable[str] | None = None
) -> list[pdk.Layer]:
    """Build the layers of :data:`LAYERS` (draw order) from registry layers.

    Parameters
    ----------
    sources : mapping of str → geopandas.GeoDataFrame
        Registry layers by name, e.g. ``Registry.layers``.
    style : str or MapStyle
        A key of :data:`layers.style.STYLES` or a style.
    only : iterable of str, optional
        Layer ids to build; default all. Layers whose sources are missing are skipped.

    Returns
    -------
    list of pydeck.Layer
    """
    map_style = STYLES[style] if isinstance(style, str) else style
    wanted = set(LAYERS) if only is None else set(only)
    unknown = wanted - set(LAYERS)
    if unknown:
        raise KeyError(f"unknown layer ids {sorted(unknown)}; known: {', '.join(LAYERS)}")
    return [
        spec.build(sources, map_style)
        for spec in LAYERS.values()
        if spec.id in wanted and all(s in sources for s in spec.sources)
    ]
