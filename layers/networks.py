"""Water mains and power feeders, with the parts a fault detector has found faulted.

Geometry is the registry's ``water_pipes`` and ``power_feeders`` lines, sent once. Faults are
the open events of :class:`sim.utility.detector.UtilityFaultDetector` (``kind``,
``target``): a ``pipe_burst`` names its pipe, a ``feeder_outage`` its feeder. Faulted parts
are drawn in :data:`layers.style.NETWORK_STYLE` ``"fault"`` and
:data:`layers.style.FAULT_WIDTH_FACTOR` times wider — colour and width, not colour alone.
Live updates carry ``{part_id: {"c": RGBA, "w": m}}`` of the faulted parts only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import pandas as pd
import pydeck as pdk

from layers.geojson import feature_collection
from layers.style import FAULT_WIDTH_FACTOR, NETWORK_STYLE, NETWORK_WIDTH_M, PLAIN, MapStyle

NETWORKS_ID = "networks"
#: fault kind → the network whose part its ``target`` names
FAULT_NETWORK: dict[str, str] = {"pipe_burst": "water", "feeder_outage": "power"}


def faulted_parts(faults: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Part id → network (``"water"``/``"power"``) of open faults that name a network part.

    Cleared faults (``cleared_at`` set) and other kinds (gas leaks, silent devices) are left
    out.

    >>> faulted_parts([{"kind": "pipe_burst", "target": "P03"},
    ...                {"kind": "gas_leak", "target": "B0001"},
    ...                {"kind": "feeder_outage", "target": "FD02", "cleared_at": 5.0}])
    {'P03': 'water'}
    """
    out = {}
    for f in faults:
        net = FAULT_NETWORK.get(str(f.get("kind")))
        if net and f.get("cleared_at") is None and f.get("target") is not None:
            out[str(f["target"])] = net
    return out


def fault_values(faults: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Live values: faulted part id → ``{"c": RGBA, "w": width m, "net": network}``."""
    colour = [*NETWORK_STYLE["fault"][0][:3], 255]
    width = NETWORK_WIDTH_M * FAULT_WIDTH_FACTOR
    return {p: {"c": colour, "w": width, "net": n} for p, n in faulted_parts(faults).items()}


def build_networks_layer(
    water_pipes: gpd.GeoDataFrame | None,
    power_feeders: gpd.GeoDataFrame | None,
    *,
    faults: Iterable[Mapping[str, Any]] = (),
    style: MapStyle = PLAIN,
) -> pdk.Layer:
    """Pipes and feeders as a line ``GeoJsonLayer`` with id ``"networks"``.

    Features carry ``id`` (pipe or feeder id), ``net``, ``colour`` (RGBA) and ``width_m``;
    faulted parts (from ``faults``, detector events) are already highlighted.
    """
    del style  # network colours are the same on every map style
    frames = []
    for frame, id_col, net in (
        (water_pipes, "pipe_id", "water"),
        (power_feeders, "feeder_id", "power"),
    ):
        if frame is None or len(frame) == 0:
            continue
        part = frame[[id_col, "geometry"]].rename(columns={id_col: "id"})
        part["net"] = net
        frames.append(part)
    if frames:
        lines = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    else:
        lines = gpd.GeoDataFrame({"id": [], "net": []}, geometry=[], crs="EPSG:4326")
    faulted = fault_values(faults)
    lines["id"] = lines["id"].astype(str)
    lines["colour"] = [
        faulted[i]["c"] if i in faulted else [*NETWORK_STYLE[n][0][:3], 255]
        for i, n in zip(lines["id"], lines["net"], strict=True)
    ]
    lines["width_m"] = [faulted[i]["w"] if i in faulted else NETWORK_WIDTH_M for i in lines["id"]]
    return pdk.Layer(
        "GeoJsonLayer",
        id=NETWORKS_ID,
        data=feature_collection(lines, ("id", "net", "colour", "width_m")),
        stroked=True,
        filled=False,
        get_line_color="properties.colour",
        get_line_width="properties.width_m",
        line_width_units=pdk.types.String("meters"),
        line_width_min_pixels=2,
        pickable=True,
        parameters={"depthCompare": "always"},
    )
