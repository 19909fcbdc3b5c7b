"""Moodle GIFT format: :func:`parse_gift` and :func:`write_gift`.

Everything Moodle's GIFT documentation describes is read: ``//`` comment lines, ``::name::``,
``$CATEGORY: path`` lines, ``[markdown]`` ``[html]`` ``[plain]`` ``[moodle]`` formats, the escapes
``\\~ \\= \\# \\{ \\} \\:`` ``\\n`` and ``\\\\``, multiple choice ``{=a ~b}`` with partial credit
``~%50%b``, multiple response (weights and no ``=``), true/false ``{T}`` ``{TRUE}`` ``{F}``
``{FALSE}`` with ``{T#feedback when wrong#feedback when right}``, short answer ``{=a =%50%b}``,
matching ``{=a -> 1 =b -> 2}``, numerical ``{#2:0.5}`` ``{#1..3}`` ``{#=%100%2:0 =%50%2:1}``,
missing word (answers inside the text, which gets ``_____`` where they stood), essay ``{}``,
per-answer feedback ``#...``, general feedback ``####...``, multi-line questions, blank-line
separation, Windows line endings and a byte-order mark. What Moodle's exporter writes is read too:
``// [id:...] [tag:...]`` comments, ``= -> distractor`` in matching and ``~#feedback`` (for any
other answer) in numerical questions.

Decisions where the documentation leaves room (see also tests/quizzes/test_gift.py):

* No format tag means ``markdown`` on this platform (Moodle's default is its own auto-format);
  ``[moodle]`` is read as ``markdown`` too. One format applies to the whole question; a different
  tag in front of an answer or feedback is dropped with a warning.
* A description (text without an answer block) is skipped with a warning: we have no description
  type, and it is not an error in the file.
* As in Moodle: ``=`` in a multiple-choice question takes no weight (``=%50%x`` is the text
  "%50%x", with a warning); the answer set is multiple choice when it has a ``~``, matching when
  it has ``=`` and ``->``, true/false only for ``T``, ``TRUE``, ``F``, ``FALSE`` in capitals;
  ``{true}`` is a short answer (with a warning). A choice question with ``=`` is "single" (other
  options may carry partial or negative credit), one without ``=`` is "multiple".
* Errors (the importer imports nothing when there are any): unclosed or stray braces, a second
  answer block in one question, an unclosed ``::name``, weights that are not numbers or lie
  outside -100..100 % (0..100 % for short answer and numerical), choices with neither ``=``
  nor a positive weight, multiple response whose positive weights add up to more than 100 %
  (less is a warning: full marks would be impossible), numbers that are not numbers, matching
  with fewer than two pairs, matching pairs with feedback (Moodle has none) or without ``->``,
  short answer or numerical without a 100 % answer, ``$CATEGORY`` lines with no path or
  misspelt, unknown ``$DIRECTIVE:`` lines.
  Matching with two pairs (Moodle's doc asks for three) is only a warning.
* Writing: every question gets an explicit format tag, so Moodle renders Markdown as Markdown.
  Ordering questions, and the rare texts GIFT cannot carry (``->`` in a matching item, or in a
  short answer or its feedback), are skipped: a ``//`` comment in the file says so, and a message
  goes to the ``warnings`` list. Everything else reads back equal (tests/quizzes/test_gift.py).
"""

from __future__ import annotations

import bisect
import contextlib
import re
from decimal import Decimal
from typing import Any

from quizzes.questions import (
    MISSING_WORD_GAP,
    Essay,
    ImportedQuestion,
    ImportResult,
    Matching,
    MultipleResponse,
    Numerical,
    NumericalAnswer,
    Option,
    Ordering,
    Question,
    ShortAnswer,
    SingleChoice,
    TextAnswer,
    TrueFalse,
    default_name,
    validate_question,
)

GiftQuestion = ImportedQuestion
GiftResult = ImportResult

