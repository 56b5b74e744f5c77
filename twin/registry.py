"""The twin registry: every place, thing and network of a district, with its hierarchy.

A :class:`Registry` holds one GeoDataFrame per layer of :data:`twin.schema.LAYERS` (EPSG:4326,
RangeIndex), a DEM and a ``meta`` dict. It answers the questions the rest of the system asks of
the places it watches: which building and grid a point falls in, what lies within a radius,
everything of a grid, the hierarchy of a building, and the road / water / power networks.

Saving, loading and validation live in :mod:`twin.registry_io`; the fast point index in
:mod:`twin.spatial`; the graph builders in :mod:`twin.networks`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
import xarray as xr

from twin import networks
from twin.schema import DEFAULT_METRIC_CRS, GEOGRAPHIC_CRS, LAYERS

#: hierarchy level → (child layer, column of the child naming its parent)
CHILD_OF: dict[str, tuple[str, str]] = {
    "street": ("communities", "street_id"),
    "community": ("grids", "community_id"),
    "grid": ("microgrids", "grid_id"),
    "microgrid": ("buildings", "microgrid_id"),
}

#: layers carrying a grid_id column (the others are assigned to grids spatially)
_GRID_KEYED = ("microgrids", "buildings", "addresses", "facilities", "sensors")


@dataclass(eq=False)
class Registry:
    """A district: its layers, its DEM and its metadata.

    Parameters
    ----------
    layers : dict of str → geopandas.GeoDataFrame
        One frame per key of :data:`twin.schema.LAYERS`, CRS EPSG:4326, RangeIndex.
    dem : xarray.DataArray
        Ground elevation in m, named ``"elevation"``, dims ``("y", "x")``, cell-centre
        coordinates in the metric CRS (m, ascending), attrs ``{"crs": ..., "units": "m"}``.
    meta : dict
        ``name_zh``, ``name_en``, ``street_id``, ``metric_crs``, ``utc_offset``, ``seed``,
        ``source`` and anything else the builder records.
    """

    layers: dict[str, gpd.GeoDataFrame]
    dem: xr.DataArray
    meta: dict[str, Any]
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    # -- layer shortcuts -------------------------------------------------------------------
    @property
    def buildings(self) -> gpd.GeoDataFrame:
        return self.layers["buildings"]

    @property
    def grids(self) -> gpd.GeoDataFrame:
        return self.layers["grids"]

    @property
    def communities(self) -> gpd.GeoDataFrame:
        return self.layers["communities"]

    @property
    def microgrids(self) -> gpd.GeoDataFrame:
        return self.layers["microgrids"]

    @property
    def addresses(self) -> gpd.GeoDataFrame:
        return self.layers["addresses"]

    @property
    def facilities(self) -> gpd.GeoDataFrame:
        return self.layers["facilities"]

    @property
    def sensors(self) -> gpd.GeoDataFrame:
        return self.layers["sensors"]

    @property
    def roads(self) -> gpd.GeoDataFrame:
        return self.layers["roads"]

    @property
    def water_nodes(self) -> gpd.GeoDataFrame:
        return self.layers["water_nodes"]

    @property
    def water_pipes(self) -> gpd.GeoDataFrame:
        return self.layers["water_pipes"]

    @property
    def power_feeders(self) -> gpd.GeoDataFrame:
        return self.layers["power_feeders"]

    @property
    def landuse(self) -> gpd.GeoDataFrame:
        return self.layers["landuse"]

    @property
    def metric_crs(self) -> str:
        """The district's metric CRS (m), e.g. ``"EPSG:32649"``."""
        return str(self.meta.get("metric_crs", DEFAULT_METRIC_CRS))

    # -- caches ----------------------------------------------------------------------------
    def clear_cache(self) -> None:
        """Forget derived data (metric frames, indexes, graphs) after editing a layer."""
        self._cache.clear()

    def metric(self, layer: str) -> gpd.GeoDataFrame:
        """``layer`` reprojected to the metric CRS (cached; do not modify the result)."""
        key = ("metric", layer)
        if key not in self._cache:
            self._cache[key] = self.layers[layer].to_crs(self.metric_crs)
        return self._cache[key]

    def id_index(self, layer: str) -> dict[str, int]:
        """Map id → row position of ``layer`` (cached)."""
        key = ("ids", layer)
        if key not in self._cache:
            ids = self.layers[layer][LAYERS[layer].id_column].to_numpy()
            self._cache[key] = {str(v): i for i, v in enumerate(ids)}
        return self._cache[key]

    def row(self, layer: str, entity_id: str) -> Any:
        """The row (a pandas Series) of ``entity_id`` in ``layer``; KeyError if unknown."""
        return self.layers[layer].iloc[self.id_index(layer)[entity_id]]

    # -- hierarchy -------------------------------------------------------------------------
    def hierarchy_of(self, building_id: str) -> dict[str, str]:
        """Street, community, grid, micro-grid and address of a building.

        Returns
        -------
        dict
            ``street_id``, ``street_name_zh``, ``street_name_en``, ``community_id``,
            ``community_name_zh``, ``community_name_en``, ``grid_id``, ``grid_name_zh``,
            ``grid_name_en``, ``microgrid_id``, ``building_id``, ``address_id``,
            ``address_zh``, ``address_en``.
        """
        b = self.row("buildings", building_id)
        c = self.row("communities", b["community_id"])
        g = self.row("grids", b["grid_id"])
        a = self.row("addresses", b["address_id"])
        return {
            "street_id": str(c["street_id"]),
            "street_name_zh": str(self.meta.get("name_zh", "")),
            "street_name_en": str(self.meta.get("name_en", "")),
            "community_id": str(c["community_id"]),
            "community_name_zh": str(c["name_zh"]),
            "community_name_en": str(c["name_en"]),
            "grid_id": str(g["grid_id"]),
            "grid_name_zh": str(g["name_zh"]),
            "grid_name_en": str(g["name_en"]),
            "microgrid_id": str(b["microgrid_id"]),
            "building_id": str(building_id),
            "address_id": str(a["address_id"]),
            "address_zh": str(a["text_zh"]),
            "address_en": str(a["text_en"]),
        }

    def parent_ids(self) -> dict[str, str]:
        """Each node's parent id in the hierarchy (community → street, grid → community,
        micro-grid → grid, building → micro-grid; cached)."""
        key = ("parents",)
        if key not in self._cache:
            parents: dict[str, str] = {}
            for layer, column in CHILD_OF.values():
                frame = self.layers[layer]
                ids = frame[LAYERS[layer].id_column].astype(str)
                parents.update(zip(ids, frame[column].astype(str), strict=True))
            self._cache[key] = parents
        return self._cache[key]

    def building_names(self, lang: str = "zh") -> dict[str, str]:
        """Building id → its name (``name_zh`` or ``name_en``; cached per language)."""
        key = ("building_names", lang)
        if key not in self._cache:
            column = "name_zh" if lang == "zh" else "name_en"
            frame = self.buildings
            self._cache[key] = dict(
                zip(frame["building_id"].astype(str), frame[column].astype(str), strict=True)
            )
        return self._cache[key]

    def children(self, level: str, parent_id: str) -> gpd.GeoDataFrame:
        """The direct children of a hierarchy node.

        Parameters
        ----------
        level : {"street", "community", "grid", "microgrid"}
            Level of the parent.
        parent_id : str
            Its id.

        Returns
        -------
        geopandas.GeoDataFrame
            Communities of a street, grids of a community, micro-grids of a grid or
            buildings of a micro-grid (original row order, original index).
        """
        if level not in CHILD_OF:
            raise ValueError(f"unknown level {level!r}; choose from {', '.join(CHILD_OF)}")
        layer, column = CHILD_OF[level]
        frame = self.layers[layer]
        return frame[frame[column].to_numpy() == parent_id]

    def of_grid(self, grid_id: str) -> dict[str, gpd.GeoDataFrame]:
        """Every layer's rows that belong to (or cross) a grid.

        Layers with a ``grid_id`` column are filtered by it; communities give the grid's
        community; networks and land use are the rows sharing a line (area for polygons,
        the point for points) with the grid, its edge included.
        """
        grid = self.row("grids", grid_id)
        polygon = grid.geometry
        out: dict[str, gpd.GeoDataFrame] = {}
        for name, frame in self.layers.items():
            if name == "grids":
                out[name] = frame[frame["grid_id"].to_numpy() == grid_id]
            elif name == "communities":
                out[name] = frame[frame["community_id"].to_numpy() == grid["community_id"]]
            elif name in _GRID_KEYED:
                out[name] = frame[frame["grid_id"].to_numpy() == grid_id]
            else:
                hits = np.sort(frame.sindex.query(polygon, predicate="intersects"))
                geoms = frame.geometry.to_numpy()[hits]
                # keep rows sharing a piece of their own dimension with the grid (a road along
                # the grid's edge belongs to it; one merely touching a corner does not)
                shared = shapely.intersection(geoms, polygon)
                keep = ~shapely.is_empty(shared) & (
                    shapely.get_dimensions(shared) >= shapely.get_dimensions(geoms)
                )
                out[name] = frame.iloc[hits[keep]]
        return out

    # -- spatial ---------------------------------------------------------------------------
    def polygon_index(self, layer: str):
        """The fast point-in-polygon index of a polygon layer (cached)."""
        from twin.spatial import PolygonIndex

        key = ("pindex", layer)
        if key not in self._cache:
            self._cache[key] = PolygonIndex(self.layers[layer].geometry.to_numpy())
        return self._cache[key]

    def locate(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        """Building and grid containing each point (vectorised).

        Parameters
        ----------
        lon, lat : array_like of float
            WGS 84 longitude and latitude in degrees.

        Returns
        -------
        building_row, grid_row : numpy.ndarray of int64
            Row positions in :attr:`buildings` and :attr:`grids`; ``-1`` where no polygon
            contains the point (a point exactly on an edge may go either way).
        """
        lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        return (
            self.polygon_index("buildings").query(lon, lat),
            self.polygon_index("grids").query(lon, lat),
        )

    def within_radius(
        self, lon: float, lat: float, radius_m: float, layer: str
    ) -> gpd.GeoDataFrame:
        """Rows of ``layer`` whose geometry comes within ``radius_m`` metres of a point.

        Distances are measured in the metric CRS. Rows are returned in layer order with
        an added column ``distance_m``.
        """
        frame = self.metric(layer)
        x, y = _to_metric(self.metric_crs, [lon], [lat])
        centre = shapely.points(x[0], y[0])
        hits = np.sort(frame.sindex.query(centre, predicate="dwithin", distance=radius_m))
        out = self.layers[layer].iloc[hits].copy()
        out["distance_m"] = shapely.distance(frame.geometry.to_numpy()[hits], centre)
        return out

    # -- networks --------------------------------------------------------------------------
    def road_graph(self) -> nx.MultiGraph:
        """The routable road graph (cached; treat as read-only).

        Nodes are junction ids with ``x``, ``y`` in the metric CRS (m); edges are keyed by
        ``road_id`` and carry ``length_m`` (m), ``travel_time_s`` (s) and ``kind``.
        """
        if "road_graph" not in self._cache:
            self._cache["road_graph"] = networks.road_graph(self.metric("roads"))
        return self._cache["road_graph"]

    def nearest_road_nodes(self, lon: Any, lat: Any) -> list[str | None]:
        """The road-graph junction nearest each point (metric distance; vectorised).

        Parameters
        ----------
        lon, lat : array_like of float
            WGS 84 longitude and latitude in degrees.

        Returns
        -------
        list of str or None
            Junction ids; ``None`` for every point when the district has no roads.
        """
        lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        if "road_nodes" not in self._cache:
            from scipy.spatial import cKDTree

            graph = self.road_graph() if len(self.roads) else nx.MultiGraph()
            nodes = [str(n) for n in graph.nodes]
            xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in graph.nodes])
            self._cache["road_nodes"] = (nodes, cKDTree(xy) if nodes else None)
        nodes, tree = self._cache["road_nodes"]
        if tree is None:
            return [None] * len(lon)
        x, y = _to_metric(self.metric_crs, lon, np.atleast_1d(np.asarray(lat, dtype=np.float64)))
        _, idx = tree.query(np.column_stack([x, y]))
        return [nodes[i] for i in np.atleast_1d(idx)]

    def water_graph(self) -> nx.Graph:
        """The water supply network (cached): nodes with ``kind``, ``elevation_m``, ``x``,
        ``y``; edges with ``pipe_id``, ``diameter_m``, ``length_m``."""
        if "water_graph" not in self._cache:
            self._cache["water_graph"] = networks.water_graph(
                self.metric("water_nodes"), self.layers["water_pipes"]
            )
        return self._cache["water_graph"]

    def buildings_on_feeder(self, feeder_id: str) -> gpd.GeoDataFrame:
        """Buildings supplied by a power feeder."""
        b = self.buildings
        return b[b["feeder_id"].to_numpy() == feeder_id]

    # -- misc ------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Row counts per layer and the district's name, for ``district info``."""
        return {
            "name_zh": self.meta.get("name_zh", ""),
            "name_en": self.meta.get("name_en", ""),
            "street_id": self.meta.get("street_id", ""),
            "metric_crs": self.metric_crs,
            "counts": {name: int(len(frame)) for name, frame in self.layers.items()},
            "dem_shape": [int(s) for s in self.dem.shape],
            "bounds_lonlat": [float(v) for v in self.layers["grids"].total_bounds],
        }


def _to_metric(crs: str, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    t = Transformer.from_crs(GEOGRAPHIC_CRS, crs, always_xy=True)
    x, y = t.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)
