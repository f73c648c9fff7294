"""Make the README's picture: a judge in headless Chromium, one battle voted on ``arena serve``.

    arena serve --demo --port 8766 --db /tmp/shot.db &
    python docs/screenshot.py http://127.0.0.1:8766/ /tmp/shot.db docs/arena-in-browser.png

Needs Debian's chromium and playwright (the test extra). The picture is taken after the vote, so it shows
the reveal: which model was which, the flags, and the reason keys.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the helpers live with the tests

from tests.support.browser import CHROMIUM_FLAGS, find_chromium, open_judge, session_of, vote_when_answered


def main(url: str, db: Path, out: Path, key: str = "a") -> None:
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if chromium is None:
        sys.exit("chromium not found (Debian: apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = open_judge(browser, url, "reader")
            vote_when_answered(page, db, session_of(db, "reader"), key)
            page.wait_for_timeout(1000)  # the reveal is drawn after the vote is stored
            page.screenshot(path=str(out))
        finally:
            browser.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), *sys.argv[4:5])
