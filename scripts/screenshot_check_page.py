r"""Regenerate docs/images/check_page.png: the Check page of ``python -m reports serve``, with a
wrong claim checked (the README shows it).

Starts the server on a free port, opens the Check page in Debian's chromium through Playwright
(``pip install playwright``; its own browser download is not needed), checks the claim
``\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]} - y) a^{[1]}`` for the default network in the CS229
notation — a missing transpose — and photographs the page.

usage:
  python scripts/screenshot_check_page.py [-o docs/images/check_page.png] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLAIM = r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]} - y) a^{[1]}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", default=str(ROOT / "docs" / "images" /
                                                      "check_page.png"))
    parser.add_argument("--chromium", default=shutil.which("chromium")
                        or shutil.which("chromium-browser"))
    args = parser.parse_args(argv)
    if not args.chromium:
        print("chromium is not installed (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright
    server = subprocess.Popen([sys.executable, "-m", "reports", "serve", "--port", "0"],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        match = re.search(r"http://127\.0\.0\.1:\d+/", server.stdout.readline())
        if match is None:
            print("the server did not start", file=sys.stderr)
            return 1
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium,
                                                 args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1000, "height": 1000},
                                    device_scale_factor=1)
            page.goto(match.group(0) + "check")
            page.get_by_label("Notation").select_option("cs229")
            page.get_by_label("Parameter").fill("W2")
            page.get_by_label("Claimed gradient").fill(CLAIM)
            page.get_by_role("button", name="Check").click()
            page.get_by_role("status").wait_for()
            Path(args.output).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.output, full_page=True)   # form, verdict, example
            browser.close()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=20)
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
