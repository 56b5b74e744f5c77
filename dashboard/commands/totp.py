"""``streettwin totp enrol USER``: give an account its second factor and print the otpauth URI.

Administrators and auditors cannot log in until they have one (MLPS 2.0 level 3: two factors
for administrators). Run it on the serving machine against the event store the server uses;
the URI (the secret inside it) is printed once, to stdout only, never logged: type it into an
authenticator app or turn it into a QR code there. Running it again replaces the secret (a lost
phone).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``totp`` on the CLI."""
    p = sub.add_parser("totp", help="one-time codes (second factor) of accounts")
    acts = p.add_subparsers(dest="action", required=True)
    enrol = acts.add_parser("enrol", help="new TOTP secret for an account; prints its URI")
    enrol.add_argument("username")
    where = enrol.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", default=None, help="event store URL (as given to serve --db)")
    where.add_argument(
        "--data-dir", type=Path, default=None, help="serve's data folder (its events.sqlite)"
    )
    enrol.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def enrol(url: str, username: str) -> str:
    """Enrol ``username`` on the event store at ``url`` (migrated first); returns the URI."""
    from twin.events.db import make_engine
    from twin.events.migrations import upgrade
    from twin.events.users import UserStore

    upgrade(url)
    engine = make_engine(url)
    try:
        return UserStore(engine).enrol_totp(username)
    finally:
        engine.dispose()


def run(args: argparse.Namespace) -> int:
    """Enrol the account and print its otpauth URI (or an error, exit 1)."""
    from dashboard.cli import print_json
    from twin.events.db import sqlite_url

    url = args.db or sqlite_url(Path(args.data_dir) / "events.sqlite")
    try:
        uri = enrol(url, args.username)
    except (LookupError, ValueError) as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    if args.json:
        print_json({"user": args.username, "otpauth_uri": uri})
    else:
        print(uri)
    return 0
