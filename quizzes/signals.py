"""Signals of the quizzes plugin. Receivers accept **kwargs and never commit."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

quiz_submitted = _signals.signal(
    "quiz-submitted",
    doc="Sent once per attempt when it is submitted (by the learner or closed at its time "
    "limit). Sender: the Attempt; kwargs: user, quiz.",
)
quiz_passed = _signals.signal(
    "quiz-passed",
    doc="Sent when an attempt is finished (scored, essays graded) with a passing score. "
    "Sender: the Attempt; kwargs: user, quiz.",
)
