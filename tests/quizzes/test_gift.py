"""GIFT: every construct of Moodle's documentation, errors with lines, the demo files, round trips."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from quizzes.gift import WS, escape, parse_gift, unescape, write_gift
from quizzes.questions import (
    Essay,
    ImportedQuestion,
    Item,
    Matching,
    MultipleResponse,
    Numerical,
    NumericalAnswer,
    Option,
    Ordering,
    ShortAnswer,
    SingleChoice,
    TextAnswer,
    TrueFalse,
    validate_question,
)
from quizzes.scoring import score

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "gift"
DEMO_FILES = sorted((ROOT / "courses" / "demo").glob("*/*/quiz.gift")) + sorted(
    (ROOT / "courses" / "demo").glob("*/final-assessment.gift")
)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def one(text: str):
    """The only question of a GIFT snippet that must parse without errors."""
    result = parse_gift(text)
    assert result.errors == []
    assert len(result.questions) == 1
    return result.questions[0].question


def options(question):
    return [(o.text, o.fraction, o.feedback) for o in question.options]


# ---------------------------------------------------------------------------------------------
# Moodle's documentation, example by example

DOC_EXAMPLES = [
    (7, "truefalse", "Q1"),
    (10, "single", "Q2"),
    (14, "shortanswer", "Q3"),
    (17, "matching", "Q4"),
    (20, "numerical", "Q5"),
    (23, "numerical", "Q6"),
    (27, "numerical", "Q7"),
    (33, "essay", "Q8"),
    (38, "single", "Question title"),
    (51, "single", "Question"),
    (55, "single", "Who's buried in Grant's tomb?"),
    (58, "single", "Grants tomb"),
    (72, "multiple", "What two people are entombed in Grant's tomb?"),
    (82, "truefalse", "TrueStatement about Grant"),
    (85, "truefalse", "FalseStatement about sun"),
    (89, "shortanswer", "Who's buried in Grant's tomb?"),
    (91, "shortanswer", "Two plus two equals"),
    (95, "matching", "Match the following countries with their corresponding capitals."),
    (104, "single", "Moodle costs _____ to download from moodle.org."),
    (106, "single", "Mahatma Gandhi's birthday is an Indian holiday on _____ of October."),
    (112, "single", 'Since _____ the town of Hastings England has been "famous with visitors".'),
    (122, "numerical", "When was Ulysses S. Grant born?"),
    (124, "numerical", "What is the value of pi (to 3 decimal places)? _____."),
    (126, "numerical", "What is the value of pi (to 3 decimal places)? _____."),
    (128, "numerical", "When was Ulysses S. Grant born?"),
    (135, "essay", "Write a short biography of Dag Hammarskjöld."),
    (144, "numerical", "What's 2 plus 2?"),
    (147, "numerical", "What's 2 plus 2?"),
    (155, "shortanswer", "Kanji Origins"),
    (158, "single", "Thanksgiving Date"),
    (163, "single", "What's the answer to this multiple-choice question?"),
    (
        170,
        "shortanswer",
        'Deep Thought said " _____ is the Ultimate Answer to the Ultimate Question of…',
    ),
    (176, "truefalse", "42 is the Absolute Answer to everything."),
    (181, "single", "Difficult question."),
    (183, "single", "Jesus' hometown"),
    (190, "shortanswer", "Jesus' hometown"),
    (
        198,
        "single",
        "The *American holiday of Thanksgiving* is celebrated on the _____ Thursday of…",
    ),
    (206, "multiple", "What two people are entombed in Grant's tomb?"),
    (213, "multiple", "What two people are entombed in Grant's tomb?"),
    (222, "single", "Which answer equals 5?"),
    (228, "single", "GIFT Control Characters"),
    (247, "single", "Odd_Part_Formula"),
]


@pytest.fixture(scope="module")
def doc():
    return parse_gift(read(DATA / "moodle_examples.gift"))


def test_every_documented_example_is_read(doc):
    assert doc.errors == []
    assert [(q.line, q.type, q.name) for q in doc.questions] == DOC_EXAMPLES
    assert len(doc.questions) == 42
    assert doc.warnings == [
        (17, "Moodle needs at least three matching pairs or choices"),  # the doc's own Q4
        (139, "text without an answer block (a description) was skipped"),
    ]


def by_line(doc, line):
    return next(q for q in doc.questions if q.line == line)


def test_doc_quick_examples(doc):
    q1 = by_line(doc, 7).question
    assert (q1.text, q1.correct) == ("1+1=2", True)
    q2 = by_line(doc, 10).question
    assert options(q2) == [
        ("yellow", 1.0, "right; good!"),
        ("red", 0.0, "wrong, it's yellow"),
        ("blue", 0.0, "wrong, it's yellow"),
    ]
    q3 = by_line(doc, 14).question
    assert q3.text == "Two plus _____ equals four."  # missing word
    assert [a.text for a in q3.answers] == ["two", "2"]
    q4 = by_line(doc, 17).question
    assert [(p.left, q4.choice_text(p.right)) for p in q4.pairs] == [
        ("cat", "cat food"),
        ("dog", "dog food"),
    ]
    q5, q6 = by_line(doc, 20).question, by_line(doc, 23).question
    assert (q5.answers[0].value, q5.answers[0].tolerance) == (3, 2)
    assert (q6.answers[0].min, q6.answers[0].max) == (1, 5)
    q7 = by_line(doc, 27).question
    assert [(a.value, a.tolerance, a.fraction, a.feedback) for a in q7.answers] == [
        (1822, 0, 1.0, "Correct! Full credit."),
        (1822, 2, 0.5, "He was born in 1822. Half credit for being close."),
    ]
    assert isinstance(by_line(doc, 33).question, Essay)


def test_doc_format_symbols_explained(doc):
    long_form = by_line(doc, 38)
    assert long_form.name == "Question title"  # the name may span lines
    assert long_form.text == "Question"
    assert options(long_form.question)[1] == ("Wrong answer1", 0.0, "A response to wrong answer1")
    assert [o.text for o in by_line(doc, 51).question.options][0] == "A Correct Answer"


def test_doc_multiple_response_weights(doc):
    q = by_line(doc, 72).question
    assert isinstance(q, MultipleResponse)
    assert [(o.text, o.fraction) for o in q.options] == [
        ("No one", -1.0),
        ("Grant", 0.5),
        ("Grant's wife", 0.5),
        ("Grant's father", -1.0),
    ]
    assert [o.fraction for o in by_line(doc, 206).question.options] == [0, 0.5, 0.5, 0]
    assert [o.fraction for o in by_line(doc, 213).question.options] == [-0.5, 0.5, 0.5, -0.5]


def test_doc_true_false_feedback_order(doc):
    """The doc: "The first is shown if the student gives the wrong answer. The second if ... right"."""
    assert by_line(doc, 85).question.correct is False
    q = by_line(doc, 176).question  # {FALSE#42is the Ultimate Answer.#You gave the right answer.}
    assert q.text == "42 is the Absolute Answer to everything."
    assert q.correct is False
    assert q.feedback_true == "42is the Ultimate Answer."  # answering True is wrong
    assert q.feedback_false == "You gave the right answer."
    assert score(q, {"value": True}).feedback == ["42is the Ultimate Answer."]


def test_doc_short_answers_and_weights(doc):
    assert [a.text for a in by_line(doc, 89).question.answers] == [
        "Grant",
        "Ulysses S. Grant",
        "Ulysses Grant",
    ]
    assert by_line(doc, 91).question.text == "Two plus two equals"  # no blank at the end
    q = by_line(doc, 190).question
    assert [(a.text, a.fraction, a.feedback) for a in q.answers] == [
        ("Nazareth", 1.0, "Yes! That's right!"),
        ("Nazereth", 0.75, "Right, but misspelled."),
        ("Bethlehem", 0.25, "He was born here, but not raised here."),
    ]
    assert (
        by_line(doc, 155).question.text == "Japanese characters originally\ncame from what country?"
    )
    deep = by_line(doc, 170).question
    assert deep.text.startswith('Deep Thought said " _____  is the Ultimate')
    assert [a.feedback for a in deep.answers][1] == "Correct, as told to Loonquawl and Phouchg"


def test_doc_partial_credit_in_multiple_choice(doc):
    q = by_line(doc, 183).question
    assert isinstance(q, SingleChoice)
    assert q.text == "Jesus Christ was from _____."
    assert [(o.text, o.fraction) for o in q.options] == [
        ("Jerusalem", 0.0),
        ("Bethlehem", 0.25),
        ("Galilee", 0.5),
        ("Nazareth", 1.0),
    ]
    assert [(o.text, o.fraction) for o in by_line(doc, 181).question.options] == [
        ("wrong answer", 0.0),
        ("half credit answer", 0.5),
        ("full credit answer", 1.0),
    ]


def test_doc_matching_missing_word_numerical(doc):
    capitals = by_line(doc, 95).question
    assert [(p.left, capitals.choice_text(p.right)) for p in capitals.pairs][1] == ("Italy", "Rome")
    hastings = by_line(doc, 112).question
    assert (
        hastings.text
        == 'Since _____\nthe town of Hastings England has been "famous with visitors".'
    )
    assert [o.text for o in hastings.options][3] == "43 AD"
    pi = by_line(doc, 124).question
    assert (pi.answers[0].value, pi.answers[0].tolerance) == (3.14159, 0.0005)
    assert (
        by_line(doc, 126).question.answers[0].min,
        by_line(doc, 126).question.answers[0].max,
    ) == (
        3.141,
        3.142,
    )
    exported = by_line(doc, 147).question  # Moodle's export: {#\n =4:0#\n}
    assert [(a.value, a.tolerance, a.feedback) for a in exported.answers] == [(4, 0, "")]


def test_doc_formats_escapes_categories(doc):
    markdown = by_line(doc, 198)
    assert markdown.format == "markdown"
    assert markdown.text.startswith("The *American holiday of Thanksgiving* is celebrated")
    assert [o.text for o in by_line(doc, 222).question.options] == ["= 2 + 2", "= 2 + 3", "= 2 + 4"]
    control = by_line(doc, 228).question
    assert options(control)[:5] == [
        ("~", 0.0, "~ is a control character."),
        ("=", 0.0, "= is a control character."),
        ("#", 0.0, "# is a control character."),
        ("{", 0.0, "{ is a control character."),
        ("}", 0.0, "} is a control character."),
    ]
    assert options(control)[5] == (
        "\\",
        1.0,
        "Correct! \\ (backslash) is not a control character. BUT,\n"
        "             it is used to escape the control characters.",
    )
    latex = by_line(doc, 247)
    assert latex.text == (
        "The odd part of a continuous-time signal \\( x(t) \\), denoted as "
        "\\( \\mathcal{Odd} (x(t)) \\), is given by which formula?"
    )
    assert latex.question.options[0].text == "\\( 0.5 * [x(t) - x(-t)] \\)"
    # $CATEGORY lines apply to what follows them, the last one winning.
    assert latex.category == "mycategory"
    assert {q.category for q in doc.questions[:-1]} == {""}


# ---------------------------------------------------------------------------------------------
# Constructs one by one


def test_comments_are_whole_lines_only():
    result = parse_gift(
        "// a comment\n  \t// an indented comment\nWhat is 1+1? // not a comment {=2}\n"
    )
    assert result.errors == []
    assert result.questions[0].text == "What is 1+1? // not a comment"
    assert result.questions[0].line == 3
    # A comment line inside a question is dropped, not turned into text.
    assert one("Pick {\n=a\n// between answers\n~b\n}").options[1].text == "b"


def test_names():
    assert parse_gift("::Name \\: with colon::Text {T}").questions[0].name == "Name : with colon"
    unnamed = parse_gift("Who was first?  Really,\n  first? {=Grant}").questions[0]
    assert unnamed.name == "Who was first? Really, first?"  # as Moodle: the text
    long_text = "word " * 40 + "{T}"
    assert len(parse_gift(long_text).questions[0].name) <= 81


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("", "markdown"),
        ("[markdown]", "markdown"),
        ("[html]", "html"),
        ("[plain]", "plain"),
        ("[moodle]", "markdown"),
    ],
)
def test_formats(tag, expected):
    q = one(f"::N::{tag}<b>Bold</b> text {{=yes ~no}}")
    assert (q.format, q.text) == (expected, "<b>Bold</b> text")


def test_unknown_format_tag_is_text_and_answer_tags_follow_the_question():
    assert one("[rtf]Text {T}").text == "[rtf]Text"
    result = parse_gift("[html]Pick {=[html]<i>a</i> ~[plain]b#[html]fb}")
    q = result.questions[0].question
    assert [(o.text, o.feedback) for o in q.options] == [("<i>a</i>", ""), ("b", "fb")]
    assert result.warnings == [(1, "[plain] ignored: one format (html) applies to the question")]


def test_escapes():
    q = one(
        "::A\\:B::Is 1 \\= 1 \\{really\\}\\? Use \\~ and \\# and \\\\.\\nNew line {=Yes\\# ~No\\~}"
    )
    assert q.text == "Is 1 = 1 {really}\\? Use ~ and # and \\.\nNew line"
    assert [o.text for o in q.options] == ["Yes#", "No~"]
    assert unescape(r"\\{") == "\\{" and unescape(r"\\\{") == "\\{"
    for text in ["a\\b", "~=#{}:", "line\nline", "\\n literal", "ends with \\", "Ще \\: да"]:
        assert unescape(escape(text)) == text


@pytest.mark.parametrize(
    ("block", "correct", "feedback_true", "feedback_false"),
    [
        ("{T}", True, "", ""),
        ("{TRUE}", True, "", ""),
        ("{F}", False, "", ""),
        ("{FALSE}", False, "", ""),
        ("{T#wrong}", True, "", "wrong"),
        ("{T#wrong#right}", True, "right", "wrong"),
        ("{F#wrong#right}", False, "wrong", "right"),
        ("{F##right}", False, "", "right"),
        ("{ TRUE # wrong # right # more }", True, "right # more", "wrong"),
        ("{F#wrong####general}", False, "wrong", ""),
    ],
)
def test_true_false(block, correct, feedback_true, feedback_false):
    q = one(f"Statement {block}")
    assert isinstance(q, TrueFalse)
    assert (q.correct, q.feedback_true, q.feedback_false) == (
        correct,
        feedback_true,
        feedback_false,
    )


def test_lower_case_true_is_a_short_answer_as_in_moodle():
    result = parse_gift("Statement {true}")
    assert isinstance(result.questions[0].question, ShortAnswer)
    assert result.warnings == [(1, "{true} is read as a short answer; true/false needs capitals")]


def test_multiple_choice_weights_and_feedback():
    q = one("Pick {=a#A! ~%50%b#B ~%-33.33333%c ~ d #D}")
    assert isinstance(q, SingleChoice)
    assert options(q) == [("a", 1.0, "A!"), ("b", 0.5, "B"), ("c", -0.3333333, ""), ("d", 0.0, "D")]


def test_equals_takes_no_weight_in_multiple_choice_as_in_moodle():
    result = parse_gift("Pick {=%50%a ~b}")
    assert options(result.questions[0].question)[0] == ("%50%a", 1.0, "")
    assert "write ~%50%answer for partial credit" in result.warnings[0][1]


def test_multiple_response_under_100_percent_is_a_warning():
    result = parse_gift("Pick {~%50%a ~%25%b ~c}")
    assert result.errors == []
    assert isinstance(result.questions[0].question, MultipleResponse)
    assert result.warnings == [
        (1, "the positive weights add up to 75%: no response can get full marks")
    ]


def test_short_answer_forms():
    assert [(a.text, a.fraction) for a in one("Capital? {Sofia}").answers] == [("Sofia", 1.0)]
    q = one("Capital? {=Sofia#Yes =%50%Sof*#Close =%0%Plovdiv#No, that is the second city}")
    assert [(a.text, a.fraction, a.feedback) for a in q.answers] == [
        ("Sofia", 1.0, "Yes"),
        ("Sof*", 0.5, "Close"),
        ("Plovdiv", 0.0, "No, that is the second city"),
    ]
    assert one("Bulgarian for 'water'? {=вода =Вода}").answers[1].text == "Вода"


def test_numerical_forms():
    q = one("N? {#=%100%3.14:0.005#Yes =%50%3.1:0.1#Close ~#Not pi####General}")
    assert [(a.value, a.tolerance, a.fraction, a.feedback) for a in q.answers] == [
        (3.14, 0.005, 1.0, "Yes"),
        (3.1, 0.1, 0.5, "Close"),
    ]
    assert (q.other_feedback, q.general_feedback) == ("Not pi", "General")
    assert [(a.min, a.max) for a in one("N? {#-5..-1}").answers] == [(-5, -1)]
    assert [(a.value, a.tolerance) for a in one("N? {#-2.5}").answers] == [(-2.5, 0)]
    assert [(a.value, a.tolerance) for a in one("N? {#1e3:1E-1}").answers] == [(1000, 0.1)]


def test_matching_distractors_and_shared_answers():
    result = parse_gift("Match {=cat -> mammal =dog -> mammal =trout -> fish = -> bird####Gen}")
    q = result.questions[0].question
    assert isinstance(q, Matching)
    assert [c.text for c in q.choices] == ["mammal", "fish", "bird"]
    assert [(p.left, q.choice_text(p.right)) for p in q.pairs] == [
        ("cat", "mammal"),
        ("dog", "mammal"),
        ("trout", "fish"),
    ]
    assert q.general_feedback == "Gen"
    assert result.warnings == []


def test_every_type_in_missing_word_form():
    for block, cls in [
        ("{T}", TrueFalse),
        ("{=a ~b}", SingleChoice),
        ("{=a =b}", ShortAnswer),
        ("{#1:1}", Numerical),
        ("{=a -> 1 =b -> 2 =c -> 3}", Matching),
        ("{}", Essay),
    ]:
        q = one(f"Before {block} after.")
        assert isinstance(q, cls)
        assert q.text == "Before _____ after."


def test_essay_with_general_feedback():
    q = one("::E::Write about it. {####Look for three arguments.}")
    assert isinstance(q, Essay)
    assert q.general_feedback == "Look for three arguments."


def test_blank_lines_multiline_crlf_bom_and_tags():
    text = (
        "\ufeff$CATEGORY: Курс/Модул 1\r\n\r\n"
        "// question: 12  name: first\r\n"
        "//  [id:Q-12] [tag:basic] [tag:set 1]\r\n"
        "::First::Line one\r\nline two {\r\n  =yes\r\n  ~no\r\n}\r\n"
        "   \t \r\n"
        "::Second::Second {F}\r\n"
    )
    result = parse_gift(text)
    assert result.errors == [] and result.warnings == []
    first, second = result.questions
    assert (first.line, first.text, first.category) == (5, "Line one\nline two", "Курс/Модул 1")
    assert (first.idnumber, first.tags) == ("Q-12", ["basic", "set 1"])
    assert (second.line, second.idnumber, second.tags) == (11, "", [])
    # Old Mac line endings too.
    assert [q.line for q in parse_gift(text.replace("\r\n", "\r")).questions] == [5, 11]


def test_category_without_blank_line_after_and_escaped_slash():
    result = parse_gift("$CATEGORY: top//with slash/child\n::Q::Text {T}")
    assert result.errors == []
    assert result.questions[0].category == "top//with slash/child"
    assert result.warnings == [(1, "a blank line should follow the $CATEGORY line")]


def test_descriptions_and_comment_only_files():
    result = parse_gift("// only\n// comments\n\nA description.\n\n")
    assert (result.questions, result.errors) == ([], [])
    assert result.warnings == [(4, "text without an answer block (a description) was skipped")]
    assert parse_gift("").questions == [] and parse_gift("\ufeff\n\n").errors == []


def test_dollar_in_question_text_is_not_a_directive():
    assert one("$5 is the price. {T}").text == "$5 is the price."
    assert one("$Price: 5 euros? {T}").text == "$Price: 5 euros?"


# ---------------------------------------------------------------------------------------------
# Errors: all of them, each on its line

BAD_FILE_ERRORS = [
    (4, "the answer block opened with '{' is never closed"),
    (6, "no correct answer: mark it with = (or give weights such as ~%50%)"),
    (8, "a matching question needs at least two pairs"),
    (10, "'abc' is not a number"),
    (12, "write a category line as $CATEGORY: path (capitals, colon)"),
    (14, "$CATEGORY: needs a category path, e.g. $CATEGORY: a/b"),
    (16, "the positive weights add up to 120%, more than 100%"),
    (18, "weight %150% is outside -100%..100%"),
    (20, "weight %50,5% is not a number like %50% or %-33.3%"),
    (22, "'}' without a '{' before it (write \\} for a brace)"),
    (
        25,
        "a second answer block: separate questions with a blank line, write \\{ and \\} for braces",
    ),
    (27, "unknown directive $QUESTION: (only $CATEGORY: is known)"),
    (29, "the question name is not closed with ::"),
    (31, "'{' inside an answer block (write \\{ for a brace)"),
    (35, "'18x22' is not a number"),
    (41, "a matching pair needs '->' between its two sides"),
    (44, "matching pairs take no feedback ('#'; write \\# for the sign)"),
    (46, "weight %-50% is outside 0%..100%"),
    (48, "'7,8' is not a number (use a point, not a comma)"),
    (50, "no answer is worth 100%"),
    (55, "weight %5O% is not a number like %50% or %-33.3%"),
    (58, "range 5..1 has its minimum above its maximum"),
    (60, "answer 5:-1 has a negative tolerance"),
]


def test_bad_file_reports_every_error_on_its_line():
    result = parse_gift(read(DATA / "bad.gift"))
    assert result.errors == BAD_FILE_ERRORS
    assert not result.ok
    # The good question after all of them is still read (the importer decides to import nothing).
    assert [(q.line, q.name) for q in result.questions] == [(62, "Good")]


def test_error_lines_survive_windows_line_endings_and_bom():
    text = "\ufeff" + read(DATA / "bad.gift").replace("\n", "\r\n")
    assert parse_gift(text).errors == BAD_FILE_ERRORS


# ---------------------------------------------------------------------------------------------
# The demo course packages


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda p: str(p.relative_to(ROOT / "courses")))
def test_demo_files_parse_without_errors(path):
    result = parse_gift(read(path))
    assert (result.errors, result.warnings) == ([], [])
    assert len(result.questions) == (12 if path.name == "final-assessment.gift" else 6)
    for q in result.questions:
        assert validate_question(q.question) == []
        assert q.name and q.category == ""


def test_demo_file_count():
    assert len(DEMO_FILES) == 20


def test_demo_content_conventions():
    """The authors' {F#feedback} and =%0%answer#feedback mean what they intended."""
    module = parse_gift(
        read(ROOT / "courses/demo/circular-economy-ict/01-why-circular-ict/quiz.gift")
    )
    tf = module.questions[3].question
    assert isinstance(tf, TrueFalse) and tf.correct is False
    # The single feedback is "shown when wrong": to a learner who answers True.
    assert tf.feedback_true.startswith("The statement is false.")
    assert tf.feedback_false == ""
    assert score(tf, {"value": True}).feedback[0].startswith("The statement is false.")
    assert score(tf, {"value": False}).feedback == []

    final = parse_gift(
        read(ROOT / "courses/demo/green-software-business-models/final-assessment.gift")
    )
    pue = final.questions[1].question
    assert [(a.value, a.tolerance, a.fraction) for a in pue.answers] == [
        (1.3, 0.01, 1.0),
        (0.77, 0.01, 0.0),
        (600, 0, 0.0),
    ]
    wrong_way = score(pue, {"text": "0,77"})
    assert wrong_way.fraction == 0.0
    assert wrong_way.feedback == [
        "You divided the wrong way round. PUE = total facility energy / IT equipment energy."
    ]
    assert score(pue, {"text": "1,3"}).fraction == 1.0
    assert score(pue, {"text": "1.31"}).fraction == 1.0  # tolerance edge
    thirds = (
        parse_gift(read(ROOT / "courses/demo/circular-economy-ict/01-why-circular-ict/quiz.gift"))
        .questions[1]
        .question
    )
    right = [o.id for o in thirds.options if o.fraction > 0]
    assert score(thirds, {"options": right}).fraction == 1.0


