"""Saving, loading and validating a registry: one GeoPackage, a NetCDF DEM and meta.json.

Loading is all-or-nothing: every layer is read and checked against :mod:`twin.schema` before a
:class:`~twin.registry.Registry` is built, and the first problem raises :class:`RegistryError`
naming the layer, the row (0-based position) and the id. Saving is deterministic: the same
registry gives byte-identical files (GeoPackage timestamps are pinned through GDAL's
``OGR_CURRENT_DATE``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely
import xarray as xr

from twin.fields import SENSOR_KINDS
from twin.registry import Registry
from twin.schema import (
    BOOL,
    ENTITY_LAYERS,
    FLOAT,
    GEOGRAPHIC_CRS,
    INT,
    LAYER_ORDER,
    LAYERS,
    REFERENCES,
    STR,
)

GPKG_NAME = "district.gpkg"
DEM_NAME = "dem.nc"
META_NAME = "meta.json"
#: timestamp written into the GeoPackage so that saving twice gives identical bytes
FIXED_GPKG_DATE = "2000-01-01T00:00:00.000Z"


class RegistryError(ValueError):
    """Registry data breaks the schema.

    Attributes
    ----------
    layer : str
        Layer at fault (``"dem"`` or ``"meta"`` for those files).
    row : int or None
        0-based row position in the layer, ``None`` when the fault is the layer's.
    entity_id : str or None
        Id of that row, when it has one.
    reason : str
        What is wrong.
    """

    def __init__(
        self, layer: str, row: int | None, reason: str, entity_id: str | None = None
    ) -> None:
        self.layer, self.row, self.reason, self.entity_id = layer, row, reason, entity_id
        where = f"layer {layer!r}"
        if row is not None:
            where += f" row {row}"
        if entity_id is not None:
            where += f" (id {entity_id!r})"
        super().__init__(f"{where}: {reason}")


# -- validation -----------------------------------------------------------------------------
def validate_layers(layers: dict[str, gpd.GeoDataFrame], dem: xr.DataArray | None) -> None:
    """Check layers (and the DEM) against :mod:`twin.schema`.

    Checks, in order: every layer present in EPSG:4326; required columns and their kinds;
    geometries present, valid and of the allowed types; ids non-empty and unique; every
    reference of :data:`twin.schema.REFERENCES`; sensors of known kinds bound to existing
    entities (:data:`twin.schema.ENTITY_LAYERS`); every building's centroid inside a grid.

    Raises
    ------
    RegistryError
        At the first problem found, naming layer, row and id.
    """
    for name in LAYER_ORDER:
        if name not in layers:
            raise RegistryError(name, None, "layer is missing")
        _check_layer(name, layers[name])
    ids = {name: layers[name][LAYERS[name].id_column] for name in LAYER_ORDER}
    for (name, column), (target, allow_empty) in REFERENCES.items():
        values = layers[name][column]
        bad = ~_isin(values, ids[target])
        if allow_empty:
            bad &= values.to_numpy() != ""
        _raise_first(layers[name], name, bad, lambda r, v=values, c=column, t=target: (
            f"{c} {v.iloc[r]!r} names no row of {t!r}"
        ))  # fmt: skip
    _check_sensors(layers["sensors"], ids)
    _check_buildings_in_grids(layers["buildings"], layers["grids"])
    if dem is not None:
        _check_dem(dem)


def _isin(values: pd.Series, targets: pd.Series) -> np.ndarray:
    """``values.isin(targets)`` through Arrow's hash join: pandas' isin on Arrow-backed
    strings loops in Python, which takes minutes on a city's 1.7 M building ids."""
    v = pa.array(values, from_pandas=True).cast(pa.large_string())
    t = pa.array(targets, from_pandas=True).cast(pa.large_string())
    return pc.is_in(v, value_set=t).fill_null(False).to_numpy(zero_copy_only=False)


def _raise_first(frame: pd.DataFrame, name: str, bad: np.ndarray, reason) -> None:
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        id_col = LAYERS[name].id_column
        entity = str(frame[id_col].iloc[row]) if id_col in frame.columns else None
        raise RegistryError(name, row, reason(row), entity)


