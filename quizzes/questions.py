"""The question model: plain, JSON-serialisable data (no Flask, no database).

A question is one of eight dataclasses, each with ``to_dict()`` and a module-level
``question_from_dict()`` that reads the dict back (strictly: unknown keys and wrong types are
refused with :class:`QuestionDataError`). The dicts are what the quiz tables keep in a JSON column.

Common keys of every question dict::

    {"type": "single" | "multiple" | "truefalse" | "shortanswer" | "numerical"
             | "matching" | "ordering" | "essay",
     "text": "question text",            # "_____" marks the gap of a missing-word question
     "format": "markdown" | "html" | "plain",
     "general_feedback": ""}             # shown in the review, whatever was answered

Type-specific keys (fractions are 1.0 for 100 %, 0.5 for 50 %, -1.0 for -100 %)::

    single       "options": [{"id", "text", "fraction", "feedback"}]   # fraction -1..1
    multiple     "options": [{"id", "text", "fraction", "feedback"}]   # fraction -1..1
    truefalse    "correct": bool, "feedback_true": str, "feedback_false": str
                 # feedback_true is shown to a learner who answered True, whatever is correct
    shortanswer  "answers": [{"id", "text", "fraction", "feedback"}]   # fraction 0..1
    numerical    "answers": [{"id", "value", "tolerance", "fraction", "feedback"}
                             | {"id", "min", "max", "fraction", "feedback"}],
                 "other_feedback": str    # for an answer that matches none of them
    matching     "pairs": [{"id", "left", "right"}],   # right = id of one of the choices
                 "choices": [{"id", "text"}]           # right-hand texts, distractors included
    ordering     "items": [{"id", "text"}]             # in the correct order
    essay        (nothing more; scored by a trainer)

Ids are short (a letter and six hex digits, e.g. ``"o1a2b3c"``), unique within the question and
derived from the item's own text, never from its position or correctness: the same text gives the
same id, so ids are stable across a GIFT export and import, and knowing an id tells a learner
nothing that the (public) text does not. Once stored, an id is kept even if the text is edited.

:func:`public_view` is the only thing a learner's page may receive before the review.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

FORMATS = ("markdown", "html", "plain")
DEFAULT_FORMAT = "markdown"
MISSING_WORD_GAP = "_____"
_ID_RE = re.compile(r"[a-z][0-9a-z]{1,15}")


class QuestionDataError(ValueError):
    """A question dict that does not have the documented shape."""


def make_id(prefix: str, text: str, taken: set[str]) -> str:
    """A short id for an item with this text, not in ``taken`` (which it is added to).

    Derived from the text only (never from position or correctness); a repeated text gets the
    next free variant.
    """
    n = 0
    while True:
        data = f"{prefix}\x00{text}\x00{n}".encode("utf-8", "surrogatepass")
        candidate = prefix + hashlib.blake2b(data, digest_size=3).hexdigest()
        if candidate not in taken:
            taken.add(candidate)
            return candidate
        n += 1


# --------------------------------------------------------------------------------------------
# Parts


@dataclass(kw_only=True)
class Option:
    """An option of a single- or multiple-choice question."""

    text: str
    fraction: float = 0.0
    feedback: str = ""
    id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "fraction": self.fraction,
            "feedback": self.feedback,
        }


@dataclass(kw_only=True)
class TextAnswer:
    """An accepted answer of a short-answer question (``*`` is a wildcard, ``\\*`` a star)."""

    text: str
    fraction: float = 1.0
    feedback: str = ""
    id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "fraction": self.fraction,
            "feedback": self.feedback,
        }


@dataclass(kw_only=True)
class NumericalAnswer:
    """Either ``value`` ± ``tolerance`` or the range ``min``..``max`` (both ends inclusive)."""

    value: float | None = None
    tolerance: float = 0.0
    min: float | None = None
    max: float | None = None
    fraction: float = 1.0
    feedback: str = ""
    id: str = ""

    @property
    def is_range(self) -> bool:
        return self.value is None

    def spec(self) -> str:
        """The answer as GIFT writes it: ``1.5:0.1`` or ``1..2``."""
        if self.is_range:
            return f"{format_number(self.min)}..{format_number(self.max)}"
        return f"{format_number(self.value)}:{format_number(self.tolerance)}"

    def to_dict(self) -> dict[str, Any]:
        if self.is_range:
            spec: dict[str, Any] = {"min": self.min, "max": self.max}
        else:
            spec = {"value": self.value, "tolerance": self.tolerance}
        return {"id": self.id, **spec, "fraction": self.fraction, "feedback": self.feedback}


@dataclass(kw_only=True)
class Choice:
    """A right-hand choice of a matching question."""

    text: str
    id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text}


@dataclass(kw_only=True)
class Pair:
    """A left-hand item of a matching question and the id of its right-hand choice."""

    left: str
    right: str
    id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "left": self.left, "right": self.right}


@dataclass(kw_only=True)
class Item:
    """An item of an ordering question."""

    text: str
    id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text}


def format_number(x: float | None) -> str:
    """A number as short decimal text: ``2`` not ``2.0``, ``0.00001`` not ``1e-05``."""
    if x is None:
        return ""
    if float(x).is_integer() and abs(x) < 1e16:
        return str(int(x))
    return format(Decimal(repr(float(x))), "f")


# --------------------------------------------------------------------------------------------
# Questions


@dataclass(kw_only=True)
class Question:
    """Common fields; use one of the subclasses."""

    type: ClassVar[str] = ""
    text: str
    format: str = DEFAULT_FORMAT
    general_feedback: str = ""

    def __post_init__(self) -> None:
        self.assign_ids()

    def assign_ids(self) -> None:
        """Give every part without an id one (derived from its text)."""

    def _common(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "text": self.text,
            "format": self.format,
            "general_feedback": self.general_feedback,
        }

    def to_dict(self) -> dict[str, Any]:
        return self._common()

    @property
    def auto_scored(self) -> bool:
        return True


def _assign(parts: list[Any], prefix: str, key: Any) -> None:
    taken = {p.id for p in parts if p.id}
    for part in parts:
        if not part.id:
            part.id = make_id(prefix, key(part), taken)


@dataclass(kw_only=True)
class SingleChoice(Question):
    """One option is chosen; its fraction is the score (floored at 0)."""

    type: ClassVar[str] = "single"
    options: list[Option] = field(default_factory=list)

    def assign_ids(self) -> None:
        _assign(self.options, "o", lambda o: o.text)

    def to_dict(self) -> dict[str, Any]:
        return {**self._common(), "options": [o.to_dict() for o in self.options]}


@dataclass(kw_only=True)
class MultipleResponse(Question):
    """Any options are chosen; the score is the sum of their fractions, within 0..1."""

    type: ClassVar[str] = "multiple"
    options: list[Option] = field(default_factory=list)

    def assign_ids(self) -> None:
        _assign(self.options, "o", lambda o: o.text)

    def to_dict(self) -> dict[str, Any]:
        return {**self._common(), "options": [o.to_dict() for o in self.options]}


@dataclass(kw_only=True)
class TrueFalse(Question):
    type: ClassVar[str] = "truefalse"
    correct: bool = True
    feedback_true: str = ""  # shown to a learner who answered True
    feedback_false: str = ""  # shown to a learner who answered False

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._common(),
            "correct": self.correct,
            "feedback_true": self.feedback_true,
            "feedback_false": self.feedback_false,
        }


@dataclass(kw_only=True)
class ShortAnswer(Question):
    type: ClassVar[str] = "shortanswer"
    answers: list[TextAnswer] = field(default_factory=list)

    def assign_ids(self) -> None:
        _assign(self.answers, "a", lambda a: a.text)

    def to_dict(self) -> dict[str, Any]:
        return {**self._common(), "answers": [a.to_dict() for a in self.answers]}


@dataclass(kw_only=True)
class Numerical(Question):
    type: ClassVar[str] = "numerical"
    answers: list[NumericalAnswer] = field(default_factory=list)
    other_feedback: str = ""

    def assign_ids(self) -> None:
        _assign(self.answers, "n", lambda a: a.spec())

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._common(),
            "answers": [a.to_dict() for a in self.answers],
            "other_feedback": self.other_feedback,
        }


@dataclass(kw_only=True)
class Matching(Question):
    type: ClassVar[str] = "matching"
    pairs: list[Pair] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)

    def assign_ids(self) -> None:
        _assign(self.pairs, "p", lambda p: p.left)
        _assign(self.choices, "c", lambda c: c.text)

    @classmethod
    def from_texts(
        cls,
        pairs: list[tuple[str, str]],
        distractors: tuple[str, ...] | list[str] = (),
        **common: Any,
    ) -> Matching:
        """Build from (left, right) texts; equal right texts share one choice."""
        choices: dict[str, Choice] = {}
        for _, right in pairs:
            choices.setdefault(right, Choice(text=right))
        for text in distractors:
            choices.setdefault(text, Choice(text=text))
        question = cls(choices=list(choices.values()), **common)
        question.pairs = [Pair(left=left, right=choices[right].id) for left, right in pairs]
        question.assign_ids()
        return question

    def choice_text(self, choice_id: str) -> str | None:
        return next((c.text for c in self.choices if c.id == choice_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._common(),
            "pairs": [p.to_dict() for p in self.pairs],
            "choices": [c.to_dict() for c in self.choices],
        }


@dataclass(kw_only=True)
class Ordering(Question):
    type: ClassVar[str] = "ordering"
    items: list[Item] = field(default_factory=list)  # in the correct order

    def assign_ids(self) -> None:
        _assign(self.items, "i", lambda i: i.text)

    def to_dict(self) -> dict[str, Any]:
        return {**self._common(), "items": [i.to_dict() for i in self.items]}


@dataclass(kw_only=True)
class Essay(Question):
    type: ClassVar[str] = "essay"

    @property
    def auto_scored(self) -> bool:
        return False


QUESTION_TYPES: dict[str, type[Question]] = {
    cls.type: cls
    for cls in (
        SingleChoice,
        MultipleResponse,
        TrueFalse,
        ShortAnswer,
        Numerical,
        Matching,
        Ordering,
        Essay,
    )
}


# --------------------------------------------------------------------------------------------
# Reading dicts back (strict)


def _check_keys(
    data: Any, where: str, required: set[str], optional: set[str] = frozenset()
) -> None:
    if not isinstance(data, dict):
        raise QuestionDataError(f"{where}: expected an object")
    missing = required - data.keys()
    unknown = data.keys() - required - optional
    if missing:
        raise QuestionDataError(f"{where}: missing {', '.join(sorted(missing))}")
    if unknown:
        raise QuestionDataError(f"{where}: unknown {', '.join(sorted(map(str, unknown)))}")


def _str(data: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise QuestionDataError(f"{where}.{key}: expected a string")
    return value


def _num(data: dict[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise QuestionDataError(f"{where}.{key}: expected a finite number")
    return value


def _list(data: dict[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise QuestionDataError(f"{where}.{key}: expected a list")
    return value


def question_from_dict(data: Any) -> Question:
    """Read a question dict (as written by ``to_dict()``) back; raises QuestionDataError."""
    if not isinstance(data, dict) or data.get("type") not in QUESTION_TYPES:
        raise QuestionDataError("question: unknown or missing type")
    qtype = data["type"]
    cls = QUESTION_TYPES[qtype]
    specific, required = {
        "single": ({"options"}, {"options"}),
        "multiple": ({"options"}, {"options"}),
        "truefalse": ({"correct", "feedback_true", "feedback_false"}, {"correct"}),
        "shortanswer": ({"answers"}, {"answers"}),
        "numerical": ({"answers", "other_feedback"}, {"answers"}),
        "matching": ({"pairs", "choices"}, {"pairs", "choices"}),
        "ordering": ({"items"}, {"items"}),
        "essay": (set(), set()),
    }[qtype]
    required = {"type", "text"} | required
    _check_keys(data, "question", required, {"format", "general_feedback"} | specific)
    common = {
        "text": _str(data, "text", "question"),
        "format": _str(data, "format", "question", DEFAULT_FORMAT),
        "general_feedback": _str(data, "general_feedback", "question", ""),
    }
    kwargs: dict[str, Any] = {}
    if qtype in ("single", "multiple"):
        options = []
        for n, o in enumerate(_list(data, "options", "question")):
            w = f"options[{n}]"
            _check_keys(o, w, {"id", "text"}, {"fraction", "feedback"})
            options.append(
                Option(
                    id=_str(o, "id", w),
                    text=_str(o, "text", w),
                    fraction=_num(o, "fraction", w, 0.0),
                    feedback=_str(o, "feedback", w, ""),
                )
            )
        kwargs["options"] = options
    elif qtype == "truefalse":
        if not isinstance(data["correct"], bool):
            raise QuestionDataError("question.correct: expected true or false")
        kwargs = {
            "correct": data["correct"],
            "feedback_true": _str(data, "feedback_true", "question", ""),
            "feedback_false": _str(data, "feedback_false", "question", ""),
        }
    elif qtype == "shortanswer":
        answers = []
        for n, a in enumerate(_list(data, "answers", "question")):
            w = f"answers[{n}]"
            _check_keys(a, w, {"id", "text"}, {"fraction", "feedback"})
            answers.append(
                TextAnswer(
                    id=_str(a, "id", w),
                    text=_str(a, "text", w),
                    fraction=_num(a, "fraction", w, 1.0),
                    feedback=_str(a, "feedback", w, ""),
                )
            )
        kwargs["answers"] = answers
    elif qtype == "numerical":
        nanswers = []
        for n, a in enumerate(_list(data, "answers", "question")):
            w = f"answers[{n}]"
            if isinstance(a, dict) and "value" in a:
                _check_keys(a, w, {"id", "value"}, {"tolerance", "fraction", "feedback"})
                spec: dict[str, Any] = {
                    "value": _num(a, "value", w),
                    "tolerance": _num(a, "tolerance", w, 0.0),
                }
            else:
                _check_keys(a, w, {"id", "min", "max"}, {"fraction", "feedback"})
                spec = {"min": _num(a, "min", w), "max": _num(a, "max", w)}
            nanswers.append(
                NumericalAnswer(
                    id=_str(a, "id", w),
                    fraction=_num(a, "fraction", w, 1.0),
                    feedback=_str(a, "feedback", w, ""),
                    **spec,
                )
            )
        kwargs = {
            "answers": nanswers,
            "other_feedback": _str(data, "other_feedback", "question", ""),
        }
    elif qtype == "matching":
        pairs, choices = [], []
        for n, p in enumerate(_list(data, "pairs", "question")):
            w = f"pairs[{n}]"
            _check_keys(p, w, {"id", "left", "right"})
            pairs.append(
                Pair(id=_str(p, "id", w), left=_str(p, "left", w), right=_str(p, "right", w))
            )
        for n, c in enumerate(_list(data, "choices", "question")):
            w = f"choices[{n}]"
            _check_keys(c, w, {"id", "text"})
            choices.append(Choice(id=_str(c, "id", w), text=_str(c, "text", w)))
        kwargs = {"pairs": pairs, "choices": choices}
    elif qtype == "ordering":
        items = []
        for n, i in enumerate(_list(data, "items", "question")):
            w = f"items[{n}]"
            _check_keys(i, w, {"id", "text"})
            items.append(Item(id=_str(i, "id", w), text=_str(i, "text", w)))
        kwargs["items"] = items
    question = cls(**common, **kwargs)
    problems = validate_question(question)
    if problems:
        raise QuestionDataError("; ".join(problems))
    return question


# --------------------------------------------------------------------------------------------
# Rules every question must keep

WEIGHT_EPSILON = 1e-6


def part_ids(question: Question) -> list[str]:
    """Every id of the question's parts (options, answers, pairs, choices, items)."""
    ids: list[str] = []
    for name in ("options", "answers", "pairs", "choices", "items"):
        ids.extend(p.id for p in getattr(question, name, ()))
    return ids


