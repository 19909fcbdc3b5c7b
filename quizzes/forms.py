"""Forms of the trainer pages: quiz settings, essay grades and the question import."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.forms import Form, choices
from quizzes.models import DEFAULT_REVIEW, Quiz

MAX_IMPORT_CHARS = 2_000_000  # a question file of this size holds thousands of questions
# What <input type="datetime-local"> sends: minutes, or seconds when a browser adds them.
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]

GRADING_CHOICES = [
    ("highest", _l("Highest attempt")),
    ("last", _l("Last attempt")),
    ("first", _l("First attempt")),
    ("average", _l("Average of all attempts")),
]
REVIEW_CHOICES = [
    ("always", _l("Always, right after submitting")),
    ("after_pass", _l("Once the learner has passed")),
    ("when_closed", _l("Once passed or no attempts are left")),
    ("never", _l("Never")),
]
REVIEW_LABELS = {
    "score": _l("Show the score"),
    "correctness": _l("Show which answers were right"),
    "correct_answers": _l("Show the correct answers"),
    "feedback": _l("Show the feedback"),
}


def _strip(value: object) -> object:
    """Trim, and drop NUL characters (PostgreSQL refuses them in text)."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def _whole(label: Any, low: int, high: int, required: bool = False) -> IntegerField:
    message = _l("Give a whole number from %(low)s to %(high)s.", low=low, high=high)
    first = InputRequired(message) if required else Optional()
    return IntegerField(label, validators=[first, NumberRange(low, high, message)])


class QuizSettingsForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)], filters=[_strip])
    pass_mark = _whole(_l("Pass mark (%)"), 0, 100, required=True)
    max_attempts = _whole(_l("Attempts allowed (empty: unlimited)"), 1, 1000)
    grading = SelectField(_l("Which attempt counts"), choices=choices(GRADING_CHOICES))
    time_limit_minutes = _whole(_l("Time limit in minutes (empty: none)"), 1, 1000)
    opens_at = DateTimeLocalField(
        _l("Opens at (UTC, empty: at once)"), format=DATETIME_FORMATS, validators=[Optional()]
    )
    closes_at = DateTimeLocalField(
        _l("Closes at (UTC, empty: never)"), format=DATETIME_FORMATS, validators=[Optional()]
    )
    shuffle_questions = BooleanField(_l("Shuffle the questions in each attempt"))
    shuffle_options = BooleanField(_l("Shuffle the options of choice questions"))
    draw_count = _whole(_l("Number of questions to draw"), 1, 1000)
    draw_category = SelectField(_l("Category to draw them from"))
    review_score = SelectField(REVIEW_LABELS["score"], choices=choices(REVIEW_CHOICES))
    review_correctness = SelectField(REVIEW_LABELS["correctness"], choices=choices(REVIEW_CHOICES))
    review_correct_answers = SelectField(
        REVIEW_LABELS["correct_answers"], choices=choices(REVIEW_CHOICES)
    )
    review_feedback = SelectField(REVIEW_LABELS["feedback"], choices=choices(REVIEW_CHOICES))

    def __init__(self, categories: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.draw_category.choices = choices(
            [("", _l("— do not draw: use the quiz's own questions —"))]
            + [(c, c) for c in categories if c]
        )

    def fill_from(self, quiz: Quiz) -> None:
        """Show a stored quiz's settings (naive UTC for the datetime-local inputs)."""
        self.title.data = quiz.title
        self.pass_mark.data = quiz.pass_mark
        self.max_attempts.data = quiz.max_attempts
        self.grading.data = quiz.grading
        self.time_limit_minutes.data = quiz.time_limit_minutes
        self.opens_at.data = _naive(quiz.opens_at)
        self.closes_at.data = _naive(quiz.closes_at)
        self.shuffle_questions.data = quiz.shuffle_questions
        self.shuffle_options.data = quiz.shuffle_options
        self.draw_count.data = quiz.draw_count
        self.draw_category.data = quiz.draw_category or ""
        review = {**DEFAULT_REVIEW, **(quiz.review or {})}
        for key in DEFAULT_REVIEW:
            getattr(self, f"review_{key}").data = review[key]

    def settings(self) -> dict[str, Any]:
        """The settings as services.apply_settings takes them (dates apart: see dates())."""
        drawing = bool(self.draw_count.data)
        return {
            "title": self.title.data.strip(),
            "pass_mark": self.pass_mark.data,
            "max_attempts": self.max_attempts.data,
            "grading": self.grading.data,
            "time_limit_minutes": self.time_limit_minutes.data,
            "shuffle_questions": bool(self.shuffle_questions.data),
            "shuffle_options": bool(self.shuffle_options.data),
            "draw_count": self.draw_count.data if drawing else None,
            "draw_category": self.draw_category.data if drawing else None,
            "review": {key: getattr(self, f"review_{key}").data for key in DEFAULT_REVIEW},
        }

    def dates(self) -> tuple[datetime | None, datetime | None]:
        """Opening and closing moments as aware UTC datetimes."""
        return _aware(self.opens_at.data), _aware(self.closes_at.data)


def _naive(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


class GradeForm(Form):
    """A trainer's grade for one essay answer."""

    answer_id = HiddenField(validators=[DataRequired()])
    grade = _whole(_l("Grade (%)"), 0, 100, required=True)
    comment = TextAreaField(
        _l("Comment for the learner (optional)"),
        validators=[Optional(), Length(max=5000)],
        filters=[_strip],
    )

    def answer_id_value(self) -> int | None:
        try:
            value = int(self.answer_id.data)
        except (TypeError, ValueError):
            return None
        return value if 0 < value < 2**63 else None


FORMAT_CHOICES = [("gift", _l("GIFT (Moodle)")), ("aiken", _l("Aiken (single choice, plain text)"))]


class ImportForm(Form):
    """Questions from a file or pasted text, into the bank or a quiz."""

    file_format = SelectField(_l("Format"), choices=choices(FORMAT_CHOICES), default="gift")
    file = FileField(_l("File (.gift or .txt, UTF-8)"))
    text = TextAreaField(
        _l("Or paste the questions here"), validators=[Optional(), Length(max=MAX_IMPORT_CHARS)]
    )
    target = SelectField(_l("Where the questions go"))
    category = StringField(
        _l("Category in the question bank (optional)"),
        validators=[Optional(), Length(max=200)],
        filters=[_strip],
    )

    def __init__(self, targets: list[tuple[str, Any]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.target.choices = choices(targets)
