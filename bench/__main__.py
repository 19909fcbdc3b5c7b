"""`make bench`: every figure next to its baseline measured in the same run.

Foundation (issue #2): the home page of a logged-in learner under gunicorn (2 workers), as
requests per second next to a minimal Flask "hello" app under the same gunicorn settings, and
the SQL queries per page for a small and a 20x larger population (they must not grow)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.driver import ROOT, Gunicorn, load, login_cookie
from bench.queries import count_home_page_queries

SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def prepare_database(directory: Path) -> dict[str, str]:
    url = f"sqlite:///{directory / 'bench.sqlite3'}"
    env = {"DATABASE_URL": url, "SECRET_KEY": SECRET, "LMS_ENV": "development"}
    for args in (["db", "upgrade"], ["lms", "demo"]):
        subprocess.run(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
    return env


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    args = parser.parse_args()
    results: dict[str, object] = {"seconds": args.seconds, "clients": args.clients}

    with tempfile.TemporaryDirectory() as tmp:
        env = prepare_database(Path(tmp))
        print(
            f"Home page of a logged-in learner vs hello-world, gunicorn 2 workers, "
            f"{args.clients} clients, {args.seconds:.0f} s each\n"
        )
        with Gunicorn("bench.hello:app", env) as hello:
            baseline = load(hello.port, "/", args.seconds, args.clients)
        with Gunicorn("wsgi:app", env) as lms:
            cookie = login_cookie(lms.port, "learner@example.org", "demo-password")
            home = load(lms.port, "/", args.seconds, args.clients, {"Cookie": cookie})
        ratio = home.rps / baseline.rps
        rows = [("hello-world GET /", baseline), ("learner home GET /", home)]
        print(f"{'':24}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}")
        for name, result in rows:
            print(
                f"{name:24}{result.rps:9.1f}{result.median_ms:9.1f}"
                f"{result.percentile(95):9.1f}{result.errors:8d}"
            )
        print(f"\nratio home/hello = {ratio:.2f}   (goal >= 0.35)")
        results["home"] = {
            "rps": home.rps,
            "baseline_rps": baseline.rps,
            "ratio": ratio,
            "errors": home.errors + baseline.errors,
        }

        small, large = count_home_page_queries(Path(tmp))
        print(
            f"\nSQL queries for the learner home page: {small['queries']} with "
            f"{small['users']} users / {small['companies']} companies, {large['queries']} with "
            f"{large['users']} users / {large['companies']} companies "
            f"({'constant' if small['queries'] == large['queries'] else 'GROWS'})"
        )
        results["home_queries"] = {"small": small, "large": large}

    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"bench-{stamp}.json").write_text(json.dumps(results, indent=2))
    print(f"\nSaved bench-results/bench-{stamp}.json")


if __name__ == "__main__":
    main()
