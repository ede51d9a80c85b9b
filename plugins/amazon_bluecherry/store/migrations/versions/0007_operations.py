"""operators' day: alert deliveries, exceptions announced, daily quality reports

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('alert_deliveries',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('owner', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('dag_id', sa.String(length=250), nullable=True),
    sa.Column('run_id', sa.String(length=250), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_deliveries')),
    sa.UniqueConstraint('key', name=op.f('uq_alert_deliveries_key'))
    )
    op.create_index(op.f('ix_alert_deliveries_owner'), 'alert_deliveries', ['owner'], unique=False)
    op.create_index(op.f('ix_alert_deliveries_created_at'), 'alert_deliveries', ['created_at'], unique=False)
    op.create_table('exception_alerts',
    sa.Column('exception_id', Id, nullable=False),
    sa.Column('delivery_id', Id, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['exception_id'], ['exceptions.id'], name=op.f('fk_exception_alerts_exception_id_exceptions')),
    sa.ForeignKeyConstraint(['delivery_id'], ['alert_deliveries.id'], name=op.f('fk_exception_alerts_delivery_id_alert_deliveries')),
    sa.PrimaryKeyConstraint('exception_id', name=op.f('pk_exception_alerts'))
    )
    op.create_index(op.f('ix_exception_alerts_delivery_id'), 'exception_alerts', ['delivery_id'], unique=False)
    op.create_table('quality_reports',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('report_date', sa.String(length=10), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivery_id', Id, nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['alert_deliveries.id'], name=op.f('fk_quality_reports_delivery_id_alert_deliveries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_reports')),
    sa.UniqueConstraint('report_date', name=op.f('uq_quality_reports_report_date'))
    )


def downgrade() -> None:
    op.drop_table('quality_reports')
    op.drop_index(op.f('ix_exception_alerts_delivery_id'), table_name='exception_alerts')
    op.drop_table('exception_alerts')
    op.drop_index(op.f('ix_alert_deliveries_created_at'), table_name='alert_deliveries')
    op.drop_index(op.f('ix_alert_deliveries_owner'), table_name='alert_deliveries')
    op.drop_table('alert_deliveries')
