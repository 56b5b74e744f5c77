"""Named colours, palettes and thresholds of every map layer: the one place a colour is chosen.

Colours are ``(r, g, b)`` or ``(r, g, b, a)`` tuples of ints 0–255, as deck.gl wants them.
Category colours follow the Okabe–Ito palette (distinguishable with the common forms of
colour blindness); the warning colours are the four levels of the Chinese early-warning
system (GB/T 27962: 蓝 blue < 黄 yellow < 橙 orange < 红 red) and are always shown together
with their text, never by colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RGB = tuple[int, ...]

#: Okabe & Ito (2008) colour-universal-design palette
OKABE_ITO: dict[str, RGB] = {
    "black": (0, 0, 0),
    "orange": (230, 159, 0),
    "sky_blue": (86, 180, 233),
    "bluish_green": (0, 158, 115),
    "yellow": (240, 228, 66),
    "blue": (0, 114, 178),
    "vermillion": (213, 94, 0),
    "reddish_purple": (204, 121, 167),
}

#: warning levels, least to most severe
WARNING_LEVELS: tuple[str, ...] = ("blue", "yellow", "orange", "red")
WARNING_COLOURS: dict[str, RGB] = {
    "blue": (30, 110, 220),
    "yellow": (250, 210, 0),
    "orange": (245, 130, 0),
    "red": (215, 25, 32),
}
WARNING_NAMES: dict[str, tuple[str, str]] = {
    "blue": ("蓝色预警", "Blue warning"),
    "yellow": ("黄色预警", "Yellow warning"),
    "orange": ("橙色预警", "Orange warning"),
    "red": ("红色预警", "Red warning"),
}

#: building use → display group; the legend shows groups, not all twelve uses
USE_GROUPS: dict[str, str] = {
    "residential": "residential",
    "mixed": "commercial",
    "commercial": "commercial",
    "market": "commercial",
    "office": "office",
    "industrial": "industrial",
    "warehouse": "industrial",
    "school": "school",
    "hospital": "care",
    "elderly_home": "care",
    "public": "public",
    "garage": "public",
}
#: display group → (colour, 中文, English); order is the legend order
USE_GROUP_STYLE: dict[str, tuple[RGB, str, str]] = {
    "residential": ((222, 214, 196), "住宅", "Residential"),
    "commercial": (OKABE_ITO["orange"], "商业", "Commercial"),
    "office": (OKABE_ITO["sky_blue"], "办公", "Office"),
    "industrial": ((150, 150, 150), "工业仓储", "Industrial"),
    "school": (OKABE_ITO["yellow"], "学校", "School"),
    "care": (OKABE_ITO["reddish_purple"], "医疗养老", "Hospital / care"),
    "public": (OKABE_ITO["bluish_green"], "公共设施", "Public"),
}
#: colour of a building whose use is not in USE_GROUPS
UNKNOWN_USE_COLOUR: RGB = (190, 190, 190)
#: colour of a building without a warning when buildings are coloured by warning level
NO_WARNING_COLOUR: RGB = (200, 200, 200)

#: flood depth classes on roads and blocks, m (upper bounds); colours from light to dark blue
FLOOD_DEPTH_BREAKS_M: tuple[float, ...] = (0.05, 0.15, 0.30, 0.50)
FLOOD_DEPTH_COLOURS: tuple[RGB, ...] = (
    (198, 219, 239),
    (107, 174, 214),
    (33, 113, 181),
    (8, 69, 148),
    (8, 48, 107),
)

#: height of one building level when a footprint has no height, m
DEFAULT_LEVEL_HEIGHT_M = 3.0


@dataclass(frozen=True)
class MapStyle:
    """Colours of the base map and its overlays in one visual style.

    Parameters
    ----------
    name : str
        Key in :data:`STYLES`.
    background : tuple
        Page colour under the map (CSS), RGB.
    landuse : dict
        Land-use kind → fill colour (RGBA); ``"water"`` is rivers and ponds.
    landuse_default : tuple
        Fill for kinds not listed.
    roads : dict
        Road kind → line colour (RGBA).
    grid_line : tuple
        Outline of grid boundaries (RGBA).
    building_alpha : int
        Opacity 0–255 of building fills.
    text : tuple
        Colour of labels on this background (RGB).
    """

    name: str
    background: RGB
    landuse: dict[str, RGB] = field(default_factory=dict)
    landuse_default: RGB = (230, 230, 225, 255)
    roads: dict[str, RGB] = field(default_factory=dict)
    road_default: RGB = (255, 255, 255, 255)
    grid_line: RGB = (60, 60, 60, 200)
    building_alpha: int = 255
    text: RGB = (20, 20, 20)


PLAIN = MapStyle(
    name="plain",
    background=(242, 239, 233),
    landuse={
        "water": (150, 195, 235, 255),
        "park": (200, 228, 190, 255),
        "green": (200, 228, 190, 255),
        "residential": (234, 228, 220, 255),
        "commercial": (242, 226, 214, 255),
        "industrial": (225, 222, 230, 255),
        "public": (226, 232, 240, 255),
    },
    landuse_default=(236, 233, 226, 255),
    roads={
        "arterial": (250, 220, 150, 255),
        "secondary": (255, 255, 255, 255),
        "lane": (255, 255, 255, 230),
    },
    grid_line=(90, 70, 140, 220),
    building_alpha=255,
    text=(20, 20, 20),
)

DARK = MapStyle(
    name="dark",
    background=(14, 18, 26),
    landuse={
        "water": (25, 60, 105, 255),
        "park": (22, 45, 34, 255),
        "green": (22, 45, 34, 255),
        "residential": (30, 34, 42, 255),
        "commercial": (36, 34, 40, 255),
        "industrial": (32, 32, 38, 255),
        "public": (30, 36, 46, 255),
    },
    landuse_default=(26, 30, 38, 255),
    roads={
        "arterial": (120, 110, 90, 255),
        "secondary": (80, 86, 98, 255),
        "lane": (60, 66, 78, 255),
    },
    grid_line=(150, 170, 255, 200),
    building_alpha=255,
    text=(235, 235, 235),
)

#: the plain palette on an earth-toned ground, drawn under a hillshade of the DEM
#: (:mod:`layers.terrain`): relief reads from the shading, land use stays recognisable
TERRAIN = MapStyle(
    name="terrain",
    background=(232, 226, 208),
    landuse={
        "water": (140, 185, 225, 255),
        "park": (196, 220, 170, 255),
        "green": (196, 220, 170, 255),
        "residential": (236, 228, 208, 255),
        "commercial": (240, 224, 204, 255),
        "industrial": (226, 220, 214, 255),
        "public": (228, 230, 220, 255),
    },
    landuse_default=(234, 228, 210, 255),
    roads={
        "arterial": (250, 220, 150, 255),
        "secondary": (255, 252, 244, 255),
        "lane": (255, 252, 244, 230),
    },
    grid_line=(90, 70, 140, 220),
    building_alpha=255,
    text=(20, 20, 20),
)

STYLES: dict[str, MapStyle] = {s.name: s for s in (PLAIN, DARK, TERRAIN)}


def use_colour(use: str, *, alpha: int = 255) -> RGB:
    """Fill colour of a building by its use.

    >>> use_colour("school")
    (240, 228, 66, 255)
    >>> use_colour("unknown", alpha=100)
    (190, 190, 190, 100)
    """
    group = USE_GROUPS.get(use)
    rgb = USE_GROUP_STYLE[group][0] if group else UNKNOWN_USE_COLOUR
    return (*rgb[:3], alpha)


def warning_colour(level: str | None, *, alpha: int = 255) -> RGB:
    """Fill colour of a warning level; ``None`` or ``""`` means no warning.

    >>> warning_colour("red")
    (215, 25, 32, 255)
    >>> warning_colour(None)
    (200, 200, 200, 255)
    """
    rgb = WARNING_COLOURS.get(level or "", NO_WARNING_COLOUR)
    return (*rgb[:3], alpha)


def class_colour(value: float, breaks: tuple[float, ...], colours: tuple[RGB, ...]) -> RGB:
    """Colour of ``value`` in a classed scale: class ``i`` holds ``breaks[i-1] <= v < breaks[i]``.

    ``colours`` has one more entry than ``breaks``.

    >>> class_colour(0.2, FLOOD_DEPTH_BREAKS_M, FLOOD_DEPTH_COLOURS)
    (33, 113, 181)
    """
    if len(colours) != len(breaks) + 1:
        raise ValueError("colours needs exactly one more entry than breaks")
    for i, upper in enumerate(breaks):
        if value < upper:
            return colours[i]
    return colours[-1]


def css(rgb: RGB) -> str:
    """CSS colour of an RGB(A) tuple.

    >>> css((255, 0, 0, 128))
    'rgba(255,0,0,0.502)'
    """
    if len(rgb) == 4:
        return f"rgba({rgb[0]},{rgb[1]},{rgb[2]},{rgb[3] / 255:.3f})"
    return f"rgb({rgb[0]},{rgb[1]},{rgb[2]})"


def use_legend(lang: str = "zh") -> list[tuple[str, RGB]]:
    """Legend rows ``(label, colour)`` of buildings coloured by use, in ``"zh"`` or ``"en"``."""
    col = 1 if lang == "zh" else 2
    return [(entry[col], entry[0]) for entry in USE_GROUP_STYLE.values()]


def warning_legend(lang: str = "zh") -> list[tuple[str, RGB]]:
    """Legend rows ``(label, colour)`` of the four warning levels, least severe first."""
    col = 0 if lang == "zh" else 1
    return [(WARNING_NAMES[level][col], WARNING_COLOURS[level]) for level in WARNING_LEVELS]


# --- live sensor states (layers.sensors, the wall screen) ------------------------------------
#: live state classes of a sensor, least to most severe; the grid layer shows the worst inside
SENSOR_STATES: tuple[str, ...] = ("ok", "stale", "rejected", "alarm")
#: state → (colour, 中文, English); Okabe–Ito hues plus grey, always shown with their text
SENSOR_STATE_STYLE: dict[str, tuple[RGB, str, str]] = {
    "ok": (OKABE_ITO["bluish_green"], "正常", "Live"),
    "stale": ((150, 150, 150), "数据过期", "Stale"),
    "rejected": (OKABE_ITO["reddish_purple"], "数据异常", "Rejected"),
    "alarm": (OKABE_ITO["vermillion"], "超限报警", "Alarm"),
}
#: a reading at or above this SI value raises the sensor's ``alarm`` state (quantities not
#: listed never alarm). Sources: 30 mm/h is China's 暴雨 hourly class; 15 cm of road water
#: stops cars; 20 % LEL is the usual first gas-alarm set point (GB 15322); 60 °C indoor air
#: and any smoke-detector or elevator fault code are alarms by definition.
SENSOR_ALARM_SI: dict[str, float] = {
    "rain__intensity": 30.0 / 3.6e6,
    "river__water_level": 3.5,
    "drain__water_depth": 1.0,
    "road__water_depth": 0.15,
    "building__smoke_alarm": 0.5,
    "building__air_temperature": 60.0,
    "building__gas_concentration": 0.20,
    "elevator__status": 0.5,
}
#: below this deck.gl zoom the wall screen shows grids by worst state instead of points
AGGREGATE_BELOW_ZOOM = 15.5


def sensor_state_legend(lang: str = "zh") -> list[tuple[str, RGB]]:
    """Legend rows ``(label, colour)`` of the live sensor states, least severe first."""
    col = 1 if lang == "zh" else 2
    return [(SENSOR_STATE_STYLE[s][col], SENSOR_STATE_STYLE[s][0]) for s in SENSOR_STATES]


# --- hazard and operations layers (layers.flood, .fire, .crowd, .networks, .dispatch) --------
#: water shallower than this is drawn as dry (transparent), m: below a kerb's puddle
FLOOD_DRY_M = 0.02
#: flood depth raster opacity 0–255 (translucent: streets stay readable under the water)
FLOOD_ALPHA = 200


def flood_depth_legend(lang: str = "zh") -> list[tuple[str, RGB]]:
    """Legend rows of the flood depth classes in cm, shallow first (dry water is not drawn).

    >>> flood_depth_legend("en")[0][0], flood_depth_legend("en")[-1][0]
    ('2–5 cm', '≥ 50 cm')
    """
    cm = [f"{v * 100:g}" for v in (FLOOD_DRY_M, *FLOOD_DEPTH_BREAKS_M)]
    unit = "厘米" if lang == "zh" else "cm"
    labels = [f"{a}–{b} {unit}" for a, b in zip(cm[:-1], cm[1:], strict=True)]
    labels.append(f"≥ {cm[-1]} {unit}")
    return list(zip(labels, FLOOD_DEPTH_COLOURS, strict=True))


#: fire arrival bands, s (upper bounds): reached within 10, 30, 60 minutes of now
FIRE_BANDS_S: tuple[float, ...] = (600.0, 1800.0, 3600.0)
#: one colour per band, most urgent first: Okabe–Ito vermillion, orange, yellow (ordered
#: in lightness too, so the bands read in grey and with any colour-vision deficiency)
FIRE_BAND_COLOURS: tuple[RGB, ...] = (
    OKABE_ITO["vermillion"],
    OKABE_ITO["orange"],
    OKABE_ITO["yellow"],
)
FIRE_BAND_NAMES: tuple[tuple[str, str], ...] = (
    ("10 分钟内到达", "Reached within 10 min"),
    ("10–30 分钟", "10–30 min"),
    ("30–60 分钟", "30–60 min"),
)


def fire_legend(lang: str = "zh") -> list[tuple[str, RGB]]:
    """Legend rows of the fire arrival bands, most urgent first."""
    col = 0 if lang == "zh" else 1
    return [(n[col], c) for n, c in zip(FIRE_BAND_NAMES, FIRE_BAND_COLOURS, strict=True)]


#: Fruin level of service A–F → colour: ColorBrewer YlOrRd-6 (sequential, colour-blind safe;
#: lightness falls with crowding, so the order survives greyscale)
LOS_COLOURS: dict[str, RGB] = {
    "A": (255, 255, 178),
    "B": (254, 217, 118),
    "C": (254, 178, 76),
    "D": (253, 141, 60),
    "E": (240, 59, 32),
    "F": (189, 0, 38),
}
LOS_NAMES: dict[str, tuple[str, str]] = {
    "A": ("A 自由", "A free flow"),
    "B": ("B 较自由", "B minor conflicts"),
    "C": ("C 受限", "C restricted"),
    "D": ("D 拥挤", "D crowded"),
    "E": ("E 很拥挤", "E very crowded"),
    "F": ("F 危险拥堵", "F breakdown"),
}


def los_legend(lang: str = "zh") -> list[tuple[str, RGB]]:
    """Legend rows of Fruin's levels of service A–F."""
    col = 0 if lang == "zh" else 1
    return [(LOS_NAMES[k][col], c) for k, c in LOS_COLOURS.items()]