def _check_layer(name: str, frame: gpd.GeoDataFrame) -> None:
    schema = LAYERS[name]
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise RegistryError(name, None, "is not a GeoDataFrame with a geometry column")
    if frame.crs is None or not frame.crs.equals(GEOGRAPHIC_CRS):
        raise RegistryError(name, None, f"CRS must be {GEOGRAPHIC_CRS}, got {frame.crs}")
    missing = [c for c in schema.columns if c not in frame.columns]
    if missing:
        raise RegistryError(name, None, f"missing column(s) {', '.join(missing)}")
    for column, kind in schema.columns.items():
        _check_kind(name, frame, column, kind)
    geoms = frame.geometry.to_numpy()
    _raise_first(frame, name, shapely.is_missing(geoms) | shapely.is_empty(geoms),
                 lambda r: "geometry is missing or empty")  # fmt: skip
    allowed = [int(shapely.GeometryType[t.upper()]) for t in schema.geometry]
    wrong = ~np.isin(shapely.get_type_id(geoms), allowed)
    _raise_first(frame, name, wrong, lambda r: (
        f"geometry is a {geoms[r].geom_type}, expected {' or '.join(schema.geometry)}"
    ))  # fmt: skip
    invalid = ~shapely.is_valid(geoms)
    _raise_first(frame, name, invalid, lambda r: (
        f"invalid geometry: {shapely.is_valid_reason(geoms[r])}"
    ))  # fmt: skip
    ids = frame[schema.id_column]
    _raise_first(frame, name, (ids.to_numpy() == "") | ids.isna().to_numpy(),
                 lambda r: f"empty {schema.id_column}")  # fmt: skip
    _raise_first(frame, name, ids.duplicated().to_numpy(),
                 lambda r: f"duplicate {schema.id_column} {ids.iloc[r]!r}")  # fmt: skip


def _check_kind(name: str, frame: pd.DataFrame, column: str, kind: str) -> None:
    s = frame[column]
    if kind == STR:
        ok = pd.api.types.is_string_dtype(s.dtype) or s.dtype == object
        if ok:
            _raise_first(frame, name, s.isna().to_numpy(), lambda r: f"{column} is missing")
            return
    elif kind == INT:
        ok = pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
    elif kind == FLOAT:
        ok = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
        if ok:
            _raise_first(frame, name, s.isna().to_numpy(), lambda r: f"{column} is missing")
            return
    elif kind == BOOL:
        ok = pd.api.types.is_bool_dtype(s.dtype)
    else:  # pragma: no cover - schema uses only the four kinds
        raise ValueError(kind)
    if not ok:
        raise RegistryError(name, None, f"column {column} has dtype {s.dtype}, expected {kind}")


def _check_sensors(sensors: gpd.GeoDataFrame, ids: dict[str, pd.Series]) -> None:
    kinds = sensors["kind"]
    _raise_first(sensors, "sensors", ~_isin(kinds, pd.Series(list(SENSOR_KINDS))),
                 lambda r: f"unknown sensor kind {kinds.iloc[r]!r}")  # fmt: skip
    etype = sensors["entity_type"]
    _raise_first(sensors, "sensors", ~_isin(etype, pd.Series(list(ENTITY_LAYERS))),
                 lambda r: f"unknown entity_type {etype.iloc[r]!r}")  # fmt: skip
    bad = np.zeros(len(sensors), dtype=bool)
    for entity_type, layer in ENTITY_LAYERS.items():
        mine = (etype == entity_type).to_numpy()
        if mine.any():
            bad[mine] = ~_isin(sensors["entity_id"][mine], ids[layer])
    _raise_first(sensors, "sensors", bad, lambda r: (
        f"bound to unknown {etype.iloc[r]} {sensors['entity_id'].iloc[r]!r}"
    ))  # fmt: skip


