"""Trainer pages of the quizzes plugin: who gets in, the results and statistics, settings, the
essay grading queue, the response exports and the GIFT/Aiken import and GIFT export."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from courses import services as course_services
from courses.models import Enrolment
from lms.extensions import db
from quizzes import gift, services
from quizzes.models import Answer, Attempt, AttemptStatus, Question, Quiz
from tests.conftest import login, post_form
from tests.support.measure import counted_statements, read_csv, read_xlsx

GIFT = """::Ideal PUE:: What is the ideal PUE? {=1.0 ~2.0 ~0.5}

::Repair:: Repairing comes before recycling. {T}
"""
ESSAY_GIFT = """::Why repair:: Explain why repairing comes before recycling. {}

::Ideal PUE:: What is the ideal PUE? {=1.0 ~2.0 ~0.5}
"""
BROKEN_GIFT = """::A:: fine {=a ~b}

::B:: bad weight {~%200%x =y}

::C:: matching {=a -> 1}

::D:: ok {T}
"""
INJECTION = "=cmd|' /C calc'!A0"


def make_quiz(course, text: str = GIFT, module="first", pass_mark: int = 50) -> Quiz:  # noqa: ANN001
    """A quiz from GIFT text: a module's (the first by default) or the final assessment."""
    if module == "first":
        module = course.published_modules[0]
    made = services.import_gift(course, text, module)
    quiz = services.set_quiz(course, module, {"pass_mark": pass_mark}, made)
    db.session.commit()
    return quiz


def bank_question(quiz: Quiz, name: str) -> Question:
    return next(slot.question for slot in quiz.slots if slot.question.name == name)


def option_id(question: Question, text: str) -> str:
    return next(o["id"] for o in question.data["options"] if o["text"] == text)


def take(quiz: Quiz, user, responses_by_name: dict[str, object]) -> Attempt:  # noqa: ANN001
    """The learner starts and submits an attempt; responses are given by question name."""
    attempt = services.start_attempt(quiz, user)
    responses = {
        bank_question(quiz, name).id: response for name, response in responses_by_name.items()
    }
    services.submit_attempt(attempt, responses)
    db.session.commit()
    return attempt


def pue(quiz: Quiz, text: str) -> dict:
    return {"option": option_id(bank_question(quiz, "Ideal PUE"), text)}


@pytest.fixture
def course(create_course, users):  # noqa: ANN001
    return create_course("green-it", owner=users["trainer"], title="Green IT")


@pytest.fixture
def trainer(client, users):  # noqa: ANN001
    login(client, "trainer@example.org")
    return client


# --- who gets in ------------------------------------------------------------------------------

GET_PATHS = [
    "/quizzes/course/{slug}",
    "/quizzes/course/{slug}/import",
    "/quizzes/course/{slug}/quiz/{module_id}",
    "/quizzes/course/{slug}/final",
    "/quizzes/course/{slug}/quiz/{module_id}/settings",
    "/quizzes/course/{slug}/final/settings",
    "/quizzes/course/{slug}/grading",
    "/quizzes/course/{slug}/quiz/{module_id}/responses.csv",
    "/quizzes/course/{slug}/quiz/{module_id}/responses.xlsx",
    "/quizzes/course/{slug}/final/responses.csv",
    "/quizzes/course/{slug}/final/responses.xlsx",
    "/quizzes/course/{slug}/quiz/{module_id}/export.gift",
    "/quizzes/course/{slug}/final/export.gift",
]
POST_PATHS = [
    "/quizzes/course/{slug}/import",
    "/quizzes/course/{slug}/quiz/{module_id}/settings",
    "/quizzes/course/{slug}/final/settings",
    "/quizzes/course/{slug}/grading",
]