WS = " \t\n\r\f\v"  # what GIFT trims (a no-break space is content, as in Moodle)
FORMAT_TAGS = {"markdown": "markdown", "html": "html", "plain": "plain", "moodle": "markdown"}
_FORMAT_RE = re.compile(r"\[(markdown|html|plain|moodle)\]")
_ESCAPE_RE = re.compile(r"\\([\\~=#{}:n])")
_WEIGHT_RE = re.compile(r"%(-?[0-9]+(?:\.[0-9]+)?)%")
_BAD_WEIGHT_RE = re.compile(r"%[^%\n]{0,12}%")  # a weight if it holds a digit
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DIRECTIVE_RE = re.compile(r"\$([A-Za-z_]+)[ \t]*(:?)(.*)")
_META_RE = re.compile(r"\[(id|tag):([^\]\n]*)\]")
_MARKERS = {"~=": re.compile("[~=]"), "=": re.compile("=")}
_TF = {"T": True, "TRUE": True, "F": False, "FALSE": False}
_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "~": "\\~",
        "=": "\\=",
        "#": "\\#",
        "{": "\\{",
        "}": "\\}",
        ":": "\\:",
        "\n": "\\n",
    }
)


def unescape(text: str) -> str:
    """GIFT escapes to characters: ``\\~`` -> ``~``, ``\\n`` -> newline, ``\\\\`` -> ``\\``."""
    return _ESCAPE_RE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def escape(text: str) -> str:
    """Characters to GIFT escapes, newlines included (the inverse of :func:`unescape`)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_ESCAPES)


class _Skip(Exception):
    """The current question cannot be read (the reason is already recorded)."""


class _Chunk:
    """The lines of one question (comment lines removed), joined, with escape positions."""

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        self.linenos = [n for n, _ in lines]
        self.starts: list[int] = []
        pos = 0
        for _, line in lines:
            self.starts.append(pos)
            pos += len(line) + 1
        self.s = "\n".join(line for _, line in lines)
        self.escaped = bytearray(len(self.s))
        for m in _ESCAPE_RE.finditer(self.s):
            self.escaped[m.start()] = self.escaped[m.start() + 1] = 1

    def line(self, pos: int) -> int:
        return self.linenos[max(0, bisect.bisect_right(self.starts, pos) - 1)]

    def find(self, token: str, start: int, end: int | None = None) -> int:
        """The first position of ``token`` in [start, end) that is not part of an escape."""
        end = len(self.s) if end is None else end
        while True:
            pos = self.s.find(token, start, end)
            if pos < 0 or not any(self.escaped[pos : pos + len(token)]):
                return pos
            start = pos + 1

    def rfind(self, token: str, start: int, end: int) -> int:
        while True:
            pos = self.s.rfind(token, start, end)
            if pos < 0 or not any(self.escaped[pos : pos + len(token)]):
                return pos
            end = pos + len(token) - 1

    def split(self, start: int, end: int, markers: str) -> list[tuple[str, int, int]]:
        """Pieces of [start, end) at unescaped marker characters: (marker, start, end).

        The first piece, before any marker, has the marker "" and may be blank.
        """
        pieces = []
        marker, piece_start = "", start
        for m in _MARKERS[markers].finditer(self.s, start, end):
            if not self.escaped[m.start()]:
                pieces.append((marker, piece_start, m.start()))
                marker, piece_start = m.group(), m.end()
        pieces.append((marker, piece_start, end))
        return pieces


class _Parser:
    def __init__(self) -> None:
        self.result = ImportResult()
        self.category = ""

    def error(self, line: int, message: str) -> None:
        self.result.errors.append((line, message))

    def warn(self, line: int, message: str) -> None:
        self.result.warnings.append((line, message))

    # -- file level ---------------------------------------------------------------------------

    def parse(self, text: str) -> ImportResult:
        text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        lines: list[tuple[int, str]] = []
        comments: list[str] = []
        for number, line in enumerate(text.split("\n"), start=1):
            stripped = line.strip(WS)
            if not stripped:
                self.chunk(lines, comments)
                lines, comments = [], []
            elif stripped.startswith("//"):
                comments.append(stripped)
            else:
                lines.append((number, line))
        self.chunk(lines, comments)
        self.result.errors.sort(key=lambda e: e[0])
        self.result.warnings.sort(key=lambda w: w[0])
        return self.result

    def chunk(self, lines: list[tuple[int, str]], comments: list[str]) -> None:
        if not lines:
            return
        first_line, first = lines[0]
        directive = _DIRECTIVE_RE.fullmatch(first.strip(WS))
        if directive:
            name, colon, rest = directive.groups()
            if name == "CATEGORY" and colon:
                path = rest.strip(WS)
                if path:
                    self.category = path
                else:
                    self.error(first_line, "$CATEGORY: needs a category path, e.g. $CATEGORY: a/b")
                if len(lines) > 1:
                    self.warn(first_line, "a blank line should follow the $CATEGORY line")
                    self.chunk(lines[1:], comments)
                return
            if name.upper() == "CATEGORY":
                self.error(first_line, "write a category line as $CATEGORY: path (capitals, colon)")
                return
            if colon and name.isupper():
                self.error(first_line, f"unknown directive ${name}: (only $CATEGORY: is known)")
                return
        with contextlib.suppress(_Skip):
            self.question(_Chunk(lines), comments)

    # -- one question -------------------------------------------------------------------------

    def question(self, c: _Chunk, comments: list[str]) -> None:
        s = c.s
        start = len(s) - len(s.lstrip(WS))
        line = c.line(start)
        name = ""
        if s.startswith("::", start) and c.find("::", start) == start:
            close = c.find("::", start + 2)
            if close < 0:
                self.error(line, "the question name is not closed with ::")
                raise _Skip
            name = unescape(s[start + 2 : close]).strip(WS)
            start = close + 2

        open_ = c.find("{", start)
        first_close = c.find("}", start)
        if open_ < 0 and first_close < 0:
            self.warn(line, "text without an answer block (a description) was skipped")
            raise _Skip
        if open_ < 0 or 0 <= first_close < open_:
            self.error(c.line(first_close), "'}' without a '{' before it (write \\} for a brace)")
            raise _Skip
        close = c.find("}", open_ + 1)
        if close < 0:
            self.error(c.line(open_), "the answer block opened with '{' is never closed")
            raise _Skip
        nested = c.find("{", open_ + 1, close)
        if nested >= 0:
            self.error(c.line(nested), "'{' inside an answer block (write \\{ for a brace)")
            raise _Skip
        extra = min(
            (p for p in (c.find("{", close + 1), c.find("}", close + 1)) if p >= 0), default=-1
        )
        if extra >= 0:
            self.error(
                c.line(extra),
                "a second answer block: separate questions with a blank line, "
                "write \\{ and \\} for braces",
            )
            raise _Skip

        after = s[close + 1 :]
        raw_text = s[start:open_] + (MISSING_WORD_GAP + after if after.strip(WS) else "")
        fmt, text = self.formatted(unescape(raw_text).strip(WS), "markdown", None, line)

        general = ""
        gf = c.rfind("####", open_ + 1, close)
        answers_end = close
        if gf >= 0:
            general = self.text(c, gf + 4, close, fmt)
            answers_end = gf

        common = {"text": text, "format": fmt, "general_feedback": general}
        question = self.answers(c, open_ + 1, answers_end, common, line)
        problems = validate_question(question)
        for problem in problems:
            self.error(line, problem)
        if problems:
            raise _Skip
        if isinstance(question, MultipleResponse):
            positive = sum(o.fraction for o in question.options if o.fraction > 0)
            if positive < 1 - 1e-6:
                self.warn(
                    line,
                    f"the positive weights add up to {positive * 100:g}%: "
                    "no response can get full marks",
                )
        if isinstance(question, Matching) and len(question.choices) < 3:
            self.warn(line, "Moodle needs at least three matching pairs or choices")

        idnumber, tags = "", []
        for comment in comments:
            for kind, value in _META_RE.findall(comment):
                if kind == "id":
                    idnumber = value.strip(WS)
                else:
                    tags.append(value.strip(WS))
        self.result.questions.append(
            ImportedQuestion(
                question=question,
                line=line,
                name=name or default_name(text),
                category=self.category,
                idnumber=idnumber,
                tags=tags,
            )
        )

    def formatted(
        self, text: str, default: str, question_format: str | None, line: int
    ) -> tuple[str, str]:
        """Strip a leading [format] tag: (format, text)."""
        m = _FORMAT_RE.match(text)
        if not m:
            return default, text
        fmt = FORMAT_TAGS[m.group(1)]
        if question_format is not None and fmt != question_format:
            self.warn(
                line,
                f"[{m.group(1)}] ignored: one format ({question_format}) applies to the question",
            )
        return fmt, text[m.end() :].strip(WS)

    def text(self, c: _Chunk, start: int, end: int, fmt: str) -> str:
        """Answer, feedback or general-feedback text: unescaped, trimmed, format tag dropped."""
        return self.formatted(unescape(c.s[start:end]).strip(WS), fmt, fmt, c.line(start))[1]

    def weight(self, c: _Chunk, start: int, end: int, low: float) -> tuple[float | None, int]:
        """A ``%n%`` weight at the start of [start, end): (fraction or None, new start)."""
        while start < end and c.s[start] in WS:
            start += 1
        m = _WEIGHT_RE.match(c.s, start, end)
        if m:
            percent = Decimal(m.group(1))
            if not (Decimal(low) * 100 <= percent <= 100):
                self.error(c.line(start), f"weight {m.group(0)} is outside {low * 100:g}%..100%")
                raise _Skip
            return float(percent / 100), m.end()
        bad = _BAD_WEIGHT_RE.match(c.s, start, end)
        if bad and any(ch.isdigit() for ch in bad.group(0)):
            self.error(c.line(start), f"weight {bad.group(0)} is not a number like %50% or %-33.3%")
            raise _Skip
        return None, start

    def feedback_split(self, c: _Chunk, start: int, end: int) -> tuple[int, int]:
        """(end of the answer text, start of its feedback or -1)."""
        hash_ = c.find("#", start, end)
        return (end, -1) if hash_ < 0 else (hash_, hash_ + 1)

    def answers(
        self, c: _Chunk, start: int, end: int, common: dict[str, Any], line: int
    ) -> Question:
        s, fmt = c.s, common["format"]
        while start < end and s[start] in WS:
            start += 1
        while end > start and s[end - 1] in WS:
            end -= 1
        if start == end:
            return Essay(**common)
        if s[start] == "#" and not c.escaped[start]:
            return self.numerical(c, start + 1, end, common)
        if c.find("~", start, end) >= 0:
            return self.choice(c, start, end, common)
        if c.find("=", start, end) >= 0 and c.find("->", start, end) >= 0:
            return self.matching(c, start, end, common, line)
        hash_ = c.find("#", start, end)
        key = s[start : hash_ if hash_ >= 0 else end].strip(WS)
        if key in _TF:
            wrong = right = ""
            if hash_ >= 0:  # {T#shown when wrong#shown when right}; later '#' stay in the text
                second = c.find("#", hash_ + 1, end)
                wrong = self.text(c, hash_ + 1, second if second >= 0 else end, fmt)
                right = self.text(c, second + 1, end, fmt) if second >= 0 else ""
            correct = _TF[key]
            return TrueFalse(
                **common,
                correct=correct,
                feedback_true=right if correct else wrong,
                feedback_false=wrong if correct else right,
            )
        if key.upper() in _TF:
            self.warn(
                c.line(start), f"{{{key}}} is read as a short answer; true/false needs capitals"
            )
        return self.shortanswer(c, start, end, common)

    def pieces(self, c: _Chunk, start: int, end: int, markers: str) -> list[tuple[str, int, int]]:
        return [p for p in c.split(start, end, markers) if p[0] or c.s[p[1] : p[2]].strip(WS)]

    def choice(self, c: _Chunk, start: int, end: int, common: dict[str, Any]) -> Question:
        options = []
        single = c.find("=", start, end) >= 0
        for marker, a, b in self.pieces(c, start, end, "~="):
            if marker == "=":
                fraction = 1.0
                if _WEIGHT_RE.match(c.s[a:b].lstrip(WS)):
                    self.warn(
                        c.line(a),
                        "after '=' a weight is part of the answer text (as in Moodle); "
                        "write ~%50%answer for partial credit",
                    )
            else:
                if not marker:
                    self.warn(c.line(a), "an answer without ~ or = in front is read as wrong")
                weight, a = self.weight(c, a, b, -1.0)
                fraction = 0.0 if weight is None else weight
            text_end, fb = self.feedback_split(c, a, b)
            options.append(
                Option(
                    text=self.text(c, a, text_end, common["format"]),
                    fraction=fraction,
                    feedback=self.text(c, fb, b, common["format"]) if fb >= 0 else "",
                )
            )
        if not single and not any(o.fraction > 0 for o in options):
            self.error(
                c.line(start),
                "no correct answer: mark it with = (or give weights such as ~%50%)",
            )
            raise _Skip
        cls = SingleChoice if single else MultipleResponse
        return cls(**common, options=options)

    def shortanswer(self, c: _Chunk, start: int, end: int, common: dict[str, Any]) -> Question:
        answers = []
        for _, a, b in self.pieces(c, start, end, "="):
            weight, a = self.weight(c, a, b, 0.0)
            text_end, fb = self.feedback_split(c, a, b)
            answers.append(
                TextAnswer(
                    text=self.text(c, a, text_end, common["format"]),
                    fraction=1.0 if weight is None else weight,
                    feedback=self.text(c, fb, b, common["format"]) if fb >= 0 else "",
                )
            )
        return ShortAnswer(**common, answers=answers)

    def matching(
        self, c: _Chunk, start: int, end: int, common: dict[str, Any], line: int
    ) -> Question:
        pairs: list[tuple[str, str]] = []
        distractors: list[str] = []
        for _, a, b in self.pieces(c, start, end, "="):
            hash_ = c.find("#", a, b)
            if hash_ >= 0:
                self.error(
                    c.line(hash_), "matching pairs take no feedback ('#'; write \\# for the sign)"
                )
                raise _Skip
            arrow = c.find("->", a, b)
            if arrow < 0:
                self.error(c.line(a), "a matching pair needs '->' between its two sides")
                raise _Skip
            left = self.text(c, a, arrow, common["format"])
            right = unescape(c.s[arrow + 2 : b]).strip(WS)
            if not right:
                self.error(c.line(a), "a matching pair has nothing after '->'")
                raise _Skip
            if left:
                pairs.append((left, right))
            else:
                distractors.append(right)
        return Matching.from_texts(pairs, distractors, **common)

    def number(self, c: _Chunk, text: str, pos: int) -> float:
        text = text.strip(WS)
        if _NUMBER_RE.fullmatch(text):
            value = float(text)
            if value == value and abs(value) != float("inf"):
                return value
        hint = " (use a point, not a comma)" if re.fullmatch(r"[+-]?[0-9]+,[0-9]+", text) else ""
        self.error(c.line(pos), f"{text!r} is not a number{hint}")
        raise _Skip

    def numerical(self, c: _Chunk, start: int, end: int, common: dict[str, Any]) -> Question:
        other = ""
        tilde = c.find("~", start, end)
        if tilde >= 0:
            hash_ = c.find("#", tilde, end)
            other = self.text(c, hash_ + 1, end, common["format"]) if hash_ >= 0 else ""
            end = tilde
        answers = []
        for _, a, b in self.pieces(c, start, end, "="):
            weight, a = self.weight(c, a, b, 0.0)
            spec_end, fb = self.feedback_split(c, a, b)
            spec = unescape(c.s[a:spec_end]).strip(WS)
            fields: dict[str, Any]
            if ".." in spec[1:]:
                low, high = spec.split("..", 1)
                fields = {"min": self.number(c, low, a), "max": self.number(c, high, a)}
            elif ":" in spec[1:]:
                value, tolerance = spec.split(":", 1)
                fields = {
                    "value": self.number(c, value, a),
                    "tolerance": self.number(c, tolerance, a),
                }
            else:
                fields = {"value": self.number(c, spec, a), "tolerance": 0.0}
            answers.append(
                NumericalAnswer(
                    **fields,
                    fraction=1.0 if weight is None else weight,
                    feedback=self.text(c, fb, b, common["format"]) if fb >= 0 else "",
                )
            )
        if not answers:
            self.error(c.line(start), "a numerical question needs at least one number after '#'")
            raise _Skip
        return Numerical(**common, answers=answers, other_feedback=other)


def parse_gift(text: str) -> ImportResult:
    """Read a GIFT file; every error in it is reported, each with its 1-based line."""
    return _Parser().parse(text)


# --------------------------------------------------------------------------------------------
# Writing


def _weight(fraction: float) -> str:
    """A fraction as GIFT percent text that reads back to the same float (0.3333333 -> 33.33333)."""
    return format((Decimal(repr(float(fraction))) * 100).normalize(), "f")


def _guard(text: str, fmt: str) -> str:
    """Escaped text; a text that itself starts like a format tag gets the question's tag first."""
    out = escape(text)
    return f"[{fmt}]{out}" if _FORMAT_RE.match(text) else out


