"""Forms of the report pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms.forms import Form, choices, drop_nul
from lms.reports import MEASURES
from lms.reports.labels import MEASURE_LABELS


class FreezeForm(Form):
    first_day = HiddenField(validators=[DataRequired()])
    last_day = HiddenField(validators=[DataRequired()])
    cumulative = HiddenField()
    note = TextAreaField(
        _l("Note (for example: interim report 2 as submitted)"),
        validators=[Optional(), Length(max=2000)],
        filters=[drop_nul],
    )


class DefinitionForm(Form):
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    name_bg = StringField(_l("Name in Bulgarian"), validators=[Optional(), Length(max=200)])
    target = StringField(_l("Target"), validators=[Optional(), Length(max=20)])
    enabled = BooleanField(_l("Shown in the report"))
    sources = StringField(
        _l("Sources (comma-separated keys)"), validators=[DataRequired(), Length(max=300)]
    )
    measure = SelectField(
        _l("How it counts"), choices=choices([(m, MEASURE_LABELS[m]) for m in MEASURES])
    )
    course_ids = StringField(
        _l("Only these courses (numbers, comma-separated; empty: all)"),
        validators=[Optional(), Length(max=2000)],
    )
    event_ids = StringField(
        _l("Only these events (numbers, comma-separated; empty: all)"),
        validators=[Optional(), Length(max=2000)],
    )
    min_hours = StringField(
        _l("Minimum hours for a record to count (empty: no minimum)"),
        validators=[Optional(), Length(max=20)],
    )
