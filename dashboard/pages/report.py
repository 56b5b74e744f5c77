"""The report form (``/report``, 社区输入): category, place, text and an optional photo.

A plain multipart form posting to ``POST /api/reports`` (double-submit CSRF token; works
without JavaScript) for grid workers and residents; after sending, the page shows the opaque
receipt and links to its status (``/api/reports/<receipt>``). Contact details are never
asked for.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from dashboard.auth import CSRF_FIELD, pre_session_csrf
from dashboard.i18n import DEFAULT_LANG, LANGS

dash.register_page(__name__, path="/report", name="Report", title="StreetTwin 上报", order=8)

#: the native file input (static HTML: nothing user-supplied in it)
PHOTO_INPUT = '<input type="file" name="photo" accept="image/jpeg,image/png">'
CATEGORIES = ("water", "power", "gas", "fire", "medical", "general")
TEXT = {
    "zh": {
        "title": "群众上报",
        "category": "类别",
        "cats": {
            "water": "供水/内涝",
            "power": "电力",
            "gas": "燃气",
            "fire": "火情/消防隐患",
            "medical": "急救",
            "general": "其他",
        },  # fmt: skip
        "address": "地址（标准地址）",
        "lonlat": "或经纬度（地图点选）",
        "text": "情况说明（请勿填写个人信息）",
        "photo": "照片（JPEG/PNG，≤5 MB，可选）",
        "submit": "提交",
        "receipt": "已收到。回执号：",
        "status": "查看处理进度",
        "other": "English",
        "unavailable": "本实例未启用上报。",
    },
    "en": {
        "title": "Report a problem",
        "category": "Category",
        "cats": {
            "water": "Water / flooding",
            "power": "Power",
            "gas": "Gas",
            "fire": "Fire / fire hazard",
            "medical": "Medical",
            "general": "Other",
        },  # fmt: skip
        "address": "Address (standard address)",
        "lonlat": "or longitude / latitude (map click)",
        "text": "What is wrong (no personal details please)",
        "photo": "Photo (JPEG/PNG, ≤ 5 MB, optional)",
        "submit": "Send",
        "receipt": "Received. Your receipt: ",
        "status": "See its status",
        "other": "中文",
        "unavailable": "Reports are not enabled on this instance.",
    },
}


def layout(lang: str = DEFAULT_LANG, receipt: str = "", lon: str = "", lat: str = "", **_: Any):
    """The form in ``lang``; ``?receipt=`` shows a receipt; ``?lon=&lat=`` prefills a map click."""
    lang = lang if lang in LANGS else DEFAULT_LANG
    txt = TEXT[lang]
    other = "en" if lang == "zh" else "zh"
    children: list = [html.H1(txt["title"])]
    if receipt:
        children.append(
            html.P(
                [
                    txt["receipt"],
                    html.Code(receipt, id="st-report-receipt"),
                    " ",
                    html.A(txt["status"], href=f"/api/reports/{receipt}"),
                ],  # fmt: skip
                role="status",
            )
        )
    token = pre_session_csrf()
    if not token:
        children.append(html.P(txt["unavailable"]))
    else:
        children.append(
            html.Form(
                action="/api/reports",
                method="POST",
                encType="multipart/form-data",
                id="st-report-form",
                children=[
                    dcc.Input(type="hidden", name=CSRF_FIELD, value=token),
                    dcc.Input(type="hidden", name="lang", value=lang),
                    html.Label(
                        [
                            txt["category"],
                            html.Select(
                                name="category",
                                children=[html.Option(txt["cats"][c], value=c) for c in CATEGORIES],
                            ),
                        ]
                    ),  # fmt: skip
                    html.Label([txt["address"], dcc.Input(type="text", name="address")]),
                    html.Fieldset(
                        [
                            html.Legend(txt["lonlat"]),
                            dcc.Input(type="number", name="lon", step="any", value=lon or None),
                            dcc.Input(type="number", name="lat", step="any", value=lat or None),
                        ]
                    ),  # fmt: skip
                    html.Label([txt["text"], html.Textarea(name="text", maxLength=2000)]),
                    html.Label(
                        [
                            txt["photo"],
                            # Dash has no file input component; a native one posts with the form
                            dcc.Markdown(PHOTO_INPUT, dangerously_allow_html=True),
                        ]
                    ),  # fmt: skip
                    html.Button(txt["submit"], type="submit"),
                ],
            )
        )
    children.append(html.P(html.A(txt["other"], href=f"/report?lang={other}")))
    return html.Div(
        className="st-report", lang="zh-CN" if lang == "zh" else "en", children=children
    )
