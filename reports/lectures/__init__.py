r"""Lectures: each course's derivation as its notes write it, as a :class:`Document`.

:func:`lecture` gives the document of a derivation in a notation profile: for a network, the
structure of the profile's course (:data:`COURSES`: its sections, its grouping of steps, its
own lines, every line checked by the engine, :mod:`reports.lectures.lines`); for anything
else — a computation graph, a per-neuron derivation, a profile whose course has no structure
here — the engine's own sections (:mod:`reports.lectures.generic`).  A spec's own
``[notation]`` keeps the structure of the profile it overrides (``cs229+custom``: CS229's).

>>> import derive
>>> doc = lecture(derive.backprop(derive.mlp([2, 3, 1]), form="matrix"), "cs229")
>>> doc.course, doc.sections[0].title
('CS229', 'Forward propagation')
>>> all(line.check or line.definition for line in doc.equations())
True
"""

from __future__ import annotations

from derive.engine import MatrixDerivation

from ..meta import describe
from .cs229 import cs229_sections
from .document import Document, Section
from .generic import fragment_sections
from .network import NetworkLecture

__all__ = ["COURSES", "Document", "course_of", "lecture"]

#: Profile → the sections of its course's lecture of a network (a NetworkLecture).
COURSES = {"cs229": cs229_sections}


def course_of(profile):
    """The sections function of ``profile``'s course (a spec's own ``[notation]`` keeps that
    of the profile it overrides), or ``None``."""
    return COURSES.get(profile.name.split("+")[0])


def lecture(derivation, notation=None) -> Document:
    """The document of ``derivation`` in ``notation`` (default: its network's own profile)."""
    about = describe(derivation, notation)
    profile = about.profile
    doc = Document(about.title, about.subtitle, about.course, about.summary, profile.name,
                   overall=getattr(derivation, "check", None))
    course = course_of(profile)
    if course is not None and isinstance(derivation, MatrixDerivation) and \
            not derivation.batch:
        lec = NetworkLecture(derivation, profile)
        doc.sections = course(lec)
        doc.sections[0].blocks[0:0] = lec.setting()
        return doc
    preamble, sections = fragment_sections(derivation, profile)
    if preamble:
        sections.insert(0, Section("The derivation", preamble))
    doc.sections = sections
    return doc
