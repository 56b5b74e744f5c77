"""The registry on PostgreSQL/PostGIS: save and load a :class:`Registry` by database URL.

The same registry that :mod:`twin.registry_io` writes as ``district.gpkg`` + ``dem.nc`` +
``meta.json`` lives here in one PostgreSQL schema (default ``registry``) of a database with
the PostGIS extension:

* one table per layer, named as the layer, written by GeoPandas ``to_postgis`` (through
  GeoAlchemy2): the columns of :mod:`twin.schema`, a ``geometry`` column with SRID 4326
  (PostGIS type ``GEOMETRY`` when a layer mixes Polygon and MultiPolygon), and a ``_row``
  column holding the row position, so that rows come back in the order they were saved;
* ``_dem``: the DEM as one **raster-free** row — elevations, x and y as little-endian float64
  ``bytea`` with their shape, and the DataArray attributes as JSON. We chose this over
  PostGIS raster (``postgis_raster`` is a separate extension, and raster2pgsql a separate
  tool, and the models want the plain array) and over a NetCDF file beside the URL (then a
  district would live in two places that can drift apart and a load could not be
  all-or-nothing). The bytes round-trip the float64 values exactly;
* ``_meta``: ``meta.json`` as one JSON text row.

Saving replaces the whole schema in **one transaction** (``DROP SCHEMA … CASCADE``, then
every table): readers see the old district or the new one, never half of each. Loading
reads every table in one REPEATABLE READ transaction, then checks the layers and the DEM with
:func:`twin.registry_io.validate_layers`, exactly like the GeoPackage path; the first problem
raises the same :class:`~twin.registry_io.RegistryError` (layer, row, id), and nothing is
returned partially.

URLs are SQLAlchemy URLs with the psycopg 3 driver, e.g.
``postgresql+psycopg://user@host:5432/streettwin``. :func:`load_any` and :func:`save_any`
take either such a URL or a folder, for callers that accept both.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa
import xarray as xr

from twin.registry import Registry
from twin.registry_io import (
    RegistryError,
    load_registry,
    save_registry,
    validate_layers,
)
from twin.schema import GEOGRAPHIC_CRS, LAYER_ORDER

DEFAULT_SCHEMA = "registry"
DEM_TABLE = "_dem"
META_TABLE = "_meta"
ROW_COLUMN = "_row"
GEOMETRY_COLUMN = "geometry"
#: byte order and type of the DEM arrays in ``_dem``
DEM_DTYPE = "<f8"
_URL_PREFIXES = ("postgresql://", "postgresql+", "postgres://")


def is_postgres_url(target: Any) -> bool:
    """True when ``target`` is a PostgreSQL URL (rather than a folder path).

    >>> is_postgres_url("postgresql+psycopg://u@h/db"), is_postgres_url("var/demo-district")
    (True, False)
    """
    return isinstance(target, str) and target.startswith(_URL_PREFIXES)


def make_engine(url: str) -> sa.Engine:
    """A SQLAlchemy engine for ``url`` (``postgresql://`` is given the psycopg 3 driver)."""
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return sa.create_engine(url, pool_pre_ping=True)


def _where(url: str, schema: str) -> str:
    """The URL without password, and the schema, for error messages."""
    return f"{sa.make_url(url).render_as_string(hide_password=True)} schema {schema!r}"


# -- saving ---------------------------------------------------------------------------------
def save_registry_pg(
    reg: Registry,
    url: str,
    *,
    schema: str = DEFAULT_SCHEMA,
    validate: bool = True,
    engine: sa.Engine | None = None,
) -> str:
    """Write a registry into ``schema`` of the PostGIS database at ``url``, replacing it.

    Parameters
    ----------
    reg : Registry
        What to write.
    url : str
        SQLAlchemy URL of the database; it must have the ``postgis`` extension (created here
        when missing and the user may).
    schema : str
        PostgreSQL schema that holds the district (dropped and rewritten).
    validate : bool
        Check the registry first (tests writing broken data turn this off).
    engine : sqlalchemy.Engine, optional
        Reuse an engine instead of making one from ``url``.

    Returns
    -------
    str
        ``url``.
    """
    if validate:
        validate_layers(reg.layers, reg.dem)
    eng = engine or make_engine(url)
    names = [n for n in LAYER_ORDER if n in reg.layers] + [
        n for n in reg.layers if n not in LAYER_ORDER
    ]
    try:
        with eng.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            for name in names:
                _write_layer(conn, schema, name, reg.layers[name])
            _write_dem(conn, schema, reg.dem)
            _write_meta(conn, schema, reg.meta)
    finally:
        if engine is None:
            eng.dispose()
    return url


def _write_layer(conn: sa.Connection, schema: str, name: str, frame: gpd.GeoDataFrame) -> None:
    if frame.geometry.name != GEOMETRY_COLUMN:
        frame = frame.rename_geometry(GEOMETRY_COLUMN)
    out = frame.reset_index(drop=True)
    out.index.name = ROW_COLUMN
    out.to_postgis(name, conn, schema=schema, if_exists="fail", index=True)
    _restore_empty_strings(conn, schema, name, out)


def _restore_empty_strings(
    conn: sa.Connection, schema: str, name: str, frame: gpd.GeoDataFrame
) -> None:
    """Put back the empty strings that ``to_postgis`` turned into NULL.

    GeoPandas uploads through ``COPY … WITH CSV``, where an empty field means NULL, so ``""``
    (the registry's "no feeder", "outdoor facility") arrives as NULL. Rows that really were
    missing stay NULL, so loading still reports them as the GeoPackage path does.
    """
    for column in frame.columns:
        s = frame[column]
        if column == GEOMETRY_COLUMN or not (
            s.dtype == object or pd.api.types.is_string_dtype(s.dtype)
        ):
            continue
        empty = (s == "").fillna(False).to_numpy(bool)
        if not empty.any():
            continue
        missing = np.flatnonzero(s.isna().to_numpy()).tolist()
        conn.execute(
            sa.text(
                f'UPDATE "{schema}"."{name}" SET "{column}" = \'\' WHERE "{column}" IS NULL'
                f' AND NOT ("{ROW_COLUMN}" = ANY(:missing))'
            ),
            {"missing": missing},
        )


def _write_dem(conn: sa.Connection, schema: str, dem: xr.DataArray | None) -> None:
    conn.execute(
        sa.text(
            f'CREATE TABLE "{schema}"."{DEM_TABLE}" (name text, ny integer, nx integer, '
            "dims text, elevation bytea, x bytea, y bytea, attrs text)"
        )
    )
    if dem is None:
        return
    values = np.ascontiguousarray(dem.values, dtype=DEM_DTYPE)
    conn.execute(
        sa.text(
            f'INSERT INTO "{schema}"."{DEM_TABLE}" VALUES '
            "(:name, :ny, :nx, :dims, :elevation, :x, :y, :attrs)"
        ),
        {
            "name": str(dem.name or "elevation"),
            "ny": int(values.shape[0]),
            "nx": int(values.shape[1]) if values.ndim > 1 else 1,
            "dims": json.dumps([str(d) for d in dem.dims]),
            "elevation": values.tobytes(),
            "x": np.asarray(dem["x"], DEM_DTYPE).tobytes() if "x" in dem.coords else b"",
            "y": np.asarray(dem["y"], DEM_DTYPE).tobytes() if "y" in dem.coords else b"",
            "attrs": json.dumps({str(k): _plain(v) for k, v in dem.attrs.items()}),
        },
    )


def _plain(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v.item() if isinstance(v, np.generic) else v


def _write_meta(conn: sa.Connection, schema: str, meta: dict[str, Any]) -> None:
    conn.execute(sa.text(f'CREATE TABLE "{schema}"."{META_TABLE}" (meta text)'))
    conn.execute(
        sa.text(f'INSERT INTO "{schema}"."{META_TABLE}" VALUES (:meta)'),
        {"meta": json.dumps(meta, ensure_ascii=False, sort_keys=True)},
    )


# -- loading --------------------------------------------------------------------------------
def load_registry_pg(
    url: str,
    *,
    schema: str = DEFAULT_SCHEMA,
    validate: bool = True,
    engine: sa.Engine | None = None,
) -> Registry:
    """Read a registry written by :func:`save_registry_pg`.

    Parameters
    ----------
    url : str
        SQLAlchemy URL of the database.
    schema : str
        PostgreSQL schema holding the district.
    validate : bool
        Check every layer (default); skip only for data you just wrote yourself.
    engine : sqlalchemy.Engine, optional
        Reuse an engine instead of making one from ``url``.

    Returns
    -------
    Registry

    Raises
    ------
    RegistryError
        An unreachable database, a missing schema, layer, DEM or meta, or data that breaks
        the schema — as :func:`twin.registry_io.load_registry` does. Nothing is returned
        partially.
    """
    where = _where(url, schema)
    eng = engine or make_engine(url)
    try:
        # one snapshot for every table: a save committing meanwhile is seen whole or not at all
        with eng.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        ) as conn:
            present = set(sa.inspect(conn).get_table_names(schema=schema))
            if not present:
                raise RegistryError("district", None, f"{where} holds no registry")
            layers: dict[str, gpd.GeoDataFrame] = {}
            for name in LAYER_ORDER:
                if name not in present:
                    raise RegistryError(name, None, f"layer is missing from {where}")
                layers[name] = _read_layer(conn, schema, name)
            extra = present - set(LAYER_ORDER) - {DEM_TABLE, META_TABLE}
            for name in sorted(extra):
                layers[name] = _read_layer(conn, schema, name)
            dem = _read_dem(conn, schema, present, where)
            meta = _read_meta(conn, schema, present, where)
            conn.rollback()
    except sa.exc.OperationalError as exc:
        raise RegistryError("district", None, f"cannot read {where}: {exc.orig}") from exc
    finally:
        if engine is None:
            eng.dispose()
    if validate:
        validate_layers(layers, dem)
    return Registry(layers=layers, dem=dem, meta=meta)


def _read_layer(conn: sa.Connection, schema: str, name: str) -> gpd.GeoDataFrame:
    columns = {c["name"] for c in sa.inspect(conn).get_columns(name, schema=schema)}
    if GEOMETRY_COLUMN not in columns:
        raise RegistryError(name, None, "is not a GeoDataFrame with a geometry column")
    order = f' ORDER BY "{ROW_COLUMN}"' if ROW_COLUMN in columns else ""
    frame = gpd.read_postgis(
        sa.text(f'SELECT * FROM "{schema}"."{name}"{order}'), conn, geom_col=GEOMETRY_COLUMN
    )
    frame = frame.drop(columns=[ROW_COLUMN], errors="ignore").reset_index(drop=True)
    if frame.crs is None:
        # an empty layer carries no SRID to read; the registry's layers are all EPSG:4326
        frame = frame.set_crs(GEOGRAPHIC_CRS) if len(frame) == 0 else frame
    return frame


def _read_dem(conn: sa.Connection, schema: str, present: set[str], where: str):
    if DEM_TABLE not in present:
        raise RegistryError("dem", None, f"{where} has no {DEM_TABLE} table")
    row = conn.execute(sa.text(f'SELECT * FROM "{schema}"."{DEM_TABLE}"')).mappings().first()
    if row is None:
        return None
    ny, nx = int(row["ny"]), int(row["nx"])
    try:
        values = np.frombuffer(bytes(row["elevation"]), DEM_DTYPE).reshape(ny, nx)
        x = np.frombuffer(bytes(row["x"]), DEM_DTYPE)
        y = np.frombuffer(bytes(row["y"]), DEM_DTYPE)
        dims = tuple(json.loads(row["dims"]))
        coords = {"y": y.copy(), "x": x.copy()} if x.size == nx and y.size == ny else {}
        return xr.DataArray(
            values.copy(),
            dims=dims,
            coords={k: v for k, v in coords.items() if k in dims},
            name=row["name"],
            attrs=json.loads(row["attrs"]),
        )
    except (ValueError, TypeError) as exc:
        raise RegistryError("dem", None, f"unreadable DEM in {where}: {exc}") from exc


def _read_meta(conn: sa.Connection, schema: str, present: set[str], where: str) -> dict:
    if META_TABLE not in present:
        raise RegistryError("meta", None, f"{where} has no {META_TABLE} table")
    text = conn.execute(sa.text(f'SELECT meta FROM "{schema}"."{META_TABLE}"')).scalar()
    if text is None:
        raise RegistryError("meta", None, f"{where}: {META_TABLE} is empty")
    return json.loads(text)


# -- either backend -------------------------------------------------------------------------
def load_any(target: str | os.PathLike, *, validate: bool = True) -> Registry:
    """Load a registry from a folder (GeoPackage) or a PostgreSQL URL."""
    if is_postgres_url(target):
        return load_registry_pg(str(target), validate=validate)
    return load_registry(target, validate=validate)


def save_any(reg: Registry, target: str | os.PathLike, *, validate: bool = True) -> str | Path:
    """Save a registry to a folder (GeoPackage) or a PostgreSQL URL; returns ``target``."""
    if is_postgres_url(target):
        return save_registry_pg(reg, str(target), validate=validate)
    return save_registry(reg, target, validate=validate)
