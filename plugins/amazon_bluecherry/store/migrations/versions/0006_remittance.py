"""remit_to_journals: remittances, lines, postings, dispute claims, reconciliation runs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

Issue #11. Money is NUMERIC(15,2) on PostgreSQL and decimal text on SQLite (whose NUMERIC
affinity would turn it into a float); the store's ``Money`` column type reads both back
as ``Decimal``.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=15, scale=2).with_variant(sa.String(length=24), 'sqlite')


def upgrade() -> None:
    op.create_table('reconciliation_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('run_key', sa.String(length=200), nullable=False),
    sa.Column('ties_out', sa.Boolean(), nullable=False),
    sa.Column('totals', sa.JSON(), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('report_path', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_runs'))
    )
    with op.batch_alter_table('reconciliation_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_runs_period'), ['period'], unique=False)

    op.create_table('remittances',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('raw_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('trace_number', sa.String(length=80), nullable=False),
    sa.Column('payment_amount', MONEY, nullable=False),
    sa.Column('payment_date', sa.Date(), nullable=True),
    sa.Column('payment_method', sa.String(length=8), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('payer', sa.String(length=80), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('unrecognised_amount', MONEY, nullable=False),
    sa.Column('unmatched_amount', MONEY, nullable=False),
    sa.Column('plan', sa.JSON(), nullable=True),
    sa.Column('blocked_reason', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['raw_document_id'], ['raw_documents.id'], name=op.f('fk_remittances_raw_document_id_raw_documents')),
    sa.ForeignKeyConstraint(['transaction_id'], ['transactions.id'], name=op.f('fk_remittances_transaction_id_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remittances')),
    sa.UniqueConstraint('transaction_id', name=op.f('uq_remittances_transaction_id'))
    )
    with op.batch_alter_table('remittances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remittances_payment_date'), ['payment_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_remittances_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_remittances_trace_number'), ['trace_number'], unique=False)

    op.create_table('remittance_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('remittance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_number', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('reference_qualifier', sa.String(length=3), nullable=True),
    sa.Column('amount', MONEY, nullable=False),
    sa.Column('invoice_amount', MONEY, nullable=True),
    sa.Column('adjustment_codes', sa.String(length=80), nullable=True),
    sa.Column('adjustment_reference_qualifier', sa.String(length=3), nullable=True),
    sa.Column('adjustment_reference', sa.String(length=80), nullable=True),
    sa.Column('purchase_order', sa.String(length=80), nullable=True),
    sa.Column('invoice_number', sa.String(length=80), nullable=True),
    sa.Column('shipment_id', sa.String(length=80), nullable=True),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.Column('line_date', sa.Date(), nullable=True),
    sa.Column('deduction_type', sa.String(length=32), nullable=False),
    sa.Column('gl_account', sa.String(length=40), nullable=False),
    sa.Column('owner', sa.String(length=16), nullable=False),
    sa.Column('rule_line', sa.Integer(), nullable=True),
    sa.Column('match_status', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['remittance_id'], ['remittances.id'], name=op.f('fk_remittance_lines_remittance_id_remittances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remittance_lines')),
    sa.UniqueConstraint('remittance_id', 'line_number', name='uq_remittance_lines_line')
    )
    with op.batch_alter_table('remittance_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remittance_lines_invoice_number'), ['invoice_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_remittance_lines_reference'), ['reference'], unique=False)
        batch_op.create_index(batch_op.f('ix_remittance_lines_remittance_id'), ['remittance_id'], unique=False)
        batch_op.create_index('ix_remittance_lines_type', ['deduction_type'], unique=False)

    op.create_table('remittance_postings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('remittance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('deduction_type', sa.String(length=32), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('amount', MONEY, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('document_number', sa.String(length=60), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['remittance_id'], ['remittances.id'], name=op.f('fk_remittance_postings_remittance_id_remittances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remittance_postings')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_remittance_postings_idempotency_key')),
    sa.UniqueConstraint('remittance_id', 'kind', 'deduction_type', name='uq_remittance_postings_kind')
    )
    with op.batch_alter_table('remittance_postings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remittance_postings_remittance_id'), ['remittance_id'], unique=False)

    op.create_table('dispute_claims',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('remittance_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('claim_reference', sa.String(length=80), nullable=False),
    sa.Column('deduction_type', sa.String(length=32), nullable=False),
    sa.Column('amount', MONEY, nullable=False),
    sa.Column('trace_number', sa.String(length=80), nullable=False),
    sa.Column('remitted_on', sa.Date(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('packet_path', sa.String(length=500), nullable=True),
    sa.Column('packet_sha256', sa.String(length=64), nullable=True),
    sa.Column('missing', sa.JSON(), nullable=True),
    sa.Column('alerts_sent', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['remittance_line_id'], ['remittance_lines.id'], name=op.f('fk_dispute_claims_remittance_line_id_remittance_lines')),
    sa.ForeignKeyConstraint(['transaction_id'], ['transactions.id'], name=op.f('fk_dispute_claims_transaction_id_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_claims')),
    sa.UniqueConstraint('remittance_line_id', name=op.f('uq_dispute_claims_remittance_line_id'))
    )
    with op.batch_alter_table('dispute_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispute_claims_claim_reference'), ['claim_reference'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispute_claims_due_at'), ['due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dispute_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_claims_due_at'))
        batch_op.drop_index(batch_op.f('ix_dispute_claims_claim_reference'))

    op.drop_table('dispute_claims')
    with op.batch_alter_table('remittance_postings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remittance_postings_remittance_id'))

    op.drop_table('remittance_postings')
    with op.batch_alter_table('remittance_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_remittance_lines_type')
        batch_op.drop_index(batch_op.f('ix_remittance_lines_remittance_id'))
        batch_op.drop_index(batch_op.f('ix_remittance_lines_reference'))
        batch_op.drop_index(batch_op.f('ix_remittance_lines_invoice_number'))

    op.drop_table('remittance_lines')
    with op.batch_alter_table('remittances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remittances_trace_number'))
        batch_op.drop_index(batch_op.f('ix_remittances_status'))
        batch_op.drop_index(batch_op.f('ix_remittances_payment_date'))

    op.drop_table('remittances')
    with op.batch_alter_table('reconciliation_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_runs_period'))

    op.drop_table('reconciliation_runs')
