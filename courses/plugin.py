"""The courses plugin's entry point."""

from __future__ import annotations

from flask import Flask

from lms.plugins import Plugin
from lms.signals import demo_data_requested, get_menu_items, get_template_hook


class CoursesPlugin(Plugin):
    """Courses made of modules of Markdown lessons; enrolment, progress and completion."""

    name = "courses"
    default_settings = {
        # Seconds a learner must stay at the end of a lesson before it counts as read
        # (for courses that mark lessons done on reaching the end).
        "COURSES_AUTO_DONE_SECONDS": 5,
    }

    def init_app(self, app: Flask) -> None:
        from courses import handlers, labels

        app.jinja_env.globals.update(labels.template_globals())

        self.connect(get_menu_items, handlers.menu_items)
        self.connect(get_template_hook, handlers.stylesheet, sender="head")
        self.connect(get_template_hook, handlers.learner_home, sender="home-learner")
        self.connect(get_template_hook, handlers.trainer_home, sender="home-trainer")
        self.connect(get_template_hook, handlers.company_progress, sender="company-detail")
        self.connect(demo_data_requested, handlers.load_demo_courses)

    def get_blueprints(self):  # noqa: ANN201
        from courses.views import bp

        return [bp]

    def get_cli(self):  # noqa: ANN201
        from courses.cli import courses_group

        return courses_group