#: network kind → (colour, 中文, English); faulted parts in vermillion, drawn wider
NETWORK_STYLE: dict[str, tuple[RGB, str, str]] = {
    "water": (OKABE_ITO["blue"], "供水管道", "Water main"),
    "power": (OKABE_ITO["bluish_green"], "10 kV 馈线", "10 kV feeder"),
    "fault": (OKABE_ITO["vermillion"], "故障区段", "Faulted"),
}
#: line width of a network part and the factor a faulted part is widened by, m
NETWORK_WIDTH_M = 3.0
FAULT_WIDTH_FACTOR = 2.5


def network_legend(lang: str = "zh") -> list[tuple[str, RGB]]:
    """Legend rows of the water and power networks and their faulted parts."""
    col = 1 if lang == "zh" else 2
    return [(v[col], v[0]) for v in NETWORK_STYLE.values()]


#: dispatch crew state → (colour, 中文, English)
CREW_STATE_STYLE: dict[str, tuple[RGB, str, str]] = {
    "free": (OKABE_ITO["bluish_green"], "班组空闲", "Crew free"),
    "busy": (OKABE_ITO["reddish_purple"], "班组出勤", "Crew busy"),
    "off_duty": ((150, 150, 150), "班组下班", "Crew off duty"),
}
TICKET_NAMES: dict[str, tuple[str, str]] = {
    "blue": ("蓝色工单", "Blue ticket"),
    "yellow": ("黄色工单", "Yellow ticket"),
    "orange": ("橙色工单", "Orange ticket"),
    "red": ("红色工单", "Red ticket"),
}


def ticket_legend(lang: str = "zh") -> list[tuple[str, RGB]]:
    """Legend rows of open tickets by level, least urgent first."""
    col = 0 if lang == "zh" else 1
    return [(TICKET_NAMES[lv][col], WARNING_COLOURS[lv]) for lv in WARNING_LEVELS]


def crew_legend(lang: str = "zh") -> list[tuple[str, RGB]]:
    """Legend rows of crews by state."""
    col = 1 if lang == "zh" else 2
    return [(v[col], v[0]) for v in CREW_STATE_STYLE.values()]


#: hillshade of the terrain style: light from the north-west, 45° up (cartographic custom)
HILLSHADE_AZIMUTH_DEG = 315.0
HILLSHADE_ALTITUDE_DEG = 45.0
#: darkest shade drawn over the ground, alpha 0–255 (full shadow)
HILLSHADE_MAX_ALPHA = 150