# ---------------------------------------------------------------------------------------------
# Writing and round trips


def assert_round_trip(items):
    text = write_gift(items)
    again = parse_gift(text)
    assert again.errors == [], text
    assert len(again.questions) == len(items)
    for before, after in zip(items, again.questions, strict=True):
        assert before.same_content(after), (before, after, text)
    return text


@pytest.mark.parametrize(
    "path",
    [DATA / "moodle_examples.gift", *DEMO_FILES],
    ids=lambda p: p.name if p.parent == DATA else str(p.relative_to(ROOT / "courses")),
)
def test_round_trip_of_fixtures(path):
    items = parse_gift(read(path)).questions
    text = assert_round_trip(items)
    assert write_gift(parse_gift(text).questions) == text  # and the writer is stable


def test_writer_output_shape():
    q = SingleChoice(
        text="Moodle costs _____ to download.",
        general_feedback="It is free.",
        options=[Option(text="nothing", fraction=1, feedback="Yes"), Option(text="a lot")],
    )
    text = write_gift(
        [ImportedQuestion(question=q, line=0, name="Cost", category="top/sub", tags=["t1"])]
    )
    assert text == (
        "$CATEGORY: top/sub\n\n"
        "// [tag:t1]\n"
        "::Cost::[markdown]Moodle costs {\n\t=nothing#Yes\n\t~a lot\n\t####It is free.\n} to download.\n\n"
    )


