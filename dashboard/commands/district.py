"""``streettwin district``: build a district (demo or from OSM/GeoJSON) and describe one on disk."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers) -> None:
    """Register ``district build`` and ``district info``."""
    p = subparsers.add_parser("district", help="build or describe a district registry")
    sub = p.add_subparsers(dest="district_command", required=True)
    b = sub.add_parser("build", help="build the seeded demo district, or import real data")
    b.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    b.add_argument(
        "--out", required=True, help="output folder, or a postgresql+psycopg:// URL (PostGIS)"
    )
    b.add_argument("--buildings", type=int, default=None, help="at most this many buildings")
    b.add_argument(
        "--from-osm", dest="from_osm", default=None,
        help="OSM .pbf, or GeoJSON/GeoPackage of buildings, to import instead",
    )  # fmt: skip
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.set_defaults(func=run_build)
    i = sub.add_parser("info", help="counts and extent of a saved district")
    i.add_argument("path", help="district folder")
    i.add_argument("--json", action="store_true", help="print one JSON object")
    i.set_defaults(func=run_info)


def run_build(args: argparse.Namespace) -> int:
    """Build, save and summarise a district."""
    from twin.registry_pg import save_any

    if args.from_osm:
        from sim.district.osm import district_from_osm

        reg = district_from_osm(args.from_osm, seed=args.seed, progress=True)
    else:
        from sim.district.generate import build_district

        reg = build_district(args.seed, n_buildings=args.buildings, progress=True)
    out = save_any(reg, args.out)  # a folder, or a postgresql+psycopg:// URL (PostGIS)
    summary = district_summary(out)
    _print(summary, args.json)
    return 0


def run_info(args: argparse.Namespace) -> int:
    """Print the summary of a saved district."""
    from twin.registry_pg import is_postgres_url

    if not is_postgres_url(args.path) and not Path(args.path).exists():
        sys.stderr.write(f"no district at {args.path}\n")
        return 2
    _print(district_summary(args.path), args.json)
    return 0


def district_summary(path) -> dict[str, Any]:
    """Counts per layer, area (km²), bounding box (lon/lat), communities and sensors by kind."""
    from twin.registry_pg import is_postgres_url, load_any

    reg = load_any(path)
    metric = reg.layers["grids"].to_crs(reg.metric_crs)
    communities = reg.layers["communities"]
    return {
        "path": str(path) if is_postgres_url(path) else str(Path(path)),
        "name_zh": reg.meta.get("name_zh", ""),
        "name_en": reg.meta.get("name_en", ""),
        "source": reg.meta.get("source", ""),
        "seed": reg.meta.get("seed"),
        "metric_crs": reg.metric_crs,
        "utc_offset": reg.meta.get("utc_offset", ""),
        "area_km2": round(float(metric.geometry.area.sum()) / 1e6, 3),
        "bbox": [round(float(v), 6) for v in reg.layers["grids"].total_bounds],
        "counts": {name: int(len(frame)) for name, frame in reg.layers.items()},
        "communities": [
            f"{c} {z} ({e})"
            for c, z, e in zip(
                communities["community_id"],
                communities["name_zh"],
                communities["name_en"],
                strict=True,
            )
        ],  # fmt: skip
        "sensors_by_kind": {
            str(k): int(v)
            for k, v in reg.layers["sensors"]["kind"].value_counts().sort_index().items()
        },
        "dem_shape": [int(s) for s in reg.dem.shape],
    }


def _print(summary: dict[str, Any], as_json: bool) -> None:
    from dashboard.cli import print_json

    if as_json:
        print_json(summary)
        return
    for key, value in summary.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k}: {v}")
        else:
            print(f"{key}: {value}")
