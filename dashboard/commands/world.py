"""``streettwin world``: start a storm, a fault or a crowd event in a running demo's world."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request

DEFAULT_CONTROL = "http://127.0.0.1:5120"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``world`` on the CLI."""
    p = sub.add_parser("world", help="act on the simulated world of `streettwin devices`")
    p.add_argument("--control", default=DEFAULT_CONTROL, help="world control URL")
    acts = p.add_subparsers(dest="action", required=True)
    storm = acts.add_parser("storm", help="start a moving rain storm now")
    storm.add_argument("--total-mm", type=float, required=True, help="rain at the centre, mm")
    storm.add_argument("--duration-min", type=float, default=60.0, help="duration, min")
    fault = acts.add_parser("fault", help="inject a fault now")
    fault.add_argument("kind", help="pipe_burst, feeder_outage, gas_leak, smoke, sensor_stuck, …")
    fault.add_argument("target", help="pipe, feeder, building, sensor or device id")
    fault.add_argument("--duration-min", type=float, default=None, help="duration, min")
    crowd = acts.add_parser("crowd", help="schedule a crowd event at a square or market")
    crowd.add_argument("facility_id")
    crowd.add_argument("--peak-people", type=float, required=True)
    crowd.add_argument("--duration-min", type=float, default=60.0)
    acts.add_parser("events", help="list the world's injected events")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Send the action to the world control channel and print its JSON answer."""
    if args.action == "events":
        req = urllib.request.Request(f"{args.control}/events")
    else:
        body = {k: v for k, v in vars(args).items() if k not in ("func", "command", "control")}
        body.pop("action")
        body.pop("verbose", None)
        req = urllib.request.Request(
            f"{args.control}/{args.action}",
            data=json.dumps({k: v for k, v in body.items() if v is not None}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            print(res.read().decode())
    except urllib.error.HTTPError as exc:
        sys.stderr.write(f"world control refused: {exc.read().decode()}\n")
        return 1
    except urllib.error.URLError as exc:
        sys.stderr.write(f"no world control at {args.control} ({exc.reason}); is the demo up?\n")
        return 1
    return 0
