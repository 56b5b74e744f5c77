"""Warning levels and the one level → CAP / Smart Data Models mapping table."""

from __future__ import annotations

from sim.warning.levels import ALL_CLEAR, LEVEL_INFO, LEVEL_MAP, WarningLevel, level_label

CAP_SEVERITY = {"Extreme", "Severe", "Moderate", "Minor", "Unknown"}
CAP_URGENCY = {"Immediate", "Expected", "Future", "Past", "Unknown"}
CAP_CERTAINTY = {"Observed", "Likely", "Possible", "Unlikely", "Unknown"}
SDM_SEVERITY = {"informational", "low", "medium", "high", "critical"}


def test_red_is_the_highest_and_levels_sort_blue_to_red() -> None:
    ordered = sorted(
        [WarningLevel.RED, WarningLevel.BLUE, WarningLevel.ORANGE, WarningLevel.YELLOW]
    )
    assert [lv.name_en for lv in ordered] == ["blue", "yellow", "orange", "red"]
    assert [lv.roman for lv in ordered] == ["Ⅳ", "Ⅲ", "Ⅱ", "Ⅰ"]
    assert max(ordered) is WarningLevel.RED


def test_levels_carry_chinese_grade_and_colour() -> None:
    assert [LEVEL_INFO[WarningLevel(i)].grade_zh for i in range(1, 5)] == [
        "一般",
        "较重",
        "严重",
        "特别严重",
    ]
    assert WarningLevel.ORANGE.name_zh == "橙色"
    assert WarningLevel.RED.colour == "#E60000"
    assert level_label(WarningLevel.BLUE, "en") == "Level IV blue (general)"


def test_mapping_table_covers_every_level_with_valid_codes() -> None:
    assert set(LEVEL_MAP) == set(WarningLevel)
    for m in [*LEVEL_MAP.values(), ALL_CLEAR]:
        assert m.cap_severity in CAP_SEVERITY
        assert m.cap_urgency in CAP_URGENCY
        assert m.cap_certainty in CAP_CERTAINTY
        assert m.sdm_severity in SDM_SEVERITY


def test_cap_severity_rises_with_level() -> None:
    order = ["Minor", "Moderate", "Severe", "Extreme"]
    sev = [order.index(LEVEL_MAP[WarningLevel(i)].cap_severity) for i in range(1, 5)]
    assert sev == [0, 1, 2, 3]
    assert [LEVEL_MAP[WarningLevel(i)].sdm_severity for i in range(1, 5)] == [
        "low",
        "medium",
        "high",
        "critical",
    ]
