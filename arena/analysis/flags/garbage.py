"""Garbage: coherent text collapsing into symbol soup, stray identifiers, placeholders, markup, non-words.

Only prose is judged: fenced code, inline code and unfenced code lines are set aside first. Each remaining
whitespace token is classified; a token is fine when it is a known word (wordfreq, English first, then the
big Latin-script languages so French or German prose passes), a number or formula, a URL or path, a
proper noun or acronym, a technical token mixing letters and digits, a script wordfreq cannot judge, or a
word that also appears in the prompt or in the answer's own code (in context). What remains is evidence:

- markup: leaked special tokens and tags (``<|im_end|>``, ``</s>``, ``[INST]``, ``]]>``, ``<br>``);
- placeholder: template names (PersonX, {name}, [NAME], XXX);
- identifier: CamelCase that is no known word and not in context (TrainStationFactory);
- symbols: runs of mixed symbols (``~~||~~``);
- mojibake: text decoded with the wrong charset (ftfy knows it);
- non-word: lowercase words no dictionary knows (vorblet).

A hit needs several offending tokens that are either a real share of the text or packed together (the
typical collapse at the end of an answer), so one typo or one rare name never flags an answer.

A short answer can collapse in its last line only, diluted by a coherent first sentence: that last line
is judged on its own, counting as odd also the fragments that pass one by one (symbol pairs like ``|>``
or ``::~``, snake_case words no dictionary knows) but that no real closing line is made of.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from arena.analysis.flags.text import sentences, split_code, words

MIN_BAD_TOKENS = 3
TAIL_MIN_TOKENS = 4
TAIL_ODD_SHARE = 0.6
_COMMON_SYMBOL_WORDS = frozenset(
    {"->", "=>", "<-", "<=", ">=", "!=", "==", "**", "...", "---", "***", "--", "|", "=", "+", ":)", ":-)"}
)
_NAMESPACED = re.compile(r"^[a-z]+:[a-z]+$")
_NO_VOWEL = re.compile(r"^[b-df-hj-np-tv-xz]{3,}$")
BAD_SHARE = 0.06
WINDOW = 12
WINDOW_SHARE = 0.35
OTHER_LANGUAGES = ("fr", "de", "es", "it", "pt", "nl")

_MARKUP = re.compile(
    r"<\|[^|\s]*\|>|</?s>|\[/?INST\]|<unk>|<pad>|<mask>|\]\]>|<!\[CDATA\[|&[a-z]{2,8};|&#\d+;|"
    r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>|<<SYS>>|<</SYS>>|"
    r"[\u0120\u010a\u2581]\S"  # byte-level BPE (Ġ, Ċ) and sentencepiece (▁) pieces decoded raw
)
_PLACEHOLDER = re.compile(
    r"(?:Person|Name|Place|Thing|Object|User|Item|Entity)[A-Z0-9]|"
    r"\{\w+\}|\[[A-Z_]{3,}\]|<[A-Z_]{3,}>|X{3,}|_{3,}|PLACEHOLDER",
)
_CAMEL = re.compile(r"[a-z][A-Z]|[A-Z]{2}[a-z]")
_URL = re.compile(
    r"(?:https?://|www\.|ftp://)\S+|\S+@\S+\.\w+|(?:~|\.{1,2})?/[\w./-]+|\w+\.(?:py|js|md|txt|json|com|org|io)\b"
)
_NUMERIC = re.compile(r"[\d.,:/%°+\-−×x*=^()€$£¥<>≤≥±~]+")
_HAS_DIGIT = re.compile(r"\d")
_EDGE = "\"'“”‘’«»()[]{}.,;:!?*_`"
_FINE_SYMBOLS = set("-–—.…*#|/&+=×→←<>:_~•·'\"")
_LATIN = re.compile(r"^[A-Za-z\u00C0-\u024F'’.-]+$")


@dataclass(frozen=True)
class GarbageReport:
    hit: bool
    score: float
    evidence: list[str]
    reasons: dict[str, int]
    tokens: int


@lru_cache(maxsize=65536)
def _known(word: str) -> bool:
    """Known to wordfreq in English or one of the other big Latin-script languages."""
    from wordfreq import zipf_frequency  # noqa: PLC0415  # wordfreq loads its word lists: only when a text is judged

    lowered = word.lower().replace("’", "'")
    if zipf_frequency(lowered, "en") > 0:
        return True
    return any(zipf_frequency(lowered, language) > 0 for language in OTHER_LANGUAGES)


def _is_known_compound(core: str) -> bool:
    parts = [part for part in re.split(r"[-'’.]", core) if part]
    return bool(parts) and all(_known(part) or len(part) <= 2 for part in parts)


MAX_TOKEN_CHARS = 120
"""Longer whitespace-free runs are judged without the regexes (a 50,000-character run once took seconds):
a URL is fine, anything else is a run-on."""


def classify(token: str, context: frozenset[str]) -> str | None:
    """Why ``token`` is garbage, or None when it is fine."""
    if len(token) > MAX_TOKEN_CHARS:
        return None if token.lstrip(_EDGE).startswith(("http://", "https://", "www.")) else "run-on"
    if _MARKUP.search(token):
        return "markup"
    if _PLACEHOLDER.search(token):
        return "placeholder"
    if "\ufffd" in token or _mojibake(token):
        return "mojibake"
    if _URL.fullmatch(token.strip(_EDGE)) or _URL.match(token):
        return None
    core = token.strip(_EDGE)
    if not core:
        return _symbols(token)
    if not any(ch.isalnum() for ch in core):
        return _symbols(core)
    if _HAS_DIGIT.search(core):
        return None  # numbers, formulas, versions, units, technical names like bf16 or Q4_K_M
    if core.lower() in context:
        return None
    if _CAMEL.search(core):
        return None if _known(core) or _is_known_compound(core) else "identifier"
    if not _LATIN.match(core):
        return None if core.isalpha() else _symbols(core)  # other scripts: wordfreq cannot judge them here
    if _known(core) or _is_known_compound(core):
        return None
    if core[0].isupper() or len(core) <= 2:
        return None  # proper nouns and acronyms
    return "non-word"


def _symbols(token: str) -> str | None:
    symbols = [ch for ch in token if not ch.isalnum() and not ch.isspace()]
    if not symbols:
        return None
    if set(symbols) <= _FINE_SYMBOLS and (len(set(symbols)) == 1 or len(symbols) <= 3):
        return None  # markdown rules, ellipses, arrows, emphasis
    if all(not ch.isascii() and ch.isprintable() and not _is_box(ch) for ch in symbols) and len(symbols) <= 2:
        return None  # an emoji or a single typographic sign
    return "symbols"


def _is_box(ch: str) -> bool:
    return "\u2500" <= ch <= "\u259f"


@lru_cache(maxsize=4096)
def _mojibake(token: str) -> bool:
    if token.isascii():
        return False
    from ftfy.badness import is_bad  # noqa: PLC0415  # ftfy: only for non-ASCII tokens

    return bool(is_bad(token))


def _context(prompt: str | None, code: Iterable[str]) -> frozenset[str]:
    found = {word.lower() for word in words(prompt or "")}
    for piece in code:
        found.update(word.lower() for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", piece))
    return frozenset(found)


def _odd(token: str, context: frozenset[str]) -> bool:
    """Passes as a token alone, but a real closing line is not made of these: symbol pairs and
    snake_case words nobody knows."""
    core = token.strip(_EDGE)
    if token in _COMMON_SYMBOL_WORDS or _NUMERIC.fullmatch(token):
        return False
    if not any(ch.isalnum() for ch in token):
        return len(set(token)) >= 2
    if core.lower() in context or _HAS_DIGIT.search(core):
        return False
    if "_" in core:
        return not all(_known(part) for part in core.split("_") if part)
    return bool(_NAMESPACED.match(core) or _NO_VOWEL.match(core))


def _tail_collapse(
    prose: str, tokens: list[str], verdicts: list[str | None], context: frozenset[str]
) -> tuple[list[str], float]:
    """The odd and bad tokens of the last line, when that line is mostly made of them, and their share of
    it (else nothing). The last line's tokens are the last ones of the whole prose, already classified."""
    lines = [line for line in prose.split("\n") if line.strip()]
    if len(lines) < 2 and len(sentences(prose)) < 2:
        return [], 0.0
    count = len(lines[-1].split())
    if count < TAIL_MIN_TOKENS:
        return [], 0.0
    last = range(len(tokens) - count, len(tokens))
    bad = [index for index in last if verdicts[index] is not None]
    odd = [index for index in last if verdicts[index] is None and _odd(tokens[index], context)]
    if not bad or len(bad) + len(odd) < max(3, TAIL_ODD_SHARE * count):
        return [], 0.0
    flagged = sorted(bad + odd)
    return [tokens[index] for index in flagged], len(flagged) / count


