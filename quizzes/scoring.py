"""Server-side scoring of one response to one question (SECURITY.md item 1).

Response shapes (a missing or empty response, ``None`` values included, is *unanswered* and
scores 0; it is not an error)::

    single       {"option": "o1a2b3c"}
    multiple     {"options": ["o1a2b3c", "o4d5e6f"]}
    truefalse    {"value": true}
    shortanswer  {"text": "..."}        # at most 500 characters
    numerical    {"text": "7,8"}        # at most 500 characters; "7.8" and "7,8" both accepted
    matching     {"pairs": {"p...": "c...", ...}}   # pair id -> choice id; some may be missing
    ordering     {"order": ["i...", ...]}           # every item id once, or nothing
    essay        {"text": "..."}        # at most 20,000 characters

:func:`validate_response` lists what is wrong with a response's shape (the web layer answers 400
and stores nothing when the list is not empty); :func:`score` refuses an invalid response with
:class:`InvalidResponse` and otherwise returns a :class:`Score`. What of the score is shown to the
learner (fraction, correct flags, feedback) is for the caller's review policy to decide.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from quizzes.questions import (
    WEIGHT_EPSILON,
    Essay,
    Matching,
    MultipleResponse,
    Numerical,
    NumericalAnswer,
    Ordering,
    Question,
    ShortAnswer,
    SingleChoice,
    TrueFalse,
)

SHORT_ANSWER_MAX_CHARS = 500
NUMERICAL_MAX_CHARS = 500
ESSAY_MAX_CHARS = 20_000
FRACTION_DECIMALS = 6

RESPONSE_KEYS = {
    "single": "option",
    "multiple": "options",
    "truefalse": "value",
    "shortanswer": "text",
    "numerical": "text",
    "matching": "pairs",
    "ordering": "order",
    "essay": "text",
}


class InvalidResponse(ValueError):
    """A response whose shape is wrong; ``errors`` says how."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class Score:
    """The result of scoring one response.

    ``fraction`` is 0..1 (rounded to 6 decimals) or ``None`` while an essay awaits a trainer's
    grade. ``correct`` maps each part to whether the response got it right: the selected option
    (single), every option (multiple: chosen exactly when it carries a positive weight),
    ``"value"`` (true/false), ``"text"`` (short answer, numerical), every pair id (matching),
    every item id (ordering, right absolute position); it is empty when unanswered.
    ``feedback`` holds the feedback of what was chosen or matched, in the question's order.
    """

    fraction: float | None
    answered: bool
    correct: dict[str, bool] = field(default_factory=dict)
    feedback: list[str] = field(default_factory=list)
    general_feedback: str = ""
    matched: str | None = None  # id of the short-answer or numerical answer that matched

    @property
    def pending(self) -> bool:
        return self.fraction is None


# --------------------------------------------------------------------------------------------
# Shape


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_text(value: Any, limit: int, errors: list[str]) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        errors.append("text must be a string")
    elif len(value) > limit:
        errors.append(f"text is longer than {limit} characters")
    elif "\x00" in value:
        errors.append("text contains a NUL character")


def validate_response(question: Question, response: Any) -> list[str]:
    """What is wrong with the shape of ``response`` for ``question`` (empty list: fine)."""
    if response is None:
        return []
    if not isinstance(response, dict):
        return ["the response must be an object"]
    key = RESPONSE_KEYS[question.type]
    unknown = [k for k in response if k != key]
    if unknown:
        return [f"unexpected field {_show(k)}" for k in unknown]
    value = response.get(key)
    errors: list[str] = []
    if isinstance(question, SingleChoice):
        ids = {o.id for o in question.options}
        if value is not None and (not isinstance(value, str) or value not in ids):
            errors.append(f"option {_show(value)} is not an option of this question")
    elif isinstance(question, MultipleResponse):
        ids = {o.id for o in question.options}
        if value is not None:
            if not isinstance(value, list):
                errors.append("options must be a list")
            else:
                seen: set[str] = set()
                for item in value:
                    if not isinstance(item, str) or item not in ids:
                        errors.append(f"option {_show(item)} is not an option of this question")
                    elif item in seen:
                        errors.append(f"option {_show(item)} is given twice")
                    else:
                        seen.add(item)
    elif isinstance(question, TrueFalse):
        if value is not None and not isinstance(value, bool):
            errors.append("value must be true or false")
    elif isinstance(question, ShortAnswer):
        _check_text(value, SHORT_ANSWER_MAX_CHARS, errors)
    elif isinstance(question, Numerical):
        _check_text(value, NUMERICAL_MAX_CHARS, errors)
    elif isinstance(question, Essay):
        _check_text(value, ESSAY_MAX_CHARS, errors)
    elif isinstance(question, Matching):
        if value is not None:
            if not isinstance(value, dict):
                errors.append("pairs must be an object")
            else:
                pair_ids = {p.id for p in question.pairs}
                choice_ids = {c.id for c in question.choices}
                for left, right in value.items():
                    if left not in pair_ids:
                        errors.append(f"item {_show(left)} is not an item of this question")
                    elif right is not None and (
                        not isinstance(right, str) or right not in choice_ids
                    ):
                        errors.append(f"choice {_show(right)} is not a choice of this question")
    elif isinstance(question, Ordering) and value is not None:
        if not isinstance(value, list):
            errors.append("order must be a list")
        elif value:
            item_ids = [i.id for i in question.items]
            if any(not isinstance(v, str) for v in value) or sorted(value) != sorted(item_ids):
                errors.append("order must list every item of this question exactly once")
    return errors


# --------------------------------------------------------------------------------------------
# Text and numbers

_SPACE_RE = re.compile(r"\s+")
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)")


