"""Load test (#7): the real journeys at once against gunicorn, on SQLite and on PostgreSQL.

``python -m bench.load [--seconds N] [--postgres URL | --sqlite-only] [--max-requests N]``

A small stdlib driver (threads and http.client, loopback only, bounded in time and in
requests). Each simulated user logs in through the real login form (CSRF token from the page)
and plays one journey over and over, with a short random think time:

- learners: the dashboard, two lessons, the module quiz (start an attempt, answer every
  question, sometimes save first, submit; one submit in ten is a double click: two POSTs at
  once, exactly one must be accepted), the review; every submit the server ACCEPTED is
  recorded;
- certificate issuers: learners finishing the lessons of a course (the last one completes it
  and the `course-completed` signal issues the certificate), then "My certificates" and the
  public verification page and its JSON for the new code;
- verifiers: anonymous visitors verifying issued codes (page and JSON);
- coordinators: their company's progress page and export (CSV, XLSX), the certificate register
  and its export (CSV, XLSX);
- the admin: the grant report dashboard and its export (XLSX, CSV).

The data: ``flask lms demo`` (companies, one account per role, demo courses), then, in-process
through the services, a course with a 10-question module quiz and several short courses
without quiz, and learners in the demo companies enrolled in them.

gunicorn runs 4 sync workers (the default) on loopback. Before the clock starts, a burst of
2 x workers clients requests every kind of page once at the same time, so every worker has
imported and compiled what it needs; the memory baseline is then taken after a warm-up (a
sixth of the run, 10 to 30 s) and compared with the end of the run.

Reported per journey: requests, 5xx, other unexpected statuses, transport errors (timeouts,
refused connections), p50/p95/p99 latency; the RSS (/proc VmRSS) of every gunicorn worker at
boot, after the warm-up and at the end; and, read from the database after the run, lost or
duplicated submissions and certificates. The exit status is non-zero on any 5xx, unexpected status or transport error, any
lost or duplicated submission or certificate, memory growth above 20 % in any worker, or when
no submission or no certificate went through at all.

SQLite always; PostgreSQL too when ``--postgres URL`` or ``LMS_TEST_POSTGRES_URL`` names a
server (a fresh database is created on it and dropped afterwards); ``--sqlite-only`` ignores
both. ``make bench`` runs it for 180 s per database (``--load-seconds``); CI runs
``python -m bench.load --seconds 30``. Results are saved in bench-results/load-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.driver import ROOT, request
from bench.quizzes import answer_fields, gift_text

SECRET = "load-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
PASSWORD = "load-password-1"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the demo accounts of `flask lms demo`
QUIZ_SLUG = "load-quiz-course"
CERT_SLUG = "load-certificate-{n}"
CERT_COURSES = 8
QUIZ_QUESTIONS = 10
SAVE_FIRST = 0.3  # share of attempts whose answers are saved once before the submit
DOUBLE_SUBMIT = 0.1  # share of submits sent twice at once (a double click)
MEMORY_LIMIT = 20.0  # per cent growth of a worker's RSS between warm-up and end
CSRF_RE = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
CODE_RE = re.compile(rb"<code>([A-Z2-7]{20,40})</code>")
ATTEMPT_RE = re.compile(r"/quizzes/attempts/(\d+)$")


# --- data -----------------------------------------------------------------------------------


@dataclass
class Plan:
    """What the seeding made: ids and accounts the journeys use."""

    quiz_id: int
    quiz_lessons: list[int]
    quiz_learners: list[str]
    cert_courses: list[tuple[str, list[int]]]  # (slug, lesson ids in order)
    cert_learners: list[str]
    coordinators: list[tuple[str, int]]  # (email, company id)
    user_ids: dict[str, int]


def server_env(database_url: str, key_file: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "LMS_ENV": "development",
        "LMS_DEFAULT_LANGUAGE": "en",
        "LMS_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "LMS_CERTIFICATES_KEY_FILE": str(key_file),
    }


def make_app(database_url: str, key_file: Path):  # noqa: ANN201
    from lms.app import create_app

    return create_app(
        {
            "ENV": "development",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": SECRET,
            "DEFAULT_LANGUAGE": "en",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "CERTIFICATES_KEY_FILE": str(key_file),
        }
    )


def seed(database_url: str, key_file: Path, users: dict[str, int]) -> Plan:
    """Migrate, load the demo data with the CLI, then add the load's courses and learners
    through the services (in-process)."""
    env = {**os.environ, **server_env(database_url, key_file)}
    for args in (["db", "upgrade"], ["lms", "demo"]):
        subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    from sqlalchemy import select

    from courses import services as cs
    from lms import services
    from lms.demo import DEMO_COMPANIES
    from lms.extensions import db
    from lms.models import Company
    from quizzes import services as qs

    app = make_app(database_url, key_file)
    with app.app_context():
        trainer = services.find_user_by_email("trainer@example.org")
        companies = [
            db.session.scalar(select(Company).where(Company.uic == spec["uic"]))
            for spec in DEMO_COMPANIES
        ]

        def course(slug: str, title: str, lessons_per_module: int, modules: int = 1):  # noqa: ANN202
            made = cs.create_course(
                cs.CourseData(
                    slug=slug,
                    title=title,
                    topic="resource-energy-efficiency",
                    language="en",
                    summary="A course of the load test.",
                    contact_hours=2,
                    self_study_hours=2,
                    learning_outcomes=["Measure the energy use of an office."],
                    greencomp=["2.1"],
                ),
                [trainer],
            )
            for m in range(modules):
                module = cs.add_module(made, f"Module {m + 1}")
                for k in range(lessons_per_module):
                    body = f"## Lesson {k + 1}\n\n" + "Energy use is measured first. " * 60
                    cs.add_lesson(module, f"Lesson {m + 1}.{k + 1}", body, 5)
            return made

        quiz_course = course(QUIZ_SLUG, "Load: energy in the office", 3, modules=2)
        cs.publish_course(quiz_course)
        module = quiz_course.published_modules[0]
        questions = qs.import_gift(quiz_course, gift_text(QUIZ_QUESTIONS), module)
        quiz = qs.set_quiz(quiz_course, module, {"title": "Check", "pass_mark": 50}, questions)
        cert_courses = []
        for n in range(CERT_COURSES):
            made = course(CERT_SLUG.format(n=n), f"Load: short course {n + 1}", 3)
            cs.publish_course(made)
            cert_courses.append(made)

        def learner(email: str, index: int):  # noqa: ANN202
            return services.create_user(
                services.UserData(
                    email=email,
                    name=f"Load Learner {index}",
                    password=PASSWORD,
                    language="en" if index % 2 else "bg",
                    gender=("female", "male", "other")[index % 3],
                    age_band=("25_34", "35_44", "under_25")[index % 3],
                ),
                company=companies[index % len(companies)],
            )

        ids: dict[str, int] = {}
        quiz_learners = []
        for i in range(users["learner"]):
            user = learner(f"load-quiz-{i}@example.org", i)
            cs.enrol(user, quiz_course)
            quiz_learners.append(user.email)
        cert_learners = []
        for i in range(users["cert_pool"]):
            user = learner(f"load-cert-{i}@example.org", i)
            for made in cert_courses:
                cs.enrol(user, made)
            cert_learners.append(user.email)
        db.session.commit()
        for email in (*quiz_learners, *cert_learners):
            ids[email] = services.find_user_by_email(email).id
        coordinators = [
            ("coordinator@example.org", companies[0].id),
            ("desislava.georgieva@example.org", companies[1].id),
        ]
        plan = Plan(
            quiz_id=quiz.id,
            quiz_lessons=[x.id for m in quiz_course.published_modules for x in m.published_lessons],
            quiz_learners=quiz_learners,
            cert_courses=[
                (c.slug, [x.id for m in c.published_modules for x in m.published_lessons])
                for c in cert_courses
            ],
            cert_learners=cert_learners,
            coordinators=coordinators,
            user_ids=ids,
        )
        db.session.remove()
        db.engine.dispose()
    return plan


# --- measuring ------------------------------------------------------------------------------


class Stop(Exception):
    """Time is up or the request budget is spent."""


class StepFailed(Exception):
    """A step got an answer the journey cannot go on with."""


@dataclass
class Tally:
    requests: int = 0
    server_errors: int = 0  # 5xx
    unexpected: int = 0  # any other status the step did not expect
    transport: int = 0  # timeouts, refused or reset connections
    latencies: list[float] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.requests += other.requests
        self.server_errors += other.server_errors
        self.unexpected += other.unexpected
        self.transport += other.transport
        self.latencies.extend(other.latencies)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "5xx": self.server_errors,
            "unexpected": self.unexpected,
            "transport": self.transport,
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
        }


class Run:
    """Shared state of one run: the stop flag, the request budget, the tallies and what the
    clients saw accepted."""

    def __init__(self, port: int, max_requests: int) -> None:
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.budget = max_requests
        self.tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
        self.failures: list[str] = []  # the first few unexpected answers, for the report
        self.accepted: dict[int, str] = {}  # attempt id -> email: submits the server accepted
        self.uncertain: set[int] = set()  # submits whose answer was lost or unexpected
        self.double_accepted = 0  # double clicks both answered "accepted"
        self.double_clicks = 0
        self.crashes: list[str] = []  # client threads stopped by an unexpected exception
        # (email, slug) -> the certificate code found afterwards ("" until it is looked up)
        self.completions: dict[tuple[str, str], str] = {}
        self.codes: list[str] = []

    def take(self) -> None:
        with self.lock:
            if self.stop.is_set() or self.budget <= 0:
                self.stop.set()
                raise Stop
            self.budget -= 1

    def record(
        self, journey: str, step: str, status: int | None, seconds: float, ok: bool, what: str
    ) -> None:
        with self.lock:
            tally = self.tallies[(journey, step)]
            tally.requests += 1
            tally.latencies.append(seconds)
            if status is None:
                tally.transport += 1
            elif status >= 500:
                tally.server_errors += 1
            elif not ok:
                tally.unexpected += 1
            if not ok and len(self.failures) < 20:
                self.failures.append(f"{journey}/{step}: {what} -> {status or 'no answer'}")

    def anomaly(self, journey: str, step: str, what: str) -> None:
        """An answer with the expected status but the wrong content (counted as unexpected)."""
        with self.lock:
            self.tallies[(journey, step)].unexpected += 1
            if len(self.failures) < 20:
                self.failures.append(f"{journey}/{step}: {what}")

    def journey(self, name: str) -> Tally:
        total = Tally()
        for (journey, _step), tally in self.tallies.items():
            if journey == name:
                total.add(tally)
        return total


class Client:
    """One browser: keeps its cookies, sends one request at a time, measures each."""

    def __init__(self, run: Run, journey: str) -> None:
        self.run = run
        self.journey = journey
        self.cookies: dict[str, str] = {}

    def call(
        self,
        step: str,
        method: str,
        path: str,
        data: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
    ):  # noqa: ANN201 - http.client.HTTPResponse with .body
        self.run.take()
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = ""
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(data)
        started = time.perf_counter()
        try:
            response = request(self.run.port, method, path, headers, body)
        except OSError:
            self.run.record(
                self.journey, step, None, time.perf_counter() - started, False, f"{method} {path}"
            )
            raise StepFailed(step) from None
        elapsed = time.perf_counter() - started
        for line in response.headers.get_all("Set-Cookie") or []:
            pair, _, attributes = line.partition(";")
            name, _, value = pair.strip().partition("=")
            if not value or "max-age=0" in attributes.lower() or "1970" in attributes:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        ok = response.status in expect
        self.run.record(self.journey, step, response.status, elapsed, ok, f"{method} {path}")
        if not ok:
            raise StepFailed(step)
        return response

    def login(self, email: str, password: str) -> None:
        page = self.call("login", "GET", "/login")
        form = {"csrf_token": self.token(page), "email": email, "password": password}
        answer = self.call("login", "POST", "/login", form, expect=(302,))
        self.call("login", "GET", local(answer.getheader("Location") or "/"), expect=(200, 302))

    def token(self, page) -> str:  # noqa: ANN001 - an answer of `call`
        """The page's CSRF token (a page without it is an anomaly)."""
        found = CSRF_RE.search(page.body)
        if found is None:
            self.run.anomaly(self.journey, "csrf token", "no CSRF token on the page")
            raise StepFailed("no CSRF token")
        return found.group(1).decode()


