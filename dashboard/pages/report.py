"""The report form (``/report``, 社区输入): category, place, text and an optional photo.

A plain multipart form posting to ``POST /api/reports`` (double-submit CSRF token; works
without JavaScript but for the photo's file input) for grid workers and residents; after
sending, the page shows the opaque receipt and its status (as JSON: ``/api/reports/<receipt>``);
a refused report comes back with the reason. Contact details are never asked for.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
import flask
from dash import dcc, html

from dashboard.auth import CSRF_FIELD, pre_session_csrf
from dashboard.i18n import DEFAULT_LANG, LANGS

dash.register_page(__name__, path="/report", name="Report", title="StreetTwin 上报", order=8)

#: the photo's file input, put into this slot by ``assets/streettwin_pages.js`` (Dash has no
#: file input that posts with a native form; raw HTML in ``dcc.Markdown`` is not rendered)
PHOTO_SLOT = {"data-name": "photo", "data-accept": "image/jpeg,image/png"}
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
        "lon": "经度",
        "lat": "纬度",
        "text": "情况说明（请勿填写个人信息）",
        "photo": "照片（JPEG/PNG，≤5 MB，可选）",
        "submit": "提交",
        "receipt": "已收到。回执号：",
        "status": "刷新处理进度",
        "progress": "处理进度：",
        "states": {
            "received": "已受理",
            "in_progress": "处理中",
            "resolved": "已处置",
            "closed": "已办结",
        },
        "other": "English",
        "unavailable": "本实例未启用上报。",
        "failed": "未能提交：",
        "errors": {
            "the place is outside the district": "地点不在本街道范围内",
            "give lon/lat or an address": "请填写地址或经纬度",
            "address not found": "未找到该地址",
            "photo must be a JPEG or PNG image": "照片须为 JPEG 或 PNG 格式",
            "photo larger than 5 MB": "照片不能超过 5 MB",
        },
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
        "lon": "Longitude",
        "lat": "Latitude",
        "text": "What is wrong (no personal details please)",
        "photo": "Photo (JPEG/PNG, ≤ 5 MB, optional)",
        "submit": "Send",
        "receipt": "Received. Your receipt: ",
        "status": "Refresh its status",
        "progress": "Status: ",
        "states": {
            "received": "received",
            "in_progress": "in progress",
            "resolved": "resolved",
            "closed": "closed",
        },
        "other": "中文",
        "unavailable": "Reports are not enabled on this instance.",
        "failed": "Not sent: ",
        "errors": {},
    },
}


def _status(receipt: str) -> dict | None:
    """What the reporter may see of a receipt (:meth:`DispatchService.report_status`)."""
    from dashboard.api_dispatch import EXTENSION_KEY

    svc = flask.current_app.extensions.get(EXTENSION_KEY)
    return None if svc is None else svc.report_status(receipt)


def layout(
    lang: str = DEFAULT_LANG,
    receipt: str = "",
    lon: str = "",
    lat: str = "",
    error: str = "",
    category: str = "",
    **_: Any,
):
    """The form in ``lang``; ``?receipt=`` shows a receipt; ``?lon=&lat=`` prefills a map click;
    ``?error=`` says why the last try was refused (its place and ``category`` kept)."""
    lang = lang if lang in LANGS else DEFAULT_LANG
    txt = TEXT[lang]
    other = "en" if lang == "zh" else "zh"
    children: list = [html.H1(txt["title"])]
    if error:
        reason = txt["errors"].get(error, error)
        children.append(html.P(txt["failed"] + reason, role="alert", id="st-report-error"))
    if receipt:
        status = _status(receipt)
        progress = [] if status is None else [
            html.Br(), txt["progress"],
            html.B(txt["states"].get(status["status"], status["status"]), id="st-report-state"),
        ]  # fmt: skip
        children.append(
            html.P(
                [
                    txt["receipt"],
                    html.Code(receipt, id="st-report-receipt"),
                    *progress,
                    " ",
                    html.A(
                        txt["status"],
                        href=f"/report?{urlencode({'lang': lang, 'receipt': receipt})}",
                    ),
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
                                children=[
                                    html.Option(txt["cats"][c], value=c, selected=c == category)
                                    for c in CATEGORIES
                                ],
                            ),
                        ]
                    ),  # fmt: skip
                    html.Label([txt["address"], dcc.Input(type="text", name="address")]),
                    html.Fieldset(
                        [
                            html.Legend(txt["lonlat"]),
                            html.Label(
                                [
                                    txt["lon"],
                                    dcc.Input(
                                        type="number", name="lon", step="any", value=lon or None
                                    ),
                                ]
                            ),
                            html.Label(
                                [
                                    txt["lat"],
                                    dcc.Input(
                                        type="number", name="lat", step="any", value=lat or None
                                    ),
                                ]
                            ),
                        ]
                    ),  # fmt: skip
                    html.Label([txt["text"], html.Textarea(name="text", maxLength=2000)]),
                    html.Label(
                        [
                            txt["photo"],
                            html.Span(className="st-photo-slot", **PHOTO_SLOT),
                        ]
                    ),  # fmt: skip
                    html.Button(txt["submit"], type="submit", className="st-big"),
                ],
            )
        )
    children.append(html.P(html.A(txt["other"], href=f"/report?lang={other}")))
    return html.Div(
        className="st-report", lang="zh-CN" if lang == "zh" else "en", children=children
    )
