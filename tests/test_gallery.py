r"""The gallery (reports/gallery.py, ``python -m reports gallery``; issue 9 item 6).

- the committed ``reports/gallery/`` is what the code writes now (``--check`` in-process);
- its table covers each course's profile, its specs exist, its index links only files of
  the repository, by relative links; nothing in it says "seed";
- ``--check`` names what differs, what is missing and what no entry writes; regenerating
  removes what symbackprop wrote for an entry no longer in the table, never a foreign file;
- with pdflatex (skipped without; CI installs TeX Live) every .tex of the gallery, article
  and slides, compiles with no LaTeX error, no undefined control sequence and no overfull
  ``\hbox`` more than 10pt too wide; ``--compile`` reports a defect at its file and line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from derive.cli import run_commands
from derive.errors import BadInput
from derive.notation import PROFILES
from reports.__main__ import COMMANDS
from reports.__main__ import __doc__ as MAIN_DOC
from reports.gallery import (DEFAULT_DIRECTORY, ENTRIES, INDEX, ROOT, Entry, Stale,
                             check_gallery, compile_gallery, gallery_files, write_gallery)
from reports.latex_log import is_failure

needs_latex = pytest.mark.skipif(shutil.which("pdflatex") is None,
                                 reason="TeX Live (pdflatex) is not installed")
DURHAM = next(entry for entry in ENTRIES if entry.notation == "durham")


def run_reports(*argv) -> int:
    return run_commands("python -m reports", MAIN_DOC, COMMANDS, list(argv))


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict[str, bytes]:
    """The gallery as the code writes it now, in a temporary folder: file name → bytes, in
    the order written."""
    return {path.name: path.read_bytes()
            for path in write_gallery(tmp_path_factory.mktemp("gallery"))}


def test_the_committed_gallery_is_up_to_date():
    stale = check_gallery()
    assert stale == [], ("the committed gallery is stale; regenerate it with "
                         "`python -m reports gallery`:\n" + "\n".join(map(str, stale)))


def test_the_table_has_each_course_and_existing_specs():
    names = [entry.name for entry in ENTRIES]
    assert len(set(names)) == len(names)
    assert {"ensimag", "cs229", "mines", "cmu", "durham"} <= {e.notation for e in ENTRIES}
    assert {e.notation for e in ENTRIES} <= set(PROFILES)
    for entry in ENTRIES:
        spec = ROOT / entry.spec
        assert spec.is_file(), entry
        assert "seed" not in entry.description.lower()
    for spec in sorted((DEFAULT_DIRECTORY / "specs").glob("*.toml")):
        assert "seed" not in spec.read_text(encoding="utf-8").lower(), spec.name
        assert spec.relative_to(ROOT).as_posix() in {e.spec for e in ENTRIES}, spec.name


def test_every_entry_has_its_four_documents_and_no_pdf():
    files = sorted(p.name for p in DEFAULT_DIRECTORY.iterdir() if p.is_file())
    expected = sorted([INDEX, *(name for entry in ENTRIES for name in gallery_files(entry))])
    assert files == expected
    for name in expected:
        text = (DEFAULT_DIRECTORY / name).read_text(encoding="utf-8")
        assert not re.search(r"\bseeds?\b", text, re.IGNORECASE), name


def test_the_index_links_every_file_by_a_relative_link_that_resolves():
    text = (DEFAULT_DIRECTORY / INDEX).read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\)", text)
    for link in links:
        assert "://" not in link and not link.startswith("/"), link
        assert (DEFAULT_DIRECTORY / link).resolve().is_file(), link
        assert ROOT in (DEFAULT_DIRECTORY / link).resolve().parents, link
    for entry in ENTRIES:
        assert set(gallery_files(entry)) <= set(links), entry.name
        assert os.path.relpath(ROOT / entry.spec, DEFAULT_DIRECTORY) in links, entry.spec


def test_check_names_what_differs_is_missing_or_is_written_by_no_entry(tmp_path):
    written = write_gallery(tmp_path, [DURHAM])
    assert [p.name for p in written] == [*gallery_files(DURHAM), INDEX]
    assert check_gallery(tmp_path, [DURHAM]) == []
    md = tmp_path / f"{DURHAM.name}.md"
    md.write_text(md.read_text(encoding="utf-8") + "an edit by hand\n", encoding="utf-8")
    (tmp_path / f"{DURHAM.name}.html").unlink()
    old = tmp_path / "renamed_entry.tex"
    shutil.copyfile(tmp_path / f"{DURHAM.name}.tex", old)       # carries symbackprop's mark
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.5 a PDF compiled here")
    assert check_gallery(tmp_path, [DURHAM]) == [
        Stale(f"{DURHAM.name}.html", "missing"), Stale(f"{DURHAM.name}.md", "differs"),
        Stale("renamed_entry.tex", "written by no entry")]
    write_gallery(tmp_path, [DURHAM])
    assert check_gallery(tmp_path, [DURHAM]) == []
    assert not old.exists() and (tmp_path / "notes.pdf").exists()


def test_the_command_checks_and_regenerates(tmp_path, capsys, fresh):
    assert run_reports("gallery", "-o", str(tmp_path), "--check") == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{name}: missing" for name in sorted(fresh)]
    assert run_reports("gallery", "-o", str(tmp_path)) == 0
    assert capsys.readouterr().out.splitlines() == [str(tmp_path / name) for name in fresh]
    assert {name: (tmp_path / name).read_bytes() for name in fresh} == fresh


def test_a_foreign_file_in_the_way_is_left_alone(tmp_path, capsys):
    (tmp_path / INDEX).write_text("# my own notes\n", encoding="utf-8")
    with pytest.raises(BadInput, match="was not generated by symbackprop"):
        write_gallery(tmp_path, [DURHAM])
    assert run_reports("gallery", "-o", str(tmp_path)) == 2
    assert "README.md exists and was not generated by symbackprop" in capsys.readouterr().err
    assert (tmp_path / INDEX).read_text(encoding="utf-8") == "# my own notes\n"


def test_a_bad_entry_is_bad_input_naming_it(tmp_path, capsys):
    missing = Entry("nowhere", "examples/no_such_spec.toml", "cs229", "numerator", "-")
    with pytest.raises(BadInput, match="1 of 2 entries not written .* gallery entry nowhere: "
                                       "no spec file examples/no_such_spec.toml"):
        write_gallery(tmp_path, [missing, DURHAM])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*gallery_files(DURHAM),
                                                                INDEX])   # the good one
    with pytest.raises(BadInput, match="two gallery entries share a name"):
        write_gallery(tmp_path, [DURHAM, DURHAM])
    bad_profile = Entry("bad", DURHAM.spec, "harvard", None, "-")
    with pytest.raises(BadInput, match="no notation profile named 'harvard'"):
        write_gallery(tmp_path, [bad_profile])


def test_the_gallery_is_byte_identical_under_another_hash_seed(tmp_path, fresh):
    done = subprocess.run([sys.executable, "-m", "reports", "gallery", "-o", str(tmp_path)],
                          cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "12345"},
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    there = {Path(line).name: Path(line).read_bytes() for line in done.stdout.splitlines()}
    assert list(there) == list(fresh)
    assert [name for name in fresh if fresh[name] != there[name]] == []


@needs_latex
def test_every_gallery_tex_compiles_without_errors_or_wide_lines():
    results = compile_gallery(DEFAULT_DIRECTORY, jobs=2)
    assert sorted(results) == sorted(name for entry in ENTRIES
                                     for name in gallery_files(entry) if name.endswith(".tex"))
    report = [f"{name}: {problem}\n    " + problem.message.replace("\n", "\n    ")
              for name, problems in results.items() for problem in problems
              if is_failure(problem)]
    assert report == [], "LaTeX problems in the gallery:\n" + "\n".join(report)


@needs_latex
def test_compile_reports_a_defect_at_its_file_and_line(tmp_path, capsys):
    body = ["\\documentclass{article}", "\\begin{document}", "Clean.", "\\end{document}"]
    (tmp_path / "clean.tex").write_text("\n".join(body) + "\n", encoding="utf-8")
    assert run_reports("gallery", "-o", str(tmp_path), "--compile") == 0
    assert capsys.readouterr().out == ""
    # Line 3: a 500pt rule in a 345pt-wide text, then (line 4) a macro no one defined.
    body[2:3] = ["\\noindent\\rule{500pt}{1pt}\\par", "\\notamacro"]
    (tmp_path / "defect.tex").write_text("\n".join(body) + "\n", encoding="utf-8")
    assert run_reports("gallery", "-o", str(tmp_path), "--compile") == 1
    assert capsys.readouterr().out.splitlines() == [
        "defect.tex: fail: line 3: overfull hbox, 155pt too wide",
        "defect.tex: fail: line 4: undefined control sequence \\notamacro"]


def test_compile_without_tex_files_is_bad_input(tmp_path):
    if shutil.which("pdflatex") is None:
        with pytest.raises(BadInput, match="pdflatex is not installed"):
            compile_gallery(tmp_path)
    else:
        with pytest.raises(BadInput, match="no .tex file"):
            compile_gallery(tmp_path)