def local(location: str) -> str:
    """The path of a redirect (the app may answer with an absolute URL)."""
    parts = urllib.parse.urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def think(run: Run, mean: float) -> None:
    if mean > 0:
        run.stop.wait(random.uniform(0, 2 * mean))  # noqa: S311 - pacing, not security


# --- journeys -------------------------------------------------------------------------------


def take_quiz(client: Client, plan: Plan, email: str, pause: float) -> None:
    """The quiz page, start an attempt, answer every question, submit, the review."""
    run = client.run
    page = client.call("quiz page", "GET", f"/quizzes/{plan.quiz_id}")
    started = client.call(
        "start attempt",
        "POST",
        f"/quizzes/{plan.quiz_id}/start",
        {"csrf_token": client.token(page)},
        expect=(302,),
    )
    found = ATTEMPT_RE.search(local(started.getheader("Location") or ""))
    if found is None:
        raise StepFailed("start did not lead to an attempt")
    attempt_id = int(found.group(1))
    page = client.call("attempt page", "GET", f"/quizzes/attempts/{attempt_id}")
    fields = answer_fields(page.body)
    if not fields:
        run.anomaly(client.journey, "attempt page", "no question fields on the page")
        raise StepFailed("no questions")
    think(run, pause)
    path = f"/quizzes/attempts/{attempt_id}"
    form = {**fields, "csrf_token": client.token(page)}
    if random.random() < SAVE_FIRST:  # noqa: S311
        client.call("save answers", "POST", path, {**form, "action": "save"}, expect=(302,))
        think(run, pause)
    form["action"] = "submit"
    if random.random() < DOUBLE_SUBMIT:  # noqa: S311 - a double click: two submits at once
        answers: list[Any] = []
        stopped: list[bool] = []

        def send() -> None:
            try:
                answers.append(client.call("quiz submit", "POST", path, form, expect=(302, 409)))
            except StepFailed:
                answers.append(None)
            except Stop:  # the run ended before this one was sent
                stopped.append(True)

        with run.lock:
            run.double_clicks += 1
        twins = [threading.Thread(target=send) for _ in range(2)]
        for twin in twins:
            twin.start()
        for twin in twins:
            twin.join()
        if stopped and not answers:
            raise Stop
    else:
        try:
            answers = [client.call("quiz submit", "POST", path, form, expect=(302,))]
        except StepFailed:
            answers = [None]
    won = [a for a in answers if a is not None and a.status == 302]
    reviewed = [a for a in won if (a.getheader("Location") or "").endswith(f"{path}/review")]
    with run.lock:
        if len(reviewed) == 1 and len(won) == 1:
            run.accepted[attempt_id] = email
        else:
            run.uncertain.add(attempt_id)
            if len(won) > 1:
                run.double_accepted += 1
    if len(reviewed) != 1 or len(won) != 1:
        if None not in answers:  # (a request that failed is counted already)
            statuses = [a.status for a in answers]
            run.anomaly(client.journey, "quiz submit", f"submit answers {statuses}")
        raise StepFailed("the submit was not accepted exactly once")
    client.call("review", "GET", f"/quizzes/attempts/{attempt_id}/review")


