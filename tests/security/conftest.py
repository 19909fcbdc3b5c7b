"""Fixtures of the security suite: the loopback listener that must receive nothing, and the
fixtures of the plugin test folders that the moved security tests need (a quiz with canaries,
a completed course)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.certificates.conftest import complete_course  # noqa: F401 - fixture
from tests.certificates.test_pages import certified  # noqa: F401 - fixture
from tests.certificates.test_register import world  # noqa: F401 - fixture
from tests.certificates.test_verify import certificate  # noqa: F401 - fixture
from tests.core.test_privacy import person  # noqa: F401 - fixture
from tests.core.test_report_exports import admin  # noqa: F401 - fixture
from tests.courses.test_progress import acme, other, progress_data  # noqa: F401 - fixtures
from tests.quizzes.conftest import quiz_course  # noqa: F401 - fixture
from tests.support.listener import Listener, open_listener


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A loopback listener on a free port recording every connection (see
    tests/support/listener.py); assert `listener.received() == []` after the app acted."""
    yield from open_listener()
