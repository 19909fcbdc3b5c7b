"""Signal receivers of the courses plugin: thin, no commits."""

from __future__ import annotations

from pathlib import Path

from flask import render_template
from flask_babel import lazy_gettext as _l

from lms.ui import MenuItem, remembered_url

DEMO_PACKAGES = Path(__file__).resolve().parent / "demo"


def menu_items(sender: object, user, **kwargs: object) -> list[MenuItem]:  # noqa: ANN001
    items = [MenuItem(_l("Courses"), "courses.catalogue", order=10)]
    items.append(MenuItem(_l("Events"), "courses.events", order=15))
    if user.is_authenticated:
        items.append(MenuItem(_l("My learning"), "courses.dashboard", order=20))
        if user.has_role("trainer", "admin"):
            items.append(MenuItem(_l("Authoring"), "courses.manage", order=30))
        if user.has_role("trainer", "coordinator", "admin"):
            items.append(MenuItem(_l("Progress"), "courses.progress_index", order=40))
    return items


def stylesheet(sender: str, **kwargs: object) -> str:
    """The plugin's stylesheet on every page: its panels appear on core pages too (home)."""
    href = remembered_url("courses.static", filename="courses.css")
    return f'<link rel="stylesheet" href="{href}">'


def learner_home(sender: str, user, **kwargs: object) -> str:  # noqa: ANN001
    from courses.views.learning import dashboard_context

    return render_template("courses/_home_learner.html", **dashboard_context(user))


def trainer_home(sender: str, user, **kwargs: object) -> str:  # noqa: ANN001
    return render_template("courses/_home_trainer.html")


def company_progress(sender: str, company, **kwargs: object) -> str:  # noqa: ANN001
    return render_template("courses/_company_link.html", company=company)


# Demo learners' progress: (email, course slug, lessons to finish; -1 = all).
DEMO_PROGRESS = [
    ("learner@example.org", "circular-economy-ict-bg", 4),
    ("learner@example.org", "energy-efficiency-office-to-data-centre", 1),
    ("ana.koleva@example.org", "circular-economy-ict", -1),
    ("ana.koleva@example.org", "green-software-business-models", 6),
    ("coordinator@example.org", "circular-economy-ict-bg", 2),
    ("ivan.stoyanov@example.org", "energy-efficiency-office-to-data-centre", -1),
    ("nikolay.todorov@example.org", "energy-efficiency-office-to-data-centre", 5),
    ("nikolay.todorov@example.org", "green-software-business-models", 0),
    ("petya.marinova@example.org", "circular-economy-ict-bg", -1),
    ("kristian.vasilev@example.org", "green-software-business-models", 3),
]


def load_demo_courses(sender, users: dict, companies: list, **kwargs: object) -> None:  # noqa: ANN001
    """Import the demo course packages (once) and give the demo learners varied progress."""
    from courses import packages, services

    trainer = users.get("trainer@example.org")
    # English first, so the Bulgarian translation finds the course it translates.
    for folder in sorted(DEMO_PACKAGES.iterdir(), key=lambda p: (p.name.endswith("-bg"), p.name)):
        if folder.is_dir() and packages.find_course_or_none(folder.name) is None:
            packages.import_package(folder, owners=[trainer] if trainer else [], publish=True)
    for email, slug, lessons in DEMO_PROGRESS:
        user = users.get(email)
        course = packages.find_course_or_none(slug)
        if user is None or course is None or services.find_enrolment(user.id, course.id):
            continue
        services.enrol(user, course, by=user)
        ordered = [
            lesson for module in course.published_modules for lesson in module.published_lessons
        ]
        for lesson in ordered if lessons == -1 else ordered[:lessons]:
            services.complete_lesson(user, lesson)
    from courses.events import load_demo_events

    load_demo_events(users)
