"""The prompt on top of the battle: progress, id, category, constraints, then the text itself."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from arena.prompts import Prompt
from arena.tui.text import literal


def describe_constraint(constraint: dict[str, object]) -> str:
    params = ", ".join(f"{key} {value}" for key, value in constraint.items() if key != "kind")
    return f"{constraint['kind']}" + (f" ({params})" if params else "")


class PromptHeader(Static):
    def show(self, prompt: Prompt, progress: str) -> None:
        line = Text.assemble((progress, "bold"), "  ", (prompt.uid, "cyan"), "  ", (prompt.category, "magenta"))
        if prompt.constraints:
            line.append("  constraints: ", "dim")
            line.append(literal("; ".join(describe_constraint(dict(c)) for c in prompt.constraints), "dim"))
        line.append("\n")
        line.append(literal(prompt.text))
        self.update(line)
