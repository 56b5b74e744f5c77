"""The ``streettwin`` command line: one parser, subcommands dispatched to the rooms.

Every ``--json`` command prints exactly one JSON object as the last line of stdout; progress
bars and logs go to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Callable
from typing import Any

#: bench NAME → "module:function"; the function takes the parsed args and returns a dict.
BENCHES: dict[str, str] = {
    "ui": "dashboard.bench_ui:bench_ui",
    "scale": "sim.district.scale:bench_scale",
    "flood": "sim.flood.bench:bench_flood",
    "fire": "sim.fire.bench:bench_fire",
    "crowd": "sim.crowd.bench:bench_crowd",
    "faults": "sim.utility.bench:bench_faults",
    "dispatch": "twin.events.bench:bench_dispatch",
    "ingest": "dashboard.bench_ingest:bench_ingest",
    "warning": "sim.nowcast.bench:bench_warning",
    "ensemble": "sim.scenario.bench:bench_ensemble",
}

#: validate NAME → "module:function"; returns {"passed": bool, "cases": [...]}.
VALIDATIONS: dict[str, str] = {
    "flood": "sim.flood.validate:validate_flood",
    "fire": "sim.fire.validate:validate_fire",
}

#: subcommand modules; each exposes ``add_parser(subparsers)`` setting ``func`` on its parser.
COMMAND_MODULES: tuple[str, ...] = (
    "dashboard.commands.district",
    "dashboard.commands.serve",
    "dashboard.commands.devices",
    "dashboard.commands.demo",
    "dashboard.commands.scenario",
    "dashboard.commands.world",
    "dashboard.commands.users",
    "dashboard.commands.totp",
)


def resolve(target: str) -> Callable[..., Any]:
    """Import ``"module:function"`` lazily, so heavy packages load only when used."""
    module_name, func_name = target.split(":")
    return getattr(importlib.import_module(module_name), func_name)


def print_json(obj: dict[str, Any]) -> None:
    """Print one JSON object as the last line of stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=_json_default) + "\n")
    sys.stdout.flush()


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)


def _run_named(table: dict[str, str], kind: str, args: argparse.Namespace) -> int:
    if args.name not in table:
        sys.stderr.write(f"unknown {kind} {args.name!r}; choose from {', '.join(table)}\n")
        return 2
    result = resolve(table[args.name])(args)
    if args.json:
        print_json(result)
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    if kind == "validation":
        return 0 if result.get("passed") else 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The full ``streettwin`` parser."""
    parser = argparse.ArgumentParser(prog="streettwin", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    bench = sub.add_parser("bench", help="run a benchmark and print its figures")
    bench.add_argument("name", help=", ".join(BENCHES))
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--smoke", action="store_true", help="small sizes, for the test suite")
    bench.add_argument("--buildings", type=int, default=None, help="registry size (scale, fire)")
    bench.add_argument("--size", type=int, default=None, help="grid side in cells (flood)")
    bench.add_argument("--repeat", type=int, default=3, help="repetitions; medians reported")
    bench.set_defaults(func=lambda a: _run_named(BENCHES, "benchmark", a))

    validate = sub.add_parser("validate", help="run a model's validation cases")
    validate.add_argument("name", help=", ".join(VALIDATIONS))
    validate.add_argument("--json", action="store_true", help="print one JSON object")
    validate.add_argument("--quick", action="store_true", help="coarser, faster cases")
    validate.set_defaults(func=lambda a: _run_named(VALIDATIONS, "validation", a))

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``streettwin`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        # pymodbus logs every timed-out request as an ERROR with the raw frames that arrive
        # late (dozens of lines of hex per slow poll); the pollers say what failed in one line
        logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
