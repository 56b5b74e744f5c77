"""zh-CN / English text of the wall screen and login page, units, and +08:00 local times.

Pages render the default language on the server and hand the whole table to the browser
(``dcc.Store``), where switching language rewrites every element carrying a
``data-i18n`` key — no round trip, so a wall screen never blanks while switching.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from layers.style import (
    SENSOR_STATE_STYLE,
    SENSOR_STATES,
    WARNING_COLOURS,
    WARNING_LEVELS,
    WARNING_NAMES,
    css,
)
from twin.fields import FIELDS, SENSOR_KINDS

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
#: the district's local time (China Standard Time, no daylight saving)
LOCAL_TZ = dt.timezone(dt.timedelta(hours=8), "+08:00")

#: every text of the wall screen and login page, by key
TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "ops_title": "城市运行指挥大屏",
        "conn_live": "实时连接",
        "conn_connecting": "正在连接…",
        "conn_lost": "连接中断",
        "conn_offline": "无实时数据源",
        "fresh_label": "最新数据",
        "fresh_none": "尚无数据",
        "seconds_ago": "{n} 秒前",
        "stale_banner": "⚠ 画面已停止更新：{n} 秒未收到数据，显示内容可能过期",
        "kpi_warnings": "生效预警",
        "kpi_sensors_live": "传感器在线",
        "kpi_sensors_stale": "传感器过期",
        "kpi_sensors_alarm": "超限报警",
        "kpi_tickets_open": "未结工单",
        "kpi_tickets_overdue": "超时工单",
        "kpi_people_warned": "预警区域人数",
        "not_wired": "未接入",
        "ticker_none": "当前无生效预警",
        "ticker_label": "生效预警",
        "ack": "确认",
        "mute": "静音",
        "unmute": "取消静音",
        "large_text": "大字",
        "lang_switch": "English",
        "replay": "回放",
        "live_button": "回到实时",
        "slider_label": "时间回放（最近 {n} 分钟）",
        "replay_badge": "回放 {time}",
        "legend": "图例",
        "legend_sensors": "传感器 / 网格状态（最差）",
        "legend_warnings": "预警等级",
        "card_value": "当前值",
        "card_quality": "数据质量",
        "card_building": "所在建筑",
        "card_grid": "网格",
        "card_address": "地址",
        "card_observed": "观测时间",
        "card_last_hour": "最近一小时",
        "card_close": "关闭",
        "card_alarm_at": "报警阈值",
        "quality_0": "正常",
        "quality_1": "过期",
        "quality_2": "异常被拒",
        "quality_3": "模拟",
        "alert_prefix": "新预警",
        "login": "登录",
        "login_title": "StreetTwin 登录",
        "login_user": "用户名",
        "login_password": "密码",
        "login_note": "角色权限将随调度功能上线；当前以本地值班员身份进入。",
        "login_enter": "以本地值班员进入",
        "kiosk_hint": "全屏展示：chromium --kiosk http://主机:8050/ops?kiosk=1",
        "hazard_flood": "洪涝",
        "hazard_rainstorm": "暴雨",
        "hazard_fire": "火灾",
        "hazard_crowd": "人群聚集",
        "hazard_utility": "管网故障",
        "hazard_gas": "燃气泄漏",
        "grid": "网格",
        "offline_banner": "本页面未连接实时孪生（仅静态地图）",
    },
    "en": {
        "ops_title": "Operations wall",
        "conn_live": "Live",
        "conn_connecting": "Connecting…",
        "conn_lost": "Connection lost",
        "conn_offline": "No live source",
        "fresh_label": "Newest data",
        "fresh_none": "no data yet",
        "seconds_ago": "{n} s ago",
        "stale_banner": "⚠ SCREEN NOT UPDATING: no data for {n} s — may be out of date",
        "kpi_warnings": "Active warnings",
        "kpi_sensors_live": "Sensors live",
        "kpi_sensors_stale": "Sensors stale",
        "kpi_sensors_alarm": "Sensor alarms",
        "kpi_tickets_open": "Open tickets",
        "kpi_tickets_overdue": "Overdue tickets",
        "kpi_people_warned": "People in warned areas",
        "not_wired": "not wired yet",
        "ticker_none": "No active warnings",
        "ticker_label": "Active warnings",
        "ack": "Acknowledge",
        "mute": "Mute",
        "unmute": "Unmute",
        "large_text": "Large text",
        "lang_switch": "中文",
        "replay": "Replay",
        "live_button": "Back to live",
        "slider_label": "Replay (last {n} min)",
        "replay_badge": "REPLAY {time}",
        "legend": "Legend",
        "legend_sensors": "Sensor / grid state (worst)",
        "legend_warnings": "Warning level",
        "card_value": "Value",
        "card_quality": "Quality",
        "card_building": "Building",
        "card_grid": "Grid",
        "card_address": "Address",
        "card_observed": "Observed",
        "card_last_hour": "Last hour",
        "card_close": "Close",
        "card_alarm_at": "Alarm at",
        "quality_0": "good",
        "quality_1": "stale",
        "quality_2": "rejected",
        "quality_3": "simulated",
        "alert_prefix": "New warning",
        "login": "Sign in",
        "login_title": "StreetTwin sign-in",
        "login_user": "User name",
        "login_password": "Password",
        "login_note": "Roles arrive with dispatch; until then you enter as the local operator.",
        "login_enter": "Enter as local operator",
        "kiosk_hint": "Wall display: chromium --kiosk http://HOST:8050/ops?kiosk=1",
        "hazard_flood": "Flood",
        "hazard_rainstorm": "Rainstorm",
        "hazard_fire": "Fire",
        "hazard_crowd": "Crowding",
        "hazard_utility": "Utility fault",
        "hazard_gas": "Gas leak",
        "grid": "Grid",
        "offline_banner": "This page has no live twin (static map only)",
    },
}


def t(key: str, lang: str = DEFAULT_LANG, **fmt: Any) -> str:
    """Text ``key`` in ``lang`` (falls back to Chinese, then to the key), formatted.

    >>> t("seconds_ago", "en", n=3)
    '3 s ago'
    """
    table = TEXT.get(lang, TEXT[DEFAULT_LANG])
    text = table.get(key) or TEXT[DEFAULT_LANG].get(key) or key
    return text.format(**fmt) if fmt else text


def local_time(epoch_s: float, *, with_date: bool = False) -> str:
    """Epoch seconds as +08:00 local clock text.

    >>> local_time(0.0), local_time(0.0, with_date=True)
    ('08:00:00', '1970-01-01 08:00:00 +08:00')
    """
    moment = dt.datetime.fromtimestamp(epoch_s, LOCAL_TZ)
    if with_date:
        return moment.strftime("%Y-%m-%d %H:%M:%S +08:00")
    return moment.strftime("%H:%M:%S")


def display_value(quantity: str, value_si: float | None, lang: str = DEFAULT_LANG) -> str:
    """A reading in its display unit with a sensible number of digits, e.g. ``"36 mm/h"``.

    >>> display_value("rain__intensity", 1e-5), display_value("x", None)
    ('36 mm/h', '—')
    """
    if value_si is None or value_si != value_si:
        return "—"
    field = FIELDS.get(quantity)
    if field is None:
        return f"{value_si:.4g}"
    shown = value_si * field.display_factor
    unit = field.display_unit
    if unit == "人" and lang == "en":
        unit = "people"
    return f"{shown:.4g} {unit}".strip()


def browser_table() -> dict[str, Any]:
    """Everything the browser needs to speak both languages and show units and levels.

    Returns
    -------
    dict
        ``text`` (lang → key → text), ``levels`` (warning level → {colour, zh, en}),
        ``states`` (sensor state names, colours and labels in code order), ``fields``
        (quantity → display unit and factor, names), ``kinds`` (sensor kind → names).
    """
    return {
        "text": TEXT,
        "levels": {
            lvl: {
                "colour": css(WARNING_COLOURS[lvl]),
                "rgb": list(WARNING_COLOURS[lvl]),
                "zh": WARNING_NAMES[lvl][0],
                "en": WARNING_NAMES[lvl][1],
            }
            for lvl in WARNING_LEVELS
        },
        "states": [
            {
                "name": s,
                "rgb": list(SENSOR_STATE_STYLE[s][0]),
                "zh": SENSOR_STATE_STYLE[s][1],
                "en": SENSOR_STATE_STYLE[s][2],
            }
            for s in SENSOR_STATES
        ],
        "fields": {
            f.name: {
                "unit": f.display_unit,
                "factor": f.display_factor,
                "zh": f.doc_zh,
                "en": f.doc,
            }
            for f in FIELDS.values()
        },
        "kinds": {k.kind: {"zh": k.name_zh, "en": k.name_en} for k in SENSOR_KINDS.values()},
    }
