"""operators' day: alert deliveries, report runs

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

Reserved in the chain for issue #12 so that work on several flows can proceed in
parallel without two revisions claiming the same parent; its tables are added by that work.
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
