"""remit_to_journals: remittances, lines, postings, dispute packets

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

Reserved in the chain for issue #11 so that work on several flows can proceed in
parallel without two revisions claiming the same parent; its tables are added by that work.
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
