"""peak day: index transactions.raw_document_id (the order path joins a file's sets by it)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
from __future__ import annotations

from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f('ix_transactions_raw_document_id'), 'transactions', ['raw_document_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_transactions_raw_document_id'), table_name='transactions')
