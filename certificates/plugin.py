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
        from lms.signals import get_menu_items, get_template_hook

        self.connect(course_completed, handlers.issue_on_completion)
        from certificates import privacy  # GDPR data download and erasure (lms/privacy.py)
        from lms.signals import get_personal_data, user_erased

        self.connect(get_personal_data, privacy.personal_data)
        self.connect(user_erased, privacy.anonymise_certificates)
        from certificates import indicators  # the grant report's sources (lms.reports)
        from lms.signals import get_evidence_files, get_report_indicators

        self.connect(get_report_indicators, indicators.report_sources)
        self.connect(get_evidence_files, indicators.evidence_files)
        self.connect(get_menu_items, handlers.menu_items)
        hooks = {
            "head": handlers.stylesheet,
            "course-completed": handlers.course_completed,
            "home-learner": handlers.learner_home,
            "company-detail": handlers.company_certificates,
            "admin-overview": handlers.admin_overview,
            "admin-nav": handlers.admin_nav,
            "footer-links": handlers.footer_link,
        }
        for hook, receiver in hooks.items():
            self.connect(get_template_hook, receiver, sender=hook)

    def get_blueprints(self):  # noqa: ANN201
        from certificates.views import bp

        return [bp]

    def get_cli(self):  # noqa: ANN201
        from certificates.cli import certificates_group

        return certificates_group