@pytest.mark.parametrize(
    ("email", "get_status", "post_status"),
    [
        ("trainer@example.org", 200, 400),  # an owner; an empty form is refused
        ("other.trainer@example.org", 404, 404),
        ("learner@example.org", 403, 403),
        ("coordinator@example.org", 403, 403),
        ("admin@example.org", 200, 400),
    ],
)
def test_who_may_use_every_trainer_page(
    app, client, users, create_user, course, email, get_status, post_status
):
    create_user("other.trainer@example.org", roles=("trainer",))
    make_quiz(course)
    make_quiz(course, module=None)
    module = course.published_modules[0]
    login(client, email)
    for path in GET_PATHS:
        url = path.format(slug=course.slug, module_id=module.id)
        assert client.get(url).status_code == get_status, url
    for path in POST_PATHS:
        url = path.format(slug=course.slug, module_id=module.id)
        assert post_form(client, url, {}).status_code == post_status, url
    assert db.session.scalar(select(func.count(Question.id))) == 4  # nothing was added


def test_anonymous_visitors_are_sent_to_log_in(client, course):
    response = client.get(f"/quizzes/course/{course.slug}")
    assert response.status_code == 302 and "/login" in response.location


def test_a_module_of_another_course_or_an_unknown_course_is_404(trainer, course, create_course):
    foreign = create_course("foreign")
    module = foreign.published_modules[0]
    for path in (
        f"/quizzes/course/{course.slug}/quiz/{module.id}",
        f"/quizzes/course/{course.slug}/quiz/{module.id}/settings",
        f"/quizzes/course/{course.slug}/quiz/{module.id}/responses.csv",
        f"/quizzes/course/{course.slug}/quiz/{10**20}",  # beyond the database's integers
        f"/quizzes/course/{course.slug}/quiz/{10**20}/export.gift",
        "/quizzes/course/no-such-course",
    ):
        assert trainer.get(path).status_code == 404, path


# --- results and statistics -------------------------------------------------------------------


def test_results_list_module_checks_in_order_then_the_final(trainer, course, users, create_user):
    first, second = course.published_modules
    check = make_quiz(course, module=second)
    final = make_quiz(course, module=None)
    for user in (users["learner"], users["other_learner"]):
        course_services.enrol(user, course)
    db.session.commit()
    take(check, users["learner"], {"Ideal PUE": pue(check, "1.0"), "Repair": {"value": True}})
    take(check, users["learner"], {"Ideal PUE": pue(check, "2.0"), "Repair": {"value": True}})
    take(
        check, users["other_learner"], {"Ideal PUE": pue(check, "2.0"), "Repair": {"value": False}}
    )
    page = trainer.get(f"/quizzes/course/{course.slug}").get_data(as_text=True)
    assert (
        page.index("Module 1: Module 1")
        < page.index("Module 2: Module 2")
        < page.index("Final assessment</span>")
    )
    assert "No quiz yet" in page  # module 1
    row = page[page.index("Module 2: Module 2") : page.index("Final assessment</span>")]
    cells = re.findall(r'<td class="num">(.*?)</td>', row, re.S)
    # 2 questions, 3 attempts, 2 learners; grades (highest) 100 % and 0 %: average 50 %,
    # one of two passed.
    assert [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells[:5]] == [
        "2",
        "3",
        "2",
        "50%",
        "50% (1/2)",
    ]
    assert f'href="/quizzes/course/{course.slug}/quiz/{second.id}"' in page
    assert f'href="/quizzes/course/{course.slug}/final"' in page
    assert final.title in page


