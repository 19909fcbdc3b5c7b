"""Outgoing mail: through the configured SMTP server, or into the log in development."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text message. Without MAIL_SERVER it is logged instead (development)."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    outbox = current_app.extensions.setdefault("lms_outbox", [])
    if config["TESTING"]:
        outbox.append(message)  # tests read what would have been sent
        return
    if not config["MAIL_SERVER"]:
        current_app.logger.info("Mail (not sent, no MAIL_SERVER):\n%s", message)
        return
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
