"""stock_to_846: inventory feeds, their lines and what Amazon was last told

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('inventory_feeds',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('partner', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=True),
    sa.Column('tiers', sa.JSON(), nullable=False),
    sa.Column('snapshot_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_cycle_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('snapshot_fingerprint', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=255), nullable=True),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('units_published', sa.BigInteger(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('quality_result_id', Id, nullable=True),
    sa.Column('outbound_document_id', Id, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['quality_result_id'], ['quality_results.id'], name=op.f('fk_inventory_feeds_quality_result_id_quality_results')),
    sa.ForeignKeyConstraint(['outbound_document_id'], ['outbound_documents.id'], name=op.f('fk_inventory_feeds_outbound_document_id_outbound_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_feeds'))
    )
    with op.batch_alter_table('inventory_feeds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inventory_feeds_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_inventory_feeds_snapshot_fingerprint'), ['snapshot_fingerprint'], unique=False)

    op.create_table('inventory_feed_lines',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('feed_id', Id, nullable=False),
    sa.Column('sku', sa.String(length=60), nullable=False),
    sa.Column('style', sa.String(length=40), nullable=True),
    sa.Column('upc', sa.String(length=14), nullable=True),
    sa.Column('warehouse', sa.String(length=40), nullable=False),
    sa.Column('product_id_qualifier', sa.String(length=4), nullable=False),
    sa.Column('product_id', sa.String(length=48), nullable=False),
    sa.Column('asin', sa.String(length=16), nullable=True),
    sa.Column('tier', sa.String(length=8), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('allocated', sa.Integer(), nullable=False),
    sa.Column('on_hold', sa.Integer(), nullable=False),
    sa.Column('incoming', sa.Integer(), nullable=False),
    sa.Column('ats', sa.Integer(), nullable=False),
    sa.Column('buffer', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=8), nullable=False),
    sa.Column('rule_detail', sa.String(length=80), nullable=False),
    sa.Column('published', sa.Integer(), nullable=False),
    sa.Column('previous_published', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['feed_id'], ['inventory_feeds.id'], name=op.f('fk_inventory_feed_lines_feed_id_inventory_feeds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_feed_lines')),
    sa.UniqueConstraint('feed_id', 'sku', 'warehouse', name='uq_inventory_feed_lines_key')
    )
    with op.batch_alter_table('inventory_feed_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inventory_feed_lines_feed_id'), ['feed_id'], unique=False)

    op.create_table('inventory_positions',
    sa.Column('sku', sa.String(length=60), nullable=False),
    sa.Column('warehouse', sa.String(length=40), nullable=False),
    sa.Column('style', sa.String(length=40), nullable=True),
    sa.Column('upc', sa.String(length=14), nullable=True),
    sa.Column('product_id_qualifier', sa.String(length=4), nullable=False),
    sa.Column('product_id', sa.String(length=48), nullable=False),
    sa.Column('asin', sa.String(length=16), nullable=True),
    sa.Column('ats', sa.Integer(), nullable=False),
    sa.Column('rule_detail', sa.String(length=80), nullable=False),
    sa.Column('published', sa.Integer(), nullable=False),
    sa.Column('feed_id', Id, nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['feed_id'], ['inventory_feeds.id'], name=op.f('fk_inventory_positions_feed_id_inventory_feeds')),
    sa.PrimaryKeyConstraint('sku', 'warehouse', name=op.f('pk_inventory_positions'))
    )
    with op.batch_alter_table('inventory_positions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inventory_positions_feed_id'), ['feed_id'], unique=False)


def downgrade() -> None:
    op.drop_table('inventory_positions')
    op.drop_table('inventory_feed_lines')
    op.drop_table('inventory_feeds')
