"""Checks for the constraints a prompt declares (``{kind = "sentences", exact = 3}`` and friends).

Owns each constraint kind whole: its parameter schema (used to validate prompt files when they load) and
its checker, side by side in ``CONSTRAINT_KINDS``, so a kind cannot be declared without being checkable.
Each checker works on the real text with the real parser: Python through ``ast``, JSON through ``json``.
Nothing in a model's output is ever executed. Every result carries a reason a person can verify.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from arena.analysis.flags.text import (
    CodeBlock,
    bullet_lines,
    code_blocks,
    paragraphs,
    sentences,
    unfenced_code_line_numbers,
    words,
)
from arena.errors import ArenaError
from arena.wording import counted


@dataclass(frozen=True)
class ConstraintResult:
    kind: str
    passed: bool
    reason: str
    params: dict[str, Any]


Checker = Callable[[str, Mapping[str, Any]], tuple[bool, str]]


def _count_check(noun: str, count: int, params: Mapping[str, Any]) -> tuple[bool, str]:
    wanted = []
    ok = True
    if "exact" in params:
        ok &= count == params["exact"]
        wanted.append(f"exactly {params['exact']}")
    if "min" in params:
        ok &= count >= params["min"]
        wanted.append(f"at least {params['min']}")
    if "max" in params:
        ok &= count <= params["max"]
        wanted.append(f"at most {params['max']}")
    return ok, f"{counted(count, noun)} (wanted {' and '.join(wanted)})"


def _phrase_pattern(phrase: str, case_sensitive: bool) -> re.Pattern[str]:
    """Whole-word matching at word edges: 'cat' does not match 'catch', '75' does not match '175'."""
    prefix = r"(?<!\w)" if phrase[:1].isalnum() else ""
    suffix = r"(?!\w)" if phrase[-1:].isalnum() else ""
    return re.compile(prefix + re.escape(phrase) + suffix, 0 if case_sensitive else re.IGNORECASE)


def _include(text: str, params: Mapping[str, Any]) -> tuple[bool, str]:
    case = bool(params.get("case_sensitive", False))
    missing = [p for p in params["phrases"] if not _phrase_pattern(p, case).search(text)]
    return (not missing, f"missing: {', '.join(missing)}" if missing else "all phrases present")


def _exclude(text: str, params: Mapping[str, Any]) -> tuple[bool, str]:
    case = bool(params.get("case_sensitive", False))
    found = [p for p in params["phrases"] if _phrase_pattern(p, case).search(text)]
    return (not found, f"contains: {', '.join(found)}" if found else "none of the phrases")


def _edge(text: str, params: Mapping[str, Any], at_start: bool) -> tuple[bool, str]:
    body = text.strip().strip("\"'“”*_")
    target = str(params["text"])
    if not params.get("case_sensitive", False):
        body, target = body.lower(), target.lower()
    ok = body.startswith(target) if at_start else body.endswith(target)
    shown = text.strip()[:40] if at_start else text.strip()[-40:]
    return ok, f"{'starts' if at_start else 'ends'} with {shown!r}"


def _case(text: str, lower: bool) -> tuple[bool, str]:
    letters = [ch for ch in text if ch.isalpha() and ch.lower() != ch.upper()]
    wrong = [ch for ch in letters if (ch.isupper() if lower else ch.islower())]
    want = "lowercase" if lower else "uppercase"
    return (not wrong and bool(letters), f"{len(wrong)} of {len(letters)} letters are not {want}")


def _json(text: str, params: Mapping[str, Any]) -> tuple[bool, str]:
    stripped = text.strip()
    try:
        value = json.loads(stripped)
    except RecursionError:
        return False, "not usable JSON: nested too deeply to parse"
    except json.JSONDecodeError as exc:
        blocks = code_blocks(text)
        if any(_parses_json(block.code) for block in blocks):
            return False, "valid JSON only inside a code fence / with text around it"
        return False, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    keys = params.get("keys", [])
    if keys:
        if not isinstance(value, dict):
            return (
                False,
                f"valid JSON but a {type(value).__name__}, not an object with keys {', '.join(keys)}",
            )
        missing = [key for key in keys if key not in value]
        if missing:
            return False, f"valid JSON, missing keys: {', '.join(missing)}"
    return True, "valid JSON" + (f" with keys {', '.join(keys)}" if keys else "")


def _parses_json(code: str) -> bool:
    try:
        json.loads(code)
    except (json.JSONDecodeError, RecursionError):
        return False
    return True


def python_sources(text: str) -> list[str]:
    """Python code in an answer: fenced python (or untagged) blocks, else the unfenced code lines."""
    blocks = [block.code for block in _python_blocks(text)]
    if blocks:
        return blocks
    numbers = unfenced_code_line_numbers(text)
    if not numbers:
        return []
    # unfenced code: take the contiguous region from the first code line to the last one
    return ["\n".join(text.split("\n")[numbers[0] : numbers[-1] + 1])]


def _python_blocks(text: str) -> list[CodeBlock]:
    return [block for block in code_blocks(text) if block.language in ("", "python", "py", "python3")]


def _unfinished_tail(text: str) -> bool:
    """Whether the answer's last Python block is an unclosed fence that runs to the end: an answer cut off
    (max tokens) in the middle of, typically, its example usage."""
    blocks = _python_blocks(text)
    if not blocks or blocks[-1].end != len(text):
        return False
    lines = text[blocks[-1].start :].rstrip("\n").split("\n")
    return len(lines) < 2 or not re.fullmatch(r"[ \t]*(```|~~~)[ \t]*", lines[-1])


def _parse(text: str) -> tuple[list[ast.Module], str]:
    """Every Python block parsed, or why not. A last block cut off unfinished is left out when an earlier
    block parses: one truncated "example usage" must not fail a complete function above it."""
    sources = python_sources(text)
    if not sources:
        return [], "no Python code found"
    modules = []
    for index, source in enumerate(sources):
        try:
            modules.append(ast.parse(source))
        except (ValueError, RecursionError, MemoryError, SyntaxError) as exc:
            if modules and index == len(sources) - 1 and _unfinished_tail(text):
                return modules, f"{len(modules)} code block(s) parse; the last, cut off unfinished, is left out"
            if isinstance(exc, SyntaxError):
                return [], f"SyntaxError: {exc.msg} (line {exc.lineno})"
            # a lone surrogate or NUL byte (ValueError), or nesting beyond the parser's limits
            return [], f"not parseable as Python: {type(exc).__name__}"
    return modules, f"{len(modules)} code block(s) parse"


def _python_parses(text: str, params: Mapping[str, Any]) -> tuple[bool, str]:
    modules, reason = _parse(text)
    return bool(modules), reason


def _functions(text: str, name: str | None) -> tuple[list[ast.FunctionDef | ast.AsyncFunctionDef], str]:
    modules, reason = _parse(text)
    if not modules:
        return [], reason
    found = [
        node
        for module in modules
        for node in ast.walk(module)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (name is None or node.name == name)
    ]
    return found, (f"no function named {name!r}" if name else "no function") if not found else "ok"


def _docstring(text: str, params: Mapping[str, Any]) -> tuple[bool, str]:
    functions, reason = _functions(text, params.get("function"))
    if not functions:
        return False, reason
    for function in functions:
        doc = ast.get_docstring(function)
        if doc and doc.strip():
            return True, f"{function.name}() has a docstring"
    return False, f"{functions[0].name}() has no docstring"


def _mentions(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(sub, ast.Name) and sub.id in names for sub in ast.walk(node))


def _is_empty_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in ("", b"", 0)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return not node.elts
    if isinstance(node, ast.Dict):
        return not node.keys
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("list", "dict", "set", "tuple", "str")
        and not node.args
    )


def _empty_test(test: ast.AST, params: set[str]) -> bool:
    """`not x`, `len(x) == 0`, `len(x) < 1`, `x == []`, `x` (truthiness) or `not len(x)` on a parameter."""
    if isinstance(test, ast.BoolOp):
        return any(_empty_test(value, params) for value in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _mentions(test.operand, params)
    if isinstance(test, ast.Name):
        return test.id in params
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "len":
        return _mentions(test, params)
    if isinstance(test, ast.Compare) and _mentions(test, params):
        sides = [test.left, *test.comparators]
        if any(_is_empty_literal(side) for side in sides):
            return True
        if any(isinstance(side, ast.Constant) and side.value in (1,) for side in sides) and any(
            isinstance(op, (ast.Lt, ast.GtE)) for op in test.ops
        ):
            return True
    return False


def _handles_empty(text: str, params: Mapping[str, Any]) -> tuple[bool, str]:
    functions, reason = _functions(text, params.get("function"))
    if not functions:
        return False, reason
    for function in functions:
        names = {arg.arg for arg in function.args.args + function.args.kwonlyargs} - {"self", "cls"}
        doc = ast.get_docstring(function) or ""
        if re.search(r">>>\s*\w+\((?:\[\]|''|\"\"|\{\}|\(\)|set\(\))", doc):
            return True, f"{function.name}() documents a test of the empty case"
        for node in ast.walk(function):
            if isinstance(node, (ast.If, ast.IfExp, ast.While, ast.Assert)) and _empty_test(node.test, names):
                return True, f"{function.name}() checks for empty input (line {node.lineno})"
            first = node.values[0] if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) else None
            if isinstance(first, ast.Name) and first.id in names:
                return True, f"{function.name}() falls back with `or` (line {first.lineno})"
            if isinstance(node, ast.keyword) and node.arg == "default":
                return (
                    True,
                    f"{function.name}() passes a default for the empty case (line {node.value.lineno})",
                )
            if isinstance(node, ast.ExceptHandler):
                caught = ast.unparse(node.type) if node.type is not None else "everything"
                if any(
                    name in caught
                    for name in (
                        "ZeroDivisionError",
                        "IndexError",
                        "ValueError",
                        "StatisticsError",
                        "everything",
                    )
                ):
                    return True, f"{function.name}() catches {caught} (line {node.lineno})"
    return False, f"{functions[0].name}() has no explicit check for empty input"


REGEX_TIMEOUT_S = 1.0
"""A prompt file's pattern is untrusted: ``(a+)+$`` backtracks for minutes. The ``regex`` package stops it."""


