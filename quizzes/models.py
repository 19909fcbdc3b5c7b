"""Question bank, quizzes, attempts and answers.

A question's content is the JSON dict of `quizzes.questions` (type, text, options with their
fractions and feedback...). An attempt keeps a snapshot of the questions it drew and of their
option order, so editing the bank never changes an attempt already started, and scoring only
ever happens here on the server.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models import User, utcnow
from lms.types import UTCDateTime


class Grading(enum.StrEnum):
    HIGHEST = "highest"
    LAST = "last"
    FIRST = "first"
    AVERAGE = "average"


class AttemptStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    PENDING_GRADING = "pending_grading"  # an essay waits for a trainer
    FINISHED = "finished"


#: What a learner may see after submitting, and when: each key maps to one of
#: "always", "after_pass" (once they passed), "when_closed" (passed, or no attempt left),
#: "never". Keys: score, correctness (which answers were right), correct_answers, feedback.
REVIEW_WHEN = ("always", "after_pass", "when_closed", "never")
DEFAULT_REVIEW = {
    "score": "always",
    "correctness": "always",
    "correct_answers": "when_closed",
    "feedback": "always",
}


class Question(db.Model):
    __tablename__ = "quizzes_question"
    __table_args__ = (Index("ix_quizzes_question_course_category", "course_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses_course.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(200), default="")
    name: Mapped[str] = mapped_column(String(200))
    qtype: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict] = mapped_column(JSON)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Quiz(db.Model):
    """A module check (module_id set) or the course's final assessment (module_id None)."""

    __tablename__ = "quizzes_quiz"
    __table_args__ = (
        UniqueConstraint("course_id", "module_id"),
        CheckConstraint("pass_mark >= 0 AND pass_mark <= 100", name="pass_mark"),
        CheckConstraint("grading IN ('highest', 'last', 'first', 'average')", name="grading"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), index=True
    )
    module_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses_module.id", ondelete="CASCADE")
    )
    title: Mapped[str] = mapped_column(String(200))
    pass_mark: Mapped[int] = mapped_column(Integer, default=70)
    max_attempts: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    grading: Mapped[str] = mapped_column(String(10), default=Grading.HIGHEST)
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=True)
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=True)
    # Draw this many questions from `draw_category` per attempt; None: every question listed.
    draw_count: Mapped[int | None] = mapped_column(Integer)
    draw_category: Mapped[str | None] = mapped_column(String(200))
    review: Mapped[dict] = mapped_column(JSON, default=lambda: dict(DEFAULT_REVIEW))

    slots: Mapped[list[QuizSlot]] = relationship(
        order_by="QuizSlot.position", cascade="all, delete-orphan"
    )


class QuizSlot(db.Model):
    """A question of a quiz in its place."""

    __tablename__ = "quizzes_slot"
    __table_args__ = (UniqueConstraint("quiz_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes_quiz.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("quizzes_question.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)

    question: Mapped[Question] = relationship(lazy="joined")


class Attempt(db.Model):
    __tablename__ = "quizzes_attempt"
    __table_args__ = (
        UniqueConstraint("quiz_id", "user_id", "number"),
        Index("ix_quizzes_attempt_user_quiz", "user_id", "quiz_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes_quiz.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=AttemptStatus.IN_PROGRESS)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # [{"question_id", "data": question dict snapshot, "seed": option shuffle seed}], in order
    questions: Mapped[list[dict]] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float)  # 0..1; None until all is graded
    passed: Mapped[bool | None] = mapped_column(Boolean)
    closed_automatically: Mapped[bool] = mapped_column(Boolean, default=False)

    quiz: Mapped[Quiz] = relationship()
    user: Mapped[User] = relationship()
    answers: Mapped[list[Answer]] = relationship(cascade="all, delete-orphan")


class Answer(db.Model):
    __tablename__ = "quizzes_answer"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quizzes_attempt.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(Integer)  # the bank id at the time of the attempt
    response: Mapped[dict | None] = mapped_column(JSON)
    fraction: Mapped[float | None] = mapped_column(Float)  # None: not scored yet (essay)
    trainer_comment: Mapped[str] = mapped_column(Text, default="")
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
