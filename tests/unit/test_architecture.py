"""The design's import rules, checked on the source by reading it (``ast``), so CI enforces them:

- only ``arena/tui/`` imports textual; the core never imports a front end (cli, tui, web): arrows point inward;
- backends import nothing from ``arena`` but ``arena.backend`` (their one stable surface);
- each layer's folder imports only the layers below it (``LAYERS``): the engine never the store, the analysis
  never the store or the engine, judging never a front end...;
- no import circles between arena modules;
- SQL, sqlite3 and sqlite-utils only inside ``arena/store/``;
- tests never import bench/ (bench may import tests' helpers, not the reverse).

Each rule is also run once on a small synthetic module that breaks it, so a checker that silently finds
nothing fails here instead of passing forever.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.helpers import REPO

BACKENDS_DIR = REPO / "backends"
ARENA_DIR = REPO / "arena"
FRONT_ENDS = ("arena.cli", "arena.tui", "arena.web", "arena.__main__")
UPPER = ("arena.judging", "arena.reports", "arena.formats", "arena.present", *FRONT_ENDS)
LAYERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # folder: (never imported, not even for annotations; imported for annotations only, never at run time)
    "arena.backend": (("arena.engine", "arena.analysis", "arena.store", *UPPER), ()),
    "arena.engine": (("arena.store", *UPPER), ()),
    "arena.analysis": (("arena.engine", "arena.store", *UPPER), ()),
    "arena.store": (
        ("arena.judging", "arena.reports", "arena.present", *FRONT_ENDS),
        ("arena.engine", "arena.formats"),
    ),
    "arena.formats": (("arena.engine", "arena.judging", "arena.reports", "arena.present", *FRONT_ENDS), ()),
    "arena.reports": (("arena.engine", "arena.judging", "arena.formats", "arena.present", *FRONT_ENDS), ()),
    "arena.judging": (("arena.formats", "arena.present", *FRONT_ENDS), ()),
    "arena.present": (FRONT_ENDS, ("arena.store", "arena.engine", "arena.judging")),
}
"""What may import what, by folder (the README's Layout). The shared modules at the top (errors, vocab,
untrusted, wording, config, prompts) are imported by everyone."""
SQL_STATEMENT = re.compile(
    r"^\s*(select\s.+\sfrom\s|insert\s+(or\s+\w+\s+)?into\s|update\s+\[?\w+\]?\s+set\s|delete\s+from\s"
    r"|create\s+(table|index|view)\s|alter\s+table\s|drop\s+table\s|pragma\s|begin(\s|$)|commit(\s|$))",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class Import:
    module: str
    line: int
    type_checking_only: bool


@dataclass(frozen=True)
class SourceModule:
    name: str
    path: Path
    tree: ast.Module


def module_name(path: Path) -> str:
    """``arena/store/database.py`` -> ``arena.store.database``; backends are top-level packages."""
    root = BACKENDS_DIR if BACKENDS_DIR in path.parents else REPO
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def load_modules() -> list[SourceModule]:
    paths = sorted(ARENA_DIR.rglob("*.py")) + sorted(BACKENDS_DIR.rglob("*.py"))
    return [SourceModule(module_name(p), p, ast.parse(p.read_text(encoding="utf-8"), str(p))) for p in paths]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: SourceModule) -> list[Import]:
    """Every import in the module, at any depth, with whether it sits under ``if TYPE_CHECKING:``."""
    found: list[Import] = []
    package = module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]

    def visit(node: ast.AST, type_checking: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_checking)
            return
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno, type_checking) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append(Import(base, node.lineno, type_checking))
            # `from arena import x` may import the submodule arena.x
            found.extend(Import(f"{base}.{alias.name}", node.lineno, type_checking) for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child, type_checking)

    visit(module.tree, False)
    return found


def top(name: str) -> str:
    return name.split(".")[0]


def violations_textual_outside_tui(modules: list[SourceModule]) -> list[str]:
    return [
        f"{m.name}:{i.line} imports {i.module}"
        for m in modules
        if not m.name.startswith("arena.tui")
        for i in imports_of(m)
        if top(i.module) == "textual"
    ]


def violations_core_imports_front_end(modules: list[SourceModule]) -> list[str]:
    core = [m for m in modules if m.name.startswith("arena") and not m.name.startswith(FRONT_ENDS)]
    return [
        f"{m.name}:{i.line} imports {i.module}" for m in core for i in imports_of(m) if i.module.startswith(FRONT_ENDS)
    ]


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def violations_layers(modules: list[SourceModule]) -> list[str]:
    found = []
    for module in modules:
        for layer, (never, annotations_only) in LAYERS.items():
            if not _within(module.name, (layer,)):
                continue
            for item in imports_of(module):
                if _within(item.module, never) or (
                    _within(item.module, annotations_only) and not item.type_checking_only
                ):
                    found.append(f"{module.name}:{item.line} imports {item.module}")
    return found


def violations_backend_surface(modules: list[SourceModule]) -> list[str]:
    backends = [m for m in modules if m.path.is_relative_to(BACKENDS_DIR)]
    return [
        f"{m.name}:{i.line} imports {i.module}"
        for m in backends
        for i in imports_of(m)
        if top(i.module) == "arena"
        and i.module not in ("arena", "arena.backend")
        and not i.module.startswith("arena.backend.")  # a name imported from arena.backend
    ]


def import_graph(modules: list[SourceModule]) -> dict[str, set[str]]:
    """Module -> arena modules it imports at run time (TYPE_CHECKING imports never execute)."""
    names = {m.name for m in modules}
    graph: dict[str, set[str]] = {}
    for module in modules:
        edges = set()
        for item in imports_of(module):
            if item.type_checking_only:
                continue
            target = item.module
            while target and target not in names:
                target = target.rpartition(".")[0]
            if target and target != module.name and not module.name.startswith(target + "."):
                edges.add(target)
        graph[module.name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strongconnect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                strongconnect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            strongconnect(node)
    return found


def _strings(tree: ast.AST) -> Iterator[ast.Constant]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            yield ast.Constant(value=text, lineno=node.lineno)


def violations_sql_outside_store(modules: list[SourceModule]) -> list[str]:
    found = []
    for module in modules:
        if module.name.startswith("arena.store"):
            continue
        for item in imports_of(module):
            if top(item.module) in ("sqlite3", "sqlite_utils"):
                found.append(f"{module.name}:{item.line} imports {item.module}")
        for constant in _strings(module.tree):
            if SQL_STATEMENT.match(str(constant.value)):
                found.append(f"{module.name}:{constant.lineno} holds SQL {str(constant.value)[:40]!r}")
    return found


RULES = {
    "textual only in arena/tui": violations_textual_outside_tui,
    "core never imports cli or tui": violations_core_imports_front_end,
    "backends import only arena.backend": violations_backend_surface,
    "SQL only in arena/store": violations_sql_outside_store,
    "each layer imports only the layers below it": violations_layers,
}


@pytest.fixture(scope="module")
def modules() -> list[SourceModule]:
    return load_modules()


def test_the_checker_sees_the_whole_project(modules: list[SourceModule]) -> None:
    names = {m.name for m in modules}
    assert {"arena.backend", "arena.store.connection", "arena.tui.app", "arena_hf.model", "arena.cli.run"} <= names


@pytest.mark.parametrize("rule", sorted(RULES))
def test_import_rule_holds(rule: str, modules: list[SourceModule]) -> None:
    assert RULES[rule](modules) == []


def test_no_import_circles(modules: list[SourceModule]) -> None:
    assert cycles(import_graph(modules)) == []


def test_tests_never_import_bench() -> None:
    offenders = []
    paths = sorted((REPO / "tests").rglob("*.py"))
    assert len(paths) > 50  # every tier is read (a glob that finds nothing would pass forever)
    for path in paths:
        name = ".".join(path.relative_to(REPO).with_suffix("").parts)
        module = SourceModule(name, path, ast.parse(path.read_text(encoding="utf-8")))
        offenders += [f"{path.name}:{i.line}" for i in imports_of(module) if top(i.module) == "bench"]
    assert offenders == []


BROKEN = {
    "textual only in arena/tui": ("arena/fake_core.py", "from textual.app import App\n"),
    "core never imports cli or tui": ("arena/fake_core.py", "def f():\n    from arena.tui.app import ArenaApp\n"),
    "backends import only arena.backend": ("backends/arena_fake/__init__.py", "from arena.store import Store\n"),
    "SQL only in arena/store": ("arena/fake_core.py", 'ROWS = "select id from battles where verdict = ?"\n'),
    "each layer imports only the layers below it": ("arena/engine/fake.py", "from arena.store import Store\n"),
}

LAYER_BREAKS = {
    "the engine imports the store": ("arena/engine/fake.py", "from arena.store.queries import vote_rows\n"),
    "the analysis imports the engine": ("arena/analysis/fake.py", "from arena.engine.pool import ModelPool\n"),
    "the analysis imports the store, for annotations": (
        "arena/analysis/fake.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from arena.store import Store\n",
    ),
    "judging imports a front end": ("arena/judging/fake.py", "def f():\n    from arena.tui.app import ArenaApp\n"),
    "judging imports the web front end": ("arena/judging/fake.py", "from arena.web.serve import serve\n"),
    "the store imports the engine at run time": (
        "arena/store/fake.py",
        "from arena.engine.fidelity import FidelityRow\n",
    ),
    "presentation imports the store at run time": ("arena/present/fake.py", "from arena.store import Store\n"),
    "the plugin surface imports the engine": ("arena/backend/fake.py", "from arena.engine.pool import ModelPool\n"),
}
ALLOWED = {
    "the store imports the engine for annotations": (
        "arena/store/fake.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from arena.engine.fidelity import FidelityRow\n",
    ),
    "judging imports the store and the engine": (
        "arena/judging/fake.py",
        "from arena.store import Store\nfrom arena.engine.pool import ModelPool\n",
    ),
    "a front end imports judging": ("arena/web/fake.py", "from arena.judging.open import PlayOptions\n"),
}


def _fake(relative: str, source: str) -> SourceModule:
    path = REPO / relative
    return SourceModule(module_name(path), path, ast.parse(source))


@pytest.mark.parametrize("case", sorted(LAYER_BREAKS))
def test_the_layer_rule_catches_each_kind_of_break(case: str) -> None:
    assert violations_layers([_fake(*LAYER_BREAKS[case])]) != []


@pytest.mark.parametrize("case", sorted(ALLOWED))
def test_the_layer_rule_lets_the_allowed_imports_through(case: str) -> None:
    assert violations_layers([_fake(*ALLOWED[case])]) == []


def test_every_arena_folder_has_a_place_in_the_layers(modules: list[SourceModule]) -> None:
    """A new folder must be given its rule (or named shared), so nothing grows outside the contract."""
    folders = {m.name.split(".")[1] for m in modules if m.name.startswith("arena.") and m.path.parent != ARENA_DIR}
    ruled = {layer.split(".")[1] for layer in LAYERS} | {f.split(".")[1] for f in FRONT_ENDS if f != "arena.__main__"}
    assert folders - ruled == {"demo"}  # the demo's contestants: built like a front end, imported by cli only


def test_about_ten_shared_modules_stay_at_the_top() -> None:
    top_level = sorted(path.stem for path in ARENA_DIR.glob("*.py") if path.stem not in ("__init__", "__main__"))
    # answer_sets: the shapes formats (which reads other tools' answers) and judging (which stores them as a
    # batch) share; neither layer may import the other
    assert top_level == ["answer_sets", "config", "errors", "prompts", "untrusted", "vocab", "wording"]


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_each_rule_catches_a_module_that_breaks_it(rule: str) -> None:
    relative, source = BROKEN[rule]
    path = REPO / relative
    fake = SourceModule(module_name(path), path, ast.parse(source))
    assert RULES[rule]([fake]) != []


def test_the_circle_finder_finds_a_circle() -> None:
    fake = {"arena.a": {"arena.b"}, "arena.b": {"arena.c"}, "arena.c": {"arena.a"}, "arena.d": {"arena.a"}}
    assert cycles(fake) == [["arena.a", "arena.b", "arena.c"]]


MAX_FUNCTION_LINES = 80
MAX_CLASS_LINES = 300
"""Past these a function or class does several jobs (the review of 2026-12 found 6 functions over 80 lines
and 2 classes over 300; they were split, and this keeps them from growing back)."""


def oversized(modules: list[SourceModule]) -> list[str]:
    """Functions over ``MAX_FUNCTION_LINES`` and classes over ``MAX_CLASS_LINES`` lines (``def`` to the end,
    decorators aside), in the project's own code."""
    found = []
    for module in modules:
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            size = (node.end_lineno or node.lineno) - node.lineno + 1
            limit = MAX_CLASS_LINES if isinstance(node, ast.ClassDef) else MAX_FUNCTION_LINES
            if size > limit:
                found.append(f"{module.name}:{node.lineno} {node.name} is {size} lines (at most {limit})")
    return found


def test_functions_and_classes_stay_small(modules: list[SourceModule]) -> None:
    assert oversized(modules) == []


def test_the_size_rule_catches_a_long_function_and_a_long_class() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    methods = "".join(f"    def m{i}(self) -> None:\n        pass\n\n" for i in range(MAX_CLASS_LINES // 3 + 1))
    source = f"def long() -> None:\n{body}\n\nclass Big:\n{methods}"
    fake = SourceModule("arena.fake", ARENA_DIR / "fake.py", ast.parse(source))
    found = oversized([fake])
    assert len(found) == 2 and "long is 81 lines" in found[0] and "Big is" in found[1]
