"""Moodle's Aiken format: single-choice questions as plain text.

::

    What is the correct answer to this question?
    A. Is it this one?
    B) Maybe this answer?
    ANSWER: B

A question is its text (Moodle asks for one line; further lines before the first option are
joined to it with a newline), then options ``X. text`` or ``X) text`` with a single capital letter,
then ``ANSWER: X``. Blank lines between questions are optional. Questions come in as "single"
with the ``plain`` text format (Aiken has no markup). :func:`parse_aiken` returns the same
:class:`~quizzes.questions.ImportResult` as :func:`quizzes.gift.parse_gift`, with every error
and its 1-based line.
"""

from __future__ import annotations

import re

from quizzes.questions import (
    ImportedQuestion,
    ImportResult,
    Option,
    SingleChoice,
    default_name,
    validate_question,
)

_OPTION_RE = re.compile(r"([A-Z])[.)][ \t]+(.*)")
_ANSWER_RE = re.compile(r"ANSWER[ \t]*:[ \t]*(.*)", re.IGNORECASE)


def parse_aiken(text: str) -> ImportResult:
    """Read an Aiken file; every error is reported with its line."""
    result = ImportResult()
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")

    start = 0  # line of the question being read (0: none)
    question_lines: list[str] = []
    options: list[tuple[str, str]] = []
    broken = False  # an error was reported for the current question

    def reset() -> None:
        nonlocal start, question_lines, options, broken
        start, question_lines, options, broken = 0, [], [], False

    def unfinished() -> None:
        if start and not broken:
            result.errors.append((start, "the question has no ANSWER: line"))

    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            if start and options:
                unfinished()
                reset()
            continue
        answer = _ANSWER_RE.fullmatch(line)
        option = _OPTION_RE.fullmatch(line)
        if answer:
            if not start:
                result.errors.append((number, "ANSWER: without a question before it"))
                continue
            letter = answer.group(1).strip()
            letters = [key for key, _ in options]
            if broken:
                pass
            elif not line.startswith("ANSWER"):
                result.errors.append((number, "write ANSWER in capitals"))
            elif len(options) < 2:
                result.errors.append((start, "a question needs at least two options"))
            elif len(letter) != 1 or letter not in letters:
                result.errors.append(
                    (number, f"ANSWER: {letter} is not one of the options {', '.join(letters)}")
                )
            else:
                question = SingleChoice(
                    text="\n".join(question_lines),
                    format="plain",
                    options=[
                        Option(text=body, fraction=1.0 if key == letter else 0.0)
                        for key, body in options
                    ],
                )
                problems = validate_question(question)
                result.errors.extend((start, p) for p in problems)
                if not problems:
                    result.questions.append(
                        ImportedQuestion(
                            question=question, line=start, name=default_name(question.text)
                        )
                    )
            reset()
        elif option and start:
            key, body = option.groups()
            if key in (k for k, _ in options):
                result.errors.append((number, f"option {key} appears twice"))
                broken = True
            options.append((key, body.strip()))
        elif options:
            result.errors.append(
                (number, "expected an option such as 'C. text' or the line 'ANSWER: C'")
            )
            broken = True
        else:
            if not start:
                start = number
            question_lines.append(line)
    unfinished()
    result.errors.sort(key=lambda e: e[0])
    return result
