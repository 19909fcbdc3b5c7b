"""Signals of the certificates plugin. Receivers accept **kwargs and never commit."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

certificate_issued = _signals.signal(
    "certificate-issued",
    doc="Sent once when a certificate is issued (first issue or reissue), in the issuing "
    "transaction. Sender: the Certificate.",
)
certificate_revoked = _signals.signal(
    "certificate-revoked",
    doc="Sent when a certificate is revoked. Sender: the Certificate; kwargs: by (a User, or "
    "None from the command line).",
)
