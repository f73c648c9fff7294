"""``arena report --html``: one self-contained page to pass on (a pull request, a chat), with plots beside
the numbers.

Plots are matplotlib figures written as SVG into the page: no JavaScript and nothing loaded from any host,
so the file opens offline from disk, prints, and stays a few hundred KB (plotly would inline 3.6 MB of
script into every page for interactivity a static verdict does not need). Every text that did not come
from this code (contestant names, categories, judges) goes through the one sanitizer and is HTML-escaped;
in the figures matplotlib escapes it for SVG, with its math syntax switched off (a name like ``$x^2$``
stays text).
"""

from __future__ import annotations

import html
import io
import math
import warnings
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from arena.analysis.flags import FLAGS, RATED_FLAGS
from arena.analysis.ratings import Leaderboard
from arena.analysis.style import STYLE_MIN_PROMPTS, STYLE_MIN_VOTES, style_provisional
from arena.errors import ArenaError
from arena.present.info import VERSUS_HEADERS, versus_cells
from arena.present.leaderboard import leaderboard_notes
from arena.reports.page import MIN_CATEGORY_BATTLES, PageData
from arena.untrusted import visible
from arena.wording import counted

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1d2430; background: #fff; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.4rem; border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
.meta, .note { color: #57606a; font-size: .92rem; }
.pair { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
.pair > div { flex: 1 1 30rem; min-width: 0; overflow-x: auto; }
.wide { overflow-x: auto; }
.wide td { white-space: nowrap; }
table { border-collapse: collapse; font-size: .9rem; margin: .6rem 0; }
th, td { border-bottom: 1px solid #eaeef2; padding: .25rem .6rem; text-align: right; }
th:first-child, td:first-child, td.name { text-align: left; }
td.name { font-family: ui-monospace, monospace; }
svg { max-width: 100%; height: auto; }
.provisional { color: #8c959f; }
"""


def _text(value: object) -> str:
    """Untrusted or not, as HTML text: spelled-out control characters, then escaped."""
    return html.escape(visible(str(value)))


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], names: int = 1) -> str:
    """An HTML table; the first ``names`` columns hold names (left-aligned, monospace)."""
    head = "".join(f"<th>{_text(cell)}</th>" for cell in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="name">{_text(cell)}</td>' if index < names else f"<td>{_text(cell)}</td>"
            for index, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _svg(figure: Any) -> str:
    """The figure as inline SVG (no XML prolog), with deterministic ids."""
    buffer = io.StringIO()
    with warnings.catch_warnings():  # "constrained_layout not applied" and its source line are not the user's
        warnings.simplefilter("ignore", UserWarning)
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    if "<metadata>" in svg:  # matplotlib's RDF block: a date and namespace URLs the page has no use for
        svg = svg[: svg.index("<metadata>")] + svg[svg.index("</metadata>") + len("</metadata>") :]
    return svg


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure  # noqa: PLC0415

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


TICK_LABEL_MAX = 48
"""Characters of a contestant's name on a plot's axis (the tables give it whole): a long name made
matplotlib's tight layout grow the figure with the square of its length."""


def _label(name: str) -> str:
    shown = visible(name)
    return shown if len(shown) <= TICK_LABEL_MAX else shown[: TICK_LABEL_MAX - 1] + "…"


def forest_plot(board: Leaderboard) -> str:
    """Each contestant's rating and 95% interval on one axis; provisional ones hollow and grey."""
    ratings = board.ratings
    figure = _figure(7.0, 0.45 * len(ratings) + 1.2)
    axes = figure.add_subplot()
    for row, rating in enumerate(reversed(ratings)):
        color = "#8c959f" if rating.provisional else "#0969da"
        axes.plot([rating.ci_low, rating.ci_high], [row, row], color=color, linewidth=2.2)
        axes.plot(
            [rating.rating],
            [row],
            marker="o",
            markersize=7,
            color=color,
            markerfacecolor="white" if rating.provisional else color,
        )
    axes.set_yticks(range(len(ratings)))
    axes.set_yticklabels(
        [_label(r.contestant) + (" (provisional)" if r.provisional else "") for r in reversed(ratings)]
    )
    axes.set_xlabel("rating (Bradley-Terry, Elo scale) with its 95% interval")
    axes.grid(axis="x", color="#eaeef2")
    axes.set_axisbelow(True)
    return _svg(figure)


def heatmap(board: Leaderboard) -> str:
    """Row's win rate against column (ties count half), with the battle count in each cell."""
    labels = [rating.contestant for rating in board.ratings]
    size = len(labels)
    figure = _figure(1.1 * size + 2.6, 0.8 * size + 1.6)
    axes = figure.add_subplot()
    grid = [[math.nan] * size for _ in range(size)]
    for i, row in enumerate(labels):
        for j, column in enumerate(labels):
            value = board.win_matrix.get(row, {}).get(column)
            grid[i][j] = math.nan if value is None else value
    image = axes.imshow(grid, cmap="RdBu", vmin=0.0, vmax=1.0)
    for i, row in enumerate(labels):
        for j, column in enumerate(labels):
            count = board.count_matrix.get(row, {}).get(column, 0)
            value = grid[i][j]
            if i != j and count:
                shown = f"{value * 100:.0f}%\nn={count}" if not math.isnan(value) else f"n={count}"
                axes.text(j, i, shown, ha="center", va="center", fontsize=8)
    axes.set_xticks(range(size))
    axes.set_xticklabels([_label(label) for label in labels], rotation=35, ha="right")
    axes.set_yticks(range(size))
    axes.set_yticklabels([_label(label) for label in labels])
    axes.set_xlabel("against")
    figure.colorbar(image, ax=axes, label="win rate of the row (ties half)")
    return _svg(figure)


def rate_plot(data: PageData) -> str:
    """Each contestant's constraint adherence and loop rate with their 95% intervals."""
    rows = [row for row in data.report if row.rates["constraints"].n or row.rates["repetitive"].n]
    figure = _figure(7.0, 0.5 * len(rows) + 1.4)
    axes = figure.add_subplot()
    for offset, (name, color) in enumerate((("constraints", "#1a7f37"), ("repetitive", "#cf222e"))):
        for index, row in enumerate(reversed(rows)):
            rate = row.rates[name]
            if not rate.n or rate.rate is None:
                continue
            y = index + (offset - 0.5) * 0.25
            axes.plot([rate.low * 100, rate.high * 100], [y, y], color=color, linewidth=2)
            axes.plot([rate.rate * 100], [y], marker="o", color=color, label=None)
    axes.plot([], [], color="#1a7f37", marker="o", label="constraints met")
    axes.plot([], [], color="#cf222e", marker="o", label="loops (repetitive)")
    axes.legend(loc="lower right", fontsize=8)
    axes.set_yticks(range(len(rows)))
    axes.set_yticklabels([_label(row.contestant) for row in reversed(rows)])
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of answers, with 95% intervals (a prompt's answers count as one cluster)")
    axes.grid(axis="x", color="#eaeef2")
    return _svg(figure)


def style_plot(board: Leaderboard) -> str:
    assert board.style is not None
    figure = _figure(6.0, 0.5 * len(board.style) + 1.2)
    axes = figure.add_subplot()
    for row, coefficient in enumerate(board.style):
        axes.plot([coefficient.ci_low, coefficient.ci_high], [row, row], color="#8250df", linewidth=2)
        axes.plot([coefficient.coefficient], [row], marker="o", color="#8250df")
    axes.axvline(0.0, color="#57606a", linewidth=0.8)
    axes.set_yticks(range(len(board.style)))
    axes.set_yticklabels([coefficient.feature for coefficient in board.style])
    axes.set_xlabel("log-odds of winning per standard deviation of the difference (95% interval)")
    return _svg(figure)


def _board_rows(board: Leaderboard) -> list[list[object]]:
    return [
        [
            rating.contestant,
            "?" if rating.provisional else rating.rank_ub,
            f"{rating.rating:.0f}",
            "too few" if rating.provisional else f"{rating.ci_low:.0f}-{rating.ci_high:.0f}",
            f"{rating.wins}-{rating.ties}-{rating.losses}-{rating.both_bad}",
            f"{rating.win_rate * 100:.0f}% ({rating.win_rate_low * 100:.0f}-{rating.win_rate_high * 100:.0f})",
        ]
        for rating in board.ratings
    ]


BOARD_HEADER = ["contestant", "rank", "rating", "95% CI", "W-T-L-B", "win% (CI)"]
RATE_HEADER = ["contestant", "answers", "constraints met", *(spec.column for spec in FLAGS if spec.column is not None)]


def _share(value: float | None, low: float, high: float) -> str:
    return "-" if value is None else f"{value * 100:.0f}% ({low * 100:.0f}-{high * 100:.0f})"


RC: dict[Any, Any] = {"text.parse_math": False, "svg.fonttype": "none", "svg.hashsalt": "vibe-arena"}
"""Figures for untrusted labels: no math syntax ($...$ stays text), text kept as text, stable ids."""


def render_page(data: PageData, *, source: str) -> str:
    """The whole page for ``data`` (``source``: the database it came from, as the user named it)."""
    try:
        import matplotlib  # noqa: PLC0415  # the [report] extra: only when a page is written
    except ImportError as exc:
        raise ArenaError("arena report --html draws with matplotlib: pip install 'vibe-arena[report]'") from exc
    with matplotlib.rc_context(RC):
        return _page(data, source)


def _page(data: PageData, source: str) -> str:
    """The page: a header, then one section per part of the report the data has (each section says why)."""
    if not data.board.ratings:
        raise ArenaError("no votes to report on: judge some battles first (arena play, arena demo)")
    sections = (_board, _matrix, _categories, _style, _assisted, _flags, _judges, _automatic_judges, _fidelity)
    parts = [*_head(data, source), *(part for section in sections for part in section(data))]
    return "\n".join([*parts, "</body></html>\n"])


def _head(data: PageData, source: str) -> list[str]:
    board = data.board
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>vibe-arena report: {_text(source)}</title><style>{STYLE}</style></head><body>",
        "<h1>vibe-arena report</h1>",
        f'<p class="meta">{_text(source)} · {counted(board.battles, "battle")} on '
        f"{counted(board.prompts, 'prompt')} · human judges' votes only (skips and votes taken back left out) · "
        f"{board.rounds} bootstrap rounds · generated {generated}</p>",
    ]


def _board(data: PageData) -> list[str]:
    board = data.board
    notes = "".join(f'<p class="note">{_text(note.plain)}</p>' for note in leaderboard_notes(board))
    parts = [
        "<h2>Leaderboard</h2>",
        f'<div class="pair"><div>{forest_plot(board)}</div><div>{_table(BOARD_HEADER, _board_rows(board))}'
        f'<p class="note">rank: Rank(UB), the rank no one is surely above; ? = provisional (too few battles to '
        f"rank); W-T-L-B: wins, ties, losses, both bad</p></div></div>",
        notes,
    ]
    if data.leaked:
        parts.append(f'<p class="note">{counted(data.leaked, "battle")} had an answer that named its model</p>')
    return parts


def _matrix(data: PageData) -> list[str]:
    board = data.board
    if len(board.ratings) < 2:
        return []
    labels = [r.contestant for r in board.ratings]

    def cell(row: str, column: str) -> str:
        value = board.win_matrix.get(row, {}).get(column)
        if row == column or value is None:
            return "-"
        return f"{value * 100:.0f}% of {board.count_matrix.get(row, {}).get(column, 0)}"

    rows = [[row] + [cell(row, column) for column in labels] for row in labels]
    return [
        "<h2>Win rates between contestants</h2>",
        f'<div class="pair"><div>{heatmap(board)}</div><div>'
        f"{_table(['row against column', *labels], rows)}</div></div>",
    ]


def _categories(data: PageData) -> list[str]:
    if not data.categories:
        return [
            "<h2>Ranks per category</h2>",
            f'<p class="note">No category has {MIN_CATEGORY_BATTLES} battles yet: ranks per category appear here '
            "once one has.</p>",
        ]
    labels = [rating.contestant for rating in data.board.ratings]
    rows: list[list[object]] = []
    for category, of_category in data.categories.items():
        by_label = {rating.contestant: rating for rating in of_category.ratings}
        ranks = [
            "-" if label not in by_label else ("?" if by_label[label].provisional else by_label[label].rank_ub)
            for label in labels
        ]
        rows.append([category, of_category.battles, *ranks])
    return [
        "<h2>Ranks per category</h2>",
        _table(["category", "battles", *labels], rows),
        f'<p class="note">Rank(UB) within each category that has at least {MIN_CATEGORY_BATTLES} battles; '
        "? = provisional there.</p>",
    ]


def _style(data: PageData) -> list[str]:
    styled = data.styled
    if styled is None or styled.style is None:
        return []
    if not any(c.ci_low != 0.0 or c.ci_high != 0.0 for c in styled.style):
        return []  # answers without text (imported votes alone) leave nothing to control for
    coefficients = [[c.feature, f"{c.coefficient:+.3f}", f"{c.ci_low:+.3f} to {c.ci_high:+.3f}"] for c in styled.style]
    provisional = (
        f'<p class="note">Provisional: {styled.battles} votes on {styled.prompts} prompts are too few to say which '
        f"way style pulls (at least {STYLE_MIN_VOTES} votes on {STYLE_MIN_PROMPTS} prompts).</p>"
        if style_provisional(styled.battles, styled.prompts)
        else ""
    )
    return [
        "<h2>Style control</h2>",
        '<p class="note">Ratings with answer length and markdown taken out, and how much each swayed the judges.</p>',
        provisional,
        f'<div class="pair"><div>{style_plot(styled)}</div><div>'
        f"{_table(['feature', 'coefficient', '95% CI'], coefficients)}"
        f"{_table(BOARD_HEADER, _board_rows(styled))}</div></div>",
    ]


def _assisted(data: PageData) -> list[str]:
    assisted = data.assisted
    if assisted is None or assisted.facts is None:
        return []
    notes = "".join(f'<p class="note">{_text(line)}</p>' for line in assisted.facts.lines())
    return [
        "<h2>Assisted by an automatic judge</h2>",
        f'<div class="pair"><div>{forest_plot(assisted)}</div><div>{_table(BOARD_HEADER, _board_rows(assisted))}'
        f"{notes}</div></div>",
    ]


def _flags(data: PageData) -> list[str]:
    if not data.report:
        return []
    rate_rows = []
    for row in data.report:
        cells: list[object] = [row.contestant, row.generations]
        for name in ("constraints", *RATED_FLAGS):
            rate = row.rates[name]
            cells.append(
                "-"
                if not rate.n or rate.rate is None
                else f"{rate.hits}/{rate.n} {rate.rate * 100:.0f}% ({rate.low * 100:.0f}-{rate.high * 100:.0f})"
            )
        rate_rows.append(cells)
    return [  # the table under the plot, at the page's width: beside it, its columns overflowed at 1280 px
        "<h2>Flags and constraints (every answer in the database)</h2>",
        f"<div>{rate_plot(data)}</div>",
        f'<div class="wide">{_table(RATE_HEADER, rate_rows)}</div>',
        '<p class="note">count/n, rate (95% CI): for constraints the answers that met them, for every flag the '
        "answers it flagged; answers stopped by the judge are not counted.</p>",
    ]


def _judges(data: PageData) -> list[str]:
    judges = data.judges
    if judges is None:
        return []
    alpha = "-" if judges.alpha is None else f"{judges.alpha:.2f}"
    pairs = [[p.a, p.b, p.shared, "-" if p.kappa is None else f"{p.kappa:.2f}"] for p in judges.pairs if p.shared]
    bias = [
        [
            j.judge,
            j.votes,
            "-"
            if j.left_share is None
            else f"{j.left_share * 100:.0f}% ({j.left_low * 100:.0f}-{j.left_high * 100:.0f})",
            ("yes" if j.flagged else "no") if judges.outliers_tested else "not called",
        ]
        for j in judges.judges
    ]
    return [
        "<h2>Judges</h2>",
        f'<p class="note">Krippendorff\'s alpha over {counted(judges.items_with_several_judges, "item")} judged '
        f"by several judges: {alpha}</p>",
        _table(["judge", "judge", "shared items", "Cohen's kappa"], pairs, names=2) if pairs else "",
        _table(["judge", "votes", "left pane chosen (CI)", "votes unlike the rest"], bias),
        f'<p class="note">{_text(judges.outlier_note)}</p>' if judges.outlier_note else "",
    ]


def _automatic_judges(data: PageData) -> list[str]:
    if not data.versus:
        return [
            "<h2>Automatic judges against the people</h2>",
            '<p class="note">No automatic judge has judged these battles: <code>arena autojudge --judge SPEC</code> '
            "gives verdicts; this page then compares them with the people's votes on the same answers.</p>",
        ]

    rows: list[list[object]] = [[row.judge, *versus_cells(row)] for row in data.versus]
    return [
        "<h2>Automatic judges against the people</h2>",
        '<p class="note">Each automatic judge (arena autojudge) against the people\'s votes on the same items, '
        "beside free baselines; worth: the human votes its verdicts count for on the judge-assisted board.</p>",
        _table(["judge", *VERSUS_HEADERS], rows),
    ]


def _fidelity(data: PageData) -> list[str]:
    if not data.fidelity:
        return []
    rows = [
        [label, f.reference, f"{f.top1_agreement * 100:.1f}%", f"{f.mean_kld:.4f}", f.tokens]
        for label, f in data.fidelity.items()
    ]
    return [
        "<h2>Fidelity to a reference model</h2>",
        _table(["contestant", "reference", "top-1 agreement", "mean KL", "tokens"], rows, names=2),
    ]
