"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from lms.app import create_app

app = create_app()
