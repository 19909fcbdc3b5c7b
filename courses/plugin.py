"""The courses plugin's entry point."""

from lms.plugins import Plugin


class CoursesPlugin(Plugin):
    """Courses made of modules of Markdown lessons, enrolment and progress (issue #3)."""

    name = "courses"
