"""Certificates plugin: issuance, PDF, public verification, revocation, Open Badges."""
