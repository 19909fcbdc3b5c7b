"""report indexes: completions and certificates by date, for the grant report

Revision ID: 0008_report_indexes
Revises: 0007_reports
Create Date: 2026-11-26 14:40:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0008_report_indexes"
down_revision = "0007_reports"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("courses_enrolment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_courses_enrolment_completed_at"), ["completed_at"], unique=False
        )
    with op.batch_alter_table("certificates_certificate", schema=None) as batch_op:
        batch_op.create_index("ix_certificates_certificate_issued_at", ["issued_at"], unique=False)
        batch_op.create_index(
            "ix_certificates_certificate_revoked_issued",
            ["revoked_at", "issued_at", "course_id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("certificates_certificate", schema=None) as batch_op:
        batch_op.drop_index("ix_certificates_certificate_revoked_issued")
        batch_op.drop_index("ix_certificates_certificate_issued_at")
    with op.batch_alter_table("courses_enrolment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courses_enrolment_completed_at"))
