"""Scoring by hand-worked examples, response validation, the data model and the public view."""

from __future__ import annotations

import json
import time

import pytest

from quizzes.questions import (
    Essay,
    Item,
    Matching,
    MultipleResponse,
    Numerical,
    NumericalAnswer,
    Option,
    Ordering,
    QuestionDataError,
    ShortAnswer,
    SingleChoice,
    TextAnswer,
    TrueFalse,
    make_id,
    public_view,
    question_from_dict,
    validate_question,
)
from quizzes.scoring import (
    InvalidResponse,
    normalise_text,
    numerical_matches,
    parse_number,
    score,
    validate_response,
    wildcard_match,
)


def ids(question, attr="options"):
    return {p.text: p.id for p in getattr(question, attr)}


# ---------------------------------------------------------------------------------------------
# single


@pytest.fixture
def hometown():
    """Moodle's doc example: partial credit on wrong-looking options of a single choice."""
    return SingleChoice(
        text="Jesus Christ was from _____.",
        general_feedback="General.",
        options=[
            Option(text="Jerusalem", feedback="Important city, wrong answer."),
            Option(text="Bethlehem", fraction=0.25, feedback="Born here."),
            Option(text="Galilee", fraction=0.5, feedback="More specific."),
            Option(text="Nazareth", fraction=1.0, feedback="Yes!"),
            Option(text="Rome", fraction=-0.5, feedback="Penalty."),
        ],
    )


@pytest.mark.parametrize(
    ("choice", "fraction", "correct", "feedback"),
    [
        ("Nazareth", 1.0, True, ["Yes!"]),
        ("Galilee", 0.5, False, ["More specific."]),
        ("Bethlehem", 0.25, False, ["Born here."]),
        ("Jerusalem", 0.0, False, ["Important city, wrong answer."]),
        ("Rome", 0.0, False, ["Penalty."]),  # -50 % floored at 0
    ],
)
def test_single_choice(hometown, choice, fraction, correct, feedback):
    option_id = ids(hometown)[choice]
    result = score(hometown, {"option": option_id})
    assert result.fraction == fraction
    assert result.answered
    assert result.correct == {option_id: correct}
    assert result.feedback == feedback
    assert result.general_feedback == "General."


@pytest.mark.parametrize("response", [None, {}, {"option": None}])
def test_single_unanswered_scores_zero(hometown, response):
    result = score(hometown, response)
    assert (result.fraction, result.answered, result.correct, result.feedback) == (
        0.0,
        False,
        {},
        [],
    )


# ---------------------------------------------------------------------------------------------
# multiple


@pytest.fixture
def entombed():
    return MultipleResponse(
        text="What two people are entombed in Grant's tomb?",
        options=[
            Option(text="No one", fraction=-1.0, feedback="fb-none"),
            Option(text="Grant", fraction=0.5, feedback="fb-grant"),
            Option(text="Grant's wife", fraction=0.5, feedback="fb-wife"),
            Option(text="Grant's father", fraction=-1.0, feedback="fb-father"),
        ],
    )


@pytest.mark.parametrize(
    ("chosen", "fraction"),
    [
        (["Grant"], 0.5),
        (["Grant", "Grant's wife"], 1.0),
        (["Grant", "Grant's wife", "No one"], 0.0),  # 0.5 + 0.5 - 1
        (["Grant", "No one"], 0.0),  # -0.5 floored at 0
        (["No one", "Grant's father"], 0.0),  # -2 floored at 0
        (["No one", "Grant", "Grant's wife", "Grant's father"], 0.0),  # ticking everything
        ([], 0.0),
    ],
)
def test_multiple_response_sums_and_floors(entombed, chosen, fraction):
    option_ids = ids(entombed)
    result = score(entombed, {"options": [option_ids[c] for c in chosen]})
    assert result.fraction == fraction
    assert result.answered == bool(chosen)