def test_writer_skips_what_gift_cannot_express():
    warnings: list[str] = []
    items = [
        Ordering(text="Order", items=[Item(text="a"), Item(text="b")]),
        Matching.from_texts([("a -> b", "1"), ("c", "2")], text="Arrow on the left"),
        ShortAnswer(text="Arrow", answers=[TextAnswer(text="x->y")]),
        TrueFalse(text="Fine", correct=True),
    ]
    text = write_gift(items, warnings)
    assert warnings == [
        "Order: ordering questions have no GIFT form",
        "Arrow on the left: a matching item containing '->' cannot be written in GIFT",
        "Arrow: a short answer (or its feedback) containing '->' cannot be written in GIFT",
    ]
    assert text.count("// skipped") == 3
    result = parse_gift(text)
    assert [q.text for q in result.questions] == ["Fine"] and result.errors == []


def test_writer_guards_texts_that_look_like_syntax():
    q = SingleChoice(
        text="[html] is not a tag here",
        format="plain",
        options=[
            Option(text="%50% off", fraction=1.0),
            Option(text="%20%", fraction=0.0, feedback="[markdown]x"),
            Option(text="T", fraction=-0.5),
        ],
    )
    s = ShortAnswer(
        text="T or F?", answers=[TextAnswer(text="T"), TextAnswer(text="%5", fraction=0.5)]
    )
    items = [ImportedQuestion(question=x, line=0, name="n") for x in (q, s)]
    assert_round_trip(items)


