"""courses: live sessions, registrations, attendance, surveys

Revision ID: 0006_sessions
Revises: 0005_privacy
Create Date: 2026-11-26 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_sessions'
down_revision = '0005_privacy'
branch_labels = None
depends_on = None

REQUIRED_SESSIONS_CHECK = 'required_sessions BETWEEN 0 AND 50'


def _add_required_sessions():
    """courses_course.required_sessions with its range check. SQLite adds a column with a
    CHECK in place (no table copy, which would cascade deletes with foreign keys on)."""
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            'ALTER TABLE courses_course ADD COLUMN required_sessions INTEGER DEFAULT 0 NOT NULL '
            f'CONSTRAINT ck_courses_course_required_sessions CHECK ({REQUIRED_SESSIONS_CHECK})'
        )
    else:
        op.add_column('courses_course', sa.Column('required_sessions', sa.Integer(), server_default='0', nullable=False))
        op.create_check_constraint('ck_courses_course_required_sessions', 'courses_course', REQUIRED_SESSIONS_CHECK)


def _drop_required_sessions():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE courses_course DROP COLUMN required_sessions')
    else:
        op.drop_constraint('ck_courses_course_required_sessions', 'courses_course', type_='check')
        op.drop_column('courses_course', 'required_sessions')


def upgrade():
    op.create_table('courses_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('event_type', sa.String(length=12), nullable=False),
    sa.Column('topic', sa.String(length=40), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('delivery_mode', sa.String(length=10), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('online_url', sa.String(length=500), nullable=False),
    sa.Column('recording_url', sa.String(length=500), nullable=False),
    sa.Column('with_ict_norway', sa.Boolean(), nullable=False),
    sa.Column('partner', sa.String(length=200), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("delivery_mode IN ('online', 'on-site', 'blended')", name=op.f('ck_courses_event_delivery_mode')),
    sa.CheckConstraint("event_type IN ('webinar', 'seminar', 'training', 'conference', 'workshop')", name=op.f('ck_courses_event_event_type')),
    sa.CheckConstraint("status IN ('scheduled', 'cancelled')", name=op.f('ck_courses_event_status')),
    sa.CheckConstraint("topic IN ('circular-economy', 'resource-energy-efficiency', 'green-innovation', 'sustainable-business-models', 'climate-neutrality')", name=op.f('ck_courses_event_topic')),
    sa.CheckConstraint('capacity IS NULL OR capacity BETWEEN 1 AND 100000', name=op.f('ck_courses_event_capacity')),
    sa.CheckConstraint('duration_minutes BETWEEN 1 AND 4320', name=op.f('ck_courses_event_duration_minutes')),
    sa.ForeignKeyConstraint(['course_id'], ['courses_course.id'], name=op.f('fk_courses_event_course_id_courses_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_courses_event_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses_event'))
    )
    with op.batch_alter_table('courses_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_event_course_id'), ['course_id'], unique=False)
        batch_op.create_index('ix_courses_event_starts_at', ['starts_at'], unique=False)

    op.create_table('courses_skills_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=6), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('average', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("phase IN ('before', 'after')", name=op.f('ck_courses_skills_assessment_phase')),
    sa.CheckConstraint('average BETWEEN 1 AND 5', name=op.f('ck_courses_skills_assessment_average')),
    sa.ForeignKeyConstraint(['course_id'], ['courses_course.id'], name=op.f('fk_courses_skills_assessment_course_id_courses_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_courses_skills_assessment_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses_skills_assessment')),
    sa.UniqueConstraint('user_id', 'course_id', 'phase', name=op.f('uq_courses_skills_assessment_user_id_course_id_phase'))
    )
    with op.batch_alter_table('courses_skills_assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_skills_assessment_course_id'), ['course_id'], unique=False)

    op.create_table('courses_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('manual', 'csv')", name=op.f('ck_courses_attendance_source')),
    sa.CheckConstraint("user_id IS NOT NULL OR name <> ''", name=op.f('ck_courses_attendance_someone')),
    sa.CheckConstraint('minutes IS NULL OR minutes BETWEEN 0 AND 4320', name=op.f('ck_courses_attendance_minutes')),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_courses_attendance_company_id_company'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['courses_event.id'], name=op.f('fk_courses_attendance_event_id_courses_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_courses_attendance_recorded_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_courses_attendance_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses_attendance')),
    sa.UniqueConstraint('event_id', 'user_id', name=op.f('uq_courses_attendance_event_id_user_id'))
    )
    with op.batch_alter_table('courses_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_attendance_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_attendance_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_attendance_user_id'), ['user_id'], unique=False)

    op.create_table('courses_event_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('satisfaction BETWEEN 1 AND 5', name=op.f('ck_courses_event_feedback_satisfaction')),
    sa.ForeignKeyConstraint(['event_id'], ['courses_event.id'], name=op.f('fk_courses_event_feedback_event_id_courses_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_courses_event_feedback_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses_event_feedback')),
    sa.UniqueConstraint('event_id', 'user_id', name=op.f('uq_courses_event_feedback_event_id_user_id'))
    )
    with op.batch_alter_table('courses_event_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_event_feedback_event_id'), ['event_id'], unique=False)

    op.create_table('courses_event_registration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['courses_event.id'], name=op.f('fk_courses_event_registration_event_id_courses_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_courses_event_registration_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses_event_registration')),
    sa.UniqueConstraint('event_id', 'user_id', name=op.f('uq_courses_event_registration_event_id_user_id'))
    )
    with op.batch_alter_table('courses_event_registration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_event_registration_user_id'), ['user_id'], unique=False)

    _add_required_sessions()


def downgrade():
    _drop_required_sessions()

    with op.batch_alter_table('courses_event_registration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_event_registration_user_id'))

    op.drop_table('courses_event_registration')
    with op.batch_alter_table('courses_event_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_event_feedback_event_id'))

    op.drop_table('courses_event_feedback')
    with op.batch_alter_table('courses_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_attendance_user_id'))
        batch_op.drop_index(batch_op.f('ix_courses_attendance_event_id'))
        batch_op.drop_index(batch_op.f('ix_courses_attendance_company_id'))

    op.drop_table('courses_attendance')
    with op.batch_alter_table('courses_skills_assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_skills_assessment_course_id'))

    op.drop_table('courses_skills_assessment')
    with op.batch_alter_table('courses_event', schema=None) as batch_op:
        batch_op.drop_index('ix_courses_event_starts_at')
        batch_op.drop_index(batch_op.f('ix_courses_event_course_id'))

    op.drop_table('courses_event')
