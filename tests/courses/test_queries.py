"""SQL statements per learner page stay constant whatever the size of the course or the number
of enrolments (no N+1)."""

from __future__ import annotations

from courses import services
from lms.extensions import db
from tests.conftest import login, post_form
from tests.support.measure import counted_statements


def lesson_page_queries(app, client, course) -> int:
    lesson = course.published_modules[-1].published_lessons[-1]
    url = f"/courses/{course.slug}/lessons/{lesson.id}"
    client.get(url)  # warm caches
    with counted_statements() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_lesson_page_queries_are_few_and_constant(app, client, users, create_course, create_user):
    small = create_course("small", modules=1, lessons=2)
    large = create_course("large", modules=8, lessons=6)
    for i in range(30):
        other = create_user(f"reader{i}@example.org")
        services.enrol(other, large)
    db.session.commit()
    login(client, "learner@example.org")
    post_form(client, "/courses/small/enrol")
    post_form(client, "/courses/large/enrol")
    for lesson in large.published_modules[0].published_lessons:
        post_form(client, f"/courses/large/lessons/{lesson.id}/done")
    small_count = lesson_page_queries(app, client, small)
    large_count = lesson_page_queries(app, client, large)
    assert small_count == large_count
    # BEGIN, the user, the course with the enrolment and the lesson text, the done lessons.
    assert large_count <= 4


def test_course_page_and_dashboard_queries_are_constant(app, client, users, create_course):
    login(client, "learner@example.org")
    counts = []
    for n, (modules, lessons) in enumerate([(1, 1), (6, 5)]):
        course = create_course(f"c{n}", modules=modules, lessons=lessons)
        post_form(client, f"/courses/{course.slug}/enrol")
        with counted_statements() as statements:
            client.get(f"/courses/{course.slug}")
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_home_and_dashboard_queries_do_not_grow_with_enrolments(app, client, users, create_course):
    login(client, "learner@example.org")
    counts = []
    for batch in range(2):
        for i in range(1 if batch == 0 else 6):
            course = create_course(f"b{batch}-{i}", modules=2, lessons=2)
            post_form(client, f"/courses/{course.slug}/enrol")
        for path in ("/", "/courses/my"):
            client.get(path)
            with counted_statements() as statements:
                client.get(path)
            counts.append((path, len(statements)))
    assert counts[0] == (counts[2][0], counts[2][1]) and counts[1] == counts[3], counts
