"""Quiz statistics (quizzes/stats.py) on hand-worked numbers: plain data in, figures out."""

from __future__ import annotations

import math

import pytest

from quizzes.stats import (
    AnswerRecord,
    AttemptRecord,
    AttemptSummary,
    discrimination_index,
    distribution,
    facility_index,
    format_duration,
    pearson,
    question_statistics,
    quiz_summary,
    response_text,
)

SINGLE = {
    "type": "single",
    "text": "Ideal PUE?",
    "format": "markdown",
    "general_feedback": "",
    "options": [
        {"id": "oa", "text": "1.0", "fraction": 1.0, "feedback": ""},
        {"id": "ob", "text": "2.0", "fraction": 0.0, "feedback": ""},
        {"id": "oc", "text": "0.5", "fraction": -0.5, "feedback": ""},
    ],
}
MULTIPLE = {
    "type": "multiple",
    "text": "Renewables?",
    "format": "markdown",
    "general_feedback": "",
    "options": [
        {"id": "ma", "text": "Wind", "fraction": 0.5, "feedback": ""},
        {"id": "mb", "text": "Sun", "fraction": 0.5, "feedback": ""},
        {"id": "mc", "text": "Coal", "fraction": -1.0, "feedback": ""},
    ],
}
TRUEFALSE = {"type": "truefalse", "text": "Repair first?", "correct": True}
SHORT = {
    "type": "shortanswer",
    "text": "The metric?",
    "answers": [{"id": "aa", "text": "SCI", "fraction": 1.0, "feedback": ""}],
}
NUMERICAL = {
    "type": "numerical",
    "text": "7.8?",
    "answers": [{"id": "na", "value": 7.8, "tolerance": 0.0, "fraction": 1.0, "feedback": ""}],
}
MATCHING = {
    "type": "matching",
    "text": "Match",
    "pairs": [
        {"id": "pa", "left": "PUE", "right": "ca"},
        {"id": "pb", "left": "SCI", "right": "cb"},
    ],
    "choices": [{"id": "ca", "text": "energy"}, {"id": "cb", "text": "carbon"}],
}
ORDERING = {
    "type": "ordering",
    "text": "Order",
    "items": [
        {"id": "ia", "text": "Reduce"},
        {"id": "ib", "text": "Reuse"},
        {"id": "ic", "text": "Recycle"},
    ],
}
ESSAY = {"type": "essay", "text": "Explain."}


def attempt(
    fractions: dict[int, float | None],
    finished: bool = True,
    responses: dict[int, object] | None = None,
) -> AttemptRecord:
    responses = responses or {}
    return AttemptRecord(
        questions=[
            {
                "question_id": qid,
                "data": {"type": "truefalse", "text": f"Q{qid}", "correct": True},
                "seed": None,
            }
            for qid in fractions
        ],
        answers={
            qid: AnswerRecord(responses.get(qid, {"value": bool(f)}), f)
            for qid, f in fractions.items()
        },
        finished=finished,
    )


# --- numbers --------------------------------------------------------------------------------


def test_pearson_of_hand_worked_series():
    # x = 1 2 3, y = 2 4 7: means 2 and 13/3; Sxy = 5, Sxx = 2, Syy = 38/3.
    assert pearson([1, 2, 3], [2, 4, 7]) == pytest.approx(5 / math.sqrt(2 * 38 / 3))
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert pearson([1], [1]) is None  # fewer than two
    assert pearson([1, 1, 1], [1, 2, 3]) is None  # no variance
    assert pearson([1, 2, 3], [5, 5, 5]) is None
    with pytest.raises(ValueError):
        pearson([1, 2], [1])


def test_facility_and_discrimination_of_one_question():
    assert facility_index([1, 1, 0, 1]) == pytest.approx(75.0)
    assert facility_index([]) is None
    # Question fractions 1 1 0 1, attempt totals 2 2 0 3: rest 1 1 0 2.
    # dx = .25 .25 -.75 .25, dr = 0 0 -1 1: Sxr = 1, Sxx = .75, Srr = 2 -> 1 / sqrt(1.5).
    assert discrimination_index([1, 1, 0, 1], [2, 2, 0, 3]) == pytest.approx(1 / math.sqrt(1.5))
    assert discrimination_index([1], [3]) is None
    assert discrimination_index([1, 1, 1], [1, 2, 3]) is None  # everybody right: undefined