def validate_question(question: Question) -> list[str]:
    """What is wrong with a question (an empty list when it can be used)."""
    problems: list[str] = []
    if question.format not in FORMATS:
        problems.append(f"unknown text format {question.format!r}")
    if not question.text.strip():
        problems.append("the question text is empty")
    ids = part_ids(question)
    if len(set(ids)) != len(ids):
        problems.append("ids of the parts are not unique")
    if any(not isinstance(i, str) or not _ID_RE.fullmatch(i) for i in ids):
        problems.append("an id is not a short lower-case id")

    def fractions_within(parts: list[Any], low: float, what: str) -> None:
        for p in parts:
            if not (low - WEIGHT_EPSILON <= p.fraction <= 1 + WEIGHT_EPSILON):
                problems.append(
                    f"{what} {p.text!r} has weight {p.fraction * 100:g}%, "
                    f"allowed are {low * 100:g}% to 100%"
                )

    if isinstance(question, SingleChoice | MultipleResponse):
        if len(question.options) < 2:
            problems.append("a choice question needs at least two options")
        if any(not o.text.strip() for o in question.options):
            problems.append("an option has no text")
        fractions_within(question.options, -1.0, "option")
        if isinstance(question, SingleChoice):
            if not any(abs(o.fraction - 1) <= WEIGHT_EPSILON for o in question.options):
                problems.append("no option is marked correct (=)")
        else:
            positive = sum(o.fraction for o in question.options if o.fraction > 0)
            if positive <= WEIGHT_EPSILON:
                problems.append("no option has a positive weight")
            elif positive > 1 + 1e-4:
                problems.append(
                    f"the positive weights add up to {positive * 100:g}%, more than 100%"
                )
    elif isinstance(question, ShortAnswer):
        if not question.answers:
            problems.append("a short-answer question needs at least one answer")
        if any(not a.text.strip() for a in question.answers):
            problems.append("an answer is empty")
        fractions_within(question.answers, 0.0, "answer")
        if question.answers and not any(
            abs(a.fraction - 1) <= WEIGHT_EPSILON for a in question.answers
        ):
            problems.append("no answer is worth 100%")
    elif isinstance(question, Numerical):
        if not question.answers:
            problems.append("a numerical question needs at least one answer")
        for a in question.answers:
            if not (-WEIGHT_EPSILON <= a.fraction <= 1 + WEIGHT_EPSILON):
                problems.append(f"answer {a.spec()} has weight {a.fraction * 100:g}%")
            numbers = [a.min, a.max] if a.is_range else [a.value, a.tolerance]
            if any(x is None or not math.isfinite(x) for x in numbers):
                problems.append("a numerical answer is not a finite number")
            elif a.is_range and a.min > a.max:
                problems.append(f"range {a.spec()} has its minimum above its maximum")
            elif not a.is_range and a.tolerance < 0:
                problems.append(f"answer {a.spec()} has a negative tolerance")
        if question.answers and not any(
            abs(a.fraction - 1) <= WEIGHT_EPSILON for a in question.answers
        ):
            problems.append("no answer is worth 100%")
    elif isinstance(question, Matching):
        if len(question.pairs) < 2:
            problems.append("a matching question needs at least two pairs")
        choice_ids = {c.id for c in question.choices}
        if any(p.right not in choice_ids for p in question.pairs):
            problems.append("a pair refers to a choice that does not exist")
        if any(not p.left.strip() for p in question.pairs) or any(
            not c.text.strip() for c in question.choices
        ):
            problems.append("a pair or choice has no text")
        texts = [c.text for c in question.choices]
        if len(set(texts)) != len(texts):
            problems.append("two choices have the same text")
    elif isinstance(question, Ordering):
        if len(question.items) < 2:
            problems.append("an ordering question needs at least two items")
        if any(not i.text.strip() for i in question.items):
            problems.append("an item has no text")
    return problems