def detect_garbage(text: str, prompt: str | None = None) -> GarbageReport:
    prose, code = split_code(text, inline_placeholder="code")
    context = _context(prompt, code)
    tokens = prose.split()
    verdicts = [classify(token, context) for token in tokens]
    bad = [index for index, reason in enumerate(verdicts) if reason is not None]
    share = len(bad) / len(tokens) if tokens else 0.0
    densest = 0.0
    if tokens:
        width = min(WINDOW, len(tokens))
        flags = [1 if reason else 0 for reason in verdicts]
        running = sum(flags[:width])
        densest = running / width
        for end in range(width, len(flags)):
            running += flags[end] - flags[end - width]
            densest = max(densest, running / width)
    hit = len(bad) >= MIN_BAD_TOKENS and (share >= BAD_SHARE or densest >= WINDOW_SHARE)
    tail, tail_score = ([], 0.0) if hit else _tail_collapse(prose, tokens, verdicts, context)
    reasons: dict[str, int] = {}
    for index in bad:
        reason = verdicts[index]
        assert reason is not None
        reasons[reason] = reasons.get(reason, 0) + 1
    evidence = list(
        dict.fromkeys(
            tokens[index] if verdicts[index] in ("markup", "symbols") else (tokens[index].strip(_EDGE) or tokens[index])
            for index in bad
        )
    )
    if tail:
        reasons["collapsed last line"] = len(tail)
        evidence = list(dict.fromkeys([*evidence, *tail]))
    return GarbageReport(
        hit=hit or bool(tail),
        score=round(max(share, densest if len(bad) >= MIN_BAD_TOKENS else share, tail_score), 3),
        evidence=evidence[:20],
        reasons=reasons,
        tokens=len(tokens),
    )