def test_statistics_of_a_quiz_on_hand_built_attempts(
    trainer, course, users, create_user, create_company
):
    quiz = make_quiz(course)
    a, b, c = users["learner"], users["other_learner"], create_user("c@example.org", name="Cleo")
    for user in (a, b, c):
        course_services.enrol(user, course)
    db.session.commit()
    #            PUE  Repair  total
    #   a         1     1      2
    #   b         0     1      1      (picked 2.0)
    #   c         1     0      1
    take(quiz, a, {"Ideal PUE": pue(quiz, "1.0"), "Repair": {"value": True}})
    take(quiz, b, {"Ideal PUE": pue(quiz, "2.0"), "Repair": {"value": True}})
    take(quiz, c, {"Ideal PUE": pue(quiz, "1.0"), "Repair": {"value": False}})
    module = course.published_modules[0]
    page = trainer.get(f"/quizzes/course/{course.slug}/quiz/{module.id}").get_data(as_text=True)
    assert "Learner" in page and "Acme Green Ltd." in page and "Other Company Ltd." in page
    assert "no company" in page  # Cleo has none
    # PUE: facility 2/3 = 67 %; x = 1 0 1 against the rest 1 1 0 -> r = -0.5 (-50 %).
    # Repair: facility 67 %; x = 1 1 0 against 1 0 1 -> r = -0.5 as well.
    metrics = re.findall(r"<dt>Facility index</dt><dd>(.*?)</dd>", page, re.S)
    assert [m.strip() for m in metrics] == ["67%", "67%"]
    discrimination = re.findall(r"<dt>Discrimination index</dt><dd>(.*?)</dd>", page, re.S)
    assert all(d.strip().startswith("-50%") for d in discrimination)
    assert "check the key" not in page  # three attempts are too few to flag it
    pue_section = page[page.index("What is the ideal PUE?") : page.index("Repairing comes")]
    counts = re.findall(
        r'<th scope="row">([^<]+?)(?: <span[^>]*>[^<]*</span>)?</th>\s*'
        r'<td class="num">[^<]*</td>\s*<td class="num">(\d+)</td>',
        pue_section,
    )
    assert counts == [("1.0", "2"), ("2.0", "1"), ("0.5", "0")]


def test_statistics_pages_need_a_fixed_number_of_queries(trainer, course, create_user):
    quiz = make_quiz(course)
    module = course.published_modules[0]
    url = f"/quizzes/course/{course.slug}/quiz/{module.id}"

    def add_learners(count: int, start: int) -> None:
        for n in range(start, start + count):
            user = create_user(f"l{n}@example.org")
            course_services.enrol(user, course)
            db.session.commit()
            take(quiz, user, {"Ideal PUE": pue(quiz, "1.0"), "Repair": {"value": n % 2 == 0}})

    add_learners(2, 0)
    trainer.get(url)  # warm caches
    with counted_statements() as few:
        assert trainer.get(url).status_code == 200
    add_learners(6, 2)
    with counted_statements() as many:
        assert trainer.get(url).status_code == 200
    assert len(many) == len(few)
    with counted_statements() as results:
        assert trainer.get(f"/quizzes/course/{course.slug}").status_code == 200
    assert len(results) <= len(few)


def test_a_module_without_a_quiz_shows_how_to_make_one(trainer, course):
    module = course.published_modules[1]
    page = trainer.get(f"/quizzes/course/{course.slug}/quiz/{module.id}").get_data(as_text=True)
    assert "There is no quiz here yet" in page
    for suffix in ("responses.csv", "responses.xlsx", "export.gift"):
        assert (
            trainer.get(f"/quizzes/course/{course.slug}/quiz/{module.id}/{suffix}").status_code
            == 404
        )


# --- settings -------------------------------------------------------------------------------


