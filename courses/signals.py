"""Signals of the courses plugin. Receivers accept **kwargs and never commit."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

enrolled = _signals.signal(
    "enrolled",
    doc="Sent by `services.enrol`. Sender: the Enrolment; kwargs: by (the user who enrolled "
    "the learner: themself, a coordinator or an admin).",
)
lesson_completed = _signals.signal(
    "lesson-completed",
    doc="Sent by `services.complete_lesson` the first time a learner finishes the current "
    "revision of a lesson. Sender: the Lesson; kwargs: user, enrolment.",
)
module_completed = _signals.signal(
    "module-completed",
    doc="Sent once when all requirements of a module are met. Sender: the Module; kwargs: "
    "user, enrolment.",
)
course_completed = _signals.signal(
    "course-completed",
    doc="Sent once, in the transaction that completes the course. Sender: the Enrolment "
    "(with completed_at and completed_version set); kwargs: user, course.",
)
course_published = _signals.signal(
    "course-published",
    doc="Sent by `services.publish_course`. Sender: the Course (version already increased).",
)
get_completion_requirements = _signals.signal(
    "get-completion-requirements",
    doc="Collector asked whenever completion is computed or shown. Sender: the Course; kwargs: "
    "user, enrolment (or None). Return Requirement objects (see courses.completion); a "
    "requirement with module_id belongs to that module, one without to the whole course.",
)
get_package_exporters = _signals.signal(
    "get-package-exporters",
    doc="Collector used when a course package is exported. Sender: the Course. Return "
    "callables f(course, folder: pathlib.Path) that add files (e.g. a quiz per module).",
)
get_package_importers = _signals.signal(
    "get-package-importers",
    doc="Collector used when a course package is imported. Sender: None. Return objects with "
    "validate(package) -> list of PackageError and apply(package, course) -> None.",
)
get_assessment_results = _signals.signal(
    "get-assessment-results",
    doc="Collector asked when a course's result is recorded (certificates, reports). Sender: "
    "the Course; kwargs: user, language (of the text to return). Return "
    "AssessmentResult objects (see courses.completion) for the learner's assessed parts.",
)
