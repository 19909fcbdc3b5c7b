"""Quiz statistics for trainers: pure functions over plain data (no Flask, no database).

The views read attempts and answers in a few queries and hand them here as
:class:`AttemptRecord` values; everything below is arithmetic on those, unit-tested with
hand-worked numbers in tests/quizzes/test_stats.py.

Definitions (as in Moodle's quiz statistics report, simplified to equal question weights, which
is how this platform scores: an attempt's score is the mean of its questions' fractions):

* **Facility index** of a question: the mean fraction (0..1) it earned over the *finished*
  attempts that contained it, shown in %. 100 % means everyone got it fully right.
* **Discrimination index** of a question: the Pearson correlation between the question's
  fraction and the score of the *rest* of the attempt (the sum of the other questions'
  fractions), over the finished attempts that contained it. Leaving the question itself out of
  the total keeps the index from correlating the question with itself. It lies in -1..1 and is
  shown ×100 in %, as Moodle does; it is ``None`` with fewer than two attempts, or when the
  question's fractions or the rest scores do not vary (a correlation is undefined then).
  Values well above 0 mean stronger learners do better on the question; a negative value
  says weaker learners do better, which usually means a wrong key or a misleading text.
* **Distribution of answers** counts every *submitted* attempt (finished or waiting for an
  essay grade): for choice and true/false questions how many picked each option, for short
  answer and numerical questions the ten most frequent responses, and for matching, ordering and
  essay questions how many got each fraction.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from quizzes import questions, scoring
from quizzes.services import is_pass, quiz_grade

TOP_RESPONSES = 10
#: A negative discrimination index is flagged for a check only from this many finished attempts:
#: with two or three, a single lucky guess gives -100 %.
FLAG_AFTER_ATTEMPTS = 5


# --- input ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerRecord:
    """One stored answer: the learner's response and the fraction it earned (None: pending)."""

    response: Any
    fraction: float | None


@dataclass(frozen=True)
class AttemptRecord:
    """A submitted attempt as statistics need it.

    ``questions`` is the attempt's own snapshot (``Attempt.questions``: a list of
    ``{"question_id", "data", "seed"}`` in the attempt's order); ``answers`` maps a question id
    to its answer; ``finished`` is True once every answer is scored (status ``finished``)."""

    questions: list[dict[str, Any]]
    answers: dict[int, AnswerRecord]
    finished: bool


@dataclass(frozen=True)
class AttemptSummary:
    """What a quiz's summary needs of an attempt (any status)."""

    user_id: int
    number: int
    status: str
    score: float | None


# --- numbers --------------------------------------------------------------------------------


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """The Pearson correlation of two equally long series; None with fewer than two pairs or
    when either series does not vary."""
    if len(xs) != len(ys):
        raise ValueError("the series differ in length")
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def facility_index(fractions: Sequence[float]) -> float | None:
    """The mean fraction in % (None without any attempt)."""
    average = mean(fractions)
    return None if average is None else average * 100


def discrimination_index(fractions: Sequence[float], totals: Sequence[float]) -> float | None:
    """Pearson correlation of the question's fractions with the rest of each attempt
    (``total - fraction``), where ``totals`` are the attempts' sums of fractions; -1..1."""
    rest = [total - x for x, total in zip(fractions, totals, strict=True)]
    return pearson(fractions, rest)


def format_duration(seconds: float | None) -> str:
    """``1:02:05`` for an hour and more, else ``12:05`` (minutes:seconds); empty for None."""
    if seconds is None or seconds < 0:
        return ""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# --- a quiz's summary -----------------------------------------------------------------------


@dataclass
class QuizSummary:
    attempts: int  # every attempt, in progress included
    learners: int  # people with at least one attempt
    graded_learners: int  # people with at least one finished attempt
    passed_learners: int
    average: float | None  # mean of the graded learners' grades, 0..1
    in_progress: int
    pending: int  # attempts waiting for an essay grade

    @property
    def pass_rate(self) -> float | None:
        """Share of the graded learners who passed, 0..1."""
        return self.passed_learners / self.graded_learners if self.graded_learners else None


@dataclass(frozen=True)
class _QuizRules:
    grading: str
    pass_mark: int


