"""The quizzes plugin's entry point."""

from lms.plugins import Plugin


class QuizzesPlugin(Plugin):
    """Server-scored quizzes attached to course modules (issue #4)."""

    name = "quizzes"
    requires = ("courses",)
