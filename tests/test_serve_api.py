r"""The web server's JSON API and pages, through Starlette's test client.

The API answers what the commands answer: each document is compared with the command run in a
subprocess on the same input (``python -m derive mlp … --json``, ``python -m verify gradient …
--json``, ``python -m derive jacobian … --format json``), and each error with the line the
command prints.  Then the limits: sizes (413), the time limit (408, and the server answers
afterwards), ten requests at once, files served only from a request's own folder.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from reports.serve.app import create_app  # noqa: E402
from reports.serve.fields import LIMITS, MAX_BODY  # noqa: E402
from reports.serve.specs import DEFAULT_SPEC_TEXT  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RIGHT = r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]} - y) a^{[1]T}"
WRONG = r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]} - y) a^{[1]}"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(time_limit=120, processes=2)) as test_client:
        yield test_client


def command(*argv, cwd=ROOT):
    """Run ``python -m …`` as a user does: (exit status, stdout, stderr)."""
    done = subprocess.run([sys.executable, "-m", *argv], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)
    return done.returncode, done.stdout, done.stderr.strip()


def test_derive_answers_the_commands_json(client, tmp_path):
    answer = client.post("/api/derive", json={})
    code, out, _ = command("derive", "mlp", "--format", "json")
    assert answer.status_code == 200 and code == 0
    assert answer.json() == json.loads(out)
    assert answer.json()["network"]["sizes"] == [2, 3, 1]
    # the flags are those of derive mlp, written into the spec
    flags = {"sizes": "3,2,1", "activation": "tanh", "loss": "mse", "layout": "denominator"}
    answer = client.post("/api/derive", json=flags)
    code, out, _ = command("derive", "mlp", "--sizes", "3,2,1", "--activation", "tanh",
                           "--loss", "mse", "--layout", "denominator", "--json")
    assert answer.status_code == 200 and answer.json() == json.loads(out)
    assert answer.json()["network"]["activations"] == ["tanh", "tanh"]
    assert answer.json()["layout"] == "denominator"


def test_derive_error_is_the_commands_message(client, tmp_path):
    spec = "[network]\nsizes = [2, 3, 1]\nactivation = \"sigmoid\"\nloss = \"nope\"\n"
    answer = client.post("/api/derive", json={"spec": spec})
    (tmp_path / "network.toml").write_text(spec)
    code, _, err = command("derive", "mlp", "network.toml", "--json", cwd=tmp_path)
    assert answer.status_code == 400 and code == 2
    assert answer.json() == {"error": err}
    assert err.startswith("python -m derive mlp: error: network.toml:4: [network] loss")
    malformed = client.post("/api/derive", json={"spec": "[network]\nsizes = [2, 3\n"})
    assert malformed.status_code == 400
    assert "network.toml: malformed TOML" in malformed.json()["error"]
    assert "/tmp" not in malformed.json()["error"]          # no server path is shown


def test_check_answers_the_commands_verdict(client, tmp_path):
    (tmp_path / "network.toml").write_text(DEFAULT_SPEC_TEXT)
    for claim, verdict, code_expected in [(RIGHT, "correct", 0), (WRONG, "incorrect", 1)]:
        answer = client.post("/api/check", json={"wrt": "W2", "claimed": claim,
                                                 "notation": "cs229"})
        code, out, _ = command("verify", "gradient", "--spec", "network.toml", "--wrt", "W2",
                               "--claimed", claim, "--notation", "cs229", "--json",
                               cwd=tmp_path)
        assert answer.status_code == 200 and code == code_expected
        assert answer.json() == json.loads(out)
        assert answer.json()["verdict"] == verdict
    wrong = answer.json()
    assert [d["class"] for d in wrong["diagnosis"]] == ["missing_transpose"]
    # the true ∇W2 is a row 1×3, the claim its transpose 3×1: the same numbers
    claimed, true = wrong["counterexample"]["claimed"], wrong["counterexample"]["true"]
    assert len(true) == 1 and len(true[0]) == 3 and [row[0] for row in claimed] == true[0]


def test_check_errors(client):
    unread = client.post("/api/check", json={"wrt": "W2", "claimed": r"\frac{a"})
    assert unread.status_code == 400
    assert unread.json()["verdict"] == "invalid"
    assert unread.json()["error"].startswith(
        "python -m verify gradient: error: claim: expected '}', found the end at column 8")
    unknown = client.post("/api/check", json={"wrt": "W9", "claimed": RIGHT})
    assert unknown.status_code == 400
    assert "no parameter named 'W9'; known: W1, b1, W2, b2" in unknown.json()["error"]
    bad_layout = client.post("/api/check", json={"wrt": "W2", "claimed": RIGHT,
                                                 "layout": "sideways"})
    assert bad_layout.status_code == 400
    assert "argument --layout: invalid choice: 'sideways'" in bad_layout.json()["error"]


def test_jacobian_answers_the_commands_json(client):
    fields = {"expr": "v^T A v", "wrt": "v", "shape": ["A=3x3", "v=3"],
              "layout": "denominator"}
    answer = client.post("/api/jacobian", json=fields)
    code, out, _ = command("derive", "jacobian", "v^T A v", "--wrt", "v", "--shape", "A=3x3",
                           "--shape", "v=3", "--layout", "denominator", "--format", "json")
    assert answer.status_code == 200 and code == 0 and answer.json() == json.loads(out)
    assert answer.json()["latex"] == r"\left(A + A^{T}\right) v"
    assert answer.json()["numpy"] == "(A + A.T) @ v"
    assert answer.json()["shape"] == [3, 1]
    # a value that starts with "-" is still the expression, not a flag
    negative = client.post("/api/jacobian", json={"expr": "-x^T x", "wrt": "x"})
    assert negative.status_code == 200 and negative.json()["latex"] == "- 2 x^{T}"
    broken = client.post("/api/jacobian", json={"expr": "v^T (A v", "wrt": "v"})
    assert broken.status_code == 400
    assert broken.json()["error"].splitlines() == [
        "python -m derive jacobian: error: EXPR: expected ')', found the end at column 9",
        "  v^T (A v", "          ^"]


def test_preview_shows_the_claim_as_read(client):
    answer = client.post("/api/preview", json={"claimed": WRONG, "notation": "cs229"}).json()
    assert answer["error"] is None and answer["shape"] == "3×1"
    assert answer["latex"] == r"\nabla_{W^{[2]}} \mathcal{L} = \left(a^{[2]} - y\right) a^{[1]}"
    assert answer["mathml"].startswith("<math")
    # a transpose read where none was meant is visible: A^T read as the transpose of A
    greek = client.post("/api/preview", json={
        "claimed": r"\mathcal{B}^{2} \alpha^{1T}, \mathcal{B}^2 = \alpha^2 - \rho"}).json()
    assert greek["latex"] == (r"\mathcal{B}^{2} \left(\alpha^{1}\right)^{T},\quad "
                              r"\mathcal{B}^{2} = \alpha^{2} - \rho")
    unreadable = client.post("/api/preview", json={"claimed": r"\frac{a"}).json()
    assert unreadable["mathml"] is None and "expected '}'" in unreadable["error"]


def test_size_limits_and_unknown_fields(client):
    too_long = client.post("/api/derive", json={"spec": "#" * (LIMITS["spec"] + 1)})
    assert too_long.status_code == 413
    assert too_long.json() == {"error": f"spec is {LIMITS['spec'] + 1} characters long; at "
                                        f"most {LIMITS['spec']} are accepted"}
    claim = client.post("/api/check", json={"wrt": "W2", "claimed": "x" * 4001})
    assert claim.status_code == 413 and claim.json()["error"].startswith("claimed is 4001")
    body = client.post("/api/jacobian", content=b"{" + b" " * MAX_BODY + b"}",
                       headers={"content-type": "application/json"})
    assert body.status_code == 413
    unknown = client.post("/api/jacobian", json={"expr": "x", "wrt": "x", "path": "/etc"})
    assert unknown.status_code == 400 and "unknown field 'path'" in unknown.json()["error"]
    not_json = client.post("/api/jacobian", content=b"[1, 2]",
                           headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    assert client.get("/api/derive").status_code == 405


def test_time_limit_answers_408_and_the_server_stays_up():
    app = create_app(time_limit=0.001, processes=1)
    with TestClient(app) as client:
        answer = client.post("/api/derive", json={})
        assert answer.status_code == 408
        assert "longer than the time limit of 0.001 s" in answer.json()["error"]
        page = client.post("/check", data={"wrt": "W2", "claimed": RIGHT})
        assert page.status_code == 408 and "time limit" in page.text
        assert client.get("/").status_code == 200
        app.state.serve.workers.time_limit = 120          # the same workers answer again
        again = client.post("/api/jacobian", json={"expr": "x^T x", "wrt": "x"})
        assert again.status_code == 200 and again.json()["latex"] == "2 x^{T}"


def test_ten_requests_at_once(client):
    requests = []
    for i in range(1, 6):
        requests.append(("/api/jacobian", {"expr": f"{i} x^T x", "wrt": "x",
                                           "layout": "denominator"}, f"{2 * i} x"))
    for i in range(5):
        claim = RIGHT if i % 2 == 0 else WRONG
        requests.append(("/api/check", {"wrt": "W2", "claimed": claim, "notation": "cs229"},
                         "correct" if i % 2 == 0 else "incorrect"))

    def send(request):
        path, fields, _ = request
        return client.post(path, json=fields)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(send, requests))
    for (path, _, expected), answer in zip(requests, answers):
        assert answer.status_code == 200
        document = answer.json()
        assert (document["latex"] if path == "/api/jacobian" else document["verdict"]) \
            == expected


def test_pages_without_javascript(client):
    for path, name in [("/", "Derive"), ("/derive", "Derive"), ("/check", "Check"),
                       ("/jacobian", "Differentiate")]:
        page = client.get(path)
        assert page.status_code == 200 and name in page.text
        assert "http" not in re.sub(r"http://www\.w3\.org[^\"]*", "", page.text)
    check = client.post("/check", data={"wrt": "W2", "claimed": WRONG, "notation": "cs229"})
    assert check.status_code == 200
    status = re.search(r'role="status"[^>]*>(.*?)</div>', check.text, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", status).strip().startswith("incorrect: missing transpose")
    assert '<option value="cs229" selected>' in check.text            # the form as sent
    jacobian = client.post("/jacobian", data={"expr": "v^T A v", "wrt": "v"})
    assert "(A + A.T) @ v" in jacobian.text and "v.T @ (A + A.T)" in jacobian.text


def test_generated_files_come_from_the_requests_own_folder(client):
    page = client.post("/derive", data={"spec": DEFAULT_SPEC_TEXT})
    assert page.status_code == 200 and 'aria-label="Derivation"' in page.text
    links = re.findall(r'href="(/files/([0-9a-f]{32})/([^"]+))"', page.text)
    names = {name for _, _, name in links}
    assert {"network.tex", "network.md", "network.html", "network.py",
            "test_network.py"} <= names
    ident = links[0][1]
    module = client.get(f"/files/{ident}/network.py")
    assert module.status_code == 200 and "def gradients(" in module.text
    markdown = client.get(f"/files/{ident}/network.md")
    assert markdown.status_code == 200 and "$$" in markdown.text
    if shutil.which("pdflatex"):                       # the PDF, where TeX Live is installed
        pdf = client.get(f"/files/{ident}/network.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"
    else:
        assert "network.pdf" not in names
    for path in [f"/files/{ident}/..%2Fnetwork.md", f"/files/{ident}/missing.txt",
                 "/files/0123456789abcdef0123456789abcdef/network.md", "/files/x/%2Fetc%2Fpasswd"]:
        assert client.get(path).status_code == 404
    other = client.post("/derive", data={"spec": DEFAULT_SPEC_TEXT, "sizes": "2,2,1"})
    other_ident = re.search(r'href="/files/([0-9a-f]{32})/', other.text).group(1)
    assert other_ident != ident
    assert "2-2-1" in client.get(f"/files/{other_ident}/network.md").text
