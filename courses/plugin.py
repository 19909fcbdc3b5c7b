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
        # Live sessions and surveys (courses/events.py, courses/surveys.py).
        from courses import events
        from courses.signals import get_completion_requirements
        from courses.views import events as event_views
        from courses.views import surveys as survey_views

        self.connect(get_completion_requirements, events.session_requirements)
        self.connect(get_template_hook, event_views.course_sessions_hook, sender="course-outline-end")
        self.connect(get_template_hook, survey_views.skills_prompt_hook, sender="course-outline-end")
        self.connect(get_template_hook, survey_views.skills_prompt_hook, sender="course-completed")
        from courses import privacy
        from lms.signals import get_personal_data, user_anonymised, user_erased

        self.connect(get_personal_data, privacy.personal_data)
        self.connect(user_anonymised, privacy.anonymise)
        self.connect(user_erased, privacy.erase)
        from courses import indicators  # the grant report's sources (lms.reports)
        from lms.signals import get_report_indicators

        self.connect(get_report_indicators, indicators.report_sources)
        from courses import event_indicators  # events and surveys (courses/event_indicators.py)
        from lms.signals import get_evidence_files

        self.connect(get_report_indicators, event_indicators.report_sources)
        self.connect(get_evidence_files, event_indicators.evidence_files)

    def get_blueprints(self):  # noqa: ANN201
        from courses.views import bp

        return [bp]

    def get_cli(self):  # noqa: ANN201
        from courses.cli import courses_group

        return courses_group