# --------------------------------------------------------------------------------------------
# What a learner's page may see before the review


def _shuffled(
    parts: list[Any], seed: int | str | None, avoid: list[str] | None = None
) -> list[Any]:
    """Parts in an order that says nothing about the key.

    Without a seed: sorted by id (ids are hashes of the text, so this order is arbitrary but
    stable). With a seed: a random order from it. If ``avoid`` (the correct order of ids) would
    come out, the list is rotated by one so the correct order is never shown.
    """
    out = sorted(parts, key=lambda p: p.id)
    if seed is not None:
        random.Random(str(seed)).shuffle(out)
    if avoid is not None and len(out) > 1 and [p.id for p in out] == avoid:
        out = out[1:] + out[:1]
    return out


def public_view(question: Question, *, shuffle_seed: int | str | None = None) -> dict[str, Any]:
    """What the learner's page may show before the review (SECURITY.md item 1).

    Type, text, format and the ids and texts of what can be chosen; never fractions, weights,
    correct flags, feedback, accepted answers or the order of a key. Options of choice
    questions keep the author's order unless ``shuffle_seed`` is given; matching choices and
    ordering items are never in the key's order.
    """
    view: dict[str, Any] = {"type": question.type, "text": question.text, "format": question.format}
    if isinstance(question, SingleChoice | MultipleResponse):
        options = question.options
        if shuffle_seed is not None:
            options = list(options)
            random.Random(str(shuffle_seed)).shuffle(options)
        view["options"] = [{"id": o.id, "text": o.text} for o in options]
    elif isinstance(question, Matching):
        view["items"] = [{"id": p.id, "text": p.left} for p in question.pairs]
        choices = _shuffled(question.choices, shuffle_seed)
        view["choices"] = [{"id": c.id, "text": c.text} for c in choices]
    elif isinstance(question, Ordering):
        items = _shuffled(question.items, shuffle_seed, avoid=[i.id for i in question.items])
        view["items"] = [{"id": i.id, "text": i.text} for i in items]
    return view


