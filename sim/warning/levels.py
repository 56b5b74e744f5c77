"""The four warning levels (Ⅳ blue … Ⅰ red) and the one table mapping them onto CAP and NGSI.

China grades warnings in four colours (Emergency Response Law art. 42; State Council
national master plan for public emergencies; CMA order No. 16): Ⅳ blue 一般 < Ⅲ yellow 较重
< Ⅱ orange 严重 < Ⅰ red 特别严重. Red is the highest. We keep them as an :class:`IntEnum` so
that levels compare and ``max`` works; ``NONE`` (0) means no warning.

:data:`LEVEL_MAP` is the **only** place where our levels meet OASIS CAP 1.2
(``severity``/``urgency``/``certainty``) and the FIWARE Smart Data Models ``Alert.severity``
(``informational|low|medium|high|critical``). Which parts are conventions:

* CAP severity blue→Minor, yellow→Moderate, orange→Severe, red→Extreme follows the
  colour-to-severity use in MeteoAlarm and the CMA/WMO Alert Hub feeds; CAP itself defines
  no colours, so this is a **convention**.
* CAP urgency and certainty describe timing and likelihood, not level; the per-level values
  below (Expected/Likely for early levels, Immediate/Observed … for red) are **our
  convention** for warnings issued from forecasts; an all-clear uses urgency ``Past``.
* Smart Data Models severity low/medium/high/critical for blue…red is **our convention**
  (the model only lists the enum); ``informational`` is used for all-clear messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class WarningLevel(IntEnum):
    """Warning level; larger is more severe.

    >>> WarningLevel.RED > WarningLevel.ORANGE > WarningLevel.YELLOW > WarningLevel.BLUE
    True
    >>> WarningLevel.YELLOW.roman, WarningLevel.YELLOW.name_zh, WarningLevel.YELLOW.colour
    ('Ⅲ', '黄色', '#FFD400')
    """

    NONE = 0
    BLUE = 1  # Ⅳ 一般
    YELLOW = 2  # Ⅲ 较重
    ORANGE = 3  # Ⅱ 严重
    RED = 4  # Ⅰ 特别严重

    @property
    def info(self) -> LevelInfo:
        """Names and colour of the level."""
        return LEVEL_INFO[self]

    @property
    def roman(self) -> str:
        """Chinese grade numeral (Ⅳ … Ⅰ), ``""`` for NONE."""
        return LEVEL_INFO[self].roman

    @property
    def name_zh(self) -> str:
        """Colour name in Chinese, e.g. ``"橙色"``."""
        return LEVEL_INFO[self].colour_zh

    @property
    def name_en(self) -> str:
        """Colour name in English, e.g. ``"orange"``."""
        return LEVEL_INFO[self].colour_en

    @property
    def colour(self) -> str:
        """Display colour as ``#RRGGBB``."""
        return LEVEL_INFO[self].hex


@dataclass(frozen=True)
class LevelInfo:
    """How one level is named and shown (always colour **and** text)."""

    roman: str
    colour_zh: str
    colour_en: str
    grade_zh: str  # 一般 / 较重 / 严重 / 特别严重
    grade_en: str
    hex: str
    rgb: tuple[int, int, int]


#: names and display colours per level; colours are the usual signal colours (convention)
LEVEL_INFO: dict[WarningLevel, LevelInfo] = {
    WarningLevel.NONE: LevelInfo("", "无", "none", "无", "none", "#9E9E9E", (158, 158, 158)),
    WarningLevel.BLUE: LevelInfo("Ⅳ", "蓝色", "blue", "一般", "general", "#1E6FD9", (30, 111, 217)),
    WarningLevel.YELLOW: LevelInfo(
        "Ⅲ", "黄色", "yellow", "较重", "serious", "#FFD400", (255, 212, 0)
    ),
    WarningLevel.ORANGE: LevelInfo(
        "Ⅱ", "橙色", "orange", "严重", "severe", "#FF7F00", (255, 127, 0)
    ),
    WarningLevel.RED: LevelInfo(
        "Ⅰ", "红色", "red", "特别严重", "extremely severe", "#E60000", (230, 0, 0)
    ),
}


@dataclass(frozen=True)
class LevelMapping:
    """CAP 1.2 and Smart Data Models codes for one level."""

    cap_severity: str  # Extreme | Severe | Moderate | Minor | Unknown
    cap_urgency: str  # Immediate | Expected | Future | Past | Unknown
    cap_certainty: str  # Observed | Likely | Possible | Unlikely | Unknown
    sdm_severity: str  # informational | low | medium | high | critical


#: THE mapping table: our level → CAP severity/urgency/certainty and NGSI Alert.severity.
#: See the module docstring for which entries are conventions.
LEVEL_MAP: dict[WarningLevel, LevelMapping] = {
    WarningLevel.NONE: LevelMapping("Minor", "Past", "Observed", "informational"),
    WarningLevel.BLUE: LevelMapping("Minor", "Future", "Possible", "low"),
    WarningLevel.YELLOW: LevelMapping("Moderate", "Expected", "Likely", "medium"),
    WarningLevel.ORANGE: LevelMapping("Severe", "Expected", "Likely", "high"),
    WarningLevel.RED: LevelMapping("Extreme", "Immediate", "Likely", "critical"),
}

#: codes used for an all-clear (CAP msgType Cancel) whatever the last level was (convention)
ALL_CLEAR = LevelMapping("Minor", "Past", "Observed", "informational")


def level_label(level: WarningLevel | int, lang: str = "zh") -> str:
    """Human label with numeral, colour and grade.

    >>> level_label(3, "zh"), level_label(3, "en")
    ('Ⅱ级 橙色（严重）', 'Level II orange (severe)')
    """
    lv = WarningLevel(int(level))
    info = lv.info
    if lv == WarningLevel.NONE:
        return "无预警" if lang == "zh" else "no warning"
    if lang == "zh":
        return f"{info.roman}级 {info.colour_zh}（{info.grade_zh}）"
    latin = {1: "IV", 2: "III", 3: "II", 4: "I"}[int(lv)]
    return f"Level {latin} {info.colour_en} ({info.grade_en})"
