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
user_erased = _signals.signal(
    "user-erased",
    doc="Sent by `privacy.erase_user` when an erasure request is carried out, inside its "
    "transaction. Sender: the user (name and email already replaced); kwargs: by (the admin), "
    "email (the erased address, to find copies of it). "
    "Receivers erase or hide what they keep about the person (never commit; raise to abort).",
)
user_anonymised = _signals.signal(
    "user-anonymised",
    doc="Sent by `flask lms purge-expired` for an erased user whose retention period ended. "
    "Sender: the user. Receivers delete the detail that still links records to the person; "
    "counted facts (enrolments, completions, certificates) stay for the anonymous totals.",
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
    doc="Collector for the grant report. Sender: None; kwargs: period (lms.reports.Period). "
    "Return lms.reports.Source objects (fact Selects the engine counts in SQL); see "
    "lms/reports/__init__.py for the interface.",
)
get_evidence_files = _signals.signal(
    "get-evidence-files",
    doc="Collector for the report's evidence pack ZIP. Sender: None; kwargs: period. Return "
    "lms.reports.EvidenceFile objects (name in the ZIP, callable giving the bytes).",
)
get_personal_data = _signals.signal(
    "get-personal-data",
    doc="Collector for a person's data download (GDPR art. 15 and 20). Sender: the user. "
    'Return a dict {"section name": JSON-serialisable data} of what the plugin keeps about '
    "them (only their own data, never answer keys or other people's).",
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
