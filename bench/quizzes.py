"""Quizzes benchmarks: submitting a 20-question attempt under gunicorn, and importing a
1,000-question GIFT file, each next to its baseline in the same run."""

from __future__ import annotations

import re
import threading
import time
import urllib.parse
from pathlib import Path

from bench.driver import Result, request

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


def prepare_quiz(app) -> tuple[int, list[str]]:  # noqa: ANN001
    """A published course with a 20-question quiz and 8 enrolled learners; returns the quiz id
    and the learners' emails."""
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
        for i in range(8):
            learner = services.create_user(
                services.UserData(
                    email=f"quiz-learner{i}@example.org", name=f"L{i}", password="bench-password-1"
                )
            )
            cs.enrol(learner, course)
            emails.append(learner.email)
        db.session.commit()
        return quiz.id, emails


def _token(body: bytes) -> str:
    return re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1).decode()


def submit_load(port: int, quiz_id: int, cookies: list[str], seconds: float) -> Result:
    """Each client starts an attempt and submits all 20 answers, again and again."""
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    totals = {"ok": 0, "errors": 0}
    latencies: list[float] = []

    def client(cookie: str) -> None:
        headers = {"Cookie": cookie}
        ok = errors = 0
        mine: list[float] = []
        # The first page stores a CSRF secret in the session: keep the cookie it sends back.
        page = request(port, "GET", f"/quizzes/{quiz_id}", headers)
        if page.getheader("Set-Cookie"):
            headers["Cookie"] = page.getheader("Set-Cookie").split(";")[0]
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            page = request(port, "GET", f"/quizzes/{quiz_id}", headers)
            token = _token(page.body)
            form_headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
            reply = request(
                port,
                "POST",
                f"/quizzes/{quiz_id}/start",
                form_headers,
                urllib.parse.urlencode({"csrf_token": token}),
            )
            location = reply.getheader("Location") or ""
            if "/attempts/" not in location:
                errors += 1
                continue
            attempt_path = location[location.index("/quizzes/") :]
            page = request(port, "GET", attempt_path, headers)
            fields = {"csrf_token": _token(page.body), "action": "submit"}
            for name, value in re.findall(rb'name="(q-\d+)" value="([^"]+)"', page.body):
                fields.setdefault(name.decode(), value.decode())  # the first option of each
            for name in re.findall(rb'<input id="(q-\d+)" name="q-\d+"', page.body):
                fields[name.decode()] = "1.5"
            reply = request(
                port, "POST", attempt_path, form_headers, urllib.parse.urlencode(fields)
            )
            if reply.status == 302 and "review" in (reply.getheader("Location") or ""):
                ok += 1
                mine.append(time.perf_counter() - started)
            else:
                errors += 1
        with lock:
            totals["ok"] += ok
            totals["errors"] += errors
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(c,)) for c in cookies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Result(totals["ok"], totals["errors"], time.monotonic() - started, latencies)


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
