"""Quizzes benchmarks: submitting a 20-question attempt under gunicorn, and importing a
1,000-question GIFT file, each next to its baseline in the same run."""

from __future__ import annotations

import re
import time
import urllib.parse
from pathlib import Path

from bench.driver import Result, request, timed_rounds

GIFT_QUESTIONS = [
    "::s{n}::Which is renewable ({n})? {{=Wind#yes ~Coal#no ~Oil#no}}",
    "::m{n}::Pick the efficient ones ({n}). {{~%50%LED ~%50%Virtualisation ~%-100%Idle servers}}",
    "::t{n}::PUE 1.0 is ideal ({n}). {{T}}",
    "::a{n}::Three-letter metric ({n})? {{=PUE =P?E}}",
    "::n{n}::Total 150, IT 100: PUE ({n})? {{#1.5:0.01}}",
    "::x{n}::Match ({n}). {{=Wind -> renewable =Coal -> fossil =Uranium -> nuclear}}",
]


def gift_text(count: int) -> str:
    return "\n\n".join(GIFT_QUESTIONS[i % len(GIFT_QUESTIONS)].format(n=i) for i in range(count))


#: Learners taking the quiz: each submits its open attempt once per round.
LEARNERS = 64


def prepare_quiz(app, learners: int = LEARNERS) -> tuple[int, list[str]]:  # noqa: ANN001
    """A published course with a 20-question quiz and `learners` enrolled learners; returns
    the quiz id and the learners' emails."""
    from courses import services as cs
    from lms import services
    from lms.extensions import db
    from quizzes import services as qs

    with app.app_context():
        owner = services.create_user(
            services.UserData(
                email="quiz-owner@example.org",
                name="Owner",
                password="bench-password-1",
                roles=("trainer",),
            )
        )
        course = cs.create_course(
            cs.CourseData(
                slug="bench-quiz", title="Bench quiz", topic="circular-economy", language="en"
            ),
            [owner],
        )
        module = cs.add_module(course, "Module")
        cs.add_lesson(module, "Lesson", "Text", 5)
        cs.publish_course(course)
        made = qs.import_gift(course, gift_text(20), module)
        quiz = qs.set_quiz(course, module, {"title": "Bench", "pass_mark": 50}, made)
        emails = []
        for i in range(learners):
            learner = services.create_user(
                services.UserData(
                    email=f"quiz-learner{i}@example.org", name=f"L{i}", password="bench-password-1"
                )
            )
            cs.enrol(learner, course)
            emails.append(learner.email)
        db.session.commit()
        return quiz.id, emails


def start_attempts(app, quiz_id: int, emails: list[str]) -> dict[str, int]:  # noqa: ANN001
    """Start (untimed, in-process, through the service) one attempt per learner; returns the
    attempt id by email."""
    from lms.extensions import db
    from lms.models import User
    from quizzes import services as qs
    from quizzes.models import Quiz

    with app.app_context():
        quiz = db.session.get(Quiz, quiz_id)
        started = {}
        for email in emails:
            user = db.session.query(User).filter_by(email=email).one()
            started[email] = qs.start_attempt(quiz, user).id
        db.session.commit()
        return started


def _token(body: bytes) -> str:
    return re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1).decode()


def answer_fields(body: bytes) -> dict[str, str]:
    """An answer to every question of an attempt page: the first option of each choice
    question, the first choice of each matching row, each ordering item left in place,
    "1.5" for text answers. Field names are question and option ids, so they fit every attempt
    of the quiz whatever its shuffle."""
    fields: dict[str, str] = {}
    for name, value in re.findall(rb'name="(q-\d+)" value="([^"]*)"', body):
        fields.setdefault(name.decode(), value.decode())
    for name in re.findall(rb'<input id="(q-\d+)" name="q-\d+"', body):
        fields[name.decode()] = "1.5"
    for name, options in re.findall(
        rb'<select id="(q-\d+-[^"]+)" name="q-\d+-[^"]+">(.*?)</select>', body, re.S
    ):
        selected = re.search(rb'<option value="([^"]+)" selected', options)
        first = re.search(rb'<option value="([^"]+)"', options)
        fields[name.decode()] = (selected or first).group(1).decode()
    return fields


def submit_load(
    port: int,
    app,
    quiz_id: int,
    cookies: dict[str, str],
    seconds: float,
    clients: int,  # noqa: ANN001
) -> tuple[Result, dict[str, str]]:
    """Only submissions are timed. In rounds: every learner gets an open attempt (started
    in-process, untimed, while the server is idle), then `clients` threads submit all of them
    (20 answers each) as fast as the server answers; rounds repeat until `seconds` of submitting
    are reached. Returns the result over the timed time only, and the fields sent with each
    submission."""
    headers: dict[str, dict[str, str]] = {}
    tokens: dict[str, str] = {}
    for email, cookie in cookies.items():
        # The first page stores a CSRF secret in the session: keep the cookie it sends back.
        page = request(port, "GET", f"/quizzes/{quiz_id}", {"Cookie": cookie})
        if page.getheader("Set-Cookie"):
            cookie = page.getheader("Set-Cookie").split(";")[0]
        headers[email] = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        tokens[email] = _token(page.body)
    fields: dict[str, str] = {}

    def next_round() -> list[tuple[str, int]]:
        attempts = start_attempts(app, quiz_id, list(cookies))
        if not fields:
            email, attempt_id = next(iter(attempts.items()))
            page = request(port, "GET", f"/quizzes/attempts/{attempt_id}", headers[email])
            fields.update(answer_fields(page.body))
        return list(attempts.items())

    def send(job: tuple[str, int]) -> bool:
        email, attempt_id = job
        body = urllib.parse.urlencode({**fields, "csrf_token": tokens[email], "action": "submit"})
        reply = request(port, "POST", f"/quizzes/attempts/{attempt_id}", headers[email], body)
        return reply.status == 302 and "review" in (reply.getheader("Location") or "")

    return timed_rounds(next_round, send, seconds, clients), fields


def gift_import_timing(directory: Path) -> dict[str, float]:
    """Parse and store a 1,000-question file, next to merely reading and splitting it."""
    from lms.extensions import db
    from quizzes import gift

    path = directory / "thousand.gift"
    path.write_text(gift_text(1000), encoding="utf-8")

    def baseline() -> int:
        text = path.read_text(encoding="utf-8")
        return len([chunk for chunk in text.split("\n\n") if chunk.strip()])

    rounds = 5
    start = time.perf_counter()
    for _ in range(rounds):
        assert baseline() == 1000
    read_split = (time.perf_counter() - start) / rounds
    start = time.perf_counter()
    for _ in range(rounds):
        result = gift.parse_gift(path.read_text(encoding="utf-8"))
        assert len(result.questions) == 1000 and not result.errors
    parse = (time.perf_counter() - start) / rounds

    from bench.queries import _app
    from courses import services as cs
    from lms import services
    from quizzes import services as qs

    app = _app(directory / "gift-import.sqlite3")
    with app.app_context():
        owner = services.create_user(
            services.UserData(
                email="gift@example.org", name="G", password="bench-password-1", roles=("trainer",)
            )
        )
        course = cs.create_course(
            cs.CourseData(slug="gift", title="Gift", topic="circular-economy", language="en"),
            [owner],
        )
        db.session.commit()
        start = time.perf_counter()
        made = qs.import_gift(course, path.read_text(encoding="utf-8"))
        db.session.commit()
        stored = time.perf_counter() - start
        assert len(made) == 1000
    return {"read_split_s": read_split, "parse_s": parse, "import_and_store_s": stored}