def test_multiple_response_flags_and_feedback(entombed):
    option_ids = ids(entombed)
    result = score(entombed, {"options": [option_ids["Grant's wife"], option_ids["No one"]]})
    assert result.correct == {
        option_ids["No one"]: False,  # chosen but wrong
        option_ids["Grant"]: False,  # right but not chosen
        option_ids["Grant's wife"]: True,
        option_ids["Grant's father"]: True,  # wrong and rightly left out
    }
    assert result.feedback == ["fb-none", "fb-wife"]  # in the question's order


def test_multiple_response_caps_at_one():
    question = MultipleResponse(
        text="Caps",
        options=[Option(text="a", fraction=0.6), Option(text="b", fraction=0.6), Option(text="c")],
    )
    assert validate_question(question) == ["the positive weights add up to 120%, more than 100%"]
    option_ids = ids(question)
    assert score(question, {"options": [option_ids["a"], option_ids["b"]]}).fraction == 1.0


def test_thirds_add_up_to_exactly_one():
    """The demo content's ~%33.33333% x 3: all three right options give full marks, not 0.9999999."""
    question = MultipleResponse(
        text="Thirds",
        options=[Option(text=t, fraction=0.3333333) for t in "abc"]
        + [Option(text="d", fraction=-0.5)],
    )
    option_ids = ids(question)
    assert score(question, {"options": [option_ids[t] for t in "abc"]}).fraction == 1.0
    assert score(question, {"options": [option_ids[t] for t in "ab"]}).fraction == 0.666667
    assert score(question, {"options": [option_ids[t] for t in "abd"]}).fraction == 0.166667


# ---------------------------------------------------------------------------------------------
# true/false


@pytest.mark.parametrize(
    ("correct", "value", "fraction", "feedback"),
    [
        (True, True, 1.0, ["said true"]),
        (True, False, 0.0, ["said false"]),
        (False, False, 1.0, ["said false"]),
        (False, True, 0.0, ["said true"]),
    ],
)
def test_true_false(correct, value, fraction, feedback):
    question = TrueFalse(
        text="Statement", correct=correct, feedback_true="said true", feedback_false="said false"
    )
    result = score(question, {"value": value})
    assert result.fraction == fraction
    assert result.correct == {"value": fraction == 1.0}
    assert result.feedback == feedback


def test_true_false_unanswered_and_wrong_types():
    question = TrueFalse(text="Statement", correct=True)
    assert score(question, {"value": None}).answered is False
    for bad in (1, 0, "true", "True", [], {}):
        assert validate_response(question, {"value": bad}) == ["value must be true or false"]


# ---------------------------------------------------------------------------------------------
# short answer


def short(*answers, **kw):
    return ShortAnswer(
        text="Q",
        answers=[
            TextAnswer(text=a, fraction=1.0) if isinstance(a, str) else TextAnswer(**a)
            for a in answers
        ],
        **kw,
    )


@pytest.mark.parametrize(
    ("pattern", "response", "matches"),
    [
        ("Paris", "paris", True),
        ("Paris", "  PARIS  ", True),
        ("New  York", "new york", True),
        ("new york", "New\t \nYork", True),
        ("New York", "NewYork", False),
        ("Москва", "МОСКВА", True),  # Cyrillic case
        ("Стара Загора", "  стара   ЗАГОРА ", True),
        ("Straße", "STRASSE", True),  # casefold, not lower
        ("café", "cafe\u0301", True),  # NFC: e + combining acute == é
        ("*ing", "swimming", True),  # star at the start
        ("*ing", "swimmer", False),
        ("colo*r", "colour", True),  # in the middle
        ("colo*r", "color", True),  # a star also matches nothing
        ("colo*r", "colorful", False),
        ("photo*", "Photosynthesis", True),  # at the end
        ("photo*", "a photo", False),
        ("*", "anything at all", True),
        ("a*b*c", "abc", True),
        ("a*b*c", "axxbyyc", True),
        ("a*b*c", "acb", False),
        ("ab*ba", "aba", False),  # the two parts may not overlap
        ("c++", "C++", True),  # + is not a regex quantifier
        ("c++", "c", False),
        ("a.c", "a.c", True),
        ("a.c", "abc", False),  # . is not "any character"
        ("(x)?[y]", "(X)?[Y]", True),
        ("^start$", "^START$", True),
        ("a\\*b", "a*b", True),  # \* is a literal star
        ("a\\*b", "axb", False),
        ("Пре*ние", "Преподаване", False),
        ("Пре*ние", "Преподаване на обучение", True),
    ],
)
def test_short_answer_matching(pattern, response, matches):
    assert wildcard_match(pattern, response) is matches
    result = score(short(pattern), {"text": response})
    assert result.fraction == (1.0 if matches else 0.0)
    assert result.correct == {"text": matches}


