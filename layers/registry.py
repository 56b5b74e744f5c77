"""The explicit table of map layers the UI iterates: id, builder, sources, names and legend.

:data:`LAYERS` is a plain dict in draw order (bottom first). Adding a layer means writing a
pure builder in its own module and one :class:`LayerSpec` row here; the dashboard's layer
switcher and legend read this table, and one meta-test checks every row.

Two kinds of rows: the district's own layers, built into every deck (the wall screen's too),
and *on-demand* layers (hazard and operations overlays) that the map page adds behind its
layer switcher. Model-driven layers are built empty from the registry; their values (a flood
image, colours by id, point records) arrive later, as described by ``live``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pydeck as pdk

from layers.basemap import build_grids_layer, build_landuse_layer, build_roads_layer
from layers.buildings import build_buildings_layer
from layers.crowd import build_crowd_layer
from layers.dispatch import build_crews_layer, build_tickets_layer
from layers.fire import build_fire_arrival_layer
from layers.flood import build_flood_depth_layer
from layers.gridstate import build_grid_state_layer
from layers.networks import build_networks_layer
from layers.sensors import build_sensor_grids_layer, build_sensors_layer
from layers.style import (
    RGB,
    STYLES,
    MapStyle,
    crew_legend,
    fire_legend,
    flood_depth_legend,
    los_legend,
    network_legend,
    sensor_state_legend,
    ticket_legend,
    use_legend,
    warning_legend,
)
from layers.terrain import build_hillshade_layer
from layers.warnings import build_warnings_layer

Sources = Mapping[str, Any]  # registry layer name → GeoDataFrame; "dem" → xarray.DataArray

#: how the browser updates a layer's values (``LayerSpec.live``): replace the image and
#: bounds, recolour features by id, draw a subset of another layer's features by id, or
#: replace the (small) records whole
LIVE_MODES = ("bitmap", "colour", "subset", "records")


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
    on_demand : bool
        Built only when asked for (``only=`` or ``on_demand=True``): the map page's overlays,
        left out of the wall screen's deck.
    styles : tuple of str, optional
        Map styles the layer belongs to (default: all), e.g. the hillshade of ``terrain``.
    live : str, optional
        How live values update it in the browser, one of :data:`LIVE_MODES`.
    """

    id: str
    build: Callable[[Sources, MapStyle], pdk.Layer]
    sources: tuple[str, ...]
    name_zh: str
    name_en: str
    legend: Callable[[str], list[tuple[str, RGB]]] | None = None
    visible: bool = True
    on_demand: bool = False
    styles: tuple[str, ...] | None = None
    live: str | None = None


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


def _hillshade(src: Sources, style: MapStyle) -> pdk.Layer:
    return build_hillshade_layer(src["dem"], style=style)


def _flood(src: Sources, style: MapStyle) -> pdk.Layer:
    return build_flood_depth_layer(None, style=style)  # the nowcast's image comes live


def _grid_state(src: Sources, style: MapStyle) -> pdk.Layer:
    return build_grid_state_layer(src["grids"], style=style)


def _networks(src: Sources, style: MapStyle) -> pdk.Layer:
    return build_networks_layer(src["water_pipes"], src["power_feeders"], style=style)


def _fire(src: Sources, style: MapStyle) -> pdk.Layer:
    return build_fire_arrival_layer(src["buildings"], None, style=style)


def _crowd(src: Sources, style: MapStyle) -> pdk.Layer:
    return build_crowd_layer(src["facilities"], sensors=src.get("sensors"), style=style)


def _tickets(src: Sources, style: MapStyle) -> pdk.Layer:
    return build_tickets_layer((), style=style)


def _crews(src: Sources, style: MapStyle) -> pdk.Layer:
    return build_crews_layer((), style=style)


LAYERS: dict[str, LayerSpec] = {
    spec.id: spec
    for spec in (
        LayerSpec("landuse", _landuse, ("landuse",), "用地与水系", "Land use & water"),
        LayerSpec("hillshade", _hillshade, ("dem",), "地形晕渲", "Hillshade", styles=("terrain",)),
        LayerSpec("roads", _roads, ("roads",), "道路", "Roads"),
        LayerSpec(
            "flood-depth",
            _flood,
            (),
            "积水深度",
            "Flood depth",
            legend=flood_depth_legend,
            visible=False,
            on_demand=True,
            live="bitmap",
        ),
        LayerSpec("grids", _grids, ("grids",), "网格边界", "Grid boundaries"),
        LayerSpec(
            "sensor-grids",
            _sensor_grids,
            ("grids", "sensors"),
            "网格实时状态（最差）",
            "Grid live state (worst)",
        ),
        LayerSpec(
            "grid-state",
            _grid_state,
            ("grids",),
            "网格边界（最高预警）",
            "Grid boundaries by worst warning",
            legend=warning_legend,
            visible=False,
            on_demand=True,
            live="colour",
        ),
        LayerSpec(
            "networks",
            _networks,
            ("water_pipes", "power_feeders"),
            "供水供电管网",
            "Water & power networks",
            legend=network_legend,
            visible=False,
            on_demand=True,
            live="colour",
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
            "fire-arrival",
            _fire,
            ("buildings",),
            "火势蔓延到达时间",
            "Fire arrival time",
            legend=fire_legend,
            visible=False,
            on_demand=True,
            live="subset",
        ),
        LayerSpec(
            "crowd-density",
            _crowd,
            ("facilities",),
            "人群密度（服务水平）",
            "Crowd density (level of service)",
            legend=los_legend,
            visible=False,
            on_demand=True,
            live="colour",
        ),
        LayerSpec(
            "sensors",
            _sensors,
            ("sensors",),
            "传感器实时状态",
            "Sensors, live state",
            legend=sensor_state_legend,
        ),
        LayerSpec(
            "tickets",
            _tickets,
            (),
            "未结工单",
            "Open tickets",
            legend=ticket_legend,
            visible=False,
            on_demand=True,
            live="records",
        ),
        LayerSpec(
            "crews",
            _crews,
            (),
            "处置班组",
            "Crews",
            legend=crew_legend,
            visible=False,
            on_demand=True,
            live="records",
        ),
        LayerSpec("warnings", _warnings, (), "预警", "Warnings", legend=warning_legend),
    )
}


def build_layers(
    sources: Sources,
    *,
    style: str | MapStyle = "plain",
    only: Iterable[str] | None = None,
    on_demand: bool = False,
) -> list[pdk.Layer]:
    """Build the layers of :data:`LAYERS` (draw order) from registry layers.

    Parameters
    ----------
    sources : mapping of str → geopandas.GeoDataFrame
        Registry layers by name, e.g. ``Registry.layers``; add ``"dem"`` (the registry's
        DEM) for the terrain style's hillshade.
    style : str or MapStyle
        A key of :data:`layers.style.STYLES` or a style.
    only : iterable of str, optional
        Layer ids to build (on-demand ones included); default all but the on-demand ones.
        Layers whose sources are missing, or not of this style, are skipped.
    on_demand : bool
        With ``only=None``: build the on-demand layers too.

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
        if spec.id in wanted
        and (only is not None or on_demand or not spec.on_demand)
        and (spec.styles is None or map_style.name in spec.styles)
        and all(s in sources for s in spec.sources)
    ]
