"""The scenario briefing: affected lists, figures and a self-contained HTML page (zh-CN or en).

Pure functions of a scenario result (the :func:`sim.scenario.run.run_scenario` dataset and
summary) and the registry. Images are PNG made with matplotlib (Agg, no display, no kaleido)
and inlined as ``data:`` URLs, so the HTML opens anywhere with no network and no files beside
it. People are only ever counted, never listed (PIPL: aggregate, never expose individuals).
"""

from __future__ import annotations

import base64
import html
import io
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: depth at which water reaches a building's doors [m] (as sim.scenario.run.REACH_DEPTH_M)
REACH_DEPTH_M = 0.05
#: depth at which a road is impassable [m] (as sim.scenario.run.IMPASSABLE_DEPTH_M)
IMPASSABLE_DEPTH_M = 0.15
#: planning rule of this project: one crew per this many reached buildings, plus one per cut road
BUILDINGS_PER_CREW = 5
#: building uses that count as critical places when water reaches them
CRITICAL_USES = ("hospital", "school", "elderly_home")
#: fonts with Chinese glyphs, best first, and where Debian's fonts-noto-cjk puts them
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei")
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
)

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "情景推演简报",
        "scenario": "情景",
        "hazard": "灾种",
        "generated": "生成时间",
        "figures": "主要数字",
        "map": "最大积水深度图",
        "timeline": "过程曲线",
        "buildings": "受影响建筑",
        "roads": "受影响道路",
        "facilities": "受影响关键设施",
        "none": "无",
        "building": "建筑",
        "use": "用途",
        "depth": "最大水深 (m)",
        "people": "人数",
        "road": "道路",
        "impassable": "不可通行",
        "yes": "是",
        "no": "否",
        "facility": "设施",
        "note": "推演在孪生副本上运行，未改变实时预警与工单。人员只统计数量，不列个人信息。",
        "buildings_reached": "受淹建筑 (栋)",
        "people_affected": "受影响人数",
        "elderly_alone_affected": "独居老人",
        "disabled_affected": "残障人士",
        "children_affected": "未成年人",
        "roads_impassable": "不可通行道路 (条)",
        "flooded_area_m2": "积水面积 (m²)",
        "max_depth_m": "最大水深 (m)",
        "critical_facilities": "受影响关键设施 (处)",
        "crews_needed": "所需处置队伍 (支)",
        "rain_total_mm": "总降雨 (mm)",
        "t_min": "时间 (分钟)",
    },
    "en": {
        "title": "Scenario briefing",
        "scenario": "Scenario",
        "hazard": "Hazard",
        "generated": "Generated",
        "figures": "Key figures",
        "map": "Maximum flood depth",
        "timeline": "Timeline",
        "buildings": "Buildings affected",
        "roads": "Roads affected",
        "facilities": "Critical facilities affected",
        "none": "None",
        "building": "Building",
        "use": "Use",
        "depth": "Max depth (m)",
        "people": "People",
        "road": "Road",
        "impassable": "Impassable",
        "yes": "yes",
        "no": "no",
        "facility": "Facility",
        "note": "Run on a copy of the twin: live warnings and tickets were not changed. "
        "People are counted only, never listed.",
        "buildings_reached": "Buildings reached",
        "people_affected": "People affected",
        "elderly_alone_affected": "Elderly living alone",
        "disabled_affected": "Disabled residents",
        "children_affected": "Children",
        "roads_impassable": "Roads impassable",
        "flooded_area_m2": "Flooded area (m²)",
        "max_depth_m": "Max depth (m)",
        "critical_facilities": "Critical facilities affected",
        "crews_needed": "Crews needed",
        "rain_total_mm": "Total rain (mm)",
        "t_min": "Time (min)",
    },
}
#: words that differ for a fire (the flood's "受淹建筑" is wrong there); see :func:`texts`
FIRE_TEXT = {
    "zh": {"buildings_reached": "过火建筑 (栋)", "arrival_min": "火势到达 (分钟)"},
    "en": {"buildings_reached": "Buildings reached by fire", "arrival_min": "Fire arrives (min)"},
}  # fmt: skip


def texts(lang: str, ds: Any = None) -> dict[str, str]:
    """The words in ``lang`` for a result: a fire's (``arrival_time`` in ``ds``) or a flood's."""
    lang = "en" if lang == "en" else "zh"
    if ds is not None and "arrival_time" in ds:
        return {**TEXT[lang], **FIRE_TEXT[lang]}
    return TEXT[lang]