def test_short_answer_weights_take_the_best_match():
    question = short(
        {"text": "Par*", "fraction": 0.5, "feedback": "close"},
        {"text": "Paris", "fraction": 1.0, "feedback": "right"},  # best, though not first
        {"text": "London", "fraction": 0.0, "feedback": "that is England"},
        {"text": "*", "fraction": 0.0, "feedback": "anything else"},  # equal: the first wins
    )
    by_text = ids(question, "answers")
    cases = {
        "paris": (1.0, "Paris", ["right"]),
        "Parma": (0.5, "Par*", ["close"]),
        "london": (0.0, "London", ["that is England"]),  # zero-credit answer, its own feedback
        "Sofia": (0.0, "*", ["anything else"]),
    }
    for response, (fraction, matched, feedback) in cases.items():
        result = score(question, {"text": response})
        assert (result.fraction, result.matched, result.feedback) == (
            fraction,
            by_text[matched],
            feedback,
        )


def test_short_answer_unanswered_and_no_match():
    question = short("Paris")
    for response in ({"text": ""}, {"text": "   "}, {"text": None}, {}):
        result = score(question, response)
        assert (result.fraction, result.answered) == (0.0, False)
    result = score(question, {"text": "Lyon"})
    assert (result.fraction, result.answered, result.matched, result.correct) == (
        0.0,
        True,
        None,
        {"text": False},
    )


def test_wildcard_matching_is_linear():
    pattern = "*a" * 30 + "*b"
    started = time.perf_counter()
    assert not wildcard_match(pattern, "a" * 500)
    assert time.perf_counter() - started < 0.1


def test_normalise_text():
    assert normalise_text("  Ünïcode\u00a0 ТЕКСТ\n\tX ") == "ünïcode текст x"


# ---------------------------------------------------------------------------------------------
# numerical


def numerical(*answers, other=""):
    return Numerical(
        text="Q", answers=[NumericalAnswer(**a) for a in answers], other_feedback=other
    )


@pytest.mark.parametrize(
    ("response", "fraction"),
    [
        ("1.5", 1.0),
        ("1.4", 1.0),  # lower edge, inclusive (exact decimals, no float trouble)
        ("1.6", 1.0),  # upper edge, inclusive
        ("1.39999", 0.0),
        ("1.60001", 0.0),
        ("1,6", 1.0),  # decimal comma
        ("  1.45  ", 1.0),
        ("+1.5", 1.0),
        ("1.", 0.0),
        ("-1.5", 0.0),
    ],
)
def test_numerical_tolerance(response, fraction):
    question = numerical({"value": 1.5, "tolerance": 0.1})
    assert score(question, {"text": response}).fraction == fraction


@pytest.mark.parametrize(
    ("response", "fraction"),
    [("1", 1.0), ("2", 1.0), ("1.5", 1.0), ("0.999", 0.0), ("2.0001", 0.0), ("2,0", 1.0)],
)
def test_numerical_range(response, fraction):
    assert score(numerical({"min": 1, "max": 2}), {"text": response}).fraction == fraction


def test_numerical_doc_pi_edges():
    """Moodle's doc: with 3.14159:0.0005, 3.141 is not counted as correct and 3.142 is."""
    question = numerical({"value": 3.14159, "tolerance": 0.0005})
    assert score(question, {"text": "3.141"}).fraction == 0.0
    assert score(question, {"text": "3.142"}).fraction == 1.0
    assert score(question, {"text": "3.14209"}).fraction == 1.0  # exactly the upper edge
    assert score(question, {"text": "3.14109"}).fraction == 1.0  # exactly the lower edge


