"""Roles and the permission table (action → roles), as data for routes and the store.

Least privilege with administration and audit apart (MLPS 2.0 level 3): the admin manages
accounts but cannot read or verify the audit log; the auditor reads the audit log and changes
nothing. Leaders read only. Crews act only on tickets dispatched to their own crew
(:data:`SCOPES`), which the ticket store checks server-side as well.
"""

from __future__ import annotations

from types import MappingProxyType

#: human roles, plus ``system`` for device and internal services that hold a bearer token
ROLES: tuple[str, ...] = ("operator", "manager", "leader", "crew", "admin", "auditor", "system")


def _table(rows: dict[str, tuple[str, ...]]) -> MappingProxyType:
    return MappingProxyType({action: frozenset(roles) for action, roles in rows.items()})


#: action → roles allowed to do it (anything absent is denied)
PERMISSIONS: MappingProxyType = _table(
    {
        # tickets
        "ticket.read": ("operator", "manager", "leader", "crew"),
        "ticket.create": ("operator", "manager", "system"),
        "ticket.dispatch": ("operator", "manager"),
        "ticket.reassign": ("operator", "manager"),
        "ticket.accept": ("crew",),
        "ticket.reject": ("crew",),
        "ticket.arrive": ("crew",),
        "ticket.resolve": ("crew",),
        "ticket.verify": ("operator", "manager"),
        "ticket.reject_fix": ("operator", "manager"),
        "ticket.close": ("operator", "manager"),
        "ticket.dismiss": ("operator", "manager"),
        "ticket.merge": ("operator", "manager"),
        "ticket.reopen": ("operator", "manager"),
        # crews and dispatch help
        "crew.read": ("operator", "manager", "leader"),
        "crew.suggest": ("operator", "manager"),
        "crew.manage": ("manager",),
        "crew.update_own": ("crew",),
        # reports in
        "report.create": ("operator", "crew", "system"),
        "report.read_own": ("operator", "system"),
        # time limits
        "sla.scan": ("system",),
        # figures and the map
        "kpi.read": ("operator", "manager", "leader"),
        "map.read": ("operator", "manager", "leader", "crew"),
        "alert.read": ("operator", "manager", "leader", "crew"),
        "alert.ack": ("operator", "manager"),
        "scenario.run": ("manager",),
        # sensitive aggregates: counts of vulnerable residents per building
        "vulnerable.read": ("operator", "manager"),
        # devices and systems
        "reading.ingest": ("system",),
        # accounts and the log
        "user.manage": ("admin",),
        "audit.read": ("auditor",),
        "audit.verify": ("auditor",),
    }
)

#: how far a role's reach goes over tickets: all, or only those of the user's own crew
SCOPES: MappingProxyType = MappingProxyType(
    {
        "operator": "all",
        "manager": "all",
        "leader": "all",
        "crew": "own_crew",
        "admin": "none",
        "auditor": "none",
        "system": "all",
    }
)

#: roles that only read: nothing in PERMISSIONS that changes data is granted to them
READ_ONLY_ROLES: frozenset[str] = frozenset({"leader", "auditor"})

#: actions that change nothing (used to check READ_ONLY_ROLES)
READ_ACTIONS: frozenset[str] = frozenset(
    {
        "ticket.read",
        "crew.read",
        "crew.suggest",
        "report.read_own",
        "kpi.read",
        "map.read",
        "alert.read",
        "vulnerable.read",
        "audit.read",
        "audit.verify",
    }
)


class PermissionDeniedError(Exception):
    """Raised when a role may not do an action, or not on this object."""


def can(role: str, action: str) -> bool:
    """True if ``role`` may do ``action``.

    >>> can("crew", "ticket.accept"), can("leader", "ticket.dispatch")
    (True, False)
    """
    return role in PERMISSIONS.get(action, frozenset())


def require(role: str, action: str) -> None:
    """Raise :class:`PermissionDeniedError` unless ``role`` may do ``action``."""
    if role not in ROLES:
        raise PermissionDeniedError(f"unknown role {role!r}")
    if not can(role, action):
        raise PermissionDeniedError(f"role {role!r} may not {action}")


def actions_of(role: str) -> frozenset[str]:
    """Every action granted to ``role``."""
    return frozenset(a for a, roles in PERMISSIONS.items() if role in roles)
