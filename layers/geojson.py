"""GeoDataFrame → compact GeoJSON for deck.gl: chosen columns only, coordinates rounded.

deck.gl receives layer data inside the deck JSON, so every byte counts: 6 decimal places of a
degree are about 0.1 m, well below what a street map shows, and roughly halve the text size
of a full-precision dump.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

#: decimal places kept in longitude/latitude (1e-6 degree ≈ 0.11 m)
COORD_DECIMALS = 6
GEOGRAPHIC_CRS = "EPSG:4326"


def feature_collection(
    gdf: gpd.GeoDataFrame, columns: Sequence[str], *, decimals: int = COORD_DECIMALS
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``gdf`` with only ``columns`` as properties.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Rows to draw; reprojected to EPSG:4326 if it carries another CRS.
    columns : sequence of str
        Property columns to keep (missing ones raise ``KeyError``).
    decimals : int
        Decimal places of the coordinates, degrees.

    Returns
    -------
    dict
        ``{"type": "FeatureCollection", "features": [...]}``, ready for ``json.dumps``.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(113.1234567, 23.1)], crs=4326)
    >>> feature_collection(g, ["a"])["features"][0]["geometry"]["coordinates"]
    [113.123457, 23.1]
    """
    if gdf.crs is not None and gdf.crs != GEOGRAPHIC_CRS:
        gdf = gdf.to_crs(GEOGRAPHIC_CRS)
    rounded = shapely.transform(np.asarray(gdf.geometry.array), lambda xy: np.round(xy, decimals))
    # GEOS writes the geometries; pandas boxes the properties as Python scalars, NaN → null
    geometries = shapely.to_geojson(rounded)
    props = gdf[list(columns)].astype(object)
    records = props.where(props.notna(), None).to_dict("records")
    features = [
        {"type": "Feature", "geometry": json.loads(g) if g else None, "properties": p}
        for g, p in zip(geometries.tolist(), records, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}
