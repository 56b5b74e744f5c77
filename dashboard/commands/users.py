"""``streettwin users add|list``: create accounts on the event store a server uses.

The first administrator has to come from somewhere: this command runs on the serving machine
with the same ``--db`` URL (or ``--data-dir``) as ``serve``. Passwords are read from a prompt
or, for scripts, from stdin (``--password-stdin``) — never from the command line, where they
would land in shell history and process lists. Administrators and auditors then need
``streettwin totp enrol USER`` before they can log in.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path


def _where(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", default=None, help="event store URL (as given to serve --db)")
    where.add_argument(
        "--data-dir", type=Path, default=None, help="serve's data folder (its events.sqlite)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``users`` on the CLI."""
    from twin.events.roles import ROLES

    p = sub.add_parser("users", help="accounts of the dispatch side (add, list)")
    acts = p.add_subparsers(dest="action", required=True)
    add = acts.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r for r in ROLES if r != "system"])
    add.add_argument("--crew-id", default=None, help="the crew a crew account belongs to")
    add.add_argument("--grid", action="append", default=[], help="grid code (repeatable)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    _where(add)
    listing = acts.add_parser("list", help="list accounts (no secrets)")
    _where(listing)
    p.set_defaults(func=run)


def _store(args: argparse.Namespace):
    from twin.events.db import make_engine, sqlite_url
    from twin.events.migrations import upgrade
    from twin.events.users import UserStore

    url = args.db or sqlite_url(Path(args.data_dir) / "events.sqlite")
    upgrade(url)
    engine = make_engine(url)
    return UserStore(engine), engine


def run(args: argparse.Namespace) -> int:
    """Add or list accounts; errors go to stderr with exit 1."""
    from sqlalchemy.exc import IntegrityError

    from dashboard.cli import print_json

    store, engine = _store(args)
    try:
        if args.action == "list":
            rows = store.list_users()
            if args.json:
                print_json({"users": rows})
            else:
                for r in rows:
                    print(f"{r['username']:<20} {r['role']:<9} {'2FA' if r['totp'] else ''}")
            return 0
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"password for {args.username}: ")
            if getpass.getpass("again: ") != password:
                sys.stderr.write("the passwords differ\n")
                return 1
        try:
            user = store.add_user(
                args.username,
                args.role,
                password,
                crew_id=args.crew_id,
                grid_codes=args.grid,
            )
        except (ValueError, LookupError) as exc:
            sys.stderr.write(f"{exc}\n")
            return 1
        except IntegrityError:
            sys.stderr.write(f"an account named {args.username!r} already exists\n")
            return 1
        out = {"user": user.username, "role": user.role}
        if user.role in ("admin", "auditor"):
            out["next"] = f"streettwin totp enrol {user.username} (needed before it can log in)"
        if args.json:
            print_json(out)
        else:
            print(
                f"created {user.username} ({user.role})"
                + (f"; {out['next']}" if "next" in out else "")
            )
        return 0
    finally:
        engine.dispose()