def learner_journey(run: Run, plan: Plan, email: str, pause: float) -> None:
    client = Client(run, "learner: lessons + quiz")
    client.login(email, PASSWORD)
    lessons = plan.quiz_lessons
    turn = random.randrange(len(lessons))  # noqa: S311
    while True:
        try:
            client.call("dashboard", "GET", "/")
            think(run, pause)
            for _ in range(2):
                lesson = lessons[turn % len(lessons)]
                turn += 1
                client.call("lesson", "GET", f"/courses/{QUIZ_SLUG}/lessons/{lesson}")
                think(run, pause)
            take_quiz(client, plan, email, pause)
        except StepFailed:
            pass
        think(run, pause)


def complete_course(
    client: Client, email: str, slug: str, lessons: list[int], known: set[str], pause: float
) -> None:
    """Read and finish every lesson (the last one completes the course and the certificate
    is issued), then find the new certificate on "My certificates" and verify it publicly."""
    run = client.run
    for lesson in lessons:
        page = client.call("lesson", "GET", f"/courses/{slug}/lessons/{lesson}")
        think(run, pause)
        last = lesson == lessons[-1]
        client.call(
            "last lesson done" if last else "lesson done",
            "POST",
            f"/courses/{slug}/lessons/{lesson}/done",
            {"csrf_token": client.token(page)},
            expect=(302,),
        )
        if last:  # accepted: the course is completed, so a certificate must exist
            with run.lock:
                run.completions[(email, slug)] = ""
    page = client.call("my certificates", "GET", "/certificates/my")
    codes = {c.decode() for c in CODE_RE.findall(page.body)}
    new = codes - known
    known |= codes
    if len(new) != 1:
        run.anomaly(client.journey, "my certificates", f"{len(new)} new codes")
        return
    code = new.pop()
    with run.lock:
        run.completions[(email, slug)] = code
        run.codes.append(code)
    verify_code(client, code)