def test_numerical_several_answers_take_the_best():
    question = numerical(
        {"value": 3.1, "tolerance": 0.1, "fraction": 0.5, "feedback": "roughly"},
        {"value": 3.14, "tolerance": 0.005, "fraction": 1.0, "feedback": "exactly"},
        {"value": 22 / 7, "tolerance": 0.0, "fraction": 0.0, "feedback": "a fraction"},
        other="not pi",
    )
    cases = {
        "3.14": (1.0, ["exactly"]),
        "3.142": (1.0, ["exactly"]),  # inside both 3.14±0.005 and 3.1±0.1: the best wins
        "3.13": (0.5, ["roughly"]),  # only within 3.1±0.1
        "3.0": (0.5, ["roughly"]),  # lower edge of 3.1±0.1
        "2.9": (0.0, ["not pi"]),
        "42": (0.0, ["not pi"]),
    }
    for response, (fraction, feedback) in cases.items():
        result = score(question, {"text": response})
        assert (result.fraction, result.feedback) == (fraction, feedback), response
    assert score(question, {"text": "3.13"}).correct == {"text": False}
    assert score(question, {"text": "3.14"}).correct == {"text": True}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "1e309",
        "1e3",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "Infinity",
        "1,000.5",
        "1 000",
        "0x10",
        "1/2",
        "٣",
        "7..8",
        "7,8,9",
        "--1",
        "1-",
        "1\n2",
    ],
)
def test_numerical_refuses_anything_else_as_unanswered(text):
    question = numerical({"value": 1000.5, "tolerance": 1})
    assert parse_number(text) is None
    result = score(question, {"text": text})
    assert (result.fraction, result.answered) == (0.0, False)


def test_numerical_accepts_typographic_minus():
    assert parse_number("\u22123,5") == parse_number("-3.5")


def test_numerical_huge_inputs_never_crash():
    digits = "9" * 10_000
    started = time.perf_counter()
    for text in (digits, "-" + digits + ",5", "0." + digits):
        number = parse_number(text)
        assert number is not None
        assert not numerical_matches(NumericalAnswer(value=7.8, tolerance=0.05), number)
    assert numerical_matches(NumericalAnswer(min=0, max=1), parse_number("0." + digits))
    assert time.perf_counter() - started < 1
    # As a response it is too long: the web layer answers 400 before scoring.
    question = numerical({"value": 1, "tolerance": 0})
    assert validate_response(question, {"text": digits}) == ["text is longer than 500 characters"]
    with pytest.raises(InvalidResponse):
        score(question, {"text": digits})


# ---------------------------------------------------------------------------------------------
# matching and ordering


@pytest.fixture
def capitals():
    return Matching.from_texts(
        [("Canada", "Ottawa"), ("Italy", "Rome"), ("Japan", "Tokyo"), ("India", "New Delhi")],
        ["Sydney"],
        text="Match the countries with their capitals.",
    )


def test_matching_scores_correct_pairs_over_pairs(capitals):
    left = {p.left: p.id for p in capitals.pairs}
    right = {c.text: c.id for c in capitals.choices}
    all_right = {
        left[c]: right[r]
        for c, r in [
            ("Canada", "Ottawa"),
            ("Italy", "Rome"),
            ("Japan", "Tokyo"),
            ("India", "New Delhi"),
        ]
    }
    assert score(capitals, {"pairs": all_right}).fraction == 1.0
    two_swapped = {**all_right, left["Canada"]: right["Rome"], left["Italy"]: right["Ottawa"]}
    result = score(capitals, {"pairs": two_swapped})
    assert result.fraction == 0.5
    assert result.correct == {
        left["Canada"]: False,
        left["Italy"]: False,
        left["Japan"]: True,
        left["India"]: True,
    }
    # Pairs left out count as wrong; a distractor is always wrong.
    partial = {left["Japan"]: right["Tokyo"], left["India"]: right["Sydney"], left["Canada"]: None}
    assert score(capitals, {"pairs": partial}).fraction == 0.25
    assert score(capitals, {"pairs": {left["Canada"]: None}}).answered is False


