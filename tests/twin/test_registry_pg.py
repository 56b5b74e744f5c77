"""The registry on a real PostgreSQL/PostGIS server: exact round trip, same errors as GeoPackage."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import sqlalchemy as sa
import xarray as xr
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import Polygon

from twin.registry_io import RegistryError, load_registry, save_registry
from twin.registry_pg import (
    DEFAULT_SCHEMA,
    is_postgres_url,
    load_any,
    load_registry_pg,
    save_registry_pg,
)
from twin.samples import tiny_registry


@pytest.fixture(scope="module")
def postgis_template(pg_server):
    """A database with the postgis extension that per-test databases are copied from."""
    url = pg_server.new_database(prefix="postgis_template")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE EXTENSION postgis"))
    engine.dispose()
    return url.rsplit("/", 1)[1]


@pytest.fixture
def pg_url(pg_server, postgis_template):
    return pg_server.new_database(prefix="registry", template=postgis_template)


def _sql(url: str, query: str):
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(query))
            return result.all() if result.returns_rows else []
    finally:
        engine.dispose()


def test_tiny_registry_round_trips_through_postgis_exactly(tiny, pg_url):
    assert is_postgres_url(pg_url)
    save_registry_pg(tiny, pg_url)
    back = load_registry_pg(pg_url)
    assert list(back.layers) == list(tiny.layers)
    for name, frame in tiny.layers.items():
        assert_geodataframe_equal(back.layers[name], frame, check_less_precise=False)
    # "" (outdoor facility, no feeder) is not turned into a missing value on the way
    assert (
        (back.facilities["building_id"] == "").sum()
        == (tiny.facilities["building_id"] == "").sum()
        > 0
    )
    xr.testing.assert_identical(back.dem, tiny.dem)
    assert back.meta == tiny.meta
    assert back.hierarchy_of("B0001") == tiny.hierarchy_of("B0001")


def test_geometries_are_postgis_geometries_queryable_in_sql(tiny, pg_url):
    save_registry_pg(tiny, pg_url)
    s = DEFAULT_SCHEMA
    assert _sql(pg_url, f"SELECT Find_SRID('{s}', 'buildings', 'geometry')") == [(4326,)]
    assert _sql(pg_url, f"SELECT DISTINCT ST_GeometryType(geometry) FROM {s}.sensors") == [
        ("ST_Point",)
    ]
    # buildings whose centroid lies in grid G01, by PostGIS and by the registry's own index
    (count,) = _sql(
        pg_url,
        f"SELECT count(*) FROM {s}.buildings b JOIN {s}.grids g "
        "ON ST_Contains(g.geometry, ST_Centroid(b.geometry)) WHERE g.grid_id = 'G01'",
    )[0]
    assert count == (tiny.buildings["grid_id"] == "G01").sum() == 4  # B0001..B0004


def test_bad_data_fails_with_the_same_error_as_the_geopackage(tmp_path, pg_url):
    reg = tiny_registry()
    b = reg.layers["buildings"]
    x0, y0, x1, y1 = b.geometry.iloc[3].bounds
    b.loc[3, "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # a bow tie
    save_registry_pg(reg, pg_url, validate=False)
    save_registry(reg, tmp_path, validate=False)
    with pytest.raises(RegistryError) as pg_err:
        load_registry_pg(pg_url)
    with pytest.raises(RegistryError) as gpkg_err:
        load_registry(tmp_path)
    assert (pg_err.value.layer, pg_err.value.row, pg_err.value.entity_id) == (
        "buildings",
        3,
        "B0004",
    )
    assert str(pg_err.value) == str(gpkg_err.value)
    assert "Self-intersection" in str(pg_err.value)


def test_missing_layer_table_is_named(tiny, pg_url):
    save_registry_pg(tiny, pg_url)
    _sql(pg_url, f"DROP TABLE {DEFAULT_SCHEMA}.water_pipes")
    with pytest.raises(RegistryError) as err:
        load_registry_pg(pg_url)
    assert (err.value.layer, err.value.row) == ("water_pipes", None)
    assert "layer is missing" in str(err.value)


def test_failed_save_leaves_the_previous_registry_whole(tiny, pg_url):
    save_registry_pg(tiny, pg_url)
    reg = tiny_registry()
    # a last extra layer the database cannot take: the save fails after the real layers
    reg.layers["zz_unwritable"] = gpd.GeoDataFrame(
        {"z": np.array([1 + 2j])}, geometry=[tiny.sensors.geometry.iloc[0]], crs="EPSG:4326"
    )
    reg.layers["buildings"] = reg.buildings.iloc[:5].copy()
    with pytest.raises(ValueError):
        save_registry_pg(reg, pg_url, validate=False)
    back = load_registry_pg(pg_url)
    assert len(back.buildings) == len(tiny.buildings) == 12
    assert "zz_unwritable" not in back.layers


def test_empty_database_and_unreachable_server_raise_registry_error(pg_url, pg_server):
    with pytest.raises(RegistryError) as err:
        load_registry_pg(pg_url)
    assert err.value.layer == "district" and "holds no registry" in str(err.value)
    closed = f"postgresql+psycopg://postgres@127.0.0.1:{pg_server.port}/no_such_db"
    with pytest.raises(RegistryError) as err:
        load_any(closed)
    assert err.value.layer == "district" and "cannot read" in str(err.value)


def test_load_any_takes_a_folder_or_a_url(tiny, tiny_dir, pg_url):
    save_registry_pg(tiny, pg_url)
    from_url, from_dir = load_any(pg_url), load_any(tiny_dir)
    assert_geodataframe_equal(from_url.roads, from_dir.roads, check_less_precise=False)
    assert not is_postgres_url(str(tiny_dir))


def test_cli_reads_a_registry_url_and_never_prints_its_password(tiny, pg_url, capsys):
    import json

    from dashboard.cli import main

    save_registry_pg(tiny, pg_url)
    assert main(["district", "info", pg_url, "--json"]) == 0
    info = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert info["counts"]["buildings"] == len(tiny.buildings)
    # serve needs a folder for its logs when the registry lives in a database
    assert main(["serve", "--district", pg_url]) == 2
    assert "--data-dir" in capsys.readouterr().err
    from dashboard.commands.serve import _shown

    assert _shown("postgresql+psycopg://twin:s3cret@db:5432/city") == (
        "postgresql+psycopg://twin:***@db:5432/city"
    )