def with_use_names(buildings: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The buildings with their ``use`` in words of ``lang`` (住宅, not ``residential``)."""
    from layers.buildings import USE_NAMES

    k = 1 if lang == "en" else 0
    return buildings.assign(use=[USE_NAMES.get(u, (u, u))[k] for u in buildings["use"]])


def building_value_column(buildings: pd.DataFrame) -> str:
    """The affected buildings' figure: minutes to the fire's arrival, or the water's depth."""
    return "arrival_min" if "arrival_min" in buildings else "max_depth_m"


#: summary keys shown as headline figures, in order
FIGURE_KEYS = (
    "buildings_reached", "people_affected", "elderly_alone_affected", "disabled_affected",
    "children_affected", "roads_impassable", "critical_facilities", "crews_needed",
    "flooded_area_m2", "max_depth_m", "rain_total_mm",
)  # fmt: skip


def crews_needed(summary: dict[str, Any]) -> int:
    """Crews to send: one per :data:`BUILDINGS_PER_CREW` reached buildings plus one per cut road.

    >>> crews_needed({"buildings_reached": 11, "roads_impassable": 2})
    5
    """
    reached = int(summary.get("buildings_reached", 0) or 0)
    cut = int(summary.get("roads_impassable", summary.get("roads_cut", 0)) or 0)
    return math.ceil(reached / BUILDINGS_PER_CREW) + cut


def timeline_frame(ds: Any, threshold_m: float = IMPASSABLE_DEPTH_M) -> pd.DataFrame:
    """Per output time: minutes, the deepest cell [m] and the area at or above ``threshold_m``
    [m²]; for a fire (``arrival_time`` per building, no time axis), the buildings the fire has
    reached by each minute; otherwise every 1-D numeric variable over time."""
    if "arrival_time" in ds and "time" not in ds.dims:
        arrival = np.sort(ds["arrival_time"].to_numpy().astype(float))
        arrival = arrival[np.isfinite(arrival)]
        end_s = float(ds["horizon"].max()) if "horizon" in ds else 0.0
        end_s = max(end_s, float(arrival[-1]) if arrival.size else 0.0)
        t_s = np.arange(0.0, end_s + 60.0, 60.0)
        reached = np.searchsorted(arrival, t_s, side="right")
        return pd.DataFrame({"t_min": t_s / 60.0, "buildings_reached": reached})
    t_min = np.asarray(ds["time"].to_numpy(), dtype=float) / 60.0
    if "depth" in ds:
        depth = ds["depth"].to_numpy()
        dx = float(abs(ds["x"][1] - ds["x"][0])) if ds.sizes.get("x", 0) > 1 else 1.0
        dy = float(abs(ds["y"][1] - ds["y"][0])) if ds.sizes.get("y", 0) > 1 else 1.0
        return pd.DataFrame(
            {
                "t_min": t_min,
                "max_depth_m": depth.reshape(len(t_min), -1).max(axis=1).astype(float),
                "flooded_area_m2": (depth >= threshold_m).reshape(len(t_min), -1).sum(axis=1)
                * dx
                * dy,
            }
        )
    cols = {"t_min": t_min}
    for name, var in ds.data_vars.items():
        if var.dims == ("time",) and np.issubdtype(var.dtype, np.number):
            cols[str(name)] = var.to_numpy()
    return pd.DataFrame(cols)


def affected_buildings(ds: Any, registry: Any) -> pd.DataFrame:
    """Buildings the water reaches (max depth ≥ :data:`REACH_DEPTH_M`), deepest first, or the
    fire reaches (``arrival_min``), soonest first, with their use and occupant count (a count,
    no names of people)."""
    cols = ["building_id", "name_zh", "name_en", "use", "max_depth_m", "occupants"]
    if "building_max_depth" not in ds:
        if "reached" in ds and "building_id" in ds.coords:  # a fire: soonest reached first
            hit = ds["reached"].to_numpy() > 0
            ids = ds["building_id"].to_numpy()[hit]
            b = registry.buildings.set_index("building_id").loc[list(ids)].reset_index()
            cols = [*cols[:4], "arrival_min", "occupants"]
            b["arrival_min"] = (ds["arrival_time"].to_numpy()[hit] / 60.0).round(1)
            return b[cols].sort_values("arrival_min", kind="stable").reset_index(drop=True)
        return pd.DataFrame(columns=cols)
    depth = pd.Series(ds["building_max_depth"].to_numpy(), index=ds["building_id"].to_numpy())
    hit = depth[depth >= REACH_DEPTH_M]
    b = registry.buildings.set_index("building_id").loc[list(hit.index)].reset_index()
    b["max_depth_m"] = hit.to_numpy().astype(float).round(3)
    return b[cols].sort_values("max_depth_m", ascending=False).reset_index(drop=True)


def affected_roads(ds: Any, registry: Any) -> pd.DataFrame:
    """Roads with water on them, deepest first, and whether they are impassable."""
    cols = ["road_id", "name_zh", "name_en", "max_depth_m", "impassable"]
    if "road_max_depth" not in ds:
        return pd.DataFrame(columns=cols)
    depth = pd.Series(ds["road_max_depth"].to_numpy(), index=ds["road_id"].to_numpy())
    wet = depth[depth >= REACH_DEPTH_M]
    r = registry.roads.set_index("road_id").loc[list(wet.index)].reset_index()
    r["max_depth_m"] = wet.to_numpy().astype(float).round(3)
    r["impassable"] = r["max_depth_m"] >= IMPASSABLE_DEPTH_M
    return r[cols].sort_values("max_depth_m", ascending=False).reset_index(drop=True)


def affected_facilities(ds: Any, registry: Any, buildings: pd.DataFrame) -> pd.DataFrame:
    """Critical facilities reached: flagged ``critical`` and under water at their location, or
    a building whose use is in :data:`CRITICAL_USES`."""
    cols = ["id", "name_zh", "name_en", "kind", "max_depth_m"]
    rows = []
    if "max_depth" in ds and "x" in ds.dims:
        fac = registry.metric("facilities") if hasattr(registry, "metric") else None
        if fac is not None and len(fac):
            xs, ys = ds["x"].to_numpy(), ds["y"].to_numpy()
            md = ds["max_depth"].to_numpy()
            for f in fac[fac["critical"].astype(bool)].itertuples():
                c = f.geometry.centroid
                i, j = int(np.abs(ys - c.y).argmin()), int(np.abs(xs - c.x).argmin())
                if md[i, j] >= REACH_DEPTH_M:
                    rows.append(
                        [f.facility_id, f.name_zh, f.name_en, f.kind, round(float(md[i, j]), 3)]
                    )
    for b in buildings.itertuples():
        if b.use in CRITICAL_USES:
            rows.append([b.building_id, b.name_zh, b.name_en, b.use, b.max_depth_m])
    return pd.DataFrame(rows, columns=cols)


def headline(summary: dict[str, Any], facilities: pd.DataFrame) -> dict[str, Any]:
    """The figures of :data:`FIGURE_KEYS` present for this hazard (rounded for reading)."""
    s = {**summary, "critical_facilities": len(facilities), "crews_needed": crews_needed(summary)}
    out = {}
    for key in FIGURE_KEYS:
        if key in s and s[key] is not None:
            v = s[key]
            out[key] = round(float(v), 2) if isinstance(v, float) else v
    return out


# -- images -----------------------------------------------------------------------------------
def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def depth_map_png(ds: Any, registry: Any, lang: str = "zh") -> bytes | None:
    """Maximum depth over the district with building outlines, as PNG (None without depth)."""
    if "max_depth" not in ds:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs, ys = ds["x"].to_numpy(), ds["y"].to_numpy()
    md = np.where(ds["max_depth"].to_numpy() >= REACH_DEPTH_M, ds["max_depth"].to_numpy(), np.nan)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    im = ax.imshow(
        md,
        origin="lower" if ys[0] < ys[-1] else "upper",
        extent=(xs.min(), xs.max(), ys.min(), ys.max()),
        cmap="Blues",
        vmin=0,
        vmax=max(0.3, float(np.nanmax(md)) if np.isfinite(md).any() else 0.3),
    )
    for poly in registry.metric("buildings").geometry:
        for part in getattr(poly, "geoms", [poly]):
            bx, by = part.exterior.xy
            ax.plot(bx, by, color="#444", linewidth=0.6)
    fig.colorbar(im, ax=ax, label=TEXT[lang]["depth"])
    ax.set_title(TEXT[lang]["map"])
    ax.set_xticks([])
    ax.set_yticks([])
    return _png(fig)


def timeline_png(
    timeline: pd.DataFrame, lang: str = "zh", names: dict[str, str] | None = None
) -> bytes | None:
    """The timeline curves (one panel per column), as PNG."""
    if timeline is None or timeline.empty or len(timeline.columns) < 2:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = [c for c in timeline.columns if c != "t_min"][:3]
    fig, axes = plt.subplots(1, len(cols), figsize=(3.4 * len(cols), 2.8), squeeze=False)
    for ax, c in zip(axes[0], cols, strict=False):
        ax.plot(timeline["t_min"], timeline[c], color="#1f6fd1")
        ax.set_title((names or TEXT[lang]).get(c, c), fontsize=9)
        ax.set_xlabel((names or TEXT[lang])["t_min"], fontsize=8)
    fig.tight_layout()
    return _png(fig)


def _font_setup() -> None:
    """Use a CJK font for matplotlib when one is installed (Debian's fonts-noto-cjk)."""
    import matplotlib
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    if not names & set(CJK_FONTS):
        # matplotlib's font scan skips .ttc collections: register the known files directly
        for path in CJK_FONT_FILES:
            if Path(path).exists():
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        names = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in names:
            matplotlib.rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
            return


# -- the page ---------------------------------------------------------------------------------
def _img(png: bytes | None, alt: str) -> str:
    if not png:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(df: pd.DataFrame, headers: dict[str, str], lang: str) -> str:
    if df is None or df.empty:
        return f"<p>{TEXT[lang]['none']}</p>"
    cols = list(headers)
    head = "".join(f"<th>{html.escape(headers[c])}</th>" for c in cols)
    body = []
    for row in df[cols].itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, (bool, np.bool_)):
                v = TEXT[lang]["yes"] if v else TEXT[lang]["no"]
            cells.append(f"<td>{html.escape(str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def briefing_html(
    ds: Any, summary: dict[str, Any], registry: Any, *, lang: str = "zh", now: float | None = None
) -> str:
    """The whole briefing as one self-contained HTML document in ``lang`` (``zh`` or ``en``).

    Parameters
    ----------
    ds : xarray.Dataset
        The scenario result.
    summary : dict
        Its summary (``name``, ``hazard`` and the headline figures).
    registry : twin.registry.Registry
        The district (building names and uses, roads, facilities).
    """
    lang = "en" if lang == "en" else "zh"
    t = texts(lang, ds)
    _font_setup()
    buildings = affected_buildings(ds, registry)
    roads = affected_roads(ds, registry)
    facilities = affected_facilities(ds, registry, buildings)
    figures = headline(summary, facilities)
    timeline = timeline_frame(ds)
    depth_map = depth_map_png(ds, registry, lang)  # None for a fire: no heading over nothing
    name_col = "name_zh" if lang == "zh" else "name_en"
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(now if now is not None else time.time()))
    fig_rows = "".join(
        f'<tr><th>{html.escape(t.get(k, k))}</th><td data-key="{k}">{v}</td></tr>'
        for k, v in figures.items()
    )
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{html.escape(t['title'])} · {html.escape(str(summary.get('name', '')))}</title>",
        "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:24px;"
        "color:#1b1f27}table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ccd;"
        "padding:4px 8px;text-align:left}img{max-width:100%}.note{color:#555}</style>",
        "</head><body>",
        f"<h1>{html.escape(t['title'])}</h1>",
        f"<p>{t['scenario']}: <b>{html.escape(str(summary.get('name', '')))}</b> · "
        f"{t['hazard']}: {html.escape(str(summary.get('hazard', '')))} · "
        f"{t['generated']}: {when}</p>",
        f'<p class="note">{html.escape(t["note"])}</p>',
        f'<h2>{t["figures"]}</h2><table id="figures">{fig_rows}</table>',
        f"<h2>{t['map']}</h2>{_img(depth_map, t['map'])}" if depth_map else "",
        f"<h2>{t['timeline']}</h2>{_img(timeline_png(timeline, lang, t), t['timeline'])}",
        f"<h2>{t['buildings']}</h2>",
        _table(
            with_use_names(buildings, lang),
            {
                "building_id": "ID",
                name_col: t["building"],
                "use": t["use"],
                building_value_column(buildings): t.get("arrival_min", t["depth"])
                if "arrival_min" in buildings
                else t["depth"],
                "occupants": t["people"],
            },  # fmt: skip
            lang,
        ),
        f"<h2>{t['roads']}</h2>",
        _table(
            roads,
            {
                "road_id": "ID",
                name_col: t["road"],
                "max_depth_m": t["depth"],
                "impassable": t["impassable"],
            },  # fmt: skip
            lang,
        ),
        f"<h2>{t['facilities']}</h2>",
        _table(facilities, {"id": "ID", name_col: t["facility"], "kind": t["use"]}, lang),
        "</body></html>",
    ]
    return "\n".join(parts)
