"""fulfilment_to_asn: ship notices (one per BlueCherry shipment), their cartons and labels, invoices

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('ship_notices',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('shipment_id', sa.String(length=40), nullable=False),
    sa.Column('partner', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('bc_customer', sa.String(length=40), nullable=True),
    sa.Column('bc_store', sa.String(length=40), nullable=True),
    sa.Column('bc_warehouse', sa.String(length=40), nullable=True),
    sa.Column('ship_to_qualifier', sa.String(length=4), nullable=True),
    sa.Column('ship_to_code', sa.String(length=40), nullable=True),
    sa.Column('carrier_scac', sa.String(length=4), nullable=True),
    sa.Column('tracking_number', sa.String(length=60), nullable=True),
    sa.Column('bill_of_lading', sa.String(length=60), nullable=True),
    sa.Column('ship_date', sa.Date(), nullable=True),
    sa.Column('departed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('asn_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('purchase_orders', sa.JSON(), nullable=False),
    sa.Column('x12_version', sa.String(length=6), nullable=True),
    sa.Column('structure', sa.String(length=8), nullable=True),
    sa.Column('shipment_transaction_id', Id, nullable=True),
    sa.Column('transaction_id', Id, nullable=True),
    sa.Column('outbound_document_id', Id, nullable=True),
    sa.Column('asn_reference', sa.String(length=60), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('findings', sa.JSON(), nullable=True),
    sa.Column('document', sa.JSON(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shipment_transaction_id'], ['transactions.id'], name=op.f('fk_ship_notices_shipment_transaction_id_transactions')),
    sa.ForeignKeyConstraint(['transaction_id'], ['transactions.id'], name=op.f('fk_ship_notices_transaction_id_transactions')),
    sa.ForeignKeyConstraint(['outbound_document_id'], ['outbound_documents.id'], name=op.f('fk_ship_notices_outbound_document_id_outbound_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ship_notices')),
    sa.UniqueConstraint('shipment_id', name=op.f('uq_ship_notices_shipment_id'))
    )
    with op.batch_alter_table('ship_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ship_notices_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_ship_notices_bill_of_lading'), ['bill_of_lading'], unique=False)

    op.create_table('ship_notice_cartons',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('ship_notice_id', Id, nullable=False),
    sa.Column('sscc', sa.String(length=18), nullable=False),
    sa.Column('carton_number', sa.Integer(), nullable=False),
    sa.Column('pallet_sscc', sa.String(length=18), nullable=True),
    sa.Column('contents', sa.JSON(), nullable=False),
    sa.Column('label_zpl', sa.Text(), nullable=True),
    sa.Column('label_pdf', sa.LargeBinary(), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ship_notice_id'], ['ship_notices.id'], name=op.f('fk_ship_notice_cartons_ship_notice_id_ship_notices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ship_notice_cartons')),
    sa.UniqueConstraint('ship_notice_id', 'sscc', name='uq_ship_notice_cartons_notice_sscc')
    )
    with op.batch_alter_table('ship_notice_cartons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ship_notice_cartons_ship_notice_id'), ['ship_notice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ship_notice_cartons_sscc'), ['sscc'], unique=False)

    op.create_table('invoices',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('invoice_number', sa.String(length=22), nullable=True),
    sa.Column('shipment_id', sa.String(length=40), nullable=False),
    sa.Column('purchase_order', sa.String(length=22), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('bc_invoice_number', sa.String(length=40), nullable=True),
    sa.Column('invoice_date', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('ship_notice_id', Id, nullable=True),
    sa.Column('transaction_id', Id, nullable=True),
    sa.Column('outbound_document_id', Id, nullable=True),
    sa.Column('findings', sa.JSON(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ship_notice_id'], ['ship_notices.id'], name=op.f('fk_invoices_ship_notice_id_ship_notices')),
    sa.ForeignKeyConstraint(['transaction_id'], ['transactions.id'], name=op.f('fk_invoices_transaction_id_transactions')),
    sa.ForeignKeyConstraint(['outbound_document_id'], ['outbound_documents.id'], name=op.f('fk_invoices_outbound_document_id_outbound_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('invoice_number', name=op.f('uq_invoices_invoice_number')),
    sa.UniqueConstraint('shipment_id', 'purchase_order', name='uq_invoices_shipment_po')
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoices_shipment_id'), ['shipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_purchase_order'), ['purchase_order'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoices_status'), ['status'], unique=False)


def downgrade() -> None:
    op.drop_table('invoices')
    op.drop_table('ship_notice_cartons')
    op.drop_table('ship_notices')