def settings_form(**changes: object) -> dict[str, object]:
    data = {
        "title": "Check one",
        "pass_mark": "60",
        "max_attempts": "3",
        "grading": "last",
        "time_limit_minutes": "20",
        "opens_at": "2030-01-01T08:00",
        "closes_at": "2030-02-01T18:30",
        "shuffle_questions": "y",
        "draw_count": "",
        "draw_category": "",
        "review_score": "always",
        "review_correctness": "after_pass",
        "review_correct_answers": "never",
        "review_feedback": "when_closed",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_settings_are_saved(trainer, course):
    quiz = make_quiz(course)
    module = course.published_modules[0]
    url = f"/quizzes/course/{course.slug}/quiz/{module.id}/settings"
    page = trainer.get(url).get_data(as_text=True)
    assert 'type="datetime-local"' in page and "UTC" in page
    response = post_form(trainer, url, settings_form())
    assert response.status_code == 302
    quiz = db.session.get(Quiz, quiz.id)
    assert (
        quiz.title,
        quiz.pass_mark,
        quiz.max_attempts,
        quiz.grading,
        quiz.time_limit_minutes,
    ) == ("Check one", 60, 3, "last", 20)
    assert quiz.opens_at == datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
    assert quiz.closes_at == datetime(2030, 2, 1, 18, 30, tzinfo=UTC)
    assert quiz.shuffle_questions is True and quiz.shuffle_options is False
    assert quiz.review == {
        "score": "always",
        "correctness": "after_pass",
        "correct_answers": "never",
        "feedback": "when_closed",
    }
    assert len(quiz.slots) == 2  # the questions stay
    # The form shows what is stored.
    page = trainer.get(url).get_data(as_text=True)
    assert 'value="2030-01-01T08:00"' in page and 'value="Check one"' in page


def test_drawing_from_a_category(trainer, course):
    quiz = make_quiz(course)  # 2 questions in the category "Module 1"
    module = course.published_modules[0]
    url = f"/quizzes/course/{course.slug}/quiz/{module.id}/settings"
    assert '<option value="Module 1">Module 1</option>' in trainer.get(url).get_data(as_text=True)
    response = post_form(trainer, url, settings_form(draw_count="3", draw_category="Module 1"))
    assert response.status_code == 400
    assert "The category has only 2 questions." in response.get_data(as_text=True)
    response = post_form(trainer, url, settings_form(draw_count="2", draw_category=""))
    assert response.status_code == 400
    assert "Choose the category" in response.get_data(as_text=True)
    assert (
        post_form(trainer, url, settings_form(draw_count="1", draw_category="Module 1")).status_code
        == 302
    )
    quiz = db.session.get(Quiz, quiz.id)
    assert (quiz.draw_count, quiz.draw_category) == (1, "Module 1")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pass_mark": "150"}, "from 0 to 100"),
        ({"pass_mark": ""}, "from 0 to 100"),
        ({"max_attempts": "0"}, "from 1 to 1000"),
        ({"title": ""}, "This field is required."),
        ({"grading": "best"}, "Not a valid choice"),
        ({"review_score": "sometimes"}, "Not a valid choice"),
        ({"opens_at": "tomorrow"}, "Not a valid datetime value"),
        ({"closes_at": "2029-12-31T23:59"}, "The closing time must come after the opening time."),
        ({"draw_category": "No such category", "draw_count": "1"}, "Not a valid choice"),
        ({"time_limit_minutes": "9" * 30}, "from 1 to 1000"),
    ],
)
def test_invalid_settings_store_nothing(trainer, course, changes, message):
    quiz = make_quiz(course)
    before = (quiz.title, quiz.pass_mark, quiz.max_attempts, quiz.grading, quiz.opens_at)
    module = course.published_modules[0]
    response = post_form(
        trainer,
        f"/quizzes/course/{course.slug}/quiz/{module.id}/settings",
        settings_form(**changes),
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    quiz = db.session.get(Quiz, quiz.id)
    assert (quiz.title, quiz.pass_mark, quiz.max_attempts, quiz.grading, quiz.opens_at) == before


def test_every_settings_problem_is_shown_at_once(trainer, course):
    make_quiz(course)
    module = course.published_modules[0]
    response = post_form(
        trainer,
        f"/quizzes/course/{course.slug}/quiz/{module.id}/settings",
        settings_form(
            pass_mark="150", closes_at="2020-01-01T00:00", draw_count="9", draw_category="Module 1"
        ),
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for message in ("from 0 to 100", "The closing time must come after", "has only 2 questions"):
        assert message in page


def test_settings_of_a_final_assessment_that_does_not_exist_yet_make_one(trainer, course):
    url = f"/quizzes/course/{course.slug}/final/settings"
    assert 'value="Final assessment"' in trainer.get(url).get_data(as_text=True)
    assert (
        post_form(trainer, url, settings_form(title="Final", opens_at="", closes_at="")).status_code
        == 302
    )
    quiz = db.session.scalar(select(Quiz).where(Quiz.module_id.is_(None)))
    assert quiz.title == "Final" and quiz.slots == [] and quiz.opens_at is None


# --- essay grading ----------------------------------------------------------------------------


ESSAY_TEXT = "Because <script>alert(1)</script> repair keeps value.\nSecond line."


def essay_attempt(course, learner, quiz: Quiz | None = None) -> tuple[Quiz, Attempt]:  # noqa: ANN001
    quiz = quiz or make_quiz(course, ESSAY_GIFT, pass_mark=80)
    course_services.enrol(learner, course)
    db.session.commit()
    attempt = take(
        quiz, learner, {"Why repair": {"text": ESSAY_TEXT}, "Ideal PUE": pue(quiz, "1.0")}
    )
    return quiz, attempt


def test_essay_grading_finishes_the_attempt_and_completes_the_course(trainer, course, users):
    learner = users["learner"]
    quiz = make_quiz(course, ESSAY_GIFT, pass_mark=80)
    course_services.enrol(learner, course)
    for module in course.published_modules:
        for lesson in module.published_lessons:
            course_services.complete_lesson(learner, lesson)
    db.session.commit()
    quiz, attempt = essay_attempt(course, learner, quiz)
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.status == AttemptStatus.PENDING_GRADING and attempt.score is None
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id))
    assert enrolment.completed_at is None  # the quiz is not passed yet

    url = f"/quizzes/course/{course.slug}/grading"
    page = trainer.get(url).get_data(as_text=True)
    assert "Explain why repairing comes before recycling." in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    essay = db.session.scalar(
        select(Answer).where(Answer.attempt_id == attempt.id, Answer.fraction.is_(None))
    )
    response = post_form(
        trainer, url, {"answer_id": str(essay.id), "grade": "70", "comment": "Good, but say more."}
    )
    assert response.status_code == 303
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.status == AttemptStatus.FINISHED
    assert attempt.score == pytest.approx(0.85)  # (0.7 + 1.0) / 2
    assert attempt.passed is True  # pass mark 80
    essay = db.session.get(Answer, essay.id)
    assert essay.fraction == pytest.approx(0.7) and essay.trainer_comment == "Good, but say more."
    assert essay.graded_by_id == users["trainer"].id
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id))
    assert enrolment.completed_at is not None  # completion was recomputed
    page = trainer.get(url).get_data(as_text=True)
    assert "No essays wait for a grade" in page
    assert "Grade saved. The attempt is complete: 85.0%." in page
    # A second grade for the same answer changes nothing.
    response = post_form(trainer, url, {"answer_id": str(essay.id), "grade": "10"})
    assert response.status_code == 303
    assert db.session.get(Answer, essay.id).fraction == pytest.approx(0.7)
    assert "graded already" in trainer.get(url).get_data(as_text=True)