def _inexpressible(question: Question) -> str:
    if isinstance(question, Ordering):
        return "ordering questions have no GIFT form"
    if isinstance(question, Matching) and any("->" in p.left for p in question.pairs):
        return "a matching item containing '->' cannot be written in GIFT"
    if isinstance(question, ShortAnswer) and any(
        "->" in a.text or "->" in a.feedback for a in question.answers
    ):
        return "a short answer (or its feedback) containing '->' cannot be written in GIFT"
    return ""


def _answer_block(q: Question) -> tuple[str, bool]:
    """The text between the braces, and whether it spans lines."""
    fmt = q.format
    gf = f"####{_guard(q.general_feedback, fmt)}" if q.general_feedback else ""

    def fb(text: str) -> str:
        return f"#{_guard(text, fmt)}" if text else ""

    lines: list[str] = []
    if isinstance(q, SingleChoice | MultipleResponse):
        marked = False
        for o in q.options:
            if isinstance(q, SingleChoice) and abs(o.fraction - 1) <= 1e-6 and not marked:
                marker, marked = "=", True
            elif o.fraction == 0 and not o.text.startswith("%"):
                marker = "~"
            else:
                marker = f"~%{_weight(o.fraction)}%"
            lines.append(f"{marker}{_guard(o.text, fmt)}{fb(o.feedback)}")
    elif isinstance(q, ShortAnswer):
        for a in q.answers:
            weight = (
                "" if a.fraction == 1 and not a.text.startswith("%") else f"%{_weight(a.fraction)}%"
            )
            lines.append(f"={weight}{_guard(a.text, fmt)}{fb(a.feedback)}")
    elif isinstance(q, Numerical):
        for a in q.answers:
            weight = "" if a.fraction == 1 else f"%{_weight(a.fraction)}%"
            lines.append(f"={weight}{a.spec()}{fb(a.feedback)}")
        if q.other_feedback:
            lines.append(f"~{fb(q.other_feedback)}")
        body = "#\n\t" + "\n\t".join(lines)
        return body + (f"\n\t{gf}" if gf else "") + "\n", True
    elif isinstance(q, Matching):
        used = {p.right for p in q.pairs}
        for p in q.pairs:
            lines.append(f"={_guard(p.left, fmt)} -> {escape(q.choice_text(p.right) or '')}")
        for choice in q.choices:
            if choice.id not in used:
                lines.append(f"= -> {escape(choice.text)}")
    elif isinstance(q, TrueFalse):
        right, wrong = (
            (q.feedback_true, q.feedback_false)
            if q.correct
            else (q.feedback_false, q.feedback_true)
        )
        feedback = ""
        if wrong or right:
            feedback = f"#{_guard(wrong, fmt)}" + (f"#{_guard(right, fmt)}" if right else "")
        return ("TRUE" if q.correct else "FALSE") + feedback + gf, False
    elif isinstance(q, Essay):
        return gf, False
    body = "\n".join("\t" + line for line in lines)
    return "\n" + body + (f"\n\t{gf}" if gf else "") + "\n", True