def _regex(text: str, params: Mapping[str, Any]) -> tuple[bool, str]:
    import regex  # noqa: PLC0415  # only a regex constraint needs it

    try:
        match = regex.search(params["pattern"], text, timeout=REGEX_TIMEOUT_S)
    except TimeoutError:
        return False, f"the pattern /{params['pattern']}/ took over {REGEX_TIMEOUT_S:.0f} s on this answer; not judged"
    return (
        match is not None,
        f"matches {match.group(0)[:40]!r}" if match else f"no match for /{params['pattern']}/",
    )


@dataclass(frozen=True)
class ConstraintKind:
    """One constraint kind: the parameters it takes (name -> type), which are required, any-of groups,
    and the function that checks a text against it."""

    check: Checker
    params: Mapping[str, type]
    required: frozenset[str] = frozenset()
    at_least_one_of: frozenset[str] = frozenset()


def _counted(noun: str, measure: Callable[[str], int]) -> ConstraintKind:
    return ConstraintKind(
        lambda text, p: _count_check(noun, measure(text), p),
        {"exact": int, "min": int, "max": int},
        at_least_one_of=frozenset({"exact", "min", "max"}),
    )


def _phrases(check: Checker) -> ConstraintKind:
    return ConstraintKind(check, {"phrases": list, "case_sensitive": bool}, required=frozenset({"phrases"}))