@pytest.mark.parametrize("grade", ["101", "-1", "", "abc", "50.5"])
def test_a_bad_grade_is_refused(trainer, course, users, grade):
    _quiz, attempt = essay_attempt(course, users["learner"])
    essay = db.session.scalar(
        select(Answer).where(Answer.attempt_id == attempt.id, Answer.fraction.is_(None))
    )
    response = post_form(
        trainer,
        f"/quizzes/course/{course.slug}/grading",
        {"answer_id": str(essay.id), "grade": grade},
    )
    assert response.status_code == 400
    assert "The grade was not saved" in response.get_data(as_text=True)
    assert db.session.get(Answer, essay.id).fraction is None


def test_grading_an_answer_of_another_course_is_404(trainer, course, users, create_course):
    foreign = create_course("foreign")  # owned by someone else
    _quiz, attempt = essay_attempt(foreign, users["learner"])
    essay = db.session.scalar(
        select(Answer).where(Answer.attempt_id == attempt.id, Answer.fraction.is_(None))
    )
    url = f"/quizzes/course/{course.slug}/grading"
    for answer_id in (str(essay.id), "999999", "0", "x" * 30):
        response = post_form(trainer, url, {"answer_id": answer_id, "grade": "100"})
        assert response.status_code == 404, answer_id
    assert post_form(trainer, url, {"answer_id": str(essay.id), "grade": "100"}).status_code == 404
    assert post_form(trainer, url, {"answer_id": str(essay.id), "grade": "bad"}).status_code == 404
    assert db.session.get(Answer, essay.id).fraction is None
    assert "No essays wait" in trainer.get(url).get_data(as_text=True)  # not listed either


