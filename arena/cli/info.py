"""Commands that describe the installation: ``prompts``, ``backends`` and ``doctor``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from arena.cli.common import console, db_option, echo_json
from arena.errors import ArenaError


@click.command()
@click.argument("name_or_path", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable output.")
def prompts(name_or_path: str | None, as_json: bool) -> None:
    """List the shipped prompt sets, or show (and validate) one set or file."""
    from arena.present.info import prompt_set_table, prompt_sets_table
    from arena.prompts import load_prompt_set, shipped_set_names

    if name_or_path is None:
        sets = [load_prompt_set(name) for name in shipped_set_names()]
        if as_json:
            rows = [
                {"name": s.name, "prompts": len(s), "categories": s.categories, "description": s.description}
                for s in sets
            ]
            echo_json(rows)
        else:
            out = console()
            out.print(prompt_sets_table(sets, width=out.width))
        return
    prompt_set = load_prompt_set(name_or_path)
    if as_json:
        rows = [
            {
                "id": p.id,
                "category": p.category,
                "text": p.text,
                "system": p.system,
                "constraints": [dict(c) for c in p.constraints],
            }
            for p in prompt_set.prompts
        ]
        echo_json({"name": prompt_set.name, "prompts": rows})
    else:
        out = console()
        out.print(prompt_set_table(prompt_set, width=out.width))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable output.")
def backends(as_json: bool) -> None:
    """List installed backends and whether their libraries import."""
    from dataclasses import asdict

    from arena.backend.registry import backend_entry_points, get_backend, missing_requirements
    from arena.present.info import backends_table

    rows: list[dict[str, Any]] = []
    for name, entry_point in sorted(backend_entry_points().items()):
        row: dict[str, Any] = {"name": name, "entry_point": entry_point.value}
        try:
            backend = get_backend(name)
        except ArenaError as exc:
            row.update(description="", options=[], missing=[], capabilities={}, status=f"broken: {exc}")
        else:
            missing = missing_requirements(backend)
            row.update(
                description=backend.description,
                options=sorted(backend.options),
                missing=missing,
                capabilities=asdict(backend.capabilities),
                status="ok" if not missing else "missing: " + ", ".join(missing),
            )
        rows.append(row)
    if as_json:
        echo_json(rows)
    else:
        console().print(backends_table(rows))


@click.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable output.")
def doctor(db_path: Path, as_json: bool) -> None:
    """Report Python, devices (CUDA, MPS), optional libraries, data dir and database."""
    from arena.present.info import doctor_table
    from arena.reports.doctor import collect

    report = collect(db_path)
    if as_json:
        echo_json(report)
    else:
        console().print(doctor_table(report))
    database = report["database"]
    if "error" in database or database.get("integrity", "ok") != "ok":
        sys.exit(2)  # the table (or JSON) above says what is wrong with the file