ALPHABET = [
    *"abcxyzABC 0129.,?!'\"",
    *"~=#{}:\\%[]*_-><",
    "->",
    "::",
    "####",
    "_____",
    "\\n",
    "//",
    "$",
    "\n",
    "\t",
    "\u00a0",
    "[html]",
    "%50%",
    *"абвгджзщъюяЖЩЯ",
    "Ще",
    "ёЁ",
    "€",
    "😀",
]


def random_text(rng: random.Random, banned: str = "") -> str:
    while True:
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 9))).strip(WS)
        while banned and banned in text:
            text = text.replace(banned, "")
        if text.strip(WS) == text and text:
            return text


def random_fraction(rng: random.Random, low: float) -> float:
    return rng.choice(
        [0.0, 0.25, 0.5, 0.3333333, 0.07, 0.123456789, 1.0, -1.0, -0.5, -0.3333333, 0.9]
    )


def random_number(rng: random.Random) -> float:
    return rng.choice(
        [
            round(rng.uniform(-1e6, 1e6), rng.randint(0, 6)),
            rng.randint(-100, 100),
            1e-07,
            1e20,
            -0.0005,
            3.14159,
        ]
    )


def random_question(rng: random.Random):
    common = {
        "text": random_text(rng),
        "format": rng.choice(["markdown", "html", "plain"]),
        "general_feedback": rng.choice(["", random_text(rng)]),
    }

    def fb(banned: str = "") -> str:
        return rng.choice(["", random_text(rng, banned)])

    kind = rng.choice(
        ["single", "multiple", "truefalse", "shortanswer", "numerical", "matching", "essay"]
    )
    if kind == "single":
        opts = [Option(text=random_text(rng), fraction=1.0, feedback=fb())]
        opts += [
            Option(
                text=random_text(rng),
                fraction=rng.choice([0.0, 0.5, -0.5, 0.3333333, 1.0]),
                feedback=fb(),
            )
            for _ in range(rng.randint(1, 4))
        ]
        rng.shuffle(opts)
        return SingleChoice(**common, options=opts)
    if kind == "multiple":
        positive = rng.choice([[1.0], [0.5, 0.5], [0.3333333] * 3, [0.25, 0.5], [0.07]])
        opts = [Option(text=random_text(rng), fraction=f, feedback=fb()) for f in positive]
        opts += [
            Option(
                text=random_text(rng),
                fraction=rng.choice([0.0, -1.0, -0.5, -0.123456789]),
                feedback=fb(),
            )
            for _ in range(rng.randint(1, 3))
        ]
        rng.shuffle(opts)
        return MultipleResponse(**common, options=opts)
    if kind == "truefalse":
        return TrueFalse(
            **common, correct=rng.random() < 0.5, feedback_true=fb(), feedback_false=fb()
        )
    if kind == "shortanswer":
        answers = [TextAnswer(text=random_text(rng, "->"), fraction=1.0, feedback=fb("->"))]
        answers += [
            TextAnswer(
                text=random_text(rng, "->"),
                fraction=rng.choice([0.0, 0.5, 0.9, 0.123456789, 1.0]),
                feedback=fb("->"),
            )
            for _ in range(rng.randint(0, 3))
        ]
        return ShortAnswer(**common, answers=answers)
    if kind == "numerical":
        answers = []
        for n in range(rng.randint(1, 3)):
            fraction = 1.0 if n == 0 else rng.choice([0.0, 0.5, 0.25])
            if rng.random() < 0.5:
                low, high = sorted([random_number(rng), random_number(rng)])
                answers.append(NumericalAnswer(min=low, max=high, fraction=fraction, feedback=fb()))
            else:
                answers.append(
                    NumericalAnswer(
                        value=random_number(rng),
                        tolerance=abs(random_number(rng)),
                        fraction=fraction,
                        feedback=fb(),
                    )
                )
        return Numerical(**common, answers=answers, other_feedback=fb())
    if kind == "matching":
        rights = [random_text(rng) for _ in range(rng.randint(2, 4))]
        pairs = [(random_text(rng, "->"), rng.choice(rights)) for _ in range(rng.randint(2, 5))]
        distractors = [
            t for t in {random_text(rng) for _ in range(rng.randint(0, 2))} if t not in rights
        ]
        return Matching.from_texts(pairs, distractors, **common)
    return Essay(**common)


