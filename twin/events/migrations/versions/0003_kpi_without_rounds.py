"""Leaders' figures leave out the scheduled inspection rounds: recompute the KPI rollup.

The rollup counted every ticket as a hazard found, so a month's patrol rounds swamped the
"found vs handled" figures (6,634 rounds on a fresh demo district against a handful of
incidents). No schema change: the rollup is recomputed from the tickets with the rule of
:func:`twin.events.kpi.contribution`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 21:00:00.000000
"""

from __future__ import annotations

from alembic import op
from sqlalchemy.orm import Session

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from twin.events.kpi import rebuild_rollup

    rebuild_rollup(Session(bind=op.get_bind()))


def downgrade() -> None:
    # nothing to undo in the schema; code of revision 0002 would count rounds again from its
    # next ticket change on, so rebuild the rollup with that code if you go back
    pass
