r"""Grading a whole class (issue 10, item 6): ``verify.grade`` and ``python -m verify grade``.

The fixture is a class of the CS229 course graded on ∇_{W^{[1]}} L of the 2-3-1 sigmoid/BCE
network: right answers in several equivalent forms (δ named or written out, the diag(σ') form,
ŷ for a^{[2]}, the numerator-layout derivative), wrong ones with each classic mistake (missing
transpose, layout swap, sign, factor 2 and ½, activation derivative dropped or replaced by σ,
wrong shape), an unreadable one, and repeated answers typed with other spacing and ``$…$``.
Every label below is the verdict and the mistake class worked out by hand.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import pytest

import derive
from derive.cli import run_commands
from derive.errors import BadInput
from verify import GradeResult, grade
from verify.__main__ import COMMANDS
from verify.grade import ADDED_COLUMNS, MIN_PARALLEL, compact_counterexample, normalise_claim
from verify.grade_output import ProgressBar, chart_png, is_results_csv, summary_text

GRADING = sys.modules["verify.grade"]           # the module (``verify.grade`` is the function)
NET = derive.mlp([2, 3, 1], activation="sigmoid", loss="bce")       # the network of SPEC
ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "grading" / "cs229_two_layers.toml"
NABLA = r"\nabla_{W^{[1]}} \mathcal{L} = "
SIGNAL = r"W^{[2]T}\delta^{[2]} \odot g'(z^{[1]})"

# (claim, verdict, mistake classes) for ∇_{W^{[1]}} L, numerator layout
LABELLED = [
    (NABLA + rf"({SIGNAL}) x^T", "correct", []),
    (NABLA + r"\delta^{[1]} x^{T}", "correct", []),
    (NABLA + r"\delta^{[1]} x^{T},\ \delta^{[1]} = W^{[2]T}(a^{[2]} - y) \odot a^{[1]} \odot "
             r"(1 - a^{[1]})", "correct", []),
    (NABLA + r"\operatorname{diag}(\sigma'(z^{[1]})) W^{[2]T}(a^{[2]} - y) x^T", "correct", []),
    (NABLA + r"(W^{[2]\top}(\hat{y} - y) \odot \sigma'(z^{[1]})) x^\top", "correct", []),
    (r"\frac{\partial \mathcal{L}}{\partial W^{[1]}} = x (" + SIGNAL + ")^T", "correct", []),
    (NABLA + rf"x ({SIGNAL})^T", "incorrect", ["missing_transpose"]),
    (rf"({SIGNAL}) x^T", "incorrect", ["layout_swap"]),
    (NABLA + r"(W^{[2]T}(y - a^{[2]}) \odot g'(z^{[1]})) x^T", "incorrect", ["wrong_sign"]),
    (NABLA + rf"2({SIGNAL}) x^T", "incorrect", ["extra_factor"]),
    (NABLA + rf"\frac{{1}}{{2}}({SIGNAL}) x^T", "incorrect", ["missing_factor"]),
    (NABLA + r"(W^{[2]T}\delta^{[2]}) x^T", "incorrect", ["missing_activation_derivative"]),
    (NABLA + r"(W^{[2]T}\delta^{[2]} \odot \sigma(z^{[1]})) x^T", "incorrect",
     ["wrong_activation_derivative"]),
    (NABLA + rf"({SIGNAL}) a^{{[1]T}}", "invalid", ["shape_mismatch"]),
    (NABLA + rf"({SIGNAL} x^T", "invalid", ["other"]),              # unbalanced parenthesis
]
#: How often each labelled claim occurs in the class (the first ones are the common ones).
REPEATS = [4, 2, 1, 1, 1, 1, 3, 2, 1, 2, 1, 3, 1, 1, 1]


def typed(claim: str, k: int) -> str:
    """The k-th copy of a claim as a student types it: other spacing, math delimiters."""
    return [claim, f"${claim}$", "  " + claim.replace(" = ", " =\n  "),
            claim.replace(") x", ")  x")][k % 4]


def class_rows() -> list:
    """(id, name, claim, verdict, classes) per student, interleaved as a class list is."""
    rows, k = [], 0
    for copy in range(max(REPEATS)):
        for (claim, verdict, classes), repeats in zip(LABELLED, REPEATS):
            if copy < repeats:
                k += 1
                rows.append((f"s{k:02d}", f"Élève {k}, groupe \"B\"", typed(claim, copy),
                             verdict, classes))
    return rows


def write_class(path, delimiter=","):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(["id", "name", "claim"])
        writer.writerows(row[:3] for row in class_rows())
    return path


@pytest.fixture(scope="module")
def class_csv(tmp_path_factory):
    return write_class(tmp_path_factory.mktemp("class") / "submissions.csv")


@pytest.fixture(scope="module")
def graded(class_csv) -> GradeResult:
    return grade(class_csv, NET, wrt="W1", layout="numerator", notation="cs229", jobs=1)


def read_csv(text: str, delimiter=","):
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


# --- the API ----------------------------------------------------------------------------------

def test_every_row_gets_its_hand_worked_verdict_and_class(graded):
    expected = class_rows()
    assert len(graded.rows) == len(expected) == sum(REPEATS)
    for row, (sid, name, claim, verdict, classes) in zip(graded.rows, expected):
        assert (row.id, row.values["name"], row.claim) == (sid, name, claim)
        assert row.verdict.verdict == verdict, (sid, claim, row.verdict.to_text())
        assert row.classes == classes, (sid, claim, row.verdict.to_text())


def test_identical_claims_are_decided_once(class_csv, monkeypatch):
    calls = []
    real = GRADING.check_claim

    def counting(claim, *args, **kwargs):
        calls.append(claim)
        return real(claim, *args, **kwargs)

    monkeypatch.setattr(GRADING, "check_claim", counting)
    result = grade(class_csv, NET, wrt="W1", notation="cs229", jobs=1)
    assert sorted(calls) == sorted(normalise_claim(c) for c, _, _ in LABELLED)
    assert result.summary.distinct == len(LABELLED) == 15


def test_summary_counts_mistakes_and_gives_the_first_example(graded):
    summary = graded.summary
    by_verdict = {v: sum(r for (_, verdict, _), r in zip(LABELLED, REPEATS) if verdict == v)
                  for v in ("correct", "incorrect", "invalid")}
    assert summary.counts == by_verdict == {"correct": 10, "incorrect": 13, "invalid": 2}
    # missing_transpose and missing_activation_derivative: 3 rows each, ties in SPEC order;
    # the unreadable row is counted as invalid, not as a mistake class
    assert [(m.cls, m.count) for m in summary.mistakes] == [
        ("missing_transpose", 3), ("missing_activation_derivative", 3), ("layout_swap", 2),
        ("extra_factor", 2), ("missing_factor", 1), ("wrong_sign", 1),
        ("wrong_activation_derivative", 1), ("shape_mismatch", 1)]
    first = summary.mistakes[0].example
    assert first.claim == LABELLED[6][0] and first.id == "s07"
    text = summary_text(graded)
    assert text.splitlines()[0] == ("W1 (numerator layout, cs229 notation): 25 submissions, "
                                    "15 distinct claims")
    assert "  correct       10   40.0%" in text
    assert f"missing_transpose                 3  e.g. s07: {LABELLED[6][0]}" in text


def test_results_csv_keeps_the_input_columns_and_adds_four(graded):
    table = read_csv(graded.to_csv())
    assert table[0] == ["id", "name", "claim", *ADDED_COLUMNS]
    expected = class_rows()
    for line, (sid, name, claim, verdict, classes) in zip(table[1:], expected):
        assert line[:3] == [sid, name, claim]
        assert line[3:5] == [verdict, ";".join(classes)]
        message, counterexample = line[5], line[6]
        assert "\n" not in message and "\n" not in counterexample
        assert (counterexample != "") == (verdict == "incorrect")
        assert (message != "") == (verdict != "correct")
    row = next(line for line in table[1:] if line[2] == LABELLED[-1][0])
    assert row[3:5] == ["invalid", "other"] and "expected ')'" in row[5]


def test_counterexample_is_the_verdicts_on_one_line(graded):
    row = next(r for r in graded.rows if r.classes == ["wrong_sign"])
    point = row.verdict.counterexample
    line = compact_counterexample(point)
    names = [part.split(" = ")[0] for part in line.split("; ")]
    assert names == [*point["point"], "claimed", "true"]
    assert names[:6] == ["W1", "W2", "b1", "b2", "x", "y"]
    # wrong sign: the claimed value is the true one negated, entry by entry
    claimed = [float(v) for r in point["claimed"] for v in r]
    true = [float(v) for r in point["true"] for v in r]
    assert claimed == pytest.approx([-t for t in true], rel=1e-12) and any(true)


def test_several_processes_give_the_same_result(class_csv, graded, monkeypatch):
    pools = []

    class Pool(GRADING.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(kwargs["max_workers"])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(GRADING, "ProcessPoolExecutor", Pool)
    assert len(LABELLED) >= MIN_PARALLEL
    parallel = grade(class_csv, NET, wrt="W1", notation="cs229", jobs=2)
    assert pools == [2]
    assert parallel.to_csv() == graded.to_csv()
    assert parallel.as_dict() == graded.as_dict()


def test_a_worker_that_dies_leaves_its_claims_to_this_process(class_csv, graded, monkeypatch):
    parent, real = os.getpid(), GRADING.decide_claim

    def dying(claim, *args):
        if os.getpid() != parent and claim == normalise_claim(LABELLED[-3][0]):
            os._exit(1)                                   # a worker killed mid-claim
        return real(claim, *args)

    monkeypatch.setattr(GRADING, "decide_claim", dying)
    assert grade(class_csv, NET, wrt="W1", notation="cs229", jobs=2).to_csv() == \
        graded.to_csv()


def test_rows_as_dicts_and_json_document():
    rows = [{"id": 1, "claim": r"(a^{[2]} - y) a^{[1]T}"}, {"id": 2, "claim": None},
            {"id": 3, "claim": r"a^{[1]} (a^{[2]} - y)", "late": "x"}]
    result = grade(rows, NET, wrt="W2", layout="denominator", notation="cs229")
    assert result.columns == ("id", "claim", "late")
    assert [r.verdict.verdict for r in result.rows] == ["correct", "invalid", "incorrect"]
    assert result.rows[1].verdict.diagnosis[0].detail == "the claim is empty"
    assert result.rows[2].classes == ["layout_swap"]
    document = json.loads(json.dumps(result.as_dict()))
    assert document["summary"]["counts"] == {"correct": 1, "incorrect": 1, "invalid": 1}
    assert document["rows"][2]["values"] == {"id": "3", "claim": rows[2]["claim"], "late": "x"}
    assert document["rows"][2]["diagnosis"][0]["class"] == "layout_swap"
    with pytest.raises(BadInput, match="row 1 is a str"):
        grade(["a claim"], NET, wrt="W2")


def test_unreadable_rows_are_invalid_and_the_run_goes_on(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("id;claim\n"
                    "a;(a^{[2]} - y) a^{[1]T}\n"
                    "b;(a^{[2]} - y);a^{[1]T}\n"         # a field too many
                    "c\n"                                 # no claim
                    "\n"                                  # blank: skipped
                    "d;\\hat{y} - y) a^{[1]T}\n", encoding="utf-8")
    result = grade(path, NET, wrt="W2", layout="denominator", notation="cs229")
    assert [(r.id, r.verdict.verdict) for r in result.rows] == [
        ("a", "correct"), ("b", "invalid"), ("c", "invalid"), ("d", "invalid")]
    assert [r.line for r in result.rows] == [2, 3, 4, 6]
    assert result.rows[1].output()["message"] == (
        "line 3: 3 fields, the header has 2 (an unquoted comma in the claim? quote it)")
    assert result.rows[2].output()["message"] == "the claim is empty"
    table = read_csv(result.to_csv(), ";")
    assert table[0] == ["id", "claim", *ADDED_COLUMNS] and table[3][:2] == ["c", ""]


@pytest.mark.parametrize("text, expected", [
    ("  a \n\t b ", "a b"), ("$x^T$", "x^T"), ("$$ x^T $$", "x^T"), (r"\( x \)", "x"),
    (r"\[x\]", "x"), ("", ""), (None, ""),
    ("$a$ + $b$", "$a$ + $b$"), (r"\(a\) + \(b\)", r"\(a\) + \(b\)")])   # two formulas: kept
def test_normalise_claim(text, expected):
    assert normalise_claim(text) == expected


def test_bad_arguments_are_bad_input(class_csv, tmp_path):
    with pytest.raises(BadInput, match=r"no parameter named 'W3'; known: W1, b1, W2, b2"):
        grade(class_csv, NET, wrt="W3")
    with pytest.raises(BadInput, match=r"no column 'answer'; the columns are id, name, claim"):
        grade(class_csv, NET, wrt="W1", claim_column="answer")
    with pytest.raises(BadInput, match="layout must be one of"):
        grade(class_csv, NET, wrt="W1", layout="sideways")
    results = tmp_path / "results.csv"
    results.write_text("id,claim,verdict,diagnosis,message,counterexample\n", encoding="utf-8")
    with pytest.raises(BadInput, match="already has the columns verdict, diagnosis"):
        grade(results, NET, wrt="W1")


# --- output -----------------------------------------------------------------------------------

def test_chart_is_a_deterministic_png_without_software_or_date(graded):
    first, second = chart_png(graded), chart_png(graded)
    assert first == second and first.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"generated by symbackprop" in first[:4096]
    assert b"Software" not in first and b"matplotlib" not in first.lower()
    assert b"tIME" not in first                  # no modification-time chunk


def test_progress_bar_only_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert ProgressBar.for_terminal(io.StringIO()) is None
    stream = Terminal()
    bar = ProgressBar.for_terminal(stream)
    bar(1, 4)
    bar(4, 4)
    bar.close()
    assert stream.getvalue() == (
        f"\rgrading [{'#' * 7}{'.' * 23}] 1/4 distinct claims"
        f"\rgrading [{'#' * 30}] 4/4 distinct claims\n")


# --- the command ------------------------------------------------------------------------------

def run(*argv):
    return run_commands("python -m verify", "", COMMANDS, ["grade", *map(str, argv)])


def test_command_writes_results_chart_and_summary(class_csv, graded, tmp_path, capsys):
    out = tmp_path / "results.csv"
    assert run(class_csv, "--spec", SPEC, "--wrt", "W1", "-o", out, "--jobs", 1) == 0
    printed = capsys.readouterr()
    assert printed.err == ""
    assert printed.out.splitlines()[0].startswith("W1 (numerator layout, cs229 notation)")
    assert printed.out.rstrip().endswith(f"chart: {tmp_path / 'results.mistakes.png'}")
    assert out.read_text(encoding="utf-8") == graded.to_csv()
    chart = (tmp_path / "results.mistakes.png").read_bytes()
    assert chart == chart_png(graded)
    assert is_results_csv(str(out))
    # a second run replaces its own results and chart: byte-identical
    assert run(class_csv, "--spec", SPEC, "--wrt", "W1", "-o", out, "--jobs", 1) == 0
    assert (tmp_path / "results.mistakes.png").read_bytes() == chart
    assert out.read_text(encoding="utf-8") == graded.to_csv()


def test_command_json_and_csv_on_stdout(class_csv, graded, capsys):
    assert run(class_csv, "--spec", SPEC, "--wrt", "W1", "--json", "--jobs", 1) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == json.loads(json.dumps(graded.as_dict()))
    assert run(class_csv, "--spec", SPEC, "--wrt", "W1", "--jobs", 1) == 0
    printed = capsys.readouterr()
    assert printed.out == graded.to_csv()
    assert printed.err.startswith("W1 (numerator layout")


def test_command_refuses_to_overwrite_what_it_did_not_write(class_csv, tmp_path, capsys):
    foreign = tmp_path / "notes.csv"
    foreign.write_text("my,own\n1,2\n", encoding="utf-8")
    before = class_csv.read_bytes()
    for argv, where in ([("-o", foreign), "-o: "], [("-o", class_csv, "--force"), "-o: "],
                        [("-o", tmp_path / "r.csv", "--chart", foreign), "--chart: "]):
        assert run(class_csv, "--spec", SPEC, "--wrt", "W1", *argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"python -m verify grade: error: {where}") and err.count("\n") == 1
    assert foreign.read_text(encoding="utf-8") == "my,own\n1,2\n"
    assert class_csv.read_bytes() == before and not (tmp_path / "r.csv").exists()
    assert run(class_csv, "--spec", SPEC, "--wrt", "W1", "-o", foreign, "--force",
               "--chart", tmp_path / "c.png", "--jobs", 1) == 0
    assert read_csv(foreign.read_text(encoding="utf-8"))[0][-4:] == list(ADDED_COLUMNS)


@pytest.mark.parametrize("argv, message", [
    (("missing.csv", "--spec", SPEC, "--wrt", "W1"), "SUBMISSIONS: No such file or directory"),
    (("CLASS", "--spec", "missing.toml", "--wrt", "W1"), "--spec: No such file or directory"),
    (("CLASS", "--spec", ROOT / "README.md", "--wrt", "W1"), f"{ROOT / 'README.md'}:"),
    (("CLASS", "--spec", SPEC, "--wrt", "V1"), "wrt: no parameter named 'V1'"),
    (("CLASS", "--spec", SPEC, "--wrt", "W1", "--id-column", "student"), "--id-column: no "
     "column 'student'"),
    (("CLASS", "--spec", SPEC, "--wrt", "W1", "--jobs", "0"), "--jobs: at least 1 process"),
])
def test_command_bad_input_exits_2_with_one_line(class_csv, argv, message, capsys):
    argv = [class_csv if a == "CLASS" else a for a in argv]
    assert run(*argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"python -m verify grade: error: {message}"), err
    assert err.count("\n") == 1