def _edge_kind(at_start: bool) -> ConstraintKind:
    return ConstraintKind(
        lambda text, p: _edge(text, p, at_start=at_start),
        {"text": str, "case_sensitive": bool},
        required=frozenset({"text"}),
    )


CONSTRAINT_KINDS: dict[str, ConstraintKind] = {
    "sentences": _counted("sentence", lambda text: len(sentences(text))),
    "words": _counted("word", lambda text: len(words(text))),
    "paragraphs": _counted("paragraph", lambda text: len(paragraphs(text))),
    "bullets": _counted("bullet", lambda text: len(bullet_lines(text))),
    "characters": _counted("character", lambda text: len(text.strip())),
    "include": _phrases(_include),
    "exclude": _phrases(_exclude),
    "regex": ConstraintKind(_regex, {"pattern": str}, required=frozenset({"pattern"})),
    "lowercase": ConstraintKind(lambda text, p: _case(text, lower=True), {}),
    "uppercase": ConstraintKind(lambda text, p: _case(text, lower=False), {}),
    "starts_with": _edge_kind(at_start=True),
    "ends_with": _edge_kind(at_start=False),
    "json": ConstraintKind(_json, {"keys": list}),
    "python_parses": ConstraintKind(_python_parses, {}),
    "docstring": ConstraintKind(_docstring, {"function": str}),
    "handles_empty": ConstraintKind(_handles_empty, {"function": str}),
}


