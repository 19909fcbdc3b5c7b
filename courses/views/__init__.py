"""The courses blueprint; handlers are split by audience: learning (learners), authoring
(trainers), progress (coordinators and trainers), packages (import/export), media."""

from flask import Blueprint

bp = Blueprint(
    "courses",
    __name__,
    url_prefix="/courses",
    template_folder="../templates",
    static_folder="../static/courses",
    static_url_path="/static",
)

from courses.views import (  # noqa: E402, F401
    authoring,
    events,
    learning,
    media,
    packages,
    progress,
    surveys,
)
