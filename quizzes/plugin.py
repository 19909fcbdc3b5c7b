"""The quizzes plugin's entry point."""

from __future__ import annotations

from flask import Flask

from lms.plugins import Plugin


class QuizzesPlugin(Plugin):
    """Server-scored quizzes attached to course modules, and the course's final assessment."""

    name = "quizzes"
    requires = ("courses",)
    default_settings = {
        # Seconds after a time limit during which a submit still counts (network delays).
        "QUIZZES_GRACE_SECONDS": 30,
    }

    def init_app(self, app: Flask) -> None:
        from courses.signals import (
            get_assessment_results,
            get_completion_requirements,
            get_package_exporters,
            get_package_importers,
        )
        from lms.signals import demo_data_requested, get_template_hook
        from quizzes import handlers
        from quizzes.text import question_html

        app.jinja_env.globals["question_html"] = question_html

        self.connect(get_completion_requirements, handlers.completion_requirements)
        self.connect(get_assessment_results, handlers.assessment_results)
        self.connect(get_package_importers, handlers.package_importers)
        self.connect(get_package_exporters, handlers.package_exporters)
        self.connect(get_template_hook, handlers.module_quiz_link, sender="course-module")
        self.connect(get_template_hook, handlers.final_quiz_link, sender="course-outline-end")
        self.connect(get_template_hook, handlers.manage_links, sender="manage-course")
        self.connect(demo_data_requested, handlers.pass_demo_quizzes)
        from lms.signals import get_personal_data, user_anonymised
        from quizzes import privacy

        self.connect(get_personal_data, privacy.personal_data)
        self.connect(user_anonymised, privacy.anonymise)

    def get_blueprints(self):  # noqa: ANN201
        from quizzes.views import bp

        return [bp]

    def get_cli(self):  # noqa: ANN201
        from quizzes.cli import quizzes_group

        return quizzes_group