def quiz_summary(attempts: Iterable[AttemptSummary], grading: str, pass_mark: int) -> QuizSummary:
    """Counts of a quiz, and each learner's grade by the quiz's grading method (the same rule
    as the learner's own page: services.quiz_grade and is_pass)."""
    rules = _QuizRules(grading, pass_mark)
    by_user: dict[int, list[AttemptSummary]] = {}
    count = in_progress = pending = 0
    for attempt in attempts:
        count += 1
        by_user.setdefault(attempt.user_id, []).append(attempt)
        in_progress += attempt.status == "in_progress"
        pending += attempt.status == "pending_grading"
    grades = [g for g in (quiz_grade(rules, a) for a in by_user.values()) if g is not None]  # type: ignore[arg-type]
    return QuizSummary(
        attempts=count,
        learners=len(by_user),
        graded_learners=len(grades),
        passed_learners=sum(1 for g in grades if is_pass(rules, g)),  # type: ignore[arg-type]
        average=mean(grades),
        in_progress=in_progress,
        pending=pending,
    )


# --- responses as text ----------------------------------------------------------------------


def answered(qtype: str, response: Any) -> bool:
    """Whether a response says anything (the scorer treats the rest as unanswered)."""
    if not isinstance(response, dict):
        return False
    value = response.get(scoring.RESPONSE_KEYS.get(qtype, ""))
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, dict):
        return any(v is not None for v in value.values())
    if isinstance(value, list):
        return bool(value)
    return value is not None


def response_text(data: dict[str, Any], response: Any) -> str:
    """A response as a person reads it (option texts instead of ids); empty when unanswered.
    Ids that the question does not know are shown as they are."""
    qtype = data.get("type", "")
    if not answered(qtype, response):
        return ""
    value = response[scoring.RESPONSE_KEYS[qtype]]
    if qtype == "single":
        return _texts(data.get("options", [])).get(value, str(value))
    if qtype == "multiple":
        texts = _texts(data.get("options", []))
        return "; ".join(texts.get(v, str(v)) for v in value)
    if qtype == "truefalse":
        return "True" if value is True else "False" if value is False else str(value)
    if qtype in ("shortanswer", "numerical", "essay"):
        return str(value)
    if qtype == "matching":
        lefts = {p["id"]: p["left"] for p in data.get("pairs", [])}
        choices = _texts(data.get("choices", []))
        parts = []
        for pair in data.get("pairs", []):  # in the question's order
            chosen = value.get(pair["id"])
            if chosen is not None:
                parts.append(f"{pair['left']} → {choices.get(chosen, str(chosen))}")
        parts.extend(f"{k} → {v}" for k, v in value.items() if k not in lefts and v is not None)
        return "; ".join(parts)
    if qtype == "ordering":
        texts = _texts(data.get("items", []))
        return " → ".join(texts.get(v, str(v)) for v in value)
    return str(value)


def _texts(parts: Iterable[dict[str, Any]]) -> dict[str, str]:
    return {p["id"]: p["text"] for p in parts}


# --- per question ---------------------------------------------------------------------------


@dataclass
class Row:
    """One line of a distribution: what was answered, how often, and the credit it earned."""

    label: str
    count: int
    percent: float  # of the question's submitted answers
    credit: float | None = None  # the fraction this answer earns (None: not fixed)
    correct: bool = False  # full credit


@dataclass
class Distribution:
    kind: str  # "options" (a row per option), "responses" (top responses), "fractions"
    rows: list[Row] = field(default_factory=list)
    total: int = 0  # submitted answers to the question
    unanswered: int = 0
    pending: int = 0  # essays waiting for a grade
    others: int = 0  # responses beyond the top ten
    other_kinds: int = 0  # how many different responses those are


@dataclass
class QuestionStats:
    question_id: int
    data: dict[str, Any]  # the question as the most recent attempt saw it
    attempts: int  # finished attempts that contained it
    facility: float | None  # %
    discrimination: float | None  # -1..1
    distribution: Distribution

    @property
    def qtype(self) -> str:
        return self.data.get("type", "")

    @property
    def doubtful(self) -> bool:
        """Weaker learners do better on it, over enough attempts to say so: check the key."""
        return (
            self.discrimination is not None
            and self.discrimination < 0
            and self.attempts >= FLAG_AFTER_ATTEMPTS
        )


def _percent(count: int, total: int) -> float:
    return 100 * count / total if total else 0.0