# --------------------------------------------------------------------------------------------
# Results of a file import (GIFT, Aiken)


@dataclass(kw_only=True)
class ImportedQuestion:
    """A question read from a file, with what the file said around it."""

    question: Question
    line: int  # 1-based line where the question starts
    name: str = ""
    category: str = ""  # e.g. "tom/dick/harry" from "$CATEGORY: tom/dick/harry"
    idnumber: str = ""  # from a "// [id:...]" comment
    tags: list[str] = field(default_factory=list)  # from "// [tag:...]" comments

    @property
    def type(self) -> str:
        return self.question.type

    @property
    def text(self) -> str:
        return self.question.text

    @property
    def format(self) -> str:
        return self.question.format

    @property
    def general_feedback(self) -> str:
        return self.question.general_feedback

    def same_content(self, other: ImportedQuestion) -> bool:
        """Equal apart from the line number (what a round trip keeps)."""
        return self.question == other.question and (
            self.name,
            self.category,
            self.idnumber,
            self.tags,
        ) == (other.name, other.category, other.idnumber, other.tags)


@dataclass
class ImportResult:
    questions: list[ImportedQuestion] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message), by line
    warnings: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def default_name(text: str, limit: int = 80) -> str:
    """A question name from its text, as Moodle makes one when the file gives none."""
    name = " ".join(text.split())
    if len(name) <= limit:
        return name
    cut = name[:limit].rsplit(" ", 1)[0] or name[:limit]
    return cut + "…"
