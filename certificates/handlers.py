"""Signal receivers of the certificates plugin: thin, no commits."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from certificates import services
from lms.ui import MenuItem


def issue_on_completion(enrolment, user, course, **kwargs) -> None:  # noqa: ANN001
    """`course-completed`: the certificate is issued in the same transaction, at once."""
    services.issue_certificate(enrolment)


def menu_items(sender: object, user, **kwargs: object) -> list[MenuItem]:  # noqa: ANN001
    items = [MenuItem(_l("Verify a certificate"), "certificates.verify_form", order=80)]
    if user.is_authenticated:
        items.append(MenuItem(_l("My certificates"), "certificates.mine", order=25))
        if user.has_role("admin", "coordinator", "trainer"):
            items.append(MenuItem(_l("Certificates"), "certificates.register", order=45))
    return items