def issuer_journey(run: Run, plan: Plan, emails: list[str], pause: float) -> None:
    """Learners finishing courses: the last lesson issues the certificate, which is then
    looked up on "My certificates" and verified publicly."""
    for email in emails:
        client = Client(run, "certificate: issue")
        client.login(email, PASSWORD)
        known: set[str] = set()
        for slug, lessons in plan.cert_courses:
            with suppress(StepFailed):
                complete_course(client, email, slug, lessons, known, pause)
            think(run, pause)
    while True:  # every learner of this thread is done: verify like a visitor
        verifier_journey(run, pause, journey="certificate: issue")


def verify_code(client: Client, code: str) -> None:
    page = client.call("verify page", "GET", f"/verify/{code}")
    if code.encode() not in page.body:
        client.run.anomaly(client.journey, "verify page", "the code is not on the page")
    answer = client.call("verify json", "GET", f"/verify/{code}.json")
    try:
        data = json.loads(answer.body)
    except ValueError:
        data = {"status": "not JSON"}
    if data.get("status") != "valid":
        client.run.anomaly(client.journey, "verify json", f"status {data.get('status')}")


def verifier_journey(run: Run, pause: float, journey: str = "certificate: verify") -> None:
    client = Client(run, journey)
    while True:
        with run.lock:
            code = random.choice(run.codes) if run.codes else None  # noqa: S311
        try:
            if code is None:
                client.call("verify form", "GET", "/verify")
            else:
                verify_code(client, code)
        except StepFailed:
            pass
        think(run, pause)


