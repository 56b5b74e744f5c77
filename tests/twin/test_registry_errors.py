"""Loading bad data fails with an error naming the layer, the row and the id."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import Point, Polygon

from twin.registry_io import RegistryError, load_registry, save_registry, validate_layers
from twin.samples import tiny_registry
from twin.schema import LAYERS, REFERENCES


def _load_broken(tmp_path, breaker):
    reg = tiny_registry()
    breaker(reg.layers)
    save_registry(reg, tmp_path, validate=False)
    with pytest.raises(RegistryError) as info:
        load_registry(tmp_path)
    return info.value


def test_missing_column_names_layer_and_column(tmp_path):
    err = _load_broken(tmp_path, lambda L: L.__setitem__(
        "buildings", L["buildings"].drop(columns=["height_m"])))  # fmt: skip
    assert (err.layer, err.row) == ("buildings", None)
    assert "height_m" in str(err) and "'buildings'" in str(err)


def test_invalid_geometry_names_row_and_id(tmp_path):
    def bowtie(L):
        b = L["buildings"]
        x0, y0, x1, y1 = b.geometry.iloc[3].bounds
        b.loc[3, "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])

    err = _load_broken(tmp_path, bowtie)
    assert (err.layer, err.row, err.entity_id) == ("buildings", 3, "B0004")
    assert "invalid geometry" in str(err) and "Self-intersection" in str(err)
    assert "row 3" in str(err) and "B0004" in str(err)


def test_wrong_geometry_type_is_rejected(tmp_path):
    def polygon_facility(L):
        f = L["facilities"]
        f.loc[2, "geometry"] = f.geometry.iloc[2].buffer(0.0001)

    err = _load_broken(tmp_path, polygon_facility)
    assert (err.layer, err.row, err.entity_id) == ("facilities", 2, "F03")
    assert "expected Point" in str(err)


def test_duplicate_id_names_the_second_row(tmp_path):
    err = _load_broken(tmp_path, lambda L: L["buildings"].__setitem__(
        "building_id", L["buildings"]["building_id"].replace("B0006", "B0001")))  # fmt: skip
    assert (err.layer, err.row, err.entity_id) == ("buildings", 5, "B0001")
    assert "duplicate building_id" in str(err)


def test_sensor_bound_to_unknown_entity(tmp_path):
    def orphan(L):
        L["sensors"].loc[4, "entity_id"] = "B9999"  # SN005, a smoke detector

    err = _load_broken(tmp_path, orphan)
    assert (err.layer, err.row, err.entity_id) == ("sensors", 4, "SN005")
    assert "unknown building 'B9999'" in str(err)


def test_sensor_entity_of_wrong_type_is_unknown(tmp_path):
    def wrong_type(L):
        L["sensors"].loc[0, "entity_type"] = "building"  # F07 is a facility, not a building

    err = _load_broken(tmp_path, wrong_type)
    assert (err.layer, err.row, err.entity_id) == ("sensors", 0, "SN001")


def test_unknown_sensor_kind(tmp_path):
    err = _load_broken(tmp_path, lambda L: L["sensors"].__setitem__(
        "kind", L["sensors"]["kind"].replace("elevator", "lift")))  # fmt: skip
    assert err.layer == "sensors" and "unknown sensor kind 'lift'" in str(err)


@pytest.mark.parametrize("layer,column", sorted(REFERENCES), ids=lambda v: str(v))
def test_every_broken_reference_is_reported(layer, column):
    reg = tiny_registry()
    frame = reg.layers[layer]
    frame.loc[1, column] = "NOPE"
    with pytest.raises(RegistryError) as info:
        validate_layers(reg.layers, reg.dem)
    err = info.value
    assert (err.layer, err.row) == (layer, 1)
    assert err.entity_id == frame[LAYERS[layer].id_column].iloc[1]
    assert f"{column} 'NOPE' names no row of {REFERENCES[(layer, column)][0]!r}" in str(err)


def test_building_outside_every_grid(tmp_path):
    def move_south(L):
        b = L["buildings"]
        b.loc[2, "geometry"] = shapely.affinity.translate(b.geometry.iloc[2], yoff=-0.01)

    err = _load_broken(tmp_path, move_south)
    assert (err.layer, err.row, err.entity_id) == ("buildings", 2, "B0003")
    assert "outside every grid" in str(err)


def test_missing_layer(tmp_path):
    err = _load_broken(tmp_path, lambda L: L.pop("landuse"))
    assert (err.layer, err.row) == ("landuse", None)


def test_missing_value_in_text_column(tmp_path):
    def null_name(L):
        L["roads"].loc[6, "name_zh"] = None

    err = _load_broken(tmp_path, null_name)
    assert (err.layer, err.row, err.entity_id) == ("roads", 6, "R07")


def test_validation_can_be_skipped_for_trusted_files(tmp_path):
    reg = tiny_registry()
    reg.layers["sensors"].loc[4, "entity_id"] = "B9999"
    save_registry(reg, tmp_path, validate=False)
    assert load_registry(tmp_path, validate=False).sensors["entity_id"].iloc[4] == "B9999"


def test_save_validates_by_default(tmp_path):
    reg = tiny_registry()
    reg.layers["facilities"].loc[0, "geometry"] = Point()
    with pytest.raises(RegistryError, match="missing or empty"):
        save_registry(reg, tmp_path)
    assert not (tmp_path / "district.gpkg").exists()


def test_error_is_a_value_error():
    err = RegistryError("grids", 7, "bad", "G08")
    assert isinstance(err, ValueError)
    assert str(err) == "layer 'grids' row 7 (id 'G08'): bad"
