"""The certificates plugin's entry point."""

from lms.plugins import Plugin


class CertificatesPlugin(Plugin):
    """Frozen, verifiable competence certificates issued on course completion (issue #5)."""

    name = "certificates"
    requires = ("courses",)
