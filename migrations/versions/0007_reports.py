"""reports: indicator definitions and frozen report snapshots

Revision ID: 0007_reports
Revises: 0006_sessions
Create Date: 2026-11-26 11:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_reports"
down_revision = "0006_sessions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_indicator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("name_bg", sa.String(length=200), nullable=False),
        sa.Column("sources", sa.String(length=300), nullable=False),
        sa.Column("measure", sa.String(length=20), nullable=False),
        sa.Column("target", sa.Numeric(precision=12, scale=1), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("course_ids", sa.JSON(), nullable=False),
        sa.Column("event_ids", sa.JSON(), nullable=False),
        sa.Column("min_hours", sa.Numeric(precision=6, scale=1), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "measure IN ('people', 'companies', 'courses', 'events', 'count', 'hours')",
            name=op.f("ck_report_indicator_measure"),
        ),
        sa.CheckConstraint(
            "target IS NULL OR target >= 0", name=op.f("ck_report_indicator_target")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_indicator")),
        sa.UniqueConstraint("key", name=op.f("uq_report_indicator_key")),
    )
    op.create_table(
        "report_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("cumulative", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("frozen_by_id", sa.Integer(), nullable=True),
        sa.Column("frozen_by_name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["frozen_by_id"],
            ["user.id"],
            name=op.f("fk_report_snapshot_frozen_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_snapshot")),
    )


def downgrade():
    op.drop_table("report_snapshot")
    op.drop_table("report_indicator")
