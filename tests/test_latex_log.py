r"""The LaTeX log reader (reports/latex_log.py) on excerpts of real pdflatex logs.

The samples are pieces of logs pdflatex (TeX Live 2022) wrote for small documents: an
undefined control sequence met on a source line and inside a macro's expansion, a missing
package, overfull boxes of a paragraph, an alignment and a Beamer frame typeset once per
overlay; the last test compiles a document with a known defect on a known line (skipped
without pdflatex) and reads its log.
"""

from __future__ import annotations

import shutil

import pytest

from reports.latex_log import LogProblem, failures, is_failure, read_log, run_pdflatex

UNDEFINED_ON_LINE = r"""(./u.tex
LaTeX2e <2022-11-01> patch level 1
! Undefined control sequence.
l.4 Hello \foo{} and \Diag
                          (x) $a$
The control sequence at the end of the top line
of your error message was never \def'ed. If you have
misspelled it (e.g., `\hobx'), type `I' and the correct
spelling (e.g., `I\hbox'). Otherwise just continue,
and I'll forget about whatever was undefined.

[1{/var/lib/texmf/fonts/map/pdftex/updmap/pdftex.map}] (./u.aux) )
"""

UNDEFINED_IN_MACRO = r"""! Undefined control sequence.
\foo ->\undefinedthing 
                       x
l.4 Hello \foo
              {} and
The control sequence at the end of the top line
"""

MISSING_PACKAGE = r"""! LaTeX Error: File `nosuchpkg.sty' not found.

Type X to quit or <RETURN> to proceed,
or enter new name. (Default extension: sty)

Enter file name: 
! Emergency stop.
<read *> 
         
l.3 \begin
          {document}^^M 
Here is how much of TeX's memory you used:
!  ==> Fatal error occurred, no output PDF file produced!
"""

OVERFULL = r"""Overfull \hbox (399.73853pt too wide) detected at line 3
[]
 []

Overfull \hbox (255.8907pt too wide) in paragraph at lines 3--6
[] 
 []

Overfull \hbox (12.5pt too wide) in alignment at lines 20--31
[]

Overfull \vbox (19.84506pt too high) detected at line 104
"""

#: Beamer typesets a frame once per overlay: the same box, four times.
BEAMER = "\n".join(["Overfull \\hbox (11.5005pt too wide) detected at line 90", "[]", ""] * 4)


def test_undefined_control_sequence_on_a_source_line():
    assert read_log(UNDEFINED_ON_LINE) == [LogProblem(
        "undefined control sequence", 4, 4, None,
        "! Undefined control sequence.\nl.4 Hello \\foo{} and \\Diag\n"
        "                          (x) $a$", "\\Diag")]
    assert str(read_log(UNDEFINED_ON_LINE)[0]) == "line 4: undefined control sequence \\Diag"


def test_undefined_control_sequence_inside_a_macro_names_the_macro_and_the_source_line():
    (problem,) = read_log(UNDEFINED_IN_MACRO)
    assert (problem.kind, problem.line, problem.macro) == \
        ("undefined control sequence", 4, "\\undefinedthing")


def test_errors_keep_their_message_and_the_line_of_the_first_l_dot_n():
    problems = read_log(MISSING_PACKAGE)
    # "==> Fatal error occurred" follows every error that stops LaTeX: not one of its own.
    assert [(p.kind, p.line) for p in problems] == [("error", None), ("error", 3)]
    assert str(problems[0]) == "LaTeX Error: File `nosuchpkg.sty' not found."
    assert str(problems[1]) == "line 3: Emergency stop."
    assert problems[1].message.splitlines()[-1] == "          {document}^^M "


def test_overfull_boxes_give_their_size_and_lines():
    assert [(p.kind, p.line, p.last_line, p.points) for p in read_log(OVERFULL)] == [
        ("overfull hbox", 3, 3, 399.73853), ("overfull hbox", 3, 6, 255.8907),
        ("overfull hbox", 20, 31, 12.5), ("overfull vbox", 104, 104, 19.84506)]
    assert [str(p) for p in read_log(OVERFULL)][1:] == [
        "lines 3-6: overfull hbox, 255.891pt too wide",
        "lines 20-31: overfull hbox, 12.5pt too wide",
        "line 104: overfull vbox, 19.8451pt too high"]


def test_a_box_reported_once_per_overlay_is_listed_once():
    assert [(p.line, p.points) for p in read_log(BEAMER)] == [(90, 11.5005)]


def test_file_line_error_style():
    log = "./report.tex:17: Undefined control sequence.\nl.17 \\Diag\n          (x)\n"
    (problem,) = read_log(log)
    assert (problem.kind, problem.line, problem.macro) == \
        ("undefined control sequence", 17, "\\Diag")


def test_failures_are_errors_undefined_sequences_and_hboxes_beyond_the_tolerance():
    assert [(p.kind, p.points) for p in failures(OVERFULL)] == [
        ("overfull hbox", 399.73853), ("overfull hbox", 255.8907), ("overfull hbox", 12.5)]
    assert [p.points for p in failures(OVERFULL, tolerance=300)] == [399.73853]
    edge = "Overfull \\hbox (10.0pt too wide) detected at line 1\n" \
           "Overfull \\hbox (10.01pt too wide) detected at line 2\n"
    assert [p.line for p in failures(edge)] == [2]
    assert [p.kind for p in failures(UNDEFINED_ON_LINE + MISSING_PACKAGE)] == \
        ["undefined control sequence", "error", "error"]
    assert not is_failure(LogProblem("overfull vbox", 1, 1, 500.0))


def test_a_clean_log_has_no_problem():
    clean = "(./report.tex\nUnderfull \\hbox (badness 10000) in paragraph at lines 5--6\n" \
            "[1] (./report.aux) )\nOutput written on report.pdf (1 page, 30000 bytes).\n"
    assert read_log(clean) == []


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_a_compiled_document_s_defects_are_found_on_their_lines(tmp_path):
    tex = tmp_path / "defects.tex"
    tex.write_text("\\documentclass{article}\n"                        # 1
                   "\\begin{document}\n"                               # 2
                   "\\noindent\\rule{500pt}{1pt}\\par\n"                 # 3
                   "\\par Some text \\notdefinedanywhere{} here.\n"    # 4
                   "\\end{document}\n", encoding="utf-8")
    problems = read_log(run_pdflatex(str(tex)))
    # The rule is 500pt, the text width of a default article 345pt: 155pt too wide.
    assert [(p.kind, p.line, p.last_line, p.points, p.macro) for p in problems] == [
        ("overfull hbox", 3, 3, 155.0, None),
        ("undefined control sequence", 4, 4, None, "\\notdefinedanywhere")]
