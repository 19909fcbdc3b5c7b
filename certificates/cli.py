"""`flask --app wsgi certificates ...`"""

from __future__ import annotations

from flask.cli import AppGroup

certificates_group = AppGroup("certificates", help="Issue, verify and revoke certificates.")
