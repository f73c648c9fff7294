"""``arena report --html``: a self-contained page, rendered in headless Chromium, with untrusted names as text."""

from __future__ import annotations

import random
import re
from pathlib import Path

from tests.support.browser import CHROMIUM_FLAGS, chromium_or_skip
from tests.support.helpers import assert_one_line_error, run
from tests.support.votes import add_votes

HOSTILE = "<script>alert(1)</script>"
MATH = "$x^2$-tuned"
NAMES = ["base", "tuned-q4", HOSTILE, MATH]


def _database(path: Path) -> None:
    rng = random.Random(3)
    strength = dict(zip(NAMES, [1.0, 0.5, 0.2, 0.0], strict=True))
    votes = []
    for _ in range(160):
        a, b = rng.sample(NAMES, 2)
        better = strength[a] - strength[b] + rng.gauss(0, 0.8) > 0
        votes.append((a, b, "left" if better else "right"))
    add_votes(path, votes, judge="ana")
    add_votes(path, votes[:40], judge="bo")  # a second judge on the same items: the agreement section


def test_the_page_is_self_contained_renders_and_shows_untrusted_names_as_text(tmp_path: Path) -> None:
    chromium = chromium_or_skip()
    db, page = tmp_path / "v.db", tmp_path / "report.html"
    _database(db)
    result = run("report", "--db", str(db), "--html", str(page))
    assert result.exit_code == 0, result.output
    source = page.read_text(encoding="utf-8")
    assert "<script" not in source.replace("&lt;script", "")  # the name is escaped, and the page has no script
    assert (
        "src=" not in source
        and "@import" not in source
        and "http" not in re.sub(r'xmlns(:\w+)?="http://www\.w3\.org/[^"]*"', "", source)
    )
    assert set(re.findall(r"url\(([^)]*)\)", source)) <= {m for m in re.findall(r"url\((#[^)]*)\)", source)}  # in-page
    assert source.count("<svg") >= 3  # forest plot, heatmap, the flags' plot or the judges' ...
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.on("request", lambda request: requests.append(request.url))
            tab.goto(page.as_uri())
            text = tab.inner_text("body")
            alerts = tab.evaluate("document.querySelectorAll('script').length")
            drawn = tab.evaluate(
                "Array.from(document.querySelectorAll('svg')).filter(s => s.getBoundingClientRect().width > 100).length"
            )
            svg_text = tab.evaluate(
                "Array.from(document.querySelectorAll('svg text')).map(t => t.textContent).join(' ')"
            )
            shot = tab.screenshot(full_page=True)
            overflow = tab.evaluate(  # the newcomer's 1280 px: the flags table ran into a scrollbar
                "Array.from(document.querySelectorAll('.wide')).map(d => d.scrollWidth - d.clientWidth)"
            )
        finally:
            browser.close()
    assert requests == [page.as_uri()]  # nothing but the file itself
    assert alerts == 0 and HOSTILE in text and MATH in text  # shown as the text it is
    assert MATH in svg_text and HOSTILE in svg_text  # in the figures too, math syntax off
    assert drawn >= 3
    assert "Leaderboard" in text and "Win rates between contestants" in text and "Judges" in text
    assert overflow and max(overflow) <= 0, overflow
    assert "No automatic judge has judged these battles" in text  # a missing section says why
    colours = len(set(shot[i : i + 3] for i in range(0, min(len(shot), 400_000), 97)))
    assert len(shot) > 50_000 and colours > 50  # a page with plots, not a blank one


def test_a_database_without_votes_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    run("leaderboard", "--db", str(db))  # creates nothing: a reading command
    from arena.store import Store

    Store(db).close()
    assert_one_line_error(run("report", "--db", str(db), "--html", str(tmp_path / "r.html")), "no votes to report on")
