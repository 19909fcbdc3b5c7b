"""The quizzes blueprint: learner pages (taking quizzes, reviews) and trainer pages (results,
grading, GIFT import)."""

from flask import Blueprint

bp = Blueprint(
    "quizzes",
    __name__,
    url_prefix="/quizzes",
    template_folder="../templates",
    static_folder="../static/quizzes",
    static_url_path="/static",
)

from quizzes.views import learner, trainer  # noqa: E402, F401