def test_matching_shared_right_texts_are_one_choice():
    question = Matching.from_texts(
        [("cat", "mammal"), ("dog", "mammal"), ("trout", "fish")], text="Classify"
    )
    assert [c.text for c in question.choices] == ["mammal", "fish"]
    mammal = question.choices[0].id
    response = {p.id: mammal for p in question.pairs}
    assert score(question, {"pairs": response}).fraction == 0.666667


@pytest.fixture
def ordering():
    return Ordering(
        text="Order the waste hierarchy, best first.",
        items=[Item(text=t) for t in ("Reduce", "Reuse", "Recycle", "Recover", "Dispose")],
    )


@pytest.mark.parametrize(
    ("order", "fraction"),
    [
        ("Reduce Reuse Recycle Recover Dispose", 1.0),
        ("Reuse Reduce Recycle Recover Dispose", 0.6),  # two swapped: 3 of 5 in place
        ("Dispose Reduce Reuse Recycle Recover", 0.0),  # all shifted by one: none in place
        ("Dispose Recover Recycle Reuse Reduce", 0.2),  # reversed: only the middle stays
    ],
)
def test_ordering_absolute_positions(ordering, order, fraction):
    item_ids = ids(ordering, "items")
    result = score(ordering, {"order": [item_ids[t] for t in order.split()]})
    assert result.fraction == fraction
    assert sum(result.correct.values()) == round(fraction * 5)


def test_ordering_shape(ordering):
    item_ids = [i.id for i in ordering.items]
    assert score(ordering, {"order": []}).answered is False
    bad = [
        item_ids[:4],
        item_ids + item_ids[:1],
        item_ids[:4] + item_ids[:1],
        item_ids[:4] + ["ix"],
        [1, 2, 3, 4, 5],
    ]
    for order in bad:
        assert validate_response(ordering, {"order": order}) == [
            "order must list every item of this question exactly once"
        ]


# ---------------------------------------------------------------------------------------------
# essay


def test_essay_is_pending_until_a_trainer_grades_it():
    question = Essay(text="Describe your roadmap.", general_feedback="for the review")
    result = score(question, {"text": "We will…"})
    assert result.fraction is None and result.pending and result.answered
    blank = score(question, {"text": "  \n"})
    assert (blank.fraction, blank.answered) == (0.0, False)  # nothing to grade
    assert validate_response(question, {"text": "x" * 20_000}) == []
    assert validate_response(question, {"text": "x" * 20_001}) == [
        "text is longer than 20000 characters"
    ]


# ---------------------------------------------------------------------------------------------
# validate_response


def test_validate_response_refuses_foreign_and_malformed(hometown, entombed, capitals):
    other = SingleChoice(
        text="Other", options=[Option(text="Elsewhere", fraction=1), Option(text="No")]
    )
    foreign = other.options[0].id
    assert foreign not in {o.id for o in hometown.options}
    cases = [
        (hometown, ["not a dict"], ["the response must be an object"]),
        (hometown, {"option": foreign}, [f"option {foreign!r} is not an option of this question"]),
        (hometown, {"option": 3}, ["option 3 is not an option of this question"]),
        (hometown, {"option": ["o1"]}, ["option ['o1'] is not an option of this question"]),
        (hometown, {"options": []}, ["unexpected field 'options'"]),
        (hometown, {"option": None, "score": 1.0}, ["unexpected field 'score'"]),
        (hometown, {"option": None, "passed": True}, ["unexpected field 'passed'"]),
        (entombed, {"options": "o1"}, ["options must be a list"]),
        (
            entombed,
            {"options": [foreign]},
            [f"option {foreign!r} is not an option of this question"],
        ),
        (
            entombed,
            {"options": [{"id": 1}]},
            ["option {'id': 1} is not an option of this question"],
        ),
        (capitals, {"pairs": ["x"]}, ["pairs must be an object"]),
        (capitals, {"pairs": {"p0": None}}, ["item 'p0' is not an item of this question"]),
        (short("x"), {"text": 5}, ["text must be a string"]),
        (short("x"), {"text": "a\x00b"}, ["text contains a NUL character"]),
        (short("x"), {"text": "x" * 501}, ["text is longer than 500 characters"]),
    ]
    for question, response, errors in cases:
        assert validate_response(question, response) == errors, response
        with pytest.raises(InvalidResponse) as raised:
            score(question, response)
        assert raised.value.errors == errors
    assert validate_response(short("x"), {"text": "x" * 500}) == []