def normalise_text(text: str) -> str:
    """Trimmed, inner whitespace collapsed, Unicode NFC and case-folded (Cyrillic too)."""
    return _SPACE_RE.sub(" ", unicodedata.normalize("NFC", text)).strip().casefold()


def _segments(pattern: str) -> list[str]:
    """The literal parts of a pattern between unescaped ``*`` (``\\*`` is a literal star)."""
    parts = re.split(r"(?<!\\)\*", normalise_text(pattern))
    return [p.replace("\\*", "*") for p in parts]


def wildcard_match(pattern: str, text: str) -> bool:
    """Whether ``text`` matches ``pattern``, where ``*`` stands for any run of characters.

    Both sides are normalised (:func:`normalise_text`); every other character is literal (no
    regular expressions, so ``.`` or ``+`` mean themselves). Linear-time, whatever the pattern.
    """
    segments = _segments(pattern)
    text = normalise_text(text)
    if len(segments) == 1:
        return text == segments[0]
    first, *middle, last = segments
    if len(text) < len(first) + len(last) or not text.startswith(first) or not text.endswith(last):
        return False
    pos, end = len(first), len(text) - len(last)
    for segment in middle:
        found = text.find(segment, pos, end)
        if found < 0:
            return False
        pos = found + len(segment)
    return True


def parse_number(text: str) -> Fraction | None:
    """A learner's number: ``7.8``, ``7,8``, ``-3``, ``.5`` with spaces around; else None.

    Exponents, ``nan``, ``inf``, thousands separators and anything else are refused (None), so
    a number is never misread; any length is handled exactly, without floats.
    """
    text = text.strip().replace("\u2212", "-")  # the typographic minus sign
    if not _NUMBER_RE.fullmatch(text):
        return None
    try:
        return Fraction(Decimal(text.replace(",", ".")))
    except (InvalidOperation, ValueError):  # pragma: no cover - the pattern rules these out
        return None


def _exact(x: float) -> Fraction:
    """The decimal number an author wrote (1.4 is 14/10, not the nearest binary float)."""
    return Fraction(repr(float(x)))


def numerical_matches(answer: NumericalAnswer, number: Fraction) -> bool:
    """Whether ``number`` is within the answer's range (both ends inclusive)."""
    if answer.is_range:
        return _exact(answer.min) <= number <= _exact(answer.max)
    value, tolerance = _exact(answer.value), _exact(answer.tolerance)
    return value - tolerance <= number <= value + tolerance


# --------------------------------------------------------------------------------------------
# Scoring


def _clamp(fraction: float) -> float:
    return round(min(1.0, max(0.0, fraction)), FRACTION_DECIMALS) + 0.0


def _full(fraction: float) -> bool:
    return fraction >= 1 - WEIGHT_EPSILON


def _best(answers: list[Any], matches: Any) -> Any:
    best = None
    for answer in answers:
        if matches(answer) and (best is None or answer.fraction > best.fraction):
            best = answer
    return best


def score(question: Question, response: Any) -> Score:
    """Score ``response`` (see the module doc for shapes); raises InvalidResponse if malformed."""
    errors = validate_response(question, response)
    if errors:
        raise InvalidResponse(errors)
    value = (response or {}).get(RESPONSE_KEYS[question.type])
    result = Score(fraction=0.0, answered=False, general_feedback=question.general_feedback)

    def feedback(*texts: str) -> None:
        result.feedback.extend(t for t in texts if t)

    if isinstance(question, SingleChoice):
        if value is not None:
            option = next(o for o in question.options if o.id == value)
            result.answered = True
            result.fraction = _clamp(option.fraction)
            result.correct = {option.id: _full(option.fraction)}
            feedback(option.feedback)
    elif isinstance(question, MultipleResponse):
        chosen = set(value or ())
        if chosen:
            result.answered = True
            result.fraction = _clamp(sum(o.fraction for o in question.options if o.id in chosen))
            result.correct = {o.id: (o.id in chosen) == (o.fraction > 0) for o in question.options}
            feedback(*(o.feedback for o in question.options if o.id in chosen))
    elif isinstance(question, TrueFalse):
        if value is not None:
            result.answered = True
            result.fraction = 1.0 if value == question.correct else 0.0
            result.correct = {"value": value == question.correct}
            feedback(question.feedback_true if value else question.feedback_false)
    elif isinstance(question, ShortAnswer):
        if value and value.strip():
            result.answered = True
            best = _best(question.answers, lambda a: wildcard_match(a.text, value))
            if best is not None:
                result.fraction = _clamp(best.fraction)
                result.matched = best.id
                feedback(best.feedback)
            result.correct = {"text": best is not None and _full(best.fraction)}
    elif isinstance(question, Numerical):
        number = parse_number(value) if value else None
        if number is not None:
            result.answered = True
            best = _best(question.answers, lambda a: numerical_matches(a, number))
            if best is not None:
                result.fraction = _clamp(best.fraction)
                result.matched = best.id
                feedback(best.feedback)
            else:
                feedback(question.other_feedback)
            result.correct = {"text": best is not None and _full(best.fraction)}
    elif isinstance(question, Matching):
        chosen = {k: v for k, v in (value or {}).items() if v is not None}
        if chosen:
            result.answered = True
            result.correct = {p.id: chosen.get(p.id) == p.right for p in question.pairs}
            result.fraction = _clamp(sum(result.correct.values()) / len(question.pairs))
    elif isinstance(question, Ordering):
        if value:
            result.answered = True
            result.correct = {item.id: value[n] == item.id for n, item in enumerate(question.items)}
            result.fraction = _clamp(sum(result.correct.values()) / len(question.items))
    elif isinstance(question, Essay) and value and value.strip():
        result.answered = True
        result.fraction = None  # pending: a trainer grades it
    return result
