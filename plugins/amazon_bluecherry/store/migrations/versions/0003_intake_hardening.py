"""intake hardening: remote file sightings, inbound arrivals, TA1 acknowledgements

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

Issue #14: pickup remembers what it saw in a remote folder (a file is taken only once two
listings agree on its size and mtime), every arrival of a file is recorded (a byte-identical
re-send is one raw document but is acknowledged again), and TA1s are kept and matched to
the interchanges we sent.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('remote_file_sightings',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('location', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('mtime', sa.Float(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('exception_id', Id, nullable=True),
    sa.ForeignKeyConstraint(['exception_id'], ['exceptions.id'],
                            name=op.f('fk_remote_file_sightings_exception_id_exceptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remote_file_sightings')),
    sa.UniqueConstraint('location', 'name', name='uq_remote_file_sightings_location_name')
    )
    op.create_table('inbound_arrivals',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('raw_document_id', Id, nullable=False),
    sa.Column('location', sa.String(length=255), nullable=False),
    sa.Column('remote_name', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('ack_outbound_document_id', Id, nullable=True),
    sa.ForeignKeyConstraint(['ack_outbound_document_id'], ['outbound_documents.id'],
                            name=op.f('fk_inbound_arrivals_ack_outbound_document_id_outbound_documents')),
    sa.ForeignKeyConstraint(['raw_document_id'], ['raw_documents.id'],
                            name=op.f('fk_inbound_arrivals_raw_document_id_raw_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_arrivals'))
    )
    op.create_index(op.f('ix_inbound_arrivals_arrived_at'), 'inbound_arrivals', ['arrived_at'], unique=False)
    op.create_index(op.f('ix_inbound_arrivals_raw_document_id'), 'inbound_arrivals', ['raw_document_id'],
                    unique=False)
    op.create_table('interchange_acknowledgements',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('raw_document_id', Id, nullable=False),
    sa.Column('partner', sa.String(length=64), nullable=False),
    sa.Column('control_number', sa.String(length=9), nullable=False),
    sa.Column('interchange_date', sa.String(length=6), nullable=False),
    sa.Column('interchange_time', sa.String(length=4), nullable=False),
    sa.Column('status', sa.String(length=1), nullable=False),
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('outbound_document_id', Id, nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outbound_document_id'], ['outbound_documents.id'],
                            name=op.f('fk_interchange_acknowledgements_outbound_document_id_outbound_documents')),
    sa.ForeignKeyConstraint(['raw_document_id'], ['raw_documents.id'],
                            name=op.f('fk_interchange_acknowledgements_raw_document_id_raw_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interchange_acknowledgements')),
    sa.UniqueConstraint('raw_document_id', 'control_number', name='uq_interchange_acknowledgements_key')
    )


def downgrade() -> None:
    op.drop_table('interchange_acknowledgements')
    op.drop_index(op.f('ix_inbound_arrivals_raw_document_id'), table_name='inbound_arrivals')
    op.drop_index(op.f('ix_inbound_arrivals_arrived_at'), table_name='inbound_arrivals')
    op.drop_table('inbound_arrivals')
    op.drop_table('remote_file_sightings')