def coordinator_journey(run: Run, email: str, company_id: int, pause: float) -> None:
    client = Client(run, "coordinator: exports")
    client.login(email, DEMO_PASSWORD)
    base = f"/courses/progress/company/{company_id}"
    steps = [
        ("progress page", base),
        ("progress.csv", f"{base}/export.csv"),
        ("progress.xlsx", f"{base}/export.xlsx"),
        ("register page", "/certificates/register"),
        ("register.csv", "/certificates/register.csv"),
        ("register.xlsx", "/certificates/register.xlsx"),
    ]
    while True:
        for step, path in steps:
            with suppress(StepFailed):
                client.call(step, "GET", path)
            think(run, pause * 2)


def admin_journey(run: Run, pause: float) -> None:
    client = Client(run, "admin: grant report")
    client.login("admin@example.org", DEMO_PASSWORD)
    steps = [
        ("dashboard", "/admin/reports/?preset=quarter"),
        ("report.xlsx", "/admin/reports/export.xlsx?preset=cumulative"),
        ("dashboard", "/admin/reports/?preset=cumulative"),
        ("report.csv", "/admin/reports/export.csv?preset=quarter"),
    ]
    while True:
        for step, path in steps:
            with suppress(StepFailed):
                client.call(step, "GET", path)
            think(run, pause * 4)


def warm_up_burst(run: Run, plan: Plan, quiz_email: str, cert_email: str) -> None:
    """Before the clock starts, 2 x workers of these run at once, so that every worker serves
    every kind of page once (imports, compiled templates, first PDF and XLSX): what is loaded
    once per process is not counted as growth."""
    admin = Client(run, "warm-up burst")
    admin.login("admin@example.org", DEMO_PASSWORD)
    for path in (
        "/admin/reports/?preset=quarter",
        "/admin/reports/export.xlsx?preset=cumulative",
        "/admin/reports/export.csv?preset=quarter",
    ):
        with suppress(StepFailed):
            admin.call("admin", "GET", path)
    email, company_id = random.choice(plan.coordinators)  # noqa: S311
    coordinator = Client(run, "warm-up burst")
    coordinator.login(email, DEMO_PASSWORD)
    base = f"/courses/progress/company/{company_id}"
    for path in (
        base,
        f"{base}/export.csv",
        f"{base}/export.xlsx",
        "/certificates/register",
        "/certificates/register.csv",
        "/certificates/register.xlsx",
    ):
        with suppress(StepFailed):
            coordinator.call("coordinator", "GET", path)
    learner = Client(run, "warm-up burst")
    learner.login(quiz_email, PASSWORD)
    with suppress(StepFailed):
        learner.call("learner", "GET", "/")
        learner.call("learner", "GET", f"/courses/{QUIZ_SLUG}/lessons/{plan.quiz_lessons[0]}")
        take_quiz(learner, plan, quiz_email, 0)
    issuer = Client(run, "warm-up burst")
    issuer.login(cert_email, PASSWORD)
    slug, lessons = plan.cert_courses[0]
    with suppress(StepFailed):
        complete_course(issuer, cert_email, slug, lessons, set(), 0)


JOURNEYS = [
    "learner: lessons + quiz",
    "certificate: issue",
    "certificate: verify",
    "coordinator: exports",
    "admin: grant report",
    "warm-up burst",
]
KEY_STEPS = [
    ("learner: lessons + quiz", "quiz submit"),
    ("certificate: issue", "lesson done"),
    ("certificate: issue", "last lesson done"),
    ("coordinator: exports", "progress.xlsx"),
    ("coordinator: exports", "register.xlsx"),
    ("admin: grant report", "report.xlsx"),
]


# --- memory ---------------------------------------------------------------------------------


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers: the master's children."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            pids.append(int(entry.name))
    return sorted(pids)


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def memory(master: int) -> dict[int, int]:
    return {pid: kib for pid in worker_pids(master) if (kib := rss_kib(pid)) is not None}


