"""The certificates plugin's entry point."""

from __future__ import annotations

from flask import Flask

from lms.plugins import Plugin


class CertificatesPlugin(Plugin):
    """Frozen, verifiable competence certificates issued the moment a course is completed,
    as PDF and as Open Badges 3.0 credentials."""

    name = "certificates"
    requires = ("courses",)
    default_settings = {
        # The Ed25519 key that signs Open Badges credentials: a PEM given here (e.g. from a
        # secret store), else the file below, created at first start (mode 0600).
        "CERTIFICATES_SIGNING_KEY": "",
        "CERTIFICATES_KEY_FILE": "",  # default: <instance folder>/certificates-ed25519.pem
        # Unknown or malformed codes a client may try per window before being refused (429).
        "CERTIFICATES_VERIFY_MISSES": 20,
        "CERTIFICATES_VERIFY_WINDOW_SECONDS": 600,
    }

    def init_app(self, app: Flask) -> None:
        from certificates import handlers
        from courses.signals import course_completed
        from lms.signals import get_menu_items  # noqa: F401 - wired below once views exist

        self.connect(course_completed, handlers.issue_on_completion)
        # self.connect(get_menu_items, handlers.menu_items)  # wired once the views exist

    def get_blueprints(self):  # noqa: ANN201
        from certificates.views import bp

        return [bp]

    def get_cli(self):  # noqa: ANN201
        from certificates.cli import certificates_group

        return certificates_group
