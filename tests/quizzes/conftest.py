"""Fixtures for the quizzes tests: a course whose first module has a quiz of every type."""

from __future__ import annotations

import pytest

from lms.extensions import db

MIXED_GIFT = """
::capital::What is the capital of Bulgaria? {
  =Sofia#CANARY-FB-RIGHT-1
  ~Plovdiv#CANARY-FB-WRONG-1
  ~Varna#CANARY-FB-WRONG-2
  ####CANARY-GENERAL-1
}

::multi::Which are renewable? {
  ~%50%Wind#CANARY-FB-3
  ~%50%Solar
  ~%-100%Coal#CANARY-FB-4
}

::tf::PUE of 1.0 is ideal. {T#CANARY-FB-TF-WRONG#CANARY-FB-TF-RIGHT}

::short::Name the metric for data-centre efficiency (three letters). {=CANARYPUE =P?E#CANARY-FB-5}

::num::Total 150, IT 100: PUE? {#1.5:0.01}

::match::Match them. {
  =Wind -> renewable
  =Coal -> fossil
  =Uranium -> nuclear
}

::essay::Describe one energy action for your office. {}
"""


@pytest.fixture
def quiz_course(app, users, create_course):
    """A published course (1 module of 1 lesson) with a module quiz of 7 questions, pass mark
    50 %, at most 3 attempts; the learner is enrolled."""
    from courses import services as course_services
    from quizzes import services

    course = create_course("quiz-course", modules=1, lessons=1, owner=users["trainer"])
    module = course.published_modules[0]
    made = services.import_gift(course, MIXED_GIFT, module)
    quiz = services.set_quiz(course, module, {"title": "Module check", "pass_mark": 50,
                                              "max_attempts": 3, "shuffle": False}, made)
    course_services.enrol(users["learner"], course)
    db.session.commit()
    return course, quiz
