"""Forms of the courses plugin (authoring). Every form is a `lms.forms.Form`, so every POST
carries a CSRF token; every text field has a length limit, so a huge input is a form error and
never a database error."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from courses import labels
from courses.models import DeliveryMode, Topic
from courses.services import RESERVED_SLUGS
from lms.forms import LANGUAGE_CHOICES, Form, OptionalSelectField, choices
from lms.text import slugify, to_ascii

TOPIC_LABELS = {
    Topic.CIRCULAR_ECONOMY: _l("Circular economy"),
    Topic.RESOURCE_ENERGY_EFFICIENCY: _l("Resource and energy efficiency"),
    Topic.GREEN_INNOVATION: _l("Green innovation"),
    Topic.SUSTAINABLE_BUSINESS_MODELS: _l("Sustainable business models"),
    Topic.CLIMATE_NEUTRALITY: _l("Climate neutrality"),
}
DELIVERY_LABELS = {
    DeliveryMode.ONLINE: _l("Online"),
    DeliveryMode.ON_SITE: _l("On-site"),
    DeliveryMode.BLENDED: _l("Blended (online and on-site)"),
}
#: GreenComp (JRC 2022) areas and competences, with translatable names; the codes are those of
#: `courses.models.GREENCOMP`.
# The GreenComp names in both languages live in courses.labels.
GREENCOMP_LABELS = labels.GREENCOMP
GREENCOMP_AREAS = labels.GREENCOMP_AREAS

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MAX_LESSON_CHARS = 200_000


def suggest_slug(title: str) -> str:
    """A web address from a title: Bulgarian transliterated (official system), lower-case
    letters, digits and hyphens, at most 80 characters."""
    return slugify(title, 80)


def _not_reserved(form: Form, field: StringField) -> None:
    # Addresses that pages of the plugin use below /courses/ or /courses/manage/.
    if (field.data or "").strip() in RESERVED_SLUGS:
        raise ValidationError(_l("This address is reserved for the platform; choose another."))


def _outcomes_length(form: Form, field: TextAreaField) -> None:
    lines = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
    if len(lines) > 30:
        raise ValidationError(_l("Please list at most 30 learning outcomes."))
    if any(len(line) > 500 for line in lines):
        raise ValidationError(_l("Each learning outcome may have at most 500 characters."))


def _finite(form: Form, field: DecimalField) -> None:
    if field.data is not None and not field.data.is_finite():
        raise StopValidation(_l("Please enter a number."))


HOURS = [Optional(), _finite, NumberRange(0, 1000)]


def _strip(value: object) -> object:
    """Trim, and drop NUL characters (PostgreSQL refuses them in text)."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def _no_nul(value: object) -> object:
    return value.replace("\x00", "") if isinstance(value, str) else value


class CourseForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)], filters=[_strip])
    slug = StringField(
        _l("Web address (slug)"),
        validators=[
            Optional(),
            Length(max=80),
            Regexp(
                SLUG_PATTERN,
                message=_l(
                    "Use lower-case Latin letters, digits and single hyphens, like "
                    "green-software-basics."
                ),
            ),
            _not_reserved,
        ],
        filters=[_strip],
    )
    summary = TextAreaField(_l("Summary"), validators=[Length(max=5000)], filters=[_strip])
    topic = SelectField(_l("Topic"), choices=choices(list(TOPIC_LABELS.items())))
    language = SelectField(_l("Language of the course"), choices=choices(LANGUAGE_CHOICES))
    translation_of = OptionalSelectField(
        _l("Translation of (optional)"), validators=[Length(max=80)]
    )
    contact_hours = DecimalField(
        _l("Contact hours"),
        places=1,
        default=0,
        validators=HOURS,
    )
    self_study_hours = DecimalField(
        _l("Self-study hours"),
        places=1,
        default=0,
        validators=HOURS,
    )
    assessment_hours = DecimalField(
        _l("Assessment hours"),
        places=1,
        default=0,
        validators=HOURS,
    )
    learning_outcomes = TextAreaField(
        _l("Learning outcomes (one per line)"),
        validators=[Length(max=20_000), _outcomes_length],
        filters=[_no_nul],
    )
    greencomp = SelectMultipleField(
        _l("GreenComp competences"),
        choices=choices(list(GREENCOMP_LABELS.items())),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    delivery_mode = SelectField(
        _l("Form of participation"), choices=choices(list(DELIVERY_LABELS.items()))
    )
    assessment = TextAreaField(
        _l("Type of assessment"), validators=[Length(max=2000)], filters=[_strip]
    )
    validity_months = IntegerField(
        _l("Certificate validity in months (optional)"),
        validators=[Optional(), NumberRange(1, 240)],
    )
    complete_on_scroll = BooleanField(
        _l("Mark a lesson as read when the learner reaches its end"), default=True
    )
    required_sessions = IntegerField(
        _l("Live sessions a learner must attend to complete the course"),
        default=0,
        validators=[Optional(), NumberRange(0, 50)],
    )

    def outcomes(self) -> list[str]:
        return [
            line.strip()
            for line in (self.learning_outcomes.data or "").splitlines()
            if line.strip()
        ]


class OwnersForm(Form):
    owners = SelectMultipleField(
        _l("Trainers of this course"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired(message=_l("Choose at least one trainer."))],
    )


class ModuleForm(Form):
    title = StringField(
        _l("Module title"), validators=[DataRequired(), Length(max=200)], filters=[_strip]
    )
    summary = TextAreaField(
        _l("Summary (optional)"), validators=[Length(max=5000)], filters=[_strip]
    )


class NewLessonForm(Form):
    title = StringField(
        _l("Lesson title"), validators=[DataRequired(), Length(max=200)], filters=[_strip]
    )
    minutes = IntegerField(
        _l("Minutes to read"),
        default=10,
        validators=[InputRequired(), NumberRange(1, 600)],
    )


class LessonForm(Form):
    title = StringField(
        _l("Lesson title"), validators=[DataRequired(), Length(max=200)], filters=[_strip]
    )
    minutes = IntegerField(_l("Minutes to read"), validators=[InputRequired(), NumberRange(1, 600)])
    body_md = TextAreaField(
        _l("Lesson text (Markdown)"),
        validators=[
            Length(
                max=MAX_LESSON_CHARS, message=_l("The lesson is longer than 200,000 characters.")
            )
        ],
        filters=[_no_nul],
    )


class PreviewForm(Form):
    body_md = TextAreaField(
        _l("Lesson text"),
        validators=[
            Length(
                max=MAX_LESSON_CHARS, message=_l("The lesson is longer than 200,000 characters.")
            )
        ],
        filters=[_no_nul],
    )


class MoveForm(Form):
    direction = HiddenField(validators=[InputRequired(), AnyOf(["up", "down"])])
    return_to = HiddenField(validators=[Optional(), AnyOf(["course", "module"])])


class ConfirmForm(Form):
    """A drastic step (delete, archive): the confirming page sends confirm=yes."""

    confirm = HiddenField(validators=[InputRequired(), AnyOf(["yes"])])


class PublishForm(Form):
    """Carries the version the author saw, so a double click publishes once."""

    version = IntegerField(validators=[InputRequired(), NumberRange(0, 1_000_000)])


class MediaForm(Form):
    file = FileField(
        _l("Image file (PNG, JPEG, GIF, WebP or SVG, at most 2 MB)"),
        validators=[FileRequired(message=_l("Choose an image file to upload."))],
    )


def media_name(filename: str) -> str:
    """The stored name of an uploaded file: its base name in ASCII (Bulgarian transliterated),
    other characters of the stem as hyphens, the extension in lower case. Only the last
    extension counts, so x.png.html stays an .html name and is refused."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    stem, dot, extension = name.rpartition(".")
    if not (dot and stem):
        return name
    text = to_ascii(stem, keep_case=False)
    text = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:100]
    return f"{text}.{extension.lower()}" if text else name