def write_question(item: ImportedQuestion | Question) -> str:
    """One question in GIFT (no category line, no trailing blank line)."""
    meta = item if isinstance(item, ImportedQuestion) else ImportedQuestion(question=item, line=0)
    q = meta.question
    out = []
    writable = [t for t in (meta.idnumber, *meta.tags) if "]" not in t and "\n" not in t]
    tags = "".join(f" [tag:{t}]" for t in meta.tags if t in writable)
    idnumber = f" [id:{meta.idnumber}]" if meta.idnumber and meta.idnumber in writable else ""
    if idnumber or tags:
        out.append(f"//{idnumber}{tags}\n")
    if meta.name:
        out.append(f"::{escape(meta.name)}::")
    out.append(f"[{q.format}]")
    block, _ = _answer_block(q)
    text = q.text
    before, gap, after = text.partition(MISSING_WORD_GAP)
    if gap and after.strip(WS) and MISSING_WORD_GAP not in after:
        out.append(f"{escape(before)}{{{block}}}{escape(after)}")
    else:
        out.append(f"{escape(text)}{{{block}}}")
    return "".join(out) + "\n"


def write_gift(questions: list[Any], warnings: list[str] | None = None) -> str:
    """GIFT text for these questions (ImportedQuestion or bare Question objects).

    Questions GIFT cannot express are left out with a ``//`` comment, and a message is added to
    ``warnings`` when a list is given.
    """
    out: list[str] = []
    category = ""
    for item in questions:
        meta = (
            item if isinstance(item, ImportedQuestion) else ImportedQuestion(question=item, line=0)
        )
        reason = _inexpressible(meta.question)
        label = meta.name or default_name(meta.question.text, 40)
        if reason:
            label = " ".join(label.split())
            out.append(f"// skipped {label!r}: {reason}\n\n")
            if warnings is not None:
                warnings.append(f"{label}: {reason}")
            continue
        wanted = " ".join(meta.category.split())
        if wanted and wanted != category:
            out.append(f"$CATEGORY: {wanted}\n\n")
            category = wanted
        elif not wanted and category and warnings is not None:
            warnings.append(f"{label}: has no category but will be read into {category!r}")
        out.append(write_question(meta) + "\n")
    return "".join(out)