def test_only_essays_can_be_graded(trainer, course, users):
    _quiz, attempt = essay_attempt(course, users["learner"])
    choice = db.session.scalar(
        select(Answer).where(Answer.attempt_id == attempt.id, Answer.fraction.is_not(None))
    )
    response = post_form(
        trainer,
        f"/quizzes/course/{course.slug}/grading",
        {"answer_id": str(choice.id), "grade": "0"},
    )
    assert response.status_code == 404
    assert db.session.get(Answer, choice.id).fraction == 1.0


# --- exports ----------------------------------------------------------------------------------


def test_response_exports_list_every_answer_and_neutralise_formulas(
    trainer, course, users, create_user
):
    quiz = make_quiz(course)
    evil = create_user("evil@example.org", name=INJECTION)
    for user in (users["learner"], evil):
        course_services.enrol(user, course)
    db.session.commit()
    take(quiz, users["learner"], {"Ideal PUE": pue(quiz, "1.0"), "Repair": {"value": False}})
    take(quiz, evil, {"Ideal PUE": pue(quiz, "0.5")})
    services.start_attempt(quiz, users["learner"])  # in progress: not exported
    db.session.commit()
    module = course.published_modules[0]
    base = f"/quizzes/course/{course.slug}/quiz/{module.id}"

    response = trainer.get(f"{base}/responses.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="responses-green-it-module-1-'
    )
    rows = read_csv(response)
    assert rows[0] == [
        "Learner",
        "Email",
        "Company",
        "Attempt",
        "Submitted at (UTC)",
        "Question number",
        "Question",
        "Response",
        "Fraction (0–1)",
    ]
    body = rows[1:]
    assert len(body) == 4  # two submitted attempts of two questions
    by_person = {(r[0], r[6]): r for r in body}
    learner_pue = by_person[("Learner", "Ideal PUE")]
    assert learner_pue[1:4] == ["learner@example.org", "Acme Green Ltd.", "1"]
    assert learner_pue[7:] == ["1.0", "1.0"]
    assert by_person[("Learner", "Repair")][7:] == ["False", "0.0"]
    assert by_person[("'" + INJECTION, "Ideal PUE")][7:] == ["0.5", "0.0"]
    assert by_person[("'" + INJECTION, "Repair")][7:] == ["", "0.0"]  # unanswered
    assert not any(cell.startswith("=") for row in rows for cell in row)

    response = trainer.get(f"{base}/responses.xlsx")
    assert response.status_code == 200
    sheet = read_xlsx(response)
    assert len(sheet) == 5
    names = {row[0] for row in sheet[1:]}
    assert names == {"Learner", "'" + INJECTION}
    assert {row[8] for row in sheet[1:]} == {1.0, 0.0}  # fractions stay numbers
    assert isinstance(sheet[1][4], datetime)


def test_final_assessment_exports(trainer, course, users):
    quiz = make_quiz(course, module=None)
    course_services.enrol(users["learner"], course)
    db.session.commit()
    take(quiz, users["learner"], {"Ideal PUE": pue(quiz, "2.0"), "Repair": {"value": True}})
    rows = read_csv(trainer.get(f"/quizzes/course/{course.slug}/final/responses.csv"))
    assert len(rows) == 3
    assert len(read_xlsx(trainer.get(f"/quizzes/course/{course.slug}/final/responses.xlsx"))) == 3