# --- one run --------------------------------------------------------------------------------


@contextmanager
def fresh_database(kind: str, server_url: str | None, directory: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'load.sqlite3'}"
        return
    from tests.support.postgres import temporary_database

    with temporary_database(server_url, prefix="lms_load") as url:
        yield url


def check_database(database_url: str, key_file: Path, plan: Plan, run: Run) -> dict[str, Any]:
    """Every submit the clients saw accepted is in the database exactly once, submitted and
    with its answers; every certificate they saw issued is there exactly once."""
    from sqlalchemy import func, select

    from certificates.models import Certificate
    from courses.models import Course
    from lms.extensions import db
    from quizzes.models import Answer, Attempt, AttemptStatus

    app = make_app(database_url, key_file)
    with app.app_context():
        rows = db.session.execute(
            select(Attempt.id, Attempt.user_id, Attempt.status, Attempt.submitted_at).where(
                Attempt.quiz_id == plan.quiz_id
            )
        ).all()
        per_id = Counter(row.id for row in rows)
        submitted = {
            row.id: row.user_id
            for row in rows
            if row.status != AttemptStatus.IN_PROGRESS and row.submitted_at is not None
        }
        answers = dict(
            db.session.execute(
                select(Answer.attempt_id, func.count(Answer.id))
                .join(Attempt, Attempt.id == Answer.attempt_id)
                .where(Attempt.quiz_id == plan.quiz_id)
                .group_by(Answer.attempt_id)
            ).all()
        )
        lost = [a for a in run.accepted if a not in submitted]
        wrong_user = [
            a
            for a, email in run.accepted.items()
            if submitted.get(a, plan.user_ids[email]) != plan.user_ids[email]
        ]
        duplicated = [a for a in run.accepted if per_id[a] > 1]
        # Submitted in the database, though no client saw it accepted nor lost its answer.
        ghosts = [a for a in submitted if a not in run.accepted and a not in run.uncertain]
        incomplete = [a for a in run.accepted if answers.get(a, 0) != QUIZ_QUESTIONS]

        slugs = {slug for slug, _lessons in plan.cert_courses}
        course_ids = dict(
            db.session.execute(select(Course.slug, Course.id).where(Course.slug.in_(slugs))).all()
        )
        issued = db.session.execute(
            select(Certificate.user_id, Certificate.course_id, Certificate.code).where(
                Certificate.course_id.in_(course_ids.values())
            )
        ).all()
        by_pair: dict[tuple[int, int], list[str]] = defaultdict(list)
        for row in issued:
            by_pair[(row.user_id, row.course_id)].append(row.code)
        cert_lost = cert_dup = 0
        for (email, slug), code in run.completions.items():
            found = by_pair.get((plan.user_ids[email], course_ids[slug]), [])
            cert_lost += not found or bool(code and code not in found)
            cert_dup += len(found) > 1
        db.session.remove()
        db.engine.dispose()
    return {
        "submits_accepted": len(run.accepted),
        "submits_in_database": len(submitted),
        "lost": len(lost) + len(wrong_user),
        "duplicated": len(duplicated) + len(ghosts) + run.double_accepted,
        "double_clicks": run.double_clicks,
        "incomplete": len(incomplete),
        "uncertain": len(run.uncertain),
        "completions_accepted": len(run.completions),
        "certificates_seen": sum(1 for code in run.completions.values() if code),
        "certificates_in_database": len(issued),
        "certificates_lost": cert_lost,
        "certificates_duplicated": cert_dup,
    }


def suppress_failures(target: Callable[..., None], run: Run, *args: object) -> None:
    """A client thread's body: a failed login (counted) or the end of the run stop it; any
    other exception is a fault of the driver or of a page it could not read, and is counted."""
    try:
        target(run, *args)
    except (Stop, StepFailed):
        pass
    except Exception as error:  # noqa: BLE001 - reported, and the run fails
        with run.lock:
            run.crashes.append(f"{target.__name__}: {error!r}")