def _check_buildings_in_grids(buildings: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> None:
    from twin.spatial import PolygonIndex

    if len(buildings) == 0:
        return
    centroids = shapely.centroid(buildings.geometry.to_numpy())
    hit = PolygonIndex(grids.geometry.to_numpy()).query(
        shapely.get_x(centroids), shapely.get_y(centroids)
    )
    _raise_first(buildings, "buildings", hit < 0, lambda r: (
        f"centroid ({shapely.get_x(centroids[r]):.6f}, {shapely.get_y(centroids[r]):.6f}) "
        "lies outside every grid"
    ))  # fmt: skip


def _check_dem(dem: xr.DataArray) -> None:
    if dem.dims != ("y", "x"):
        raise RegistryError("dem", None, f"dims must be ('y', 'x'), got {dem.dims}")
    for axis in ("x", "y"):
        c = np.asarray(dem[axis])
        if c.size > 1 and not (np.diff(c) > 0).all():
            raise RegistryError("dem", None, f"{axis} coordinates must ascend")
    if "crs" not in dem.attrs:
        raise RegistryError("dem", None, "attribute 'crs' is missing")


# -- saving ---------------------------------------------------------------------------------
@contextmanager
def gdal_config(**options: str) -> Iterator[None]:
    """Set GDAL config options for the duration of a block, then restore them."""
    old = {k: pyogrio.get_gdal_config_option(k) for k in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(old)


def save_registry(reg: Registry, out_dir: str | os.PathLike, *, validate: bool = True) -> Path:
    """Write a registry to ``out_dir``: ``district.gpkg``, ``dem.nc`` and ``meta.json``.

    Parameters
    ----------
    reg : Registry
        What to write.
    out_dir : path
        Folder (created if needed); existing files of the same names are replaced.
    validate : bool
        Check the registry first (tests writing broken files turn this off).

    Returns
    -------
    pathlib.Path
        ``out_dir``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if validate:
        validate_layers(reg.layers, reg.dem)
    tmp = out / (".partial-" + GPKG_NAME)
    tmp.unlink(missing_ok=True)
    with gdal_config(OGR_CURRENT_DATE=FIXED_GPKG_DATE, OGR_SQLITE_JOURNAL="OFF"):
        names = [n for n in LAYER_ORDER if n in reg.layers] + [
            n for n in reg.layers if n not in LAYER_ORDER
        ]
        for name in names:
            frame = reg.layers[name]
            pyogrio.write_dataframe(
                frame, tmp, layer=name, driver="GPKG", use_arrow=True,
                layer_options={"SPATIAL_INDEX": "NO"},
            )  # fmt: skip
    os.replace(tmp, out / GPKG_NAME)
    _write_dem(reg.dem, out / DEM_NAME)
    (out / META_NAME).write_text(
        json.dumps(reg.meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    return out


def _write_dem(dem: xr.DataArray, path: Path) -> None:
    tmp = path.with_name(".partial-" + path.name)
    # rebuild from plain arrays so that encodings carried over from a loaded file do not
    # change the bytes; netCDF-3 has no HDF5 object timestamps either
    clean = xr.DataArray(
        np.asarray(dem.values, dtype=np.float64),
        dims=("y", "x"),
        coords={"y": np.asarray(dem["y"], np.float64), "x": np.asarray(dem["x"], np.float64)},
        name="elevation",
        attrs={str(k): v for k, v in dem.attrs.items()},
    )
    encoding = {v: {"_FillValue": None} for v in ("elevation", "x", "y")}
    clean.to_dataset().to_netcdf(tmp, format="NETCDF3_64BIT", engine="scipy", encoding=encoding)
    os.replace(tmp, path)


# -- loading --------------------------------------------------------------------------------
def district_gpkg(path: str | os.PathLike) -> Path:
    """The GeoPackage of a saved registry (``path``: the folder or the file itself).

    Raises
    ------
    RegistryError
        When it does not exist (checked without reading it).
    """
    folder = Path(path)
    if folder.suffix == ".gpkg":
        folder = folder.parent
    gpkg = folder / GPKG_NAME
    if not gpkg.exists():
        raise RegistryError("district", None, f"{gpkg} does not exist")
    return gpkg


def load_registry(path: str | os.PathLike, *, validate: bool = True) -> Registry:
    """Read a registry written by :func:`save_registry`.

    Parameters
    ----------
    path : path
        The folder, or its ``district.gpkg``.
    validate : bool
        Check every layer (default); skip only for data you just wrote yourself.

    Returns
    -------
    Registry

    Raises
    ------
    RegistryError
        Missing files or layers, or data that breaks the schema. Nothing is returned
        partially.
    """
    gpkg = district_gpkg(path)
    folder = gpkg.parent
    present = {row[0] for row in pyogrio.list_layers(gpkg)}
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name in LAYER_ORDER:
        if name not in present:
            raise RegistryError(name, None, f"layer is missing from {gpkg.name}")
        layers[name] = _read_layer(gpkg, name)
    for name in sorted(present - set(LAYER_ORDER)):
        layers[name] = _read_layer(gpkg, name)
    dem = _read_dem(folder / DEM_NAME)
    meta_path = folder / META_NAME
    if not meta_path.exists():
        raise RegistryError("meta", None, f"{meta_path} does not exist")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if validate:
        validate_layers(layers, dem)
    return Registry(layers=layers, dem=dem, meta=meta)


def _read_layer(gpkg: Path, name: str) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(gpkg, layer=name, use_arrow=True, on_invalid="ignore")
    if frame.crs is None:
        frame = frame.set_crs(GEOGRAPHIC_CRS)
    return frame


def _read_dem(path: Path) -> xr.DataArray:
    if not path.exists():
        raise RegistryError("dem", None, f"{path} does not exist")
    with xr.open_dataset(path, engine="scipy") as ds:
        if "elevation" not in ds:
            raise RegistryError("dem", None, "variable 'elevation' is missing")
        dem = ds["elevation"].load()
    return dem


def registry_files(path: str | os.PathLike) -> dict[str, Path]:
    """The three files of a saved registry."""
    folder = Path(path)
    return {"gpkg": folder / GPKG_NAME, "dem": folder / DEM_NAME, "meta": folder / META_NAME}


def describe(path: str | os.PathLike) -> dict[str, Any]:
    """Summary of a saved registry (loads it; see :meth:`Registry.summary`)."""
    return load_registry(path).summary()
