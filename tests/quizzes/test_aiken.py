"""Aiken import: the documented examples, every error with its line."""

from __future__ import annotations

from quizzes.aiken import parse_aiken
from quizzes.questions import SingleChoice, validate_question
from quizzes.scoring import score

DOC_EXAMPLES = """\
What is the correct answer to this question?
A. Is it this one?
B. Maybe this answer?
C. Possibly this one?
D. Must be this one!
ANSWER: D

Which LMS has the most quiz import formats?
A) Moodle
B) ATutor
C) Claroline
D) Blackboard
E) WebCT
F) Ilias
ANSWER: A
"""


def test_documented_examples():
    result = parse_aiken(DOC_EXAMPLES)
    assert result.errors == [] and result.warnings == []
    first, second = result.questions
    assert (first.line, second.line) == (1, 8)
    assert isinstance(first.question, SingleChoice)
    assert first.text == "What is the correct answer to this question?"
    assert first.format == "plain"
    assert first.name == first.text
    assert [(o.text, o.fraction) for o in first.question.options] == [
        ("Is it this one?", 0.0),
        ("Maybe this answer?", 0.0),
        ("Possibly this one?", 0.0),
        ("Must be this one!", 1.0),
    ]
    assert [o.text for o in second.question.options] == [
        "Moodle",
        "ATutor",
        "Claroline",
        "Blackboard",
        "WebCT",
        "Ilias",
    ]
    right = second.question.options[0].id
    assert score(second.question, {"option": right}).fraction == 1.0
    for q in result.questions:
        assert validate_question(q.question) == []


def test_no_blank_lines_needed_cyrillic_crlf_bom_and_tabs():
    text = (
        "\ufeffКоя е столицата на България?\r\nA.\tПловдив\r\nB. София\r\nANSWER: B\r\n"
        "Second question?\r\nA) yes\r\nB) no\r\nANSWER:A\r\n"
    )
    result = parse_aiken(text)
    assert result.errors == []
    assert [(q.line, q.text) for q in result.questions] == [
        (1, "Коя е столицата на България?"),
        (5, "Second question?"),
    ]
    assert [o.fraction for o in result.questions[0].question.options] == [0.0, 1.0]
    assert result.questions[0].question.options[0].text == "Пловдив"
    assert [o.fraction for o in result.questions[1].question.options] == [1.0, 0.0]


def test_question_text_over_several_lines_is_joined():
    result = parse_aiken("First line\nsecond line?\nA. x\nB. y\nANSWER: A\n")
    assert result.questions[0].text == "First line\nsecond line?"


def test_markup_is_plain_text():
    result = parse_aiken("Is 2*3*4 = 24?\nA. *yes*\nB. <b>no</b>\nANSWER: A\n")
    q = result.questions[0].question
    assert (q.format, q.text, q.options[1].text) == ("plain", "Is 2*3*4 = 24?", "<b>no</b>")


def test_every_error_with_its_line():
    text = """\
Missing answer line?
A. one
B. two

Answer not an option?
A. one
B. two
ANSWER: C

Only one option?
A. one
ANSWER: A

Duplicate letter?
A. one
A. two
ANSWER: A

Stray line?
A. one
this is not an option
B. two
ANSWER: A

Lower case?
A. one
B. two
answer: a

ANSWER: B

Empty option?
A.  x
B)\t
ANSWER: A

Good one?
A. yes
B. no
ANSWER: A

Unfinished at the end?
A. one
B. two
"""
    result = parse_aiken(text)
    assert result.errors == [
        (1, "the question has no ANSWER: line"),
        (8, "ANSWER: C is not one of the options A, B"),
        (10, "a question needs at least two options"),
        (16, "option A appears twice"),
        (21, "expected an option such as 'C. text' or the line 'ANSWER: C'"),
        (28, "write ANSWER in capitals"),
        (30, "ANSWER: without a question before it"),
        (34, "expected an option such as 'C. text' or the line 'ANSWER: C'"),  # "B)" and no text
        (42, "the question has no ANSWER: line"),
    ]
    assert [(q.line, q.text) for q in result.questions] == [(37, "Good one?")]


def test_empty_option_text():
    result = parse_aiken("Q?\nA. one\nB.  \t \nANSWER: A\n")
    # The line "B." with only spaces is trimmed to "B." and is not an option line.
    assert result.errors == [(3, "expected an option such as 'C. text' or the line 'ANSWER: C'")]
    assert parse_aiken("").questions == [] and parse_aiken("\n\n").errors == []
