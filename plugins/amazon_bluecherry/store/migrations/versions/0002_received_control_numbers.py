"""received control numbers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('received_control_numbers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('receiver', sa.String(length=64), nullable=False),
    sa.Column('control_number', sa.String(length=32), nullable=False),
    sa.Column('raw_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['raw_document_id'], ['raw_documents.id'], name=op.f('fk_received_control_numbers_raw_document_id_raw_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_received_control_numbers')),
    sa.UniqueConstraint('kind', 'sender', 'receiver', 'control_number', name='uq_received_control_numbers_key')
    )


def downgrade() -> None:
    op.drop_table('received_control_numbers')
