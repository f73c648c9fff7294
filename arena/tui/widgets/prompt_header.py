"""The prompt on top of the battle: progress, id, category, constraints, then the text itself."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from arena.prompts import Prompt
from arena.tui.text import literal


def describe_constraint(constraint: dict[str, object]) -> str:
    """``include (phrases 11:00, 240)``: a prompt file's values as words, never Python's list repr."""

    def shown(value: object) -> str:
        return " / ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)

    params = ", ".join(f"{key} {shown(value)}" for key, value in constraint.items() if key != "kind")
    return f"{constraint['kind']}" + (f" ({params})" if params else "")


class PromptHeader(Static):
    """What the judge reads: the prompt. Its checkable constraints (which hold the expected answers) are
    the arena's answer key, so they appear only at the reveal."""

    def show(self, prompt: Prompt, progress: str, *, reveal: bool = False) -> None:
        if prompt.set == "custom":
            line = Text.assemble(("your prompt", "bold"))
        else:
            line = Text.assemble((progress, "bold"), "  ", literal(prompt.uid, "cyan"))
            if prompt.category != prompt.set:
                line.append("  ")
                line.append(literal(prompt.category, "magenta"))
        if reveal and prompt.constraints:
            line.append("  checked: ", "dim")
            line.append(literal("; ".join(describe_constraint(dict(c)) for c in prompt.constraints), "dim"))
        line.append("\n")
        line.append(literal(prompt.text))
        self.update(line)
