"""The signals through which plugins react to each other and contribute to the core.

Two kinds (after Indico):
- notifications, named in the past tense, tell that something happened; receivers react and
  return nothing;
- collectors, named `get-...`, ask receivers for values; `collect()` gathers the answers.

Receivers accept `**kwargs` (new arguments must not break them), stay thin and never commit:
the view or command that sent the signal owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from blinker import Namespace, Signal

_signals = Namespace()

app_created = _signals.signal(
    "app-created",
    doc="Sent by the plugin manager once every plugin is loaded. Sender: the app.",
)
user_registered = _signals.signal(
    "user-registered",
    doc="Sent by `services.register_user`. Sender: the new user; kwargs: company (or None).",
)
user_deactivated = _signals.signal(
    "user-deactivated",
    doc="Sent by `services.set_user_active(False)`. Sender: the user; kwargs: by (the admin).",
)
demo_data_requested = _signals.signal(
    "demo-data-requested",
    doc="Sent by `flask lms demo` after the core demo data exists. Sender: the app; kwargs: "
    "users (a dict of demo users by role), companies (list). Plugins add their demo content.",
)

get_menu_items = _signals.signal(
    "get-menu-items",
    doc="Collector for the main navigation. Sender: None; kwargs: user (current user, maybe "
    "anonymous). Return a MenuItem or a list of them.",
)
get_template_hook = _signals.signal(
    "get-template-hook",
    doc="Collector for `{{ template_hook(name, ...) }}` in templates. Sender: the hook name; "
    "kwargs: whatever the template passes. Return markup (or None).",
)
get_report_indicators = _signals.signal(
    "get-report-indicators",
    doc="Collector for the grant report. Sender: None; kwargs: period. Return Indicator "
    "objects computed for the period.",
)
get_check_results = _signals.signal(
    "get-check-results",
    doc="Collector for `flask lms check`. Sender: the app. Return (level, message) tuples, "
    "level being 'ok', 'warning' or 'error'.",
)


def collect(signal: Signal, sender: Any = None, **kwargs: Any) -> list[Any]:
    """Send a collector signal and flatten the receivers' answers, dropping None."""
    values: list[Any] = []
    for _receiver, value in signal.send(sender, **kwargs):
        if value is None:
            continue
        if isinstance(value, Iterable) and not isinstance(value, str | bytes | dict):
            values.extend(v for v in value if v is not None)
        else:
            values.append(value)
    return values