@pytest.mark.parametrize("seed", range(20))
def test_round_trip_of_random_questions(seed):
    rng = random.Random(seed)
    items = []
    for n in range(40):
        question = random_question(rng)
        problems = validate_question(question)
        if problems:  # e.g. two random matching choices with one text
            continue
        items.append(
            ImportedQuestion(
                question=question,
                line=0,
                name=random_text(rng),
                category="" if n < 10 else rng.choice(["a", "a/b", "Курс/Модул 1", "x//y"]),
                idnumber=rng.choice(["", f"id-{n}"]),
                tags=rng.sample(["basic", "set 1", "Тема"], rng.randint(0, 2)),
            )
        )
    assert len(items) > 30
    assert_round_trip(items)


def test_bare_questions_get_names_from_their_text():
    q = TrueFalse(text="The sun rises in the West.", correct=False)
    (read_back,) = parse_gift(write_gift([q])).questions
    assert read_back.question == q
    assert read_back.name == "The sun rises in the West."


# ---------------------------------------------------------------------------------------------
# Speed


def test_a_thousand_questions_parse_well_under_a_second():
    block = "\n\n".join(read(path) for path in DEMO_FILES if path.name == "final-assessment.gift")
    text = "\n\n".join([block] * 21)
    started = time.perf_counter()
    result = parse_gift(text)
    elapsed = time.perf_counter() - started
    assert len(result.questions) == 1008 and result.errors == []
    assert elapsed < 1.0
    started = time.perf_counter()
    write_gift(result.questions)
    assert time.perf_counter() - started < 1.0


