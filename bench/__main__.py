"""`make bench`: every figure next to its baseline measured in the same run.

- Foundation (#2): a logged-in learner's home page under gunicorn (2 workers) against a
  minimal Flask "hello" app under the same gunicorn settings; SQL queries per home page for a
  small and a 20 times larger population.
- Courses (#3): a learner's lesson page under the same conditions; SQL queries per lesson page
  for a small and a large course; SQL queries for a coordinator's matrix of 200 learners x 10
  courses.
- Quizzes (#4): quiz submissions per second against the hello POST. Only the submit POSTs are
  timed (20 mixed-type questions, every one answered, scored and stored); the attempts are
  started in-process between rounds while the server is idle (bench/quizzes.py). GIFT import
  of 1,000 questions against reading and splitting the file. Next to it, the stack floor
  (bench/floor.py): the least a submission costs with Flask, Flask-Login, Flask-WTF and
  SQLAlchemy, driven the same way.
- Certificates (#5): see bench/certificates.py (PDF rendering against ReportLab, download of a
  stored PDF against the hello GET, bulk issuance of --certificates N, default 1,000).
- Load (#7): see bench/load.py (the journeys at once for --load-seconds N, default 180, on
  SQLite, and on PostgreSQL too when LMS_TEST_POSTGRES_URL is set; 0 skips it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import certificates as certificate_bench
from bench import floor as floor_bench
from bench import load as load_bench
from bench import quizzes as quiz_bench
from bench.driver import ROOT, Gunicorn, Result, load, login_cookie, request
from bench.queries import _app, count_home_page_queries, count_lesson_and_matrix_queries

SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def prepare_database(directory: Path) -> dict[str, str]:
    url = f"sqlite:///{directory / 'bench.sqlite3'}"
    env = {"DATABASE_URL": url, "SECRET_KEY": SECRET, "LMS_ENV": "development"}
    for args in (["db", "upgrade"], ["lms", "demo"]):
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
    return env


def print_table(rows: list[tuple[str, Result]]) -> None:
    print(f"{'':28}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}")
    for name, result in rows:
        print(
            f"{name:28}{result.rps:9.1f}{result.median_ms:9.1f}"
            f"{result.percentile(95):9.1f}{result.errors:8d}"
        )


def lesson_path(port: int, cookie: str) -> str:
    """The demo learner's current lesson (where 'resume' leads)."""
    response = request(port, "GET", "/courses/circular-economy-ict-bg/resume", {"Cookie": cookie})
    location = response.getheader("Location") or ""
    if not re.search(r"/lessons/\d+$", location):
        raise RuntimeError(f"no lesson to benchmark (resume answered {response.status})")
    return location[location.index("/courses/") :]


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument(
        "--certificates", type=int, default=1000, help="certificates to issue in bulk"
    )
    parser.add_argument(
        "--load-seconds", type=float, default=180, help="load test per database (0: skip)"
    )
    args = parser.parse_args()
    results: dict[str, object] = {"seconds": args.seconds, "clients": args.clients}

    with tempfile.TemporaryDirectory() as tmp:
        env = prepare_database(Path(tmp))
        print(
            f"gunicorn 2 sync workers on loopback, {args.clients} clients, "
            f"{args.seconds:.0f} s per measurement\n"
        )
        quiz_app = _app(Path(env["DATABASE_URL"].removeprefix("sqlite:///")))
        quiz_id, learners = quiz_bench.prepare_quiz(quiz_app)
        with Gunicorn("bench.hello:app", env) as hello:
            baseline = load(hello.port, "/", args.seconds, args.clients)
            baseline_post = load(
                hello.port,
                "/",
                args.seconds,
                args.clients,
                method="POST",
                body="a=1",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        with Gunicorn("wsgi:app", env) as lms:
            cookie = login_cookie(lms.port, "learner@example.org", "demo-password")
            headers = {"Cookie": cookie}
            home = load(lms.port, "/", args.seconds, args.clients, headers)
            path = lesson_path(lms.port, cookie)
            lesson = load(lms.port, path, args.seconds, args.clients, headers)
            cookies = {
                email: login_cookie(lms.port, email, "bench-password-1") for email in learners
            }
            submits, answer_fields = quiz_bench.submit_load(
                lms.port, quiz_app, quiz_id, cookies, args.seconds, args.clients
            )
        floor_url = f"sqlite:///{Path(tmp) / 'floor.sqlite3'}"
        floor_app = floor_bench.make_app(floor_url)
        with Gunicorn(
            "bench.floor:make_app()", {**env, "BENCH_FLOOR_DATABASE_URL": floor_url}
        ) as floor:
            floor_submits = floor_bench.submit_load(
                floor_app, floor.port, answer_fields, args.seconds, args.clients
            )
        print_table(
            [
                ("hello-world GET /", baseline),
                ("hello-world POST /", baseline_post),
                ("learner home GET /", home),
                ("lesson page GET", lesson),
                ("quiz submit (20 q)", submits),
                ("stack floor submit", floor_submits),
            ]
        )
        for name, result, goal in (("home", home, 0.35), ("lesson", lesson, 0.3)):
            ratio = result.rps / baseline.rps
            print(f"ratio {name}/hello = {ratio:.2f}   (goal >= {goal})")
            results[name] = {
                "rps": result.rps,
                "baseline_rps": baseline.rps,
                "ratio": ratio,
                "errors": result.errors + baseline.errors,
            }
        ratio = submits.rps / baseline_post.rps
        print(
            f"ratio submissions/hello POST = {ratio:.3f}   (goal >= 0.2; timed: only the submit "
            f"POSTs, each {len(answer_fields)} answer fields for 20 questions, scored and stored; "
            f"attempts are started untimed between rounds)"
        )
        floor_ratio = floor_submits.rps / baseline_post.rps
        print(
            f"ratio stack floor/hello POST = {floor_ratio:.3f}   (bench/floor.py: login, CSRF, "
            f"claim and store the same fields, commit; no scoring or completion); "
            f"quiz submit = {submits.rps / floor_submits.rps:.2f} of the floor"
        )
        results["quiz_submit"] = {
            "per_s": submits.rps,
            "baseline_post_rps": baseline_post.rps,
            "ratio": ratio,
            "errors": submits.errors,
            "timed": "submit POST only (attempts started untimed)",
            "answer_fields": len(answer_fields),
            "floor_per_s": floor_submits.rps,
            "floor_ratio": floor_ratio,
        }
        timing = quiz_bench.gift_import_timing(Path(tmp))
        print(
            f"\nGIFT, 1,000 questions: read+split {timing['read_split_s'] * 1000:.1f} ms, "
            f"parse {timing['parse_s'] * 1000:.1f} ms "
            f"({timing['parse_s'] / timing['read_split_s']:.0f}x), import and store "
            f"{timing['import_and_store_s'] * 1000:.0f} ms"
        )
        results["gift_import"] = timing
        results["certificates"] = certificate_bench.run_section(
            Path(tmp), env, baseline, args.seconds, args.clients, args.certificates
        )

        small, large = count_home_page_queries(Path(tmp))
        print(
            f"\nSQL statements, learner home page: {small['queries']} with {small['users']} "
            f"users / {small['companies']} companies; {large['queries']} with {large['users']} "
            f"users / {large['companies']} companies"
        )
        results["home_queries"] = {"small": small, "large": large}
        courses = count_lesson_and_matrix_queries(Path(tmp))
        print(
            f"SQL statements, lesson page: {courses['lesson_small']} in a course of "
            f"{courses['small_lessons']} lessons, {courses['lesson_large']} in one of "
            f"{courses['large_lessons']} lessons with {courses['enrolments']} enrolments "
            f"(goal: constant, <= 8)"
        )
        print(
            f"SQL statements, coordinator matrix of {courses['matrix_learners']} learners x "
            f"{courses['matrix_courses']} courses: {courses['matrix']} (goal < 15)"
        )
        results["courses_queries"] = courses

    load_ok = True
    if args.load_seconds > 0:
        print(f"\nLoad test (#7, bench/load.py): {args.load_seconds:.0f} s per database")
        load_ok, results["load"] = load_bench.run_all(seconds=args.load_seconds)

    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"bench-{stamp}.json").write_text(json.dumps(results, indent=2))
    print(f"\nSaved bench-results/bench-{stamp}.json")
    if not load_ok:
        sys.exit("The load test failed (see its FAIL lines above).")


if __name__ == "__main__":
    main()
