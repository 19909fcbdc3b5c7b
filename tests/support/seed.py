"""A small, complete data set in a database of the test's own (for tests that start their own
servers on their own database): a learner, a trainer, one published course of two lessons the
learner is enrolled in, optionally with a module quiz."""

from __future__ import annotations

from flask import Flask
from flask_migrate import upgrade

from lms.extensions import db
from tests.conftest import PASSWORD, make_app

QUIZ_GIFT = "::q1::Two plus two? {=four ~five}\n\n::q2::Capital of Bulgaria? {=Sofia ~Varna}"


def seeded_app(database_url: str, slug: str = "seeded", with_quiz: bool = False) -> Flask:
    """Migrate the empty database at `database_url`, fill it, and return an app on it (the
    engine disposed, so servers started next have the database to themselves)."""
    from courses import services as course_services
    from lms import services
    from quizzes import services as quiz_services

    app = make_app(database_url)
    with app.app_context():
        upgrade()
        company = services.create_company(
            services.CompanyData(name="Seeded Ltd.", uic="175074752"),
            services.FiguresData(reference_year=2025, headcount=10),
        )
        learner = services.create_user(
            services.UserData(email="learner@example.org", name="Elena Seeded", password=PASSWORD),
            company=company,
        )
        trainer = services.create_user(
            services.UserData(
                email="trainer@example.org", name="T", password=PASSWORD, roles=("trainer",)
            )
        )
        course = course_services.create_course(
            course_services.CourseData(
                slug=slug,
                title="Seeded course",
                topic="circular-economy",
                language="en",
                summary="s",
                contact_hours=1,
                self_study_hours=1,
                learning_outcomes=["Explain it."],
                greencomp=["2.1"],
            ),
            owners=[trainer],
        )
        module = course_services.add_module(course, "Module 1")
        course_services.add_lesson(module, "Lesson 1", "Text one.", 5)
        course_services.add_lesson(module, "Lesson 2", "Text two.", 5)
        course_services.publish_course(course)
        if with_quiz:
            module = course.published_modules[0]
            made = quiz_services.import_gift(course, QUIZ_GIFT, module)
            quiz_services.set_quiz(course, module, {"title": "Check", "pass_mark": 50}, made)
        course_services.enrol(learner, course)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return app