def test_gift_export_reads_back_to_the_same_questions(trainer, course):
    make_quiz(course)
    module = course.published_modules[0]
    response = trainer.get(f"/quizzes/course/{course.slug}/quiz/{module.id}/export.gift")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="green-it-module-1.gift"'
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    again = gift.parse_gift(response.get_data(as_text=True))
    original = gift.parse_gift(GIFT)
    assert not again.errors
    assert [q.question for q in again.questions] == [q.question for q in original.questions]
    assert trainer.get(f"/quizzes/course/{course.slug}/final/export.gift").status_code == 404


# --- import -----------------------------------------------------------------------------------


def import_form(target: str, **fields: object) -> dict[str, object]:
    return {"file_format": "gift", "target": target, "text": "", "category": "", **fields}


def test_import_with_errors_imports_nothing_and_lists_every_line(trainer, course):
    module = course.published_modules[0]
    response = post_form(
        trainer,
        f"/quizzes/course/{course.slug}/import",
        import_form(f"module-{module.id}", text=BROKEN_GIFT),
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was imported: the file has 2 errors." in page
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]*)</td></tr>', page)
    assert rows == [
        ("3", "weight %200% is outside -100%..100%"),
        ("5", "a matching question needs at least two pairs"),
    ]
    assert db.session.scalar(select(func.count(Question.id))) == 0
    assert db.session.scalar(select(func.count(Quiz.id))) == 0


def test_import_a_file_into_a_module_keeps_the_quiz_settings(trainer, course):
    module = course.published_modules[0]
    old = make_quiz(course, "::Old:: Old question {T}", pass_mark=80)
    services.apply_settings(old, {"title": "Module check", "pass_mark": 80, "max_attempts": 2})
    old.opens_at = datetime(2030, 1, 1, tzinfo=UTC)
    db.session.commit()
    url = f"/quizzes/course/{course.slug}/import"
    page = trainer.get(f"{url}?target=module-{module.id}").get_data(as_text=True)
    assert f'<option selected value="module-{module.id}">' in page
    response = post_form(
        trainer,
        url,
        import_form(
            f"module-{module.id}", file=(io.BytesIO(("\ufeff" + GIFT).encode()), "check.gift")
        ),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert response.location.endswith(f"/quizzes/course/{course.slug}")
    quiz = db.session.get(Quiz, old.id)
    assert [s.question.name for s in quiz.slots] == ["Ideal PUE", "Repair"]
    assert all(s.question.category == "Module 1" for s in quiz.slots)
    assert (quiz.title, quiz.pass_mark, quiz.max_attempts) == ("Module check", 80, 2)
    assert quiz.opens_at == datetime(2030, 1, 1, tzinfo=UTC)
    assert db.session.scalar(select(func.count(Question.id))) == 3  # the old one stays in the bank
    page = trainer.get(response.location).get_data(as_text=True)
    assert "2 questions were imported into Module 1: Module 1." in page


def test_import_a_new_final_assessment_and_into_the_bank_only(trainer, course):
    url = f"/quizzes/course/{course.slug}/import"
    assert post_form(trainer, url, import_form("final", text=GIFT)).status_code == 302
    final = db.session.scalar(select(Quiz).where(Quiz.module_id.is_(None)))
    assert final.title == "Final assessment" and len(final.slots) == 2
    response = post_form(
        trainer, url, import_form("bank", text="::Extra:: Extra one {F}", category="Energy")
    )
    assert response.status_code == 302
    extra = db.session.scalar(select(Question).where(Question.name == "Extra"))
    assert extra.category == "Energy"
    assert db.session.scalar(select(func.count(Quiz.id))) == 1
    assert "1 question was added to the question bank." in trainer.get(response.location).get_data(
        as_text=True
    )


def test_import_aiken(trainer, course):
    text = "What is the ideal PUE?\nA. 0.5\nB. 1.0\nANSWER: B\n"
    module = course.published_modules[1]
    response = post_form(
        trainer,
        f"/quizzes/course/{course.slug}/import",
        import_form(f"module-{module.id}", file_format="aiken", text=text),
    )
    assert response.status_code == 302
    quiz = db.session.scalar(select(Quiz).where(Quiz.module_id == module.id))
    assert quiz.title == "Check: Module 2"
    (slot,) = quiz.slots
    assert slot.question.qtype == "single" and slot.question.category == "Module 2"
    # A GIFT file read as Aiken is an error, with its line.
    response = post_form(
        trainer,
        f"/quizzes/course/{course.slug}/import",
        import_form("bank", file_format="aiken", text=GIFT),
    )
    assert response.status_code == 400
    assert "Nothing was imported" in response.get_data(as_text=True)


def test_import_warnings_are_shown(trainer, course):
    response = post_form(
        trainer,
        f"/quizzes/course/{course.slug}/import",
        import_form("bank", text="Just a description\n\n" + GIFT),
    )
    assert response.status_code == 302
    page = trainer.get(response.location).get_data(as_text=True)
    assert "Warnings: line 1: text without an answer block" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Choose a file to upload or paste the questions."),
        ({"text": GIFT, "file": (io.BytesIO(GIFT.encode()), "q.gift")}, "not both"),
        ({"file": (io.BytesIO(GIFT.encode()), "q.docx")}, "Upload a .gift or .txt file."),
        ({"file": (io.BytesIO("Въпрос {T}".encode("cp1251")), "q.txt")}, "not UTF-8"),
        ({"text": "::A:: nul\x00 {T}"}, "NUL character"),
        ({"text": "// only a comment\n"}, "The file contains no questions."),
        ({"target": "module-999999", "text": GIFT}, "Not a valid choice"),
        ({"file_format": "word", "text": GIFT}, "Not a valid choice"),
    ],
)
def test_bad_imports_are_refused(trainer, course, fields, message):
    response = post_form(
        trainer,
        f"/quizzes/course/{course.slug}/import",
        {**import_form("bank"), **fields},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Question.id))) == 0