def test_question_statistics_on_hand_built_attempts():
    # Three questions, four finished attempts (1 = right, 0 = wrong):
    #        q1 q2 q3  total
    #   A1    1  1  0    2
    #   A2    1  0  1    2
    #   A3    0  0  0    0
    #   A4    1  1  1    3
    attempts = [
        attempt({1: 1.0, 2: 1.0, 3: 0.0}),
        attempt({1: 1.0, 2: 0.0, 3: 1.0}),
        attempt({1: 0.0, 2: 0.0, 3: 0.0}),
        attempt({1: 1.0, 2: 1.0, 3: 1.0}),
        attempt({1: 1.0, 2: None, 3: 0.0}, finished=False),  # waits for a grade: not scored
    ]
    result = {q.question_id: q for q in question_statistics(attempts, order=[3, 1, 2])}
    assert [q.question_id for q in question_statistics(attempts, order=[3, 1, 2])] == [3, 1, 2]
    q1, q2, q3 = result[1], result[2], result[3]
    assert (q1.attempts, q2.attempts, q3.attempts) == (4, 4, 4)
    assert q1.facility == pytest.approx(75.0)
    assert q2.facility == pytest.approx(50.0)
    assert q3.facility == pytest.approx(50.0)
    # q1: see the test above, 0.8165.
    assert q1.discrimination == pytest.approx(0.816497, abs=1e-6)
    # q2: x = 1 0 0 1, rest = 1 2 0 2; dx = .5 -.5 -.5 .5, dr = -.25 .75 -1.25 .75:
    # Sxr = -.125 - .375 + .625 + .375 = .5, Sxx = 1, Srr = 2.75 -> .5 / sqrt(2.75).
    assert q2.discrimination == pytest.approx(0.5 / math.sqrt(2.75))
    # q3: x = 0 1 0 1, rest = 2 1 0 2; dx = -.5 .5 -.5 .5, dr = .75 -.25 -1.25 .75:
    # Sxr = -.375 - .125 + .625 + .375 = .5, Srr = 2.75 -> the same.
    assert q3.discrimination == pytest.approx(0.5 / math.sqrt(2.75))
    # The distribution counts the attempt waiting for a grade too (5 submitted answers).
    assert q1.distribution.total == 5
    assert [(r.label, r.count) for r in q1.distribution.rows] == [("True", 4), ("False", 1)]


def test_questions_drawn_at_random_are_counted_where_they_appear():
    # q9 is only in two attempts (drawn from a category): rest scores come from those two.
    attempts = [attempt({1: 1.0, 9: 1.0}), attempt({1: 0.0, 9: 0.0}), attempt({1: 1.0})]
    result = question_statistics(attempts, order=[1])
    assert [q.question_id for q in result] == [1, 9]
    q1, q9 = result
    assert q1.attempts == 3 and q1.facility == pytest.approx(200 / 3)
    assert q9.attempts == 2 and q9.facility == pytest.approx(50.0)
    # q9: x = 1 0 against the rest (q1) 1 0: r = 1.
    assert q9.discrimination == pytest.approx(1.0)
    # q1: x = 1 0 1, rest = 1 0 0; dx = 1/3 -2/3 1/3, dr = 2/3 -1/3 -1/3:
    # Sxr = 1/3, Sxx = Srr = 2/3 -> 0.5.
    assert q1.discrimination == pytest.approx(0.5)


def test_a_negative_discrimination_is_flagged_from_five_finished_attempts():
    # q1 is right exactly when the rest (q2) is wrong.
    rows = [{1: 1.0, 2: 0.0}, {1: 0.0, 2: 1.0}, {1: 1.0, 2: 0.0}, {1: 0.0, 2: 1.0}]
    q1 = question_statistics([attempt(r) for r in rows])[0]
    assert q1.discrimination == pytest.approx(-1.0) and not q1.doubtful  # four: too few
    q1 = question_statistics([attempt(r) for r in [*rows, {1: 1.0, 2: 0.0}]])[0]
    assert q1.discrimination == pytest.approx(-1.0) and q1.doubtful


def test_discrimination_is_none_without_variance_in_the_rest():
    attempts = [attempt({1: 1.0, 2: 1.0}), attempt({1: 0.0, 2: 1.0})]
    q1 = question_statistics(attempts)[0]
    assert q1.facility == pytest.approx(50.0)
    assert q1.discrimination is None  # the rest (q2) is 1 in both attempts
    assert question_statistics([]) == []


def test_a_question_missing_from_the_order_and_unanswered_counts_as_zero():
    record = AttemptRecord(
        questions=[{"question_id": 5, "data": ESSAY, "seed": None}], answers={}, finished=True
    )
    (q5,) = question_statistics([record, record])
    assert q5.facility == 0.0 and q5.distribution.unanswered == 2


# --- distributions --------------------------------------------------------------------------


def test_single_choice_counts_each_option():
    answers = [
        AnswerRecord({"option": "oa"}, 1.0),
        AnswerRecord({"option": "oa"}, 1.0),
        AnswerRecord({"option": "oc"}, 0.0),
        AnswerRecord(None, 0.0),
    ]
    d = distribution(SINGLE, answers)
    assert d.kind == "options" and d.total == 4 and d.unanswered == 1
    assert [(r.label, r.count, r.percent, r.credit, r.correct) for r in d.rows] == [
        ("1.0", 2, 50.0, 1.0, True),
        ("2.0", 0, 0.0, 0.0, False),
        ("0.5", 1, 25.0, -0.5, False),
    ]


