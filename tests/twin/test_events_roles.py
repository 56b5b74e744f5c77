"""The role/permission table: least privilege, admin and audit apart, leaders read only."""

from __future__ import annotations

import pytest

from twin.events.lifecycle import ACTIONS
from twin.events.roles import (
    PERMISSIONS,
    READ_ACTIONS,
    READ_ONLY_ROLES,
    ROLES,
    SCOPES,
    PermissionDeniedError,
    actions_of,
    can,
    require,
)


def test_admin_and_auditor_share_no_permission():
    assert actions_of("admin") & actions_of("auditor") == frozenset()
    assert not can("admin", "audit.read") and can("auditor", "audit.read")
    assert not can("auditor", "user.manage") and can("admin", "user.manage")


def test_read_only_roles_change_nothing():
    for role in READ_ONLY_ROLES:
        assert actions_of(role) <= READ_ACTIONS, role


def test_every_lifecycle_action_has_a_permission_and_known_roles():
    assert {f"ticket.{a}" for a in ACTIONS} <= set(PERMISSIONS)
    for action, roles in PERMISSIONS.items():
        assert roles and roles <= set(ROLES), action
    assert set(SCOPES) == set(ROLES)


def test_crews_do_field_steps_operators_do_desk_steps():
    assert actions_of("crew") >= {"ticket.accept", "ticket.arrive", "ticket.resolve"}
    assert not can("crew", "ticket.dispatch") and not can("crew", "ticket.close")
    assert SCOPES["crew"] == "own_crew"


def test_require_raises_for_unknown_role_and_missing_permission():
    with pytest.raises(PermissionDeniedError, match="unknown role"):
        require("root", "ticket.read")
    with pytest.raises(PermissionDeniedError, match="may not user.manage"):
        require("operator", "user.manage")
    require("operator", "ticket.dispatch")
