"""Bilingual wording and classification of each hazard's warnings (headline, description, advice).

One :class:`HazardText` per hazard key holds the Chinese and English names, the CAP
``category``/``responseType`` and the Smart Data Models ``category``/``subCategory``, and
short instructions per level. Texts are plain templates: operators may replace them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from sim.warning.levels import WarningLevel


@dataclass(frozen=True)
class HazardText:
    """How warnings of one hazard are named and what they advise."""

    name_zh: str
    name_en: str
    cap_category: str  # CAP 1.2 category enum
    sdm_category: str  # Smart Data Models Alert.category
    sdm_subcategory: str  # Smart Data Models Alert.subCategory ("" if none fits)
    response: tuple[str, str, str, str]  # CAP responseType for blue, yellow, orange, red
    advice_zh: tuple[str, str, str, str]
    advice_en: tuple[str, str, str, str]


HAZARDS: dict[str, HazardText] = {
    "rainstorm": HazardText(
        "暴雨",
        "rainstorm",
        "Met",
        "weather",
        "rainfall",
        ("Monitor", "Prepare", "Prepare", "Shelter"),
        (
            "关注天气变化，检查排水设施。",
            "减少外出，转移低洼处车辆和物资。",
            "停止户外活动，低洼地区人员做好转移准备。",
            "留在安全场所，听从指挥转移，切勿涉水。",
        ),
        (
            "Follow the forecast and check drains.",
            "Limit travel; move cars and goods out of low ground.",
            "Stop outdoor activities; people in low areas prepare to move.",
            "Stay in a safe place, follow evacuation orders, never wade through water.",
        ),
    ),
    "flood": HazardText(
        "内涝",
        "urban flooding",
        "Met",
        "naturalDisaster",
        "flood",
        ("Monitor", "Prepare", "Avoid", "Evacuate"),
        (
            "注意道路积水，勿在低洼处停车。",
            "绕行积水路段，地下车库做好挡水准备。",
            "避开积水区域，地下空间人员立即撤离。",
            "立即撤离到高处，切勿进入积水区域。",
        ),
        (
            "Watch for ponding; do not park in low spots.",
            "Avoid flooded roads; prepare flood barriers at underground garages.",
            "Keep away from flooded areas; leave underground spaces now.",
            "Move to higher ground now; do not enter flood water.",
        ),
    ),
    "fire": HazardText(
        "火灾",
        "fire",
        "Fire",
        "security",
        "buildingFire",
        ("Monitor", "Prepare", "Evacuate", "Evacuate"),
        (
            "关注火情通报，保持通道畅通。",
            "做好疏散准备，关闭门窗，协助老人和行动不便者。",
            "立即疏散，沿安全出口撤离，勿乘电梯。",
            "立即撤离，远离火场，让出消防通道。",
        ),
        (
            "Follow fire updates; keep escape routes clear.",
            "Prepare to leave; close windows; help elderly and disabled neighbours.",
            "Evacuate now by the fire exits; do not use lifts.",
            "Leave now, keep away from the fire and clear the way for fire engines.",
        ),
    ),
    "crowd": HazardText(
        "人群拥挤",
        "crowding",
        "Safety",
        "security",
        "crowdRisk",
        ("Monitor", "Avoid", "Avoid", "Execute"),
        (
            "人员较多，请有序通行。",
            "人流密集，请勿前往，现场实施单向通行。",
            "人群高度密集，限制进入，疏导分流。",
            "存在踩踏风险，立即停止进入并分区疏散。",
        ),
        (
            "Busy: keep moving in order.",
            "Crowded: avoid the area; one-way flow on site.",
            "Very crowded: entry restricted, crowd being diverted.",
            "Crush risk: entry stopped, staged dispersal under way.",
        ),
    ),
    "utility": HazardText(
        "设施故障",
        "utility fault",
        "Infra",
        "environment",
        "",
        ("Monitor", "Prepare", "Avoid", "Evacuate"),
        (
            "设施运行异常，抢修中。",
            "供水供电或燃气受影响，请做好准备。",
            "远离故障区域，听从现场指挥。",
            "立即撤离故障区域，严禁明火。",
        ),
        (
            "A utility is faulty; crews are working on it.",
            "Water, power or gas supply affected; be prepared.",
            "Keep away from the fault area; follow instructions on site.",
            "Leave the fault area now; no open flames.",
        ),
    ),
}


def hazard_text(hazard: str) -> HazardText:
    """Text of a hazard key (unknown keys fall back to a generic text)."""
    if hazard in HAZARDS:
        return HAZARDS[hazard]
    return replace(HAZARDS["utility"], name_zh=hazard, name_en=hazard, cap_category="Other")


def _counts_zh(a: Mapping[str, int]) -> str:
    return (
        f"影响建筑{a.get('buildings', 0)}栋、人员约{a.get('people', 0)}人，其中独居老人"
        f"{a.get('elderly_alone', 0)}人、残障人士{a.get('disabled', 0)}人、儿童"
        f"{a.get('children', 0)}人，重要设施{a.get('critical_facilities', 0)}处。"
    )


def _counts_en(a: Mapping[str, int]) -> str:
    return (
        f"{a.get('buildings', 0)} buildings and about {a.get('people', 0)} people affected, "
        f"including {a.get('elderly_alone', 0)} elderly living alone, {a.get('disabled', 0)} "
        f"disabled and {a.get('children', 0)} children; "
        f"{a.get('critical_facilities', 0)} critical facilities."
    )


def compose(
    hazard: str,
    level: WarningLevel,
    area_zh: str,
    area_en: str,
    affected: Mapping[str, int],
    *,
    cancel: bool = False,
) -> dict[str, str]:
    """Headline, description and instruction in zh and en.

    >>> t = compose("rainstorm", WarningLevel.YELLOW, "幸福社区", "Xingfu", {"people": 12})
    >>> t["headline_zh"], t["headline_en"]
    ('幸福社区暴雨黄色预警', 'Yellow rainstorm warning for Xingfu')
    """
    h = hazard_text(hazard)
    lv = WarningLevel(int(level))
    if cancel or lv == WarningLevel.NONE:
        return {
            "headline_zh": f"{area_zh}{h.name_zh}预警解除",
            "headline_en": f"All clear: {h.name_en} warning for {area_en} lifted",
            "description_zh": f"{area_zh}{h.name_zh}风险已降低，预警解除。",
            "description_en": f"The {h.name_en} risk in {area_en} has eased; warning lifted.",
            "instruction_zh": "恢复正常活动，注意后续通报。",
            "instruction_en": "Normal activities may resume; follow further updates.",
        }
    i = int(lv) - 1
    roman_zh = f"{lv.roman}级"
    return {
        "headline_zh": f"{area_zh}{h.name_zh}{lv.name_zh}预警",
        "headline_en": f"{lv.name_en.capitalize()} {h.name_en} warning for {area_en}",
        "description_zh": (
            f"{area_zh}{h.name_zh}风险达到{lv.name_zh}（{roman_zh}，{lv.info.grade_zh}）。"
            + _counts_zh(affected)
        ),
        "description_en": (
            f"{h.name_en.capitalize()} risk in {area_en} is {lv.name_en} "
            f"({lv.info.grade_en}). " + _counts_en(affected)
        ),
        "instruction_zh": h.advice_zh[i],
        "instruction_en": h.advice_en[i],
    }
