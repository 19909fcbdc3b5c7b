"""The certificates blueprint: public verification, learners' and coordinators' certificates,
the register and revocation, Open Badges endpoints."""

from flask import Blueprint

bp = Blueprint(
    "certificates",
    __name__,
    template_folder="../templates",
    static_folder="../static/certificates",
    static_url_path="/certificates/static",
)

from certificates.views import credentials, learner, public, register  # noqa: E402, F401