def test_validate_response_duplicates_and_foreign_choices(entombed, capitals):
    first = entombed.options[0].id
    assert validate_response(entombed, {"options": [first, first]}) == [
        f"option {first!r} is given twice"
    ]
    pair = capitals.pairs[0].id
    assert validate_response(capitals, {"pairs": {pair: "c000000"}}) == [
        "choice 'c000000' is not a choice of this question"
    ]
    # The same choice for two items is allowed (and scored per item).
    choice = capitals.choices[0].id
    assert validate_response(capitals, {"pairs": {p.id: choice for p in capitals.pairs}}) == []


def test_long_ids_are_shortened_in_messages(hometown):
    (message,) = validate_response(hometown, {"option": "x" * 1000})
    assert len(message) < 100


# ---------------------------------------------------------------------------------------------
# The model: ids, dicts, rules


def all_types():
    return [
        SingleChoice(
            text="Which keeps most value?",
            general_feedback="CANARY-GENERAL-1",
            options=[
                Option(text="Reuse", fraction=1.0, feedback="CANARY-FEEDBACK-1"),
                Option(text="Recycle", fraction=0.25, feedback="CANARY-FEEDBACK-2"),
                Option(text="Landfill", fraction=-0.5, feedback="CANARY-FEEDBACK-3"),
            ],
        ),
        MultipleResponse(
            text="Select all that apply.",
            general_feedback="CANARY-GENERAL-2",
            options=[
                Option(text="A", fraction=0.5, feedback="CANARY-FEEDBACK-4"),
                Option(text="B", fraction=0.5, feedback="CANARY-FEEDBACK-5"),
                Option(text="C", fraction=-1.0, feedback="CANARY-FEEDBACK-6"),
            ],
        ),
        TrueFalse(
            text="Recycling is best.",
            correct=False,
            feedback_true="CANARY-FEEDBACK-7",
            feedback_false="CANARY-FEEDBACK-8",
            general_feedback="CANARY-GENERAL-3",
        ),
        ShortAnswer(
            text="Name the impact of manufacturing.",
            general_feedback="CANARY-GENERAL-4",
            answers=[
                TextAnswer(text="CANARY-CORRECT-1", feedback="CANARY-FEEDBACK-9"),
                TextAnswer(text="CANARY-CORRECT-2*", fraction=0.5, feedback="CANARY-FEEDBACK-10"),
            ],
        ),
        Numerical(
            text="How many kg per person?",
            general_feedback="CANARY-GENERAL-5",
            other_feedback="CANARY-FEEDBACK-11",
            answers=[
                NumericalAnswer(value=31337.4242, tolerance=0.0777, feedback="CANARY-FEEDBACK-12"),
                NumericalAnswer(
                    min=27182.81, max=27183.99, fraction=0.5, feedback="CANARY-FEEDBACK-13"
                ),
            ],
        ),
        Matching.from_texts(
            [("Repair", "Battery"), ("Refurbish", "Warranty"), ("Repurpose", "Build agent")],
            ["Distractor"],
            text="Match the strategies.",
            general_feedback="CANARY-GENERAL-6",
        ),
        Ordering(
            text="Order best first.",
            general_feedback="CANARY-GENERAL-7",
            items=[Item(text=t) for t in ("Reduce", "Reuse", "Recycle", "Recover")],
        ),
        Essay(text="Describe your roadmap.", general_feedback="CANARY-GENERAL-8"),
    ]


