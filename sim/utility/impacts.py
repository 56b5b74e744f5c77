"""Who a utility fault affects: buildings, people, vulnerable residents, critical facilities.

Impacts follow the networks: a burst cuts the buildings supplied by nodes downstream of the
pipe, an outage the buildings on the feeder, a gas leak its building and the neighbours within
the isolation radius, a silent device the buildings it monitors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from pyproj import Transformer

from twin.schema import GEOGRAPHIC_CRS

#: neighbours of a gas leak within this distance are listed as affected, m (an initial
#: isolation distance of the order used for a building gas leak; tune per city rules)
GAS_ISOLATION_RADIUS_M = 50.0
#: at most this many ids listed per kind (counts are always complete)
MAX_IDS = 200


class ImpactIndex:
    """Aggregates exposure over building sets of a registry.

    Parameters
    ----------
    registry : twin.registry.Registry
    """

    def __init__(self, registry: Any) -> None:
        b = registry.buildings
        self.building_ids = b["building_id"].astype(str).to_numpy()
        self.pos = {k: i for i, k in enumerate(self.building_ids)}
        self.counts = {
            col: b[col].to_numpy(float)
            for col in ("occupants", "elderly_alone", "disabled", "children")
        }
        self.feeder = b["feeder_id"].astype(str).to_numpy()
        bm = registry.metric("buildings").geometry.centroid
        self.bx, self.by = bm.x.to_numpy(), bm.y.to_numpy()
        self.to_lonlat = Transformer.from_crs(registry.metric_crs, GEOGRAPHIC_CRS, always_xy=True)
        # building → supplying water node (named, else the nearest node)
        nodes = registry.metric("water_nodes")
        node_ids = nodes["node_id"].astype(str).to_numpy()
        named = b["water_node_id"].astype(str).to_numpy()
        self.water_node = named.copy()
        if len(node_ids):
            nx_, ny_ = nodes.geometry.x.to_numpy(), nodes.geometry.y.to_numpy()
            missing = ~np.isin(named, node_ids)
            for i in np.flatnonzero(missing):
                j = np.argmin((nx_ - self.bx[i]) ** 2 + (ny_ - self.by[i]) ** 2)
                self.water_node[i] = node_ids[j]
        f = registry.facilities
        self.fac_ids = f["facility_id"].astype(str).to_numpy()
        self.fac_building = f["building_id"].astype(str).to_numpy()
        self.fac_kind = f["kind"].astype(str).to_numpy()
        self.fac_critical = f["critical"].to_numpy(bool)

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        """Metric (m) → WGS 84 (lon, lat) degrees."""
        lon, lat = self.to_lonlat.transform(x, y)
        return float(lon), float(lat)

    def of_buildings(self, rows: np.ndarray, **extra: Any) -> dict[str, Any]:
        """Exposure of a set of building rows.

        Returns
        -------
        dict
            ``buildings`` (count), ``building_ids`` (≤ :data:`MAX_IDS`), ``people``,
            ``elderly_alone``, ``disabled``, ``children`` (counts of people) and
            ``critical_facilities`` (ids with their kinds), plus ``extra``.
        """
        rows = np.unique(np.asarray(rows, int))
        ids = self.building_ids[rows]
        crit = np.isin(self.fac_building, ids) & self.fac_critical
        out: dict[str, Any] = {
            "buildings": len(rows),
            "building_ids": [str(v) for v in ids[:MAX_IDS]],
            "people": int(self.counts["occupants"][rows].sum()),
            "elderly_alone": int(self.counts["elderly_alone"][rows].sum()),
            "disabled": int(self.counts["disabled"][rows].sum()),
            "children": int(self.counts["children"][rows].sum()),
            "critical_facilities": [
                {"facility_id": str(i), "kind": str(k)}
                for i, k in zip(self.fac_ids[crit], self.fac_kind[crit], strict=True)
            ],
        }
        out.update(extra)
        return out

    def of_water_nodes(self, node_ids, **extra: Any) -> dict[str, Any]:
        """Exposure of the buildings supplied by the given water nodes."""
        return self.of_buildings(np.flatnonzero(np.isin(self.water_node, list(node_ids))), **extra)

    def of_feeder(self, feeder_id: str, **extra: Any) -> dict[str, Any]:
        """Exposure of the buildings on a power feeder."""
        return self.of_buildings(np.flatnonzero(self.feeder == feeder_id), **extra)

    def around_building(
        self, building_id: str, radius_m: float = GAS_ISOLATION_RADIUS_M, **extra: Any
    ) -> dict[str, Any]:
        """Exposure of a building and its neighbours whose centroids lie within ``radius_m``."""
        i = self.pos[building_id]
        near = np.hypot(self.bx - self.bx[i], self.by - self.by[i]) <= radius_m
        return self.of_buildings(np.flatnonzero(near), radius_m=radius_m, **extra)

    def building_xy(self, building_id: str) -> tuple[float, float]:
        """Centroid of a building, metric m."""
        i = self.pos[building_id]
        return float(self.bx[i]), float(self.by[i])


def line_midpoints(geoms) -> tuple[np.ndarray, np.ndarray]:
    """x, y of the point halfway along each line."""
    pts = shapely.line_interpolate_point(np.asarray(geoms), 0.5, normalized=True)
    return shapely.get_x(pts), shapely.get_y(pts)
