"""What a learner may see of a submitted attempt, by the quiz's review policy.

Nothing about correct answers or feedback is computed into a page unless the policy allows it
at that moment (SECURITY.md item 1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quizzes import questions, scoring
from quizzes.models import DEFAULT_REVIEW, Attempt, AttemptStatus, Quiz


@dataclass(frozen=True)
class ReviewRights:
    score: bool
    correctness: bool
    correct_answers: bool
    feedback: bool


def review_rights(quiz: Quiz, attempt: Attempt, state) -> ReviewRights:  # noqa: ANN001
    if attempt.status == AttemptStatus.IN_PROGRESS:
        return ReviewRights(False, False, False, False)
    policy = {**DEFAULT_REVIEW, **(quiz.review or {})}
    closed = state.passed or state.attempts_left == 0

    def allowed(key: str) -> bool:
        when = policy[key]
        return (
            when == "always"
            or (when == "after_pass" and state.passed)
            or (when == "when_closed" and closed)
        )

    return ReviewRights(
        allowed("score"), allowed("correctness"), allowed("correct_answers"), allowed("feedback")
    )


def _correct_answer_text(question: questions.Question) -> list[str]:
    data = question.to_dict()
    kind = data["type"]
    if kind in ("single", "multiple"):
        return [o["text"] for o in data["options"] if o["fraction"] > 0]
    if kind == "truefalse":
        return ["True" if data["correct"] else "False"]
    if kind == "shortanswer":
        return [a["text"] for a in data["answers"] if a["fraction"] >= 1]
    if kind == "numerical":
        shown = []
        for a in data["answers"]:
            if a["fraction"] < 1:
                continue
            if "min" in a:
                shown.append(
                    f"{questions.format_number(a['min'])} – {questions.format_number(a['max'])}"
                )
            else:
                tolerance = (
                    f" ± {questions.format_number(a['tolerance'])}" if a["tolerance"] else ""
                )
                shown.append(f"{questions.format_number(a['value'])}{tolerance}")
        return shown
    if kind == "matching":
        choices = {c["id"]: c["text"] for c in data["choices"]}
        return [f"{p['left']} → {choices.get(p['right'], '')}" for p in data["pairs"]]
    if kind == "ordering":
        return [" → ".join(i["text"] for i in data["items"])]
    return []


def review_items(attempt: Attempt, rights: ReviewRights) -> list[dict[str, Any]]:
    from quizzes.services import attempt_questions

    answers = {a.question_id: a for a in attempt.answers}
    items = []
    for qid, question, seed in attempt_questions(attempt):
        answer = answers.get(qid)
        response = answer.response if answer else None
        item: dict[str, Any] = {
            "id": qid,
            "view": questions.public_view(question, shuffle_seed=seed),
            "response": response or {},
            "pending": answer is not None and answer.fraction is None,
        }
        if rights.score and answer is not None and answer.fraction is not None:
            item["fraction"] = answer.fraction
        if rights.correctness or rights.feedback:
            result = scoring.score(question, response)
            if rights.correctness:
                item["correct"] = result.correct
            if rights.feedback:
                item["feedback"] = [f for f in result.feedback if f]
                item["general_feedback"] = question.general_feedback
                if answer is not None and answer.trainer_comment:
                    item["trainer_comment"] = answer.trainer_comment
        if rights.correct_answers:
            item["correct_answers"] = _correct_answer_text(question)
        items.append(item)
    return items