SECRET_KEYS = {
    "fraction",
    "correct",
    "feedback",
    "feedback_true",
    "feedback_false",
    "general_feedback",
    "other_feedback",
    "answers",
    "pairs",
    "right",
    "value",
    "tolerance",
    "min",
    "max",
    "weight",
}


def keys_of(data):
    if isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from keys_of(value)
    elif isinstance(data, list):
        for value in data:
            yield from keys_of(value)


@pytest.mark.parametrize("seed", [None, 1, "attempt-42"])
def test_public_view_leaks_no_answer_key(seed):
    """SECURITY.md item 1: canaries in feedback, answers and keys never reach the page."""
    for question in all_types():
        assert validate_question(question) == []
        view = public_view(question, shuffle_seed=seed)
        serialised = json.dumps(view, ensure_ascii=False)
        assert "CANARY" not in serialised, question.type
        assert not set(keys_of(view)) & SECRET_KEYS, question.type
        for secret in ("31337", "0.0777", "27182", "27183"):
            assert secret not in serialised
        assert view["type"] == question.type and view["text"] == question.text
    # The secrets really are in the full data (so the test above means something).
    full = json.dumps([q.to_dict() for q in all_types()])
    assert full.count("CANARY") == 23 and "31337.4242" in full


def test_public_view_shows_what_can_be_chosen():
    single, multiple, tf, sa, num, matching, ordering, essay = all_types()
    assert public_view(single)["options"] == [{"id": o.id, "text": o.text} for o in single.options]
    assert sorted(o["text"] for o in public_view(multiple)["options"]) == ["A", "B", "C"]
    for question in (tf, sa, num, essay):
        assert set(public_view(question)) == {"type", "text", "format"}
    view = public_view(matching)
    assert view["items"] == [{"id": p.id, "text": p.left} for p in matching.pairs]
    assert sorted(c["text"] for c in view["choices"]) == sorted(c.text for c in matching.choices)
    assert sorted(i["text"] for i in public_view(ordering)["items"]) == sorted(
        i.text for i in ordering.items
    )


def test_public_view_never_shows_the_key_order():
    for n in range(2, 7):
        for variant in range(40):
            texts = [f"step {variant}-{k}" for k in range(n)]
            question = Ordering(text="Order", items=[Item(text=t) for t in texts])
            for seed in (None, variant):
                shown = [i["text"] for i in public_view(question, shuffle_seed=seed)["items"]]
                assert shown != texts and sorted(shown) == sorted(texts)
    question = all_types()[-2]
    assert public_view(question, shuffle_seed=7) == public_view(question, shuffle_seed=7)


def test_ids_depend_on_text_only():
    texts = ["Reduce", "Reuse", "Recycle"]
    forward = Ordering(text="O", items=[Item(text=t) for t in texts])
    backward = Ordering(text="O", items=[Item(text=t) for t in reversed(texts)])
    assert {i.text: i.id for i in forward.items} == {i.text: i.id for i in backward.items}
    right = SingleChoice(text="Q", options=[Option(text="a", fraction=1), Option(text="b")])
    wrong = SingleChoice(text="Q", options=[Option(text="b", fraction=1), Option(text="a")])
    assert ids(right) == ids(wrong)  # an id says nothing about correctness or position
    twice = SingleChoice(text="Q", options=[Option(text="a", fraction=1), Option(text="a")])
    assert len({o.id for o in twice.options}) == 2
    assert all(len(o.id) == 7 for o in right.options)
    taken: set[str] = set()
    assert make_id("o", "x", taken) != make_id("o", "x", taken)


def test_to_dict_and_back():
    for question in all_types():
        data = question.to_dict()
        assert json.loads(json.dumps(data)) == data
        again = question_from_dict(json.loads(json.dumps(data)))
        assert again == question
        assert type(again) is type(question)


