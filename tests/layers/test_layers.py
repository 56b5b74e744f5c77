"""Layer builders: pure, stable ids, colours from the style module, deck.gl-ready JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pydeck as pdk
import pytest
import shapely

from layers import registry as layer_registry
from layers.basemap import build_landuse_layer, build_roads_layer
from layers.buildings import build_buildings_layer, building_heights_m
from layers.geojson import feature_collection
from layers.style import (
    DARK,
    NO_WARNING_COLOUR,
    OKABE_ITO,
    PLAIN,
    STYLES,
    USE_GROUP_STYLE,
    USE_GROUPS,
    WARNING_COLOURS,
    WARNING_LEVELS,
    class_colour,
    use_legend,
    warning_legend,
)
from twin.samples import tiny_registry


@pytest.fixture(scope="module")
def reg():
    return tiny_registry()


def layer_json(layer: pdk.Layer) -> dict:
    """The layer as createDeck receives it."""
    return json.loads(pdk.Deck(layers=[layer], map_provider=None).to_json())["layers"][0]


def by_id(layer: dict, column: str) -> dict[str, dict]:
    return {f["properties"][column]: f["properties"] for f in layer["data"]["features"]}


# -- the table ------------------------------------------------------------------------------
@pytest.mark.parametrize("layer_id", list(layer_registry.LAYERS))
def test_every_registered_layer_builds_with_its_stable_id(reg, layer_id: str) -> None:
    spec = layer_registry.LAYERS[layer_id]
    sources = {**reg.layers, "dem": reg.dem}
    assert spec.id == layer_id
    assert set(spec.sources) <= set(sources)
    assert spec.live is None or spec.live in layer_registry.LIVE_MODES
    for style in STYLES.values():
        if spec.styles is not None and style.name not in spec.styles:
            continue
        out = layer_json(spec.build(sources, style))
        assert out["id"] == layer_id
        if out["@@type"] == "BitmapLayer":  # rasters: an image between four corners
            assert out["image"].startswith("data:image/png;base64,")
        elif not spec.sources or spec.live in ("subset", "records"):
            # live-only layers (warnings, tickets, fire) start empty; values come later
            data = out["data"]
            assert data == [] or data["features"] == []
        elif out["@@type"] == "GeoJsonLayer" and spec.live is None:
            assert len(out["data"]["features"]) == len(reg.layers[spec.sources[0]])
        elif out["@@type"] == "ScatterplotLayer" and spec.live is None:
            assert len(out["data"]) == len(reg.layers[spec.sources[0]])
    assert spec.name_zh and spec.name_en
    if spec.legend is not None:
        zh, en = spec.legend("zh"), spec.legend("en")
        assert len(zh) == len(en) > 0
        assert all(len(rgb) >= 3 for _, rgb in zh)


def test_layers_are_drawn_base_map_first_buildings_last(reg) -> None:
    ids = [layer.id for layer in layer_registry.build_layers(reg.layers)]
    assert ids == [
        "landuse",
        "roads",
        "grids",
        "sensor-grids",
        "buildings",
        "sensors",
        "warnings",
    ]


def test_build_layers_skips_missing_sources_and_rejects_unknown_ids(reg) -> None:
    only_buildings = {"buildings": reg.buildings}
    built = [layer.id for layer in layer_registry.build_layers(only_buildings)]
    assert built == ["buildings", "warnings"]
    with pytest.raises(KeyError, match="flood"):
        layer_registry.build_layers(reg.layers, only=["flood"])


def test_builders_are_pure_same_input_same_json_input_untouched(reg) -> None:
    before = {name: reg.layers[name].copy() for name in ("buildings", "roads", "landuse")}
    first = [layer_json(x) for x in layer_registry.build_layers(reg.layers, style="dark")]
    second = [layer_json(x) for x in layer_registry.build_layers(reg.layers, style="dark")]
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(reg.layers[name], frame)


def test_only_accessors_are_expressions(reg) -> None:
    """pydeck turns plain strings into "@@=" expressions; enums must stay literal strings."""
    for layer in layer_registry.build_layers(reg.layers):
        out = layer_json(layer)
        for key, value in out.items():
            if isinstance(value, str) and value.startswith("@@="):
                assert key.startswith("get"), f"{out['id']}.{key} = {value}"
    roads = layer_json(build_roads_layer(reg.roads))
    assert roads["lineWidthUnits"] == "meters"


# -- buildings ------------------------------------------------------------------------------
def test_buildings_extruded_by_height_and_coloured_by_use(reg) -> None:
    out = layer_json(build_buildings_layer(reg.buildings, addresses=reg.addresses))
    assert out["extruded"] is True and out["pickable"] is True
    assert out["getElevation"] == "@@=properties.height_m"
    assert out["getFillColor"] == "@@=properties.fill"
    props = by_id(out, "building_id")
    b = reg.buildings.set_index("building_id")
    for building_id, p in props.items():
        assert p["height_m"] == pytest.approx(b.loc[building_id, "height_m"], abs=0.05)
        rgb = USE_GROUP_STYLE[USE_GROUPS[b.loc[building_id, "use"]]][0]
        assert p["fill"] == [*rgb, PLAIN.building_alpha]
    # B0001 is a 6-storey residential block (see twin.samples)
    assert props["B0001"]["use"] == "residential"
    assert props["B0001"]["use_zh"] == "住宅"
    assert props["B0001"]["levels"] == 6
    assert props["B0001"]["fill"] == [222, 214, 196, 255]


def test_building_tooltips_carry_name_and_address(reg) -> None:
    props = by_id(
        layer_json(build_buildings_layer(reg.buildings, addresses=reg.addresses)), "building_id"
    )
    address = reg.addresses.set_index("building_id").loc["B0001"]
    assert props["B0001"]["address_zh"] == address["text_zh"]
    assert props["B0001"]["address_en"] == address["text_en"]
    assert props["B0001"]["name_zh"] == reg.buildings.iloc[0]["name_zh"]
    without = by_id(layer_json(build_buildings_layer(reg.buildings)), "building_id")
    assert without["B0001"]["address_zh"] == ""


def test_buildings_coloured_by_warning_level_when_given(reg) -> None:
    out = layer_json(
        build_buildings_layer(reg.buildings, style=DARK, warning_levels={"B0001": "red"})
    )
    props = by_id(out, "building_id")
    assert props["B0001"]["fill"] == [215, 25, 32, DARK.building_alpha]
    assert props["B0002"]["fill"] == [*NO_WARNING_COLOUR, DARK.building_alpha]


def test_building_height_falls_back_to_levels_then_one_storey() -> None:
    import geopandas as gpd

    frame = gpd.GeoDataFrame(
        {"height_m": [12.0, np.nan, 0.0, np.nan], "levels": [4, 5, 2, 0]},
        geometry=[shapely.box(0, 0, 1, 1)] * 4,
    )
    assert building_heights_m(frame).tolist() == [12.0, 15.0, 6.0, 3.0]


# -- base map -------------------------------------------------------------------------------
def test_landuse_water_painted_last_in_style_colour(reg) -> None:
    for style in (PLAIN, DARK):
        features = layer_json(build_landuse_layer(reg.landuse, style=style))["data"]["features"]
        assert features[-1]["properties"]["kind"] == "water"
        assert features[-1]["properties"]["fill"] == list(style.landuse["water"])
    assert PLAIN.landuse["water"] != DARK.landuse["water"]


def test_roads_drawn_at_width_in_metres_major_roads_on_top(reg) -> None:
    features = layer_json(build_roads_layer(reg.roads))["data"]["features"]
    props = {f["properties"]["road_id"]: f["properties"] for f in features}
    assert props["R01"]["width_m"] == 24.0  # Dongjiang Avenue, arterial
    assert props["R05"]["width_m"] == 6.0  # West Lane
    assert props["R01"]["colour"] == list(PLAIN.roads["arterial"])
    kinds = [f["properties"]["kind"] for f in features]
    assert kinds.index("arterial") > max(i for i, k in enumerate(kinds) if k == "lane")


def test_feature_collection_rounds_to_six_decimals_and_keeps_columns(reg) -> None:
    fc = feature_collection(reg.buildings, ["building_id"])
    ring = fc["features"][0]["geometry"]["coordinates"][0]
    assert all(round(c, 6) == c for xy in ring for c in xy)
    assert set(fc["features"][0]["properties"]) == {"building_id"}
    metric = feature_collection(reg.metric("buildings"), ["building_id"])
    x, y = metric["features"][0]["geometry"]["coordinates"][0][0]
    assert 113.7 < x < 113.8 and 23.0 < y < 23.1  # reprojected back to lon/lat


# -- style ----------------------------------------------------------------------------------
def test_warning_levels_in_order_with_four_distinct_colours() -> None:
    assert WARNING_LEVELS == ("blue", "yellow", "orange", "red")
    assert len({WARNING_COLOURS[level] for level in WARNING_LEVELS}) == 4
    assert [label for label, _ in warning_legend("zh")][-1] == "红色预警"
    assert [label for label, _ in warning_legend("en")][0] == "Blue warning"


def test_use_palette_distinct_and_colour_blind_safe_hues() -> None:
    colours = [entry[0] for entry in USE_GROUP_STYLE.values()]
    assert len(set(colours)) == len(colours)
    okabe = set(OKABE_ITO.values())
    # every saturated category colour is an Okabe-Ito colour; the neutral ones are greys/beige
    for rgb in colours:
        saturated = max(rgb) - min(rgb) > 60
        assert not saturated or rgb in okabe
    assert [label for label, _ in use_legend("en")][0] == "Residential"
    assert set(USE_GROUPS.values()) == set(USE_GROUP_STYLE)


def test_class_colour_boundaries() -> None:
    breaks, colours = (0.1, 0.3), ((1, 1, 1), (2, 2, 2), (3, 3, 3))
    assert class_colour(0.0, breaks, colours) == (1, 1, 1)
    assert class_colour(0.1, breaks, colours) == (2, 2, 2)  # a break belongs to the class above
    assert class_colour(0.29, breaks, colours) == (2, 2, 2)
    assert class_colour(5.0, breaks, colours) == (3, 3, 3)
    with pytest.raises(ValueError):
        class_colour(0.0, breaks, colours[:2])