def run_once(
    kind: str,
    server_url: str | None,
    seconds: float,
    users: dict[str, int],
    max_requests: int,
    workers: int,
    pause: float,
) -> dict[str, Any]:
    from tests.support.servers import start_gunicorn, stop_server

    warm_up = max(10.0, min(30.0, seconds / 6))
    with (
        tempfile.TemporaryDirectory(prefix="lms-load-") as tmp,
        fresh_database(kind, server_url, Path(tmp)) as database_url,
    ):
        key_file = Path(tmp) / "certificates-ed25519.pem"
        print(f"[{kind}] seeding ...", flush=True)
        primers = 2 * workers
        plan = seed(database_url, key_file, {**users, "cert_pool": users["cert_pool"] + primers})
        server = start_gunicorn(
            database_url,
            workers=workers,
            env=server_env(database_url, key_file),
            log_dir=Path(tmp),
        )
        port = int(server.url.rsplit(":", 1)[1])
        run = Run(port, max_requests)
        try:
            boot = memory(server.process.pid)
            print(
                f"[{kind}] gunicorn {workers} workers, {sum(users.values()) - users['cert_pool']}"
                f" users, {seconds:.0f} s (memory baseline after {warm_up:.0f} s) ...",
                flush=True,
            )
            burst = [
                threading.Thread(
                    target=lambda i=i: suppress_failures(
                        warm_up_burst,
                        run,
                        plan,
                        plan.quiz_learners[i % len(plan.quiz_learners)],
                        plan.cert_learners[-1 - i],
                    ),
                    daemon=True,
                )
                for i in range(primers)
            ]
            for thread in burst:
                thread.start()
            for thread in burst:
                thread.join(timeout=300)
            threads = []

            def spawn(target: Callable[..., None], *args: object) -> None:
                threads.append(
                    threading.Thread(
                        target=suppress_failures, args=(target, run, *args), daemon=True
                    )
                )

            for email in plan.quiz_learners:
                spawn(learner_journey, plan, email, pause)
            issuers = users["issuer"]
            for k in range(issuers):
                spawn(issuer_journey, plan, plan.cert_learners[:-primers][k::issuers], pause)
            for _ in range(users["verifier"]):
                spawn(verifier_journey, pause)
            for email, company_id in plan.coordinators[: users["coordinator"]]:
                spawn(coordinator_journey, email, company_id, pause)
            for _ in range(users["admin"]):
                spawn(admin_journey, pause)
            started = time.monotonic()
            for thread in threads:
                thread.start()
            samples = []  # (seconds since start, total worker RSS KiB), every 5 s
            start_rss: dict[int, int] = {}
            while not run.stop.is_set():
                now = time.monotonic() - started
                if now >= seconds:
                    break
                if not start_rss and now >= warm_up:
                    start_rss = memory(server.process.pid)
                samples.append((round(now), sum(memory(server.process.pid).values())))
                run.stop.wait(
                    min(5.0, seconds - now, max(0.1, warm_up - now) if not start_rss else 5.0)
                )
            start_rss = start_rss or memory(server.process.pid)
            end_rss = memory(server.process.pid)
            run.stop.set()
            for thread in threads:
                thread.join(timeout=90)
            elapsed = time.monotonic() - started
        finally:
            stop_server(server)
        log = server.log()
        checks = check_database(database_url, key_file, plan, run)
    journeys = {name: run.journey(name).as_dict() for name in JOURNEYS}
    steps = {f"{j} / {s}": run.tallies[(j, s)].as_dict() for j, s in KEY_STEPS}
    workers_rss = {}
    for pid, kib in start_rss.items():
        end = end_rss.get(pid)
        workers_rss[str(pid)] = {
            "boot_kib": boot.get(pid),
            "start_kib": kib,
            "end_kib": end,
            "growth_pct": None if end is None else round((end - kib) / kib * 100, 1),
        }
    return {
        "database": kind,
        "seconds": round(elapsed, 1),
        "warm_up_seconds": warm_up,
        "workers": workers,
        "users": users,
        "requests": sum(t["requests"] for t in journeys.values()),
        "budget_spent": run.budget <= 0,
        "journeys": journeys,
        "key_steps": steps,
        "memory": workers_rss,
        "workers_replaced": sorted(set(start_rss) ^ set(end_rss)),
        "rss_samples_kib": samples,
        "checks": checks,
        "failures": run.failures,
        "client_crashes": run.crashes,
        "server_tracebacks": log.count("Traceback"),
        "server_log_tail": log[-3000:] if "Traceback" in log else "",
    }


# --- verdict and table ----------------------------------------------------------------------


