"""Forms of the certificates plugin: every POST carries a CSRF token (lms.forms.Form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from certificates.services import MAX_REASON_LENGTH
from lms.forms import Form


def _strip(value: str | None) -> str | None:
    """Trim, and drop NUL characters (PostgreSQL refuses them in text)."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


class RevokeForm(Form):
    """Revoke a certificate: the reason is shown on the public verification page."""

    reason = TextAreaField(
        _l("Reason for revoking"),
        validators=[
            DataRequired(_l("Give the reason for revoking the certificate.")),
            Length(max=MAX_REASON_LENGTH),
        ],
        filters=[_strip],
    )


class ReissueForm(Form):
    """Reissue a certificate: the old one is revoked with this reason, a new one gets a new
    code."""

    reason = TextAreaField(
        _l("Reason for reissuing"),
        validators=[
            DataRequired(_l("Give the reason for reissuing the certificate.")),
            Length(max=MAX_REASON_LENGTH),
        ],
        filters=[_strip],
    )


class ZipForm(Form):
    """The register's selection of certificates to download as a ZIP of PDFs. The chosen ids
    are read from the request by the view (a selection can be long and its choices are the
    rows of the page shown, so there is no fixed choice list to validate against)."""