def distribution(data: dict[str, Any], answers: Sequence[AnswerRecord]) -> Distribution:
    """How the submitted answers to one question spread (see the module doc)."""
    qtype = data.get("type", "")
    result = Distribution(kind="options", total=len(answers))
    given = [a for a in answers if answered(qtype, a.response)]
    result.unanswered = len(answers) - len(given)
    key = scoring.RESPONSE_KEYS.get(qtype, "")
    if qtype in ("single", "multiple"):
        counts: Counter[str] = Counter()
        for a in given:
            value = a.response[key]
            counts.update([value] if qtype == "single" else set(value))
        result.rows = [
            Row(
                o["text"],
                counts[o["id"]],
                _percent(counts[o["id"]], result.total),
                credit=o.get("fraction", 0.0),
                correct=o.get("fraction", 0.0) >= 1 - questions.WEIGHT_EPSILON
                or (qtype == "multiple" and o.get("fraction", 0.0) > 0),
            )
            for o in data.get("options", [])
        ]
    elif qtype == "truefalse":
        counts_tf = Counter(a.response[key] for a in given)
        truth = data.get("correct")
        result.rows = [
            Row(
                label,
                counts_tf[value],
                _percent(counts_tf[value], result.total),
                credit=1.0 if value == truth else 0.0,
                correct=value == truth,
            )
            for label, value in (("True", True), ("False", False))
        ]
    elif qtype in ("shortanswer", "numerical"):
        result.kind = "responses"
        groups: dict[str, list[AnswerRecord]] = {}
        for a in given:
            groups.setdefault(_response_key(qtype, a.response[key]), []).append(a)
        ranked = sorted(groups.values(), key=lambda g: (-len(g), _shown(g)))
        for group in ranked[:TOP_RESPONSES]:
            credit = next((a.fraction for a in group if a.fraction is not None), None)
            result.rows.append(
                Row(
                    _shown(group),
                    len(group),
                    _percent(len(group), result.total),
                    credit=credit,
                    correct=credit is not None and credit >= 1 - questions.WEIGHT_EPSILON,
                )
            )
        rest = ranked[TOP_RESPONSES:]
        result.others = sum(len(g) for g in rest)
        result.other_kinds = len(rest)
    else:  # matching, ordering, essay: how many got which fraction
        result.kind = "fractions"
        result.pending = sum(1 for a in given if a.fraction is None)
        buckets = Counter(round(a.fraction * 100) for a in given if a.fraction is not None)
        result.rows = [
            Row(
                f"{value}%",
                count,
                _percent(count, result.total),
                credit=value / 100,
                correct=value == 100,
            )
            for value, count in sorted(buckets.items(), reverse=True)
        ]
    return result


def _response_key(qtype: str, text: str) -> str:
    """Responses that score alike count as one: case and spacing do not matter, and for
    numbers 7,8 and 7.80 are the same."""
    if qtype == "numerical":
        number = scoring.parse_number(text)
        if number is not None:
            return f"#{number}"
    return scoring.normalise_text(text)


def _shown(group: list[AnswerRecord]) -> str:
    """The most frequent spelling of a group of responses (trimmed)."""
    spellings = Counter(" ".join(str(a.response["text"]).split()) for a in group)
    return min(spellings, key=lambda s: (-spellings[s], s))


def question_statistics(
    attempts: Sequence[AttemptRecord], order: Sequence[int] = ()
) -> list[QuestionStats]:
    """Statistics of every question that appears in the attempts: those in ``order`` (the
    quiz's current question ids) first in that order, then any others (questions drawn from a
    category, or removed from the quiz since) in the order they first appear."""
    seen: dict[int, dict[str, Any]] = {}
    sequence: list[int] = list(dict.fromkeys(order))
    for attempt in attempts:  # the latest snapshot of each question wins
        for q in attempt.questions:
            seen[q["question_id"]] = q["data"]
    for attempt in attempts:
        for q in attempt.questions:
            if q["question_id"] not in sequence:
                sequence.append(q["question_id"])
    totals = [
        sum(_fraction(a, q["question_id"]) for q in a.questions) if a.finished else 0.0
        for a in attempts
    ]
    contained = [{q["question_id"] for q in a.questions} for a in attempts]
    out = []
    for qid in sequence:
        if qid not in seen:
            continue
        fractions, rest_totals, answers = [], [], []
        for attempt, total, ids in zip(attempts, totals, contained, strict=True):
            if qid not in ids:
                continue
            answers.append(attempt.answers.get(qid, AnswerRecord(None, None)))
            if attempt.finished:
                fractions.append(_fraction(attempt, qid))
                rest_totals.append(total)
        out.append(
            QuestionStats(
                question_id=qid,
                data=seen[qid],
                attempts=len(fractions),
                facility=facility_index(fractions),
                discrimination=discrimination_index(fractions, rest_totals),
                distribution=distribution(seen[qid], answers),
            )
        )
    return out


def _fraction(attempt: AttemptRecord, qid: int) -> float:
    answer = attempt.answers.get(qid)
    return answer.fraction if answer is not None and answer.fraction is not None else 0.0
