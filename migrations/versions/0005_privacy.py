"""privacy: consent records, erasure requests

Revision ID: 0005_privacy
Revises: 0004_certificates
Create Date: 2026-11-26 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_privacy'
down_revision = '0004_certificates'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consent_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('version', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('photos', 'publication', 'newsletter')", name=op.f('ck_consent_record_kind')),
    sa.CheckConstraint("source IN ('registration', 'account', 'erasure')", name=op.f('ck_consent_record_source')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_consent_record_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_record'))
    )
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.create_index('ix_consent_record_user_kind_at', ['user_id', 'kind', 'at'], unique=False)

    op.create_table('erasure_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('processed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'done', 'cancelled')", name=op.f('ck_erasure_request_status')),
    sa.ForeignKeyConstraint(['processed_by_id'], ['user.id'], name=op.f('fk_erasure_request_processed_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_erasure_request_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_request'))
    )
    with op.batch_alter_table('erasure_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erasure_request_user_id'), ['user_id'], unique=False)

    # In place, never a batch rebuild of `user` (see downgrade).
    op.add_column('user', sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('user', sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # Not in batch mode: on SQLite a batch rebuilds `user` (copy, drop, rename), and dropping
    # it can cascade-delete rows that refer to it. ALTER TABLE ... DROP COLUMN (SQLite 3.35+,
    # PostgreSQL) changes the table in place.
    op.drop_column('user', 'anonymised_at')
    op.drop_column('user', 'erased_at')

    with op.batch_alter_table('erasure_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erasure_request_user_id'))

    op.drop_table('erasure_request')
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_record_user_kind_at')

    op.drop_table('consent_record')
