"""Loops: the same sentence rewritten with one word or number changed, phrase loops, delimiter loops.

Three signals, each aimed at one way small models loop, each with a guard against a legitimate look-alike:

- near-duplicate units: prose lines / sentences compared with numbers normalized and a word-level
  similarity. Catches "The Moon pulls the water ... again." rewritten five times and counting spirals.
  Needs three or more repeats making up a large share of the text, so a poem's refrain or a numbered
  list with one recurring step is not a loop.
- repeated trigrams: the share of word trigrams seen before. Catches "again and again and again" and
  "an example of an example" loops inside one sentence. Natural prose stays far below the threshold.
- identical line runs: the same non-empty line (indentation included) four or more times in a row.
  Catches docstring-quote and bracket loops; nested closing braces differ in indentation and pass.
- counting lines: consecutive lines alike but for their numbers ("- [#41]", "- [#42]", ...), a run of
  ``MIN_COUNTING_RUN_CUT`` or more that goes on until the token budget cut it, or ``MIN_COUNTING_RUN``
  anywhere. Each line is too short to be compared as a sentence; a list the prompt asked for ("count to 20")
  ends on its own, so it needs the longer run.
- formula clauses: inside one run-on sentence, the same calculation clause with other numbers
  ("3 gallons x 1 gallon = 3 gallons, 4 gallons x 1 gallon = 4 gallons, ...") six or more times,
  making up a large share of the words. Sentence splitting never sees these: they are one sentence.

Code is only checked for identical line runs: repeated keywords and parallel statements are normal there.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from arena.analysis.flags.text import sentences, split_code, words

NEAR_DUPLICATE_SIMILARITY = 0.8
MIN_UNIT_WORDS = 3
MIN_DUPLICATES = 3
MIN_NUMERIC_DUPLICATES = 6
MIN_DUPLICATE_SHARE = 0.3
TRIGRAM_SHARE = 0.35
MIN_TRIGRAMS = 12
MIN_LINE_RUN = 4
MAX_UNITS = 400

_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_CLAUSE_SPLIT = re.compile(r"[,;:]\s+|\s+(?:and|then|so|plus)\s+|\n", re.IGNORECASE)
_OPERATOR = re.compile(r"[=×*]|\b(?:x|times|is)\b")
MAX_CLAUSE_CHARS = 200
MIN_COUNTING_RUN_CUT = 8
MIN_COUNTING_RUN = 30


def _is_calculation(clause: str) -> bool:
    """Two numbers and an operator in a short clause (linear: a long clause is never a calculation)."""
    return len(clause) <= MAX_CLAUSE_CHARS and len(_NUMBER.findall(clause)) >= 2 and bool(_OPERATOR.search(clause))


@dataclass(frozen=True)
class RepetitionReport:
    hit: bool
    score: float
    evidence: list[str]
    duplicate_units: int
    duplicate_share: float
    trigram_share: float
    longest_line_run: int


def _normalize(unit: str) -> list[str]:
    """Lowercase words with every number replaced by 0, so '2 x 3 = 6' and '6 x 3 = 18' look alike."""
    return [word.lower() for word in words(_NUMBER.sub(" 0 ", unit))]


def _is_numeric(tokens: list[str]) -> bool:
    """A unit of numbers and operators with at most one real word: shown work, tables, spirals."""
    return sum(1 for token in tokens if token != "0" and len(token) > 1) <= 1


def _near_duplicates(units: list[str]) -> tuple[int, int, str | None]:
    """(prose units repeating an earlier one, numeric units doing so, the most repeated unit)."""
    normalized = [_normalize(unit) for unit in units[:MAX_UNITS]]
    duplicates = numeric_duplicates = 0
    repeats: dict[int, int] = {}
    for index, current in enumerate(normalized):
        if len(current) < MIN_UNIT_WORDS:
            continue
        for earlier in range(index):
            previous = normalized[earlier]
            if (
                len(previous) < MIN_UNIT_WORDS
                or abs(len(previous) - len(current)) > max(len(current), len(previous)) // 2
            ):
                continue
            if previous == current or (
                difflib.SequenceMatcher(None, previous, current, autojunk=False).ratio() >= NEAR_DUPLICATE_SIMILARITY
            ):
                if _is_numeric(current):
                    numeric_duplicates += 1
                else:
                    duplicates += 1
                repeats[earlier] = repeats.get(earlier, 0) + 1
                break
    if not repeats:
        return duplicates, numeric_duplicates, None
    most = max(repeats.items(), key=lambda item: (item[1], -item[0]))[0]
    return duplicates, numeric_duplicates, units[most]


def _trigram_share(tokens: list[str]) -> tuple[float, str | None]:
    """Share of word trigrams that already occurred, and the most repeated one."""
    trigrams = [tuple(tokens[i : i + 3]) for i in range(len(tokens) - 2)]
    if len(trigrams) < MIN_TRIGRAMS:
        return 0.0, None
    seen: dict[tuple[str, ...], int] = {}
    repeated = 0
    for trigram in trigrams:
        if trigram in seen:
            repeated += 1
        seen[trigram] = seen.get(trigram, 0) + 1
    top, count = max(seen.items(), key=lambda item: item[1])
    return repeated / len(trigrams), (" ".join(top) if count > 1 else None)


def _formula_loop(prose: str) -> tuple[int, float, str | None]:
    """(calculation clauses repeating an earlier one's shape, their share of the words, the first of them).

    A clause is a piece between commas, semicolons, "and", "then" or line breaks holding a calculation
    (two numbers around =, x, ×, times or is); its shape is its words with every number as 0.
    """
    clauses = [clause.strip() for clause in _CLAUSE_SPLIT.split(prose) if clause and clause.strip()]
    seen: dict[tuple[str, ...], str] = {}
    repeats = 0
    repeated_words = 0
    first: str | None = None
    for clause in clauses[: MAX_UNITS * 4]:
        if not _is_calculation(clause):
            continue
        shape = tuple(_normalize(clause))
        if len(shape) < MIN_UNIT_WORDS:
            continue
        if shape in seen:
            repeats += 1
            repeated_words += len(words(clause))
            first = first or seen[shape]
        else:
            seen[shape] = clause
    total_words = len(words(prose))
    return repeats, (repeated_words / total_words if total_words else 0.0), first


def _longest_line_run(text: str) -> tuple[int, str | None]:
    best, best_line = 1, None
    run, previous = 0, None
    for line in text.split("\n"):
        if line.strip() and line == previous:
            run += 1
        else:
            run = 1
        previous = line
        if line.strip() and run > best:
            best, best_line = run, line
    return (best if best_line is not None else 0), best_line


def _counting_run(text: str) -> tuple[int, str | None, bool]:
    """(the longest run of consecutive lines alike but for their numbers, its first line, whether it runs to
    the end of the text). Lines without a number never count: a refrain is not counting."""
    best, best_line, best_at_end = 0, None, False
    run, shape, first = 0, None, None
    lines = [line for line in text.split("\n") if line.strip()]
    for position, line in enumerate(lines):
        current = _NUMBER.sub("0", line.strip()) if _NUMBER.search(line) else None
        if current is not None and current == shape:
            run += 1
        else:
            run, shape, first = (1, current, line) if current is not None else (0, None, None)
        if run > best:
            best, best_line, best_at_end = run, first, position == len(lines) - 1
    return best, best_line, best_at_end


def detect_repetition(text: str, *, cut: bool = False) -> RepetitionReport:
    """``cut``: the answer ended at its token budget (a loop usually runs until it does)."""
    prose, _code = split_code(text)
    units = sentences(prose)
    duplicates, numeric_duplicates, looping_unit = _near_duplicates(units)
    counted_units = sum(1 for unit in units if len(_normalize(unit)) >= MIN_UNIT_WORDS)
    duplicate_share = (duplicates + numeric_duplicates) / counted_units if counted_units else 0.0
    tokens = [word.lower() for word in words(prose)]
    trigram_share, top_trigram = _trigram_share(tokens)
    line_run, run_line = _longest_line_run(text)
    formula_repeats, formula_share, formula_clause = _formula_loop(prose)

    evidence: list[str] = []
    hits = []
    loops = duplicates >= MIN_DUPLICATES or numeric_duplicates >= MIN_NUMERIC_DUPLICATES
    if loops and duplicate_share >= MIN_DUPLICATE_SHARE and looping_unit:
        hits.append(duplicate_share)
        evidence.append(looping_unit)
    if trigram_share >= TRIGRAM_SHARE and top_trigram:
        hits.append(trigram_share)
        evidence.append(top_trigram)
    if formula_repeats >= MIN_NUMERIC_DUPLICATES and formula_share >= MIN_DUPLICATE_SHARE and formula_clause:
        hits.append(formula_share)
        evidence.append(formula_clause)
    if line_run >= MIN_LINE_RUN and run_line is not None:
        hits.append(min(1.0, line_run / (2 * MIN_LINE_RUN)))
        evidence.append(run_line.strip())
    counting, counting_line, to_the_end = _counting_run(prose)
    needed = MIN_COUNTING_RUN_CUT if cut and to_the_end else MIN_COUNTING_RUN
    if counting >= needed and counting_line is not None:
        hits.append(min(1.0, counting / (2 * needed)))
        evidence.append(f"{counting} lines counting on from {counting_line.strip()}")
    line_score = min(1.0, line_run / (2 * MIN_LINE_RUN)) if line_run > 1 else 0.0
    formula_score = formula_share if formula_repeats >= MIN_NUMERIC_DUPLICATES else 0.0
    score = max([duplicate_share, trigram_share, line_score, formula_score])
    return RepetitionReport(
        hit=bool(hits),
        score=round(min(1.0, score), 3),
        evidence=list(dict.fromkeys(evidence)),
        duplicate_units=duplicates + numeric_duplicates,
        duplicate_share=round(duplicate_share, 3),
        trigram_share=round(trigram_share, 3),
        longest_line_run=line_run,
    )