def test_a_module_of_another_course_is_no_import_target(trainer, course, create_course):
    foreign = create_course("foreign")
    module = foreign.published_modules[0]
    response = post_form(
        trainer,
        f"/quizzes/course/{course.slug}/import",
        import_form(f"module-{module.id}", text=GIFT),
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Question.id))) == 0


def test_nul_characters_never_reach_the_database(trainer, course):
    """PostgreSQL refuses NUL in text: typed fields drop it, a question file is refused."""
    make_quiz(course)
    module = course.published_modules[0]
    response = post_form(
        trainer,
        f"/quizzes/course/{course.slug}/quiz/{module.id}/settings",
        settings_form(title="Check\x00 one"),
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Quiz.title)) == "Check one"
    response = post_form(
        trainer,
        f"/quizzes/course/{course.slug}/import",
        import_form("bank", text="::Extra:: Extra {T}", category="Ener\x00gy"),
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Question.category).where(Question.name == "Extra")) == "Energy"


def test_importing_into_a_quiz_that_draws_from_a_category_says_so(trainer, course):
    quiz = make_quiz(course)
    services.apply_settings(quiz, {"draw_count": 1, "draw_category": "Module 1"})
    db.session.commit()
    module = course.published_modules[0]
    response = post_form(
        trainer,
        f"/quizzes/course/{course.slug}/import",
        import_form(f"module-{module.id}", text="::New:: New one {T}"),
    )
    assert response.status_code == 302
    page = trainer.get(response.location).get_data(as_text=True)
    assert "this quiz draws 1 question from the category “Module 1”" in page
    quiz = db.session.get(Quiz, quiz.id)
    assert (quiz.draw_count, [s.question.name for s in quiz.slots]) == (1, ["New"])