FUZZ_TOKENS = [
    *"{}~=#:%\\*[]. \n\t\r",
    "\n\n",
    "####",
    "->",
    "::",
    "..",
    "%50%",
    "%-100%",
    "%1e5%",
    "T",
    "TRUE",
    "FALSE",
    "\\n",
    "a",
    "Ж",
    "1",
    "-1",
    "1e309",
    "nan",
    "$CATEGORY:",
    "$X:",
    "// c",
    "[html]",
    "_____",
    "\ufeff",
    "\x00",
    "\u2028",
    "\x85",
    "\x0b",
]


def test_garbage_never_raises_and_never_yields_an_invalid_question():
    rng = random.Random(2024)
    for _ in range(3000):
        text = "".join(rng.choice(FUZZ_TOKENS) for _ in range(rng.randint(0, 40)))
        result = parse_gift(text)
        for q in result.questions:
            assert validate_question(q.question) == [], text
        assert all(isinstance(line, int) and line >= 1 for line, _ in result.errors)


def test_writer_warns_when_a_category_cannot_be_left():
    warnings: list[str] = []
    items = [
        ImportedQuestion(
            question=TrueFalse(text="In a", correct=True), line=0, name="A", category="a"
        ),
        ImportedQuestion(question=TrueFalse(text="No category", correct=True), line=0, name="B"),
    ]
    text = write_gift(items, warnings)
    assert warnings == ["B: has no category but will be read into 'a'"]
    assert [q.category for q in parse_gift(text).questions] == ["a", "a"]