def test_documented_dict_layouts():
    single, _, tf, _, num, matching, ordering, essay = all_types()
    assert set(single.to_dict()) == {"type", "text", "format", "general_feedback", "options"}
    assert set(single.to_dict()["options"][0]) == {"id", "text", "fraction", "feedback"}
    assert set(tf.to_dict()) == {
        "type",
        "text",
        "format",
        "general_feedback",
        "correct",
        "feedback_true",
        "feedback_false",
    }
    assert [set(a) for a in num.to_dict()["answers"]] == [
        {"id", "value", "tolerance", "fraction", "feedback"},
        {"id", "min", "max", "fraction", "feedback"},
    ]
    data = matching.to_dict()
    assert set(data["pairs"][0]) == {"id", "left", "right"}
    assert {c["id"] for c in data["choices"]} >= {p["right"] for p in data["pairs"]}
    assert set(ordering.to_dict()["items"][0]) == {"id", "text"}
    assert essay.to_dict() == {
        "type": "essay",
        "text": "Describe your roadmap.",
        "format": "markdown",
        "general_feedback": "CANARY-GENERAL-8",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(type="poll"), "unknown or missing type"),
        (lambda d: d.update(extra=1), "question: unknown extra"),
        (lambda d: d.pop("options"), "question: missing options"),
        (
            lambda d: d["options"][0].update(fraction="1"),
            "options[0].fraction: expected a finite number",
        ),
        (
            lambda d: d["options"][0].update(fraction=True),
            "options[0].fraction: expected a finite number",
        ),
        (lambda d: d["options"][0].update(fraction=float("nan")), "expected a finite number"),
        (lambda d: d["options"][0].update(fraction=2), "has weight 200%"),
        (
            lambda d: d["options"][1].update(id=d["options"][0]["id"]),
            "ids of the parts are not unique",
        ),
        (lambda d: d["options"][1].update(id="O-1"), "not a short lower-case id"),
        (lambda d: d["options"][0].update(fraction=0), "no option is marked correct"),
        (lambda d: d.update(options=d["options"][:1]), "at least two options"),
        (lambda d: d.update(format="rtf"), "unknown text format"),
        (lambda d: d.update(text=" "), "the question text is empty"),
        (lambda d: d["options"].append("x"), "options[3]: expected an object"),
    ],
)
def test_from_dict_refuses_bad_data(change, message):
    data = all_types()[0].to_dict()
    change(data)
    with pytest.raises(QuestionDataError, match=message.replace("[", r"\[").replace("]", r"\]")):
        question_from_dict(data)


def test_rules_per_type():
    matching = all_types()[5].to_dict()
    matching["pairs"][0]["right"] = "cffffff"
    with pytest.raises(QuestionDataError, match="refers to a choice that does not exist"):
        question_from_dict(matching)
    assert validate_question(Numerical(text="Q", answers=[NumericalAnswer(min=2, max=1)])) == [
        "range 2..1 has its minimum above its maximum"
    ]
    assert validate_question(
        Numerical(text="Q", answers=[NumericalAnswer(value=1, tolerance=1, fraction=0.5)])
    ) == ["no answer is worth 100%"]
    assert validate_question(short({"text": "x", "fraction": -0.5}, "y")) == [
        "answer 'x' has weight -50%, allowed are 0% to 100%"
    ]
    assert validate_question(Ordering(text="Q", items=[Item(text="one")])) == [
        "an ordering question needs at least two items"
    ]
    assert validate_question(
        MultipleResponse(text="Q", options=[Option(text="a"), Option(text="b", fraction=-1)])
    ) == ["no option has a positive weight"]


def test_ids_are_checked_strictly():
    data = all_types()[0].to_dict()
    data["options"][0]["id"] = data["options"][0]["id"] + "\n"
    with pytest.raises(QuestionDataError, match="not a short lower-case id"):
        question_from_dict(data)
    odd = SingleChoice(text="Q", options=[Option(text="\ud800", fraction=1), Option(text="b")])
    assert validate_question(odd) == []  # a lone surrogate from JSON does not break ids