def problems(result: dict[str, Any]) -> list[str]:
    found = []
    journeys = result["journeys"].values()
    for label, key in (
        ("5xx", "5xx"),
        ("unexpected statuses", "unexpected"),
        ("transport errors", "transport"),
    ):
        count = sum(t[key] for t in journeys)
        if count:
            found.append(f"{count} {label}")
    checks = result["checks"]
    for key in ("lost", "duplicated", "incomplete", "certificates_lost", "certificates_duplicated"):
        if checks[key]:
            found.append(f"{checks[key]} {key.replace('_', ' ')}")
    if not checks["submits_accepted"]:
        found.append("no submission was accepted")
    if not checks["certificates_seen"]:
        found.append("no certificate was issued")
    for pid, rss in result["memory"].items():
        if rss["growth_pct"] is None or rss["growth_pct"] > MEMORY_LIMIT:
            found.append(f"worker {pid} memory growth {rss['growth_pct']} %")
    if result["client_crashes"]:
        found.append(f"{len(result['client_crashes'])} client threads crashed")
    if result["workers_replaced"]:
        found.append(f"workers replaced: {result['workers_replaced']}")
    return found


def print_result(result: dict[str, Any]) -> None:
    print(
        f"\n{result['database']}: gunicorn {result['workers']} sync workers, "
        f"{result['seconds']:.0f} s, {result['requests']} requests"
        + (" (request cap reached)" if result["budget_spent"] else "")
    )
    header = f"{'journey':34}{'requests':>9}{'5xx':>5}{'other':>6}{'net':>5}"
    print(header + f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    rows = [(name, t) for name, t in result["journeys"].items()]
    rows += [(f"  {name.split(' / ')[1]}", t) for name, t in result["key_steps"].items()]
    for name, t in rows:
        print(
            f"{name:34}{t['requests']:9d}{t['5xx']:5d}{t['unexpected']:6d}{t['transport']:5d}"
            f"{t['p50_ms']:9.1f}{t['p95_ms']:9.1f}{t['p99_ms']:9.1f}"
        )
    for pid, rss in result["memory"].items():
        end = "gone" if rss["end_kib"] is None else f"{rss['end_kib'] / 1024:.1f}"
        growth = "" if rss["growth_pct"] is None else f" ({rss['growth_pct']:+} %)"
        print(
            f"worker {pid} RSS MiB: boot {(rss['boot_kib'] or 0) / 1024:.1f}, start "
            f"{rss['start_kib'] / 1024:.1f}, end {end}{growth}"
        )
    c = result["checks"]
    print(
        f"submissions: {c['submits_accepted']} accepted, {c['submits_in_database']} submitted in "
        f"the database; lost {c['lost']}, duplicated {c['duplicated']}, incomplete "
        f"{c['incomplete']}, unconfirmed {c['uncertain']} ({c['double_clicks']} double clicks)"
    )
    print(
        f"certificates: {c['completions_accepted']} completions accepted, "
        f"{c['certificates_seen']} certificates found and verified, "
        f"{c['certificates_in_database']} in the database; lost {c['certificates_lost']}, "
        f"duplicated {c['certificates_duplicated']}"
    )
    for line in result["failures"][:10] + result["client_crashes"][:5]:
        print(f"  ! {line}")
    if result["server_tracebacks"]:
        print(f"  ! {result['server_tracebacks']} tracebacks in the server log; its end:")
        print(result["server_log_tail"])
    found = problems(result)
    print("FAIL: " + "; ".join(found) if found else "PASS")


def run_all(
    seconds: float = 180,
    postgres: str | None = None,
    sqlite_only: bool = False,
    max_requests: int = 60_000,
    workers: int = 4,
    learners: int = 20,
    pause: float = 0.3,
) -> tuple[bool, list[dict[str, Any]]]:
    """SQLite, then PostgreSQL when a server is named; returns (all passed, results)."""
    users = {
        "learner": learners,
        "issuer": 6,
        "verifier": 3,
        "coordinator": 2,
        "admin": 1,
        # Learners finishing courses: enough for a steady stream of certificates all along.
        "cert_pool": max(12, int(seconds / 2)),
    }
    postgres = None if sqlite_only else (postgres or os.environ.get("LMS_TEST_POSTGRES_URL"))
    kinds = [("sqlite", None)] + ([("postgresql", postgres)] if postgres else [])
    results = []
    for kind, url in kinds:
        result = run_once(kind, url, seconds, users, max_requests, workers, pause)
        print_result(result)
        results.append(result)
    return all(not problems(r) for r in results), results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=180, help="length of each run")
    parser.add_argument("--postgres", help="PostgreSQL server URL (a fresh database is made on it)")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--max-requests", type=int, default=60_000, help="cap per run")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--learners", type=int, default=20, help="learners taking the quiz")
    parser.add_argument("--think", type=float, default=0.3, help="mean think time, seconds")
    args = parser.parse_args(argv)
    ok, results = run_all(
        args.seconds,
        args.postgres,
        args.sqlite_only,
        args.max_requests,
        args.workers,
        args.learners,
        args.think,
    )
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    path = out / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"\nSaved {path.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