def validate_constraint(raw: object, where: str) -> dict[str, Any]:
    """Check one declared constraint against its kind's schema; ArenaError names ``where`` and the field."""
    if not isinstance(raw, dict):
        raise ArenaError(f'{where}: must be a table like {{kind = "sentences", exact = 3}}')
    kind = raw.get("kind")
    if not isinstance(kind, str):
        raise ArenaError(f"{where}.kind: missing or not a string")
    spec = CONSTRAINT_KINDS.get(kind)
    if spec is None:
        raise ArenaError(f"{where}.kind: unknown constraint kind {kind!r} (known: {', '.join(CONSTRAINT_KINDS)})")
    for key, value in raw.items():
        if key == "kind":
            continue
        expected = spec.params.get(key)
        if expected is None:
            allowed = ", ".join(spec.params) or "no parameters"
            raise ArenaError(f"{where}.{key}: not a parameter of {kind!r} (allowed: {allowed})")
        # bool is an int subclass in Python; a count given as true is a mistake, not a 1
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ArenaError(f"{where}.{key}: expected {expected.__name__}, got {value!r}")
        if isinstance(value, list) and not all(isinstance(item, str) for item in value):
            raise ArenaError(f"{where}.{key}: expected a list of strings")
        if isinstance(value, int) and value < 0:
            raise ArenaError(f"{where}.{key}: must be >= 0")
    for key in spec.required:
        if key not in raw:
            raise ArenaError(f"{where}.{key}: required for {kind!r}")
    if spec.at_least_one_of and not spec.at_least_one_of & raw.keys():
        raise ArenaError(f"{where}: {kind!r} needs one of {', '.join(sorted(spec.at_least_one_of))}")
    if "min" in raw and "max" in raw and raw["min"] > raw["max"]:
        raise ArenaError(f"{where}: min {raw['min']} is above max {raw['max']}")
    if kind == "regex":
        try:
            re.compile(raw["pattern"])
        except re.error as exc:
            raise ArenaError(f"{where}.pattern: invalid regular expression: {exc}") from None
    return dict(raw)


def check(text: str, constraint: Mapping[str, Any]) -> ConstraintResult:
    kind = str(constraint["kind"])
    params = {key: value for key, value in constraint.items() if key != "kind"}
    passed, reason = CONSTRAINT_KINDS[kind].check(text, params)
    return ConstraintResult(kind=kind, passed=passed, reason=reason, params=params)
