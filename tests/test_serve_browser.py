r"""The local web page in a real browser: Playwright driving Debian's chromium.

The server is the command itself (``python -m reports serve --port 0``, in a subprocess); the
browser finds every control by its accessible name, as a screen reader does.  Each page a test
looks at is photographed: the picture must not be blank (more than one colour) and the page's
visible text must hold no raw LaTeX (the mathematics is rendered as MathML).

Skipped where playwright or chromium is missing (``.ci/run`` installs chromium; Playwright's
own browser download is not used).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("chromium is not installed (Debian: apt-get install chromium)",
                allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
#: What raw LaTeX looks like in a page's text: none of it may be visible.
RAW_LATEX = re.compile(r"\\frac|\\nabla|\\mathcal|\\left|\\begin|\^\{|_\{")
RIGHT = r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]} - y) a^{[1]T}"
WRONG = r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]} - y) a^{[1]}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The address of ``python -m reports serve`` on a free port."""
    log = tmp_path_factory.mktemp("server") / "stderr.txt"
    with open(log, "w") as errors:
        process = subprocess.Popen([sys.executable, "-m", "reports", "serve", "--port", "0"],
                                   cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+/", line)
    if match is None:
        process.kill()
        pytest.fail(f"the server did not start: {line!r} {log.read_text()!r}")
    yield match.group(0)
    process.send_signal(signal.SIGINT)                           # Ctrl-C
    assert process.wait(timeout=20) == 0, log.read_text()       # stopped cleanly
    assert process.stdout.read() == "symbackprop: stopped\n"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    yield context.new_page()
    context.close()


def looked_at(page, name: str, tmp_path) -> bytes:
    """Photograph the page; the picture is not blank and no raw LaTeX is visible."""
    from PIL import Image
    png = page.screenshot(full_page=True, path=str(tmp_path / f"{name}.png"))
    if os.environ.get("SERVE_SCREENSHOTS"):
        shutil.copy(tmp_path / f"{name}.png", Path(os.environ["SERVE_SCREENSHOTS"]) /
                    f"{name}.png")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.getcolors(maxcolors=1) is None, f"the {name} page is blank"
    # the visible text outside the form (the form holds what the user typed)
    texts = page.locator("main > :not(form)").all_inner_texts()
    raw = [m.group(0) for text in texts for m in RAW_LATEX.finditer(text)]
    assert not raw, f"raw LaTeX on the {name} page: {raw}"
    return png


def test_start_page_links_the_three_pages(server, page, tmp_path):
    page.goto(server)
    looked_at(page, "start", tmp_path)
    for name, heading in [("Derive", "Derive a network"), ("Check", "Check a gradient"),
                          ("Jacobian", "Differentiate a matrix expression")]:
        page.get_by_role("navigation").get_by_role("link", name=name).click()
        assert page.get_by_role("heading", level=1).inner_text().startswith(heading)
        page.goto(server)
    assert page.locator("main a").count() == 3


def test_derive_the_default_network(server, page, tmp_path):
    page.goto(server + "derive")
    spec = page.get_by_label("Network spec")
    assert "sizes = [2, 3, 1]" in spec.input_value()
    page.get_by_role("button", name="Derive").click()
    region = page.get_by_role("region", name="Derivation")
    region.wait_for()
    assert "Backpropagation for the 2-3-1 network" in region.inner_text()
    assert region.locator("math").count() > 20          # the steps, rendered as MathML
    links = page.get_by_role("region", name="Files").get_by_role("link")
    names = links.all_inner_texts()
    assert {"network.tex", "network.md", "network.html", "network.py",
            "test_network.py"} <= set(names)
    href = links.nth(names.index("network.py")).get_attribute("href")
    module = page.request.get(server + href.lstrip("/"))
    assert module.status == 200 and "def gradients(" in module.text()
    assert "W1" in module.text() or "Omega1" in module.text()
    looked_at(page, "derive", tmp_path)


def _check(page, claim: str):
    page.get_by_label("Claimed gradient").fill(claim)
    page.get_by_role("button", name="Check").click()
    status = page.get_by_role("status")
    status.wait_for()
    return status.inner_text().strip()


def test_check_a_right_and_a_wrong_claim(server, page, tmp_path):
    page.goto(server + "check")
    assert "sizes = [2, 3, 1]" in page.get_by_label("Network spec").input_value()
    page.get_by_label("Notation").select_option(label="CS229")
    page.get_by_label("Layout").select_option("numerator")
    page.get_by_label("Parameter").fill("W2")
    page.get_by_label("Claimed gradient").fill(WRONG)
    # the live preview: the claim as read, rendered before it is checked
    page.locator("#preview math").wait_for()
    assert page.get_by_label("Preview").inner_text().startswith("Read as (3×1)")
    assert _check(page, RIGHT).startswith("correct")
    looked_at(page, "check_correct", tmp_path)
    verdict = _check(page, WRONG)
    assert verdict.startswith("incorrect: missing transpose")
    assert "the transpose of the gradient" in verdict
    assert page.get_by_role("heading", name="Counterexample").is_visible()
    assert page.get_by_label("Notation").input_value() == "cs229"     # the form kept
    looked_at(page, "check_incorrect", tmp_path)


def test_check_an_unreadable_claim_is_invalid(server, page):
    page.goto(server + "check")
    assert _check(page, r"\frac{a").startswith("invalid")
    assert "expected '}'" in page.get_by_role("alert").inner_text()


def test_differentiate_vT_A_v(server, page, tmp_path):
    page.goto(server + "jacobian")
    page.get_by_label("Expression").fill("v^T A v")
    page.get_by_label("With respect to").fill("v")
    page.get_by_role("button", name="Differentiate").click()
    numerator = page.get_by_role("region", name="Numerator layout")
    denominator = page.get_by_role("region", name="Denominator layout")
    denominator.wait_for()
    assert "v.T @ (A + A.T)" in numerator.inner_text()
    assert "(A + A.T) @ v" in denominator.inner_text()
    assert "Shape 1×n" in numerator.inner_text() and "Shape n×1" in denominator.inner_text()
    assert numerator.locator("math").count() == 1
    looked_at(page, "jacobian", tmp_path)