def test_multiple_response_counts_every_pick():
    answers = [
        AnswerRecord({"options": ["ma", "mb"]}, 1.0),
        AnswerRecord({"options": ["ma"]}, 0.5),
        AnswerRecord({"options": []}, 0.0),
    ]
    d = distribution(MULTIPLE, answers)
    assert [(r.label, r.count, r.correct) for r in d.rows] == [
        ("Wind", 2, True),
        ("Sun", 1, True),
        ("Coal", 0, False),
    ]
    assert d.unanswered == 1
    assert d.rows[0].percent == pytest.approx(200 / 3)


def test_short_answers_are_grouped_and_ranked():
    texts = ["SCI", "sci ", "S C I", "carbon", "SCI", "x", "y", "z", "a", "b", "c", "d", "e", ""]
    answers = [AnswerRecord({"text": t}, 1.0 if t.strip().lower() == "sci" else 0.0) for t in texts]
    d = distribution(SHORT, answers)
    assert d.kind == "responses" and d.total == 14 and d.unanswered == 1
    assert (d.rows[0].label, d.rows[0].count, d.rows[0].credit) == ("SCI", 3, 1.0)
    assert len(d.rows) == 10  # the top ten; the rest are counted apart
    assert [r.label for r in d.rows[1:4]] == ["S C I", "a", "b"]  # equal counts: by text
    assert (d.others, d.other_kinds) == (1, 1)  # 11 different responses: "z" is left over
    assert d.rows[-1].label == "y"


def test_numerical_responses_that_are_the_same_number_are_one():
    answers = [
        AnswerRecord({"text": t}, f)
        for t, f in (("7,8", 1.0), ("7.80", 1.0), ("7.8", 1.0), ("8", 0.0), ("about 8", 0.0))
    ]
    d = distribution(NUMERICAL, answers)
    assert [(r.label, r.count, r.correct) for r in d.rows] == [
        ("7,8", 3, True),
        ("8", 1, False),
        ("about 8", 1, False),
    ]


def test_matching_ordering_and_essays_show_how_many_got_each_fraction():
    answers = [
        AnswerRecord({"pairs": {"pa": "ca", "pb": "cb"}}, 1.0),
        AnswerRecord({"pairs": {"pa": "ca"}}, 0.5),
        AnswerRecord({"pairs": {"pa": "cb", "pb": "ca"}}, 0.0),
        AnswerRecord({"pairs": {"pa": None}}, 0.0),
    ]
    d = distribution(MATCHING, answers)
    assert d.kind == "fractions" and d.unanswered == 1
    assert [(r.label, r.count) for r in d.rows] == [("100%", 1), ("50%", 1), ("0%", 1)]
    essays = [AnswerRecord({"text": "A long answer"}, None), AnswerRecord({"text": "B"}, 0.8)]
    d = distribution(ESSAY, essays)
    assert d.pending == 1 and [(r.label, r.count) for r in d.rows] == [("80%", 1)]


# --- summaries and text ---------------------------------------------------------------------


def test_quiz_summary_grades_each_learner_by_the_grading_method():
    attempts = [
        AttemptSummary(1, 1, "finished", 0.4),
        AttemptSummary(1, 2, "finished", 0.8),
        AttemptSummary(2, 1, "finished", 0.6),
        AttemptSummary(3, 1, "pending_grading", None),
        AttemptSummary(4, 1, "in_progress", None),
    ]
    highest = quiz_summary(attempts, "highest", 70)
    assert (highest.attempts, highest.learners, highest.graded_learners) == (5, 4, 2)
    assert highest.average == pytest.approx(0.7)  # (0.8 + 0.6) / 2
    assert highest.passed_learners == 1 and highest.pass_rate == pytest.approx(0.5)
    assert (highest.pending, highest.in_progress) == (1, 1)
    first = quiz_summary(attempts, "first", 50)
    assert first.average == pytest.approx(0.5) and first.pass_rate == pytest.approx(0.5)
    average = quiz_summary(attempts, "average", 60)
    assert average.average == pytest.approx(0.6) and average.pass_rate == pytest.approx(1.0)
    empty = quiz_summary([], "highest", 70)
    assert empty.average is None and empty.pass_rate is None


def test_responses_read_as_text():
    assert response_text(SINGLE, {"option": "ob"}) == "2.0"
    assert response_text(MULTIPLE, {"options": ["mb", "ma"]}) == "Sun; Wind"
    assert response_text(TRUEFALSE, {"value": False}) == "False"
    assert response_text(SHORT, {"text": "=cmd"}) == "=cmd"
    assert response_text(MATCHING, {"pairs": {"pb": "ca", "pa": "cb"}}) == (
        "PUE → carbon; SCI → energy"
    )
    assert response_text(ORDERING, {"order": ["ic", "ia", "ib"]}) == "Recycle → Reduce → Reuse"
    assert response_text(ESSAY, {"text": "Line 1\nLine 2"}) == "Line 1\nLine 2"
    assert response_text(SINGLE, None) == ""
    assert response_text(SHORT, {"text": "  "}) == ""
    assert response_text(SINGLE, {"option": "gone"}) == "gone"


def test_durations():
    assert format_duration(None) == ""
    assert format_duration(65) == "1:05"
    assert format_duration(3725.4) == "1:02:05"
    assert format_duration(0) == "0:00"
