"""``streettwin scenario``: run a scenario file headless (one run or an ensemble), list results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers) -> None:
    """Register ``scenario run`` and ``scenario list``."""
    p = subparsers.add_parser("scenario", help="run what-if scenarios and list kept results")
    sub = p.add_subparsers(dest="scenario_command", required=True)
    r = sub.add_parser("run", help="run one scenario file (or its ensemble) headless")
    r.add_argument("file", help="scenario TOML (see data/scenarios/)")
    r.add_argument("--out", default=None, help="result NetCDF (default DIR/scenarios/...)")
    r.add_argument("--district", default=None, help="district folder (default: tiny sample)")
    r.add_argument("--json", action="store_true", help="print one JSON object")
    r.add_argument("--members", type=int, default=None, help="run an ensemble of N members")
    r.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    r.add_argument("--scheduler", default=None, help="existing Dask scheduler, tcp://host:port")
    r.set_defaults(func=run_scenario_cmd)
    ls = sub.add_parser("list", help="list the kept results of a district")
    ls.add_argument("--district", default=None, help="district folder")
    ls.add_argument("--json", action="store_true", help="print one JSON object")
    ls.set_defaults(func=list_cmd)


def _registry(district: str | None):
    if district is None:
        from twin.samples import tiny_registry

        return tiny_registry()
    from twin.registry_io import load_registry

    return load_registry(district)


def run_scenario_cmd(args: argparse.Namespace) -> int:
    """Run, keep the result and print the summary (last stdout line with ``--json``)."""
    from tqdm import tqdm

    from sim.scenario.spec import ScenarioError, load_scenario
    from sim.scenario.store import default_result_path, save_result

    try:
        scenario = load_scenario(args.file)
    except ScenarioError as exc:
        sys.stderr.write(f"invalid scenario: {exc}\n")
        return 2
    if args.district is not None and not Path(args.district).exists():
        sys.stderr.write(f"no district at {args.district}\n")
        return 2
    registry = _registry(args.district)
    out = Path(args.out) if args.out else default_result_path(args.district, scenario.name)
    try:
        if args.members:
            from sim.scenario.ensemble import run_ensemble

            bar = tqdm(total=args.members, desc="members", file=sys.stderr, unit="member")

            def on_member(done: int, total: int) -> None:
                bar.update(done - bar.n)

            ds, summary = run_ensemble(
                scenario,
                registry,
                members=args.members,
                workers=args.workers,
                scheduler=args.scheduler,
                on_member=on_member,
            )
        else:
            from sim.scenario.run import run_scenario

            bar = tqdm(total=round(scenario.duration_s), desc="model s", file=sys.stderr)

            def on_progress(t: float, t_end: float) -> None:
                bar.update(round(t) - bar.n)

            ds, summary = run_scenario(scenario, registry, on_progress=on_progress)
    except ValueError as exc:
        sys.stderr.write(f"scenario failed: {exc}\n")
        return 2
    bar.close()
    summary = save_result(ds, summary, out, args.district)
    _print(summary, args.json)
    return 0


def list_cmd(args: argparse.Namespace) -> int:
    """Print the results index of a district."""
    from sim.scenario.store import list_results

    table = list_results(args.district)
    rows = table.drop(columns=["summary"]).to_dict(orient="records")
    _print({"count": len(rows), "results": rows}, args.json)
    return 0


def _print(obj: dict[str, Any], as_json: bool) -> None:
    from dashboard.cli import print_json

    if as_json:
        print_json(obj)
    else:
        for key, value in obj.items():
            print(f"{key}: {value}")
