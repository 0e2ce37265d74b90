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

from derive.engine import MatrixDerivation, derive_matrix
from derive.graphs import GraphDerivation

from ..meta import describe
from .cmu import cmu_graph_sections
from .cs229 import cs229_sections
from .durham import durham_sections
from .document import Document, Section
from .ensimag import ensimag_sections
from .generic import fragment_sections
from .mines import mines_sections
from .network import NetworkLecture

__all__ = ["COURSES", "Document", "course_of", "lecture"]

#: Profile → the sections of its course's lecture of a network (a NetworkLecture).
COURSES = {"cs229": cs229_sections, "ensimag": ensimag_sections, "mines": mines_sections,
           "durham": durham_sections}
#: Profile → the sections of its course's lecture of a computation graph (a GraphDerivation).
GRAPH_COURSES = {"cmu": cmu_graph_sections}


def course_of(profile):
    """The sections function of ``profile``'s course (a spec's own ``[notation]`` keeps that
    of the profile it overrides), or ``None``."""
    return COURSES.get(profile.name.split("+")[0])


def _network_lecture(derivation, profile) -> NetworkLecture:
    """The lecture of a matrix derivation; a batch derivation is shown as the notes show it:
    one sample first (derived here, with its check), then the batch form (the one given)."""
    if not derivation.batch:
        return NetworkLecture(derivation, profile)
    one = derive_matrix(derivation.network, layout=derivation.layout, batch=False, check=True)
    return NetworkLecture(one, profile, batch=derivation)


def lecture(derivation, notation=None) -> Document:
    """The document of ``derivation`` in ``notation`` (default: its network's own profile)."""
    about = describe(derivation, notation)
    profile = about.profile
    doc = Document(about.title, about.subtitle, about.course, about.summary, profile.name,
                   overall=getattr(derivation, "check", None))
    course = course_of(profile)
    if course is not None and isinstance(derivation, MatrixDerivation):
        lec = _network_lecture(derivation, profile)
        doc.sections = course(lec)
        doc.sections[0].blocks[0:0] = lec.setting()
        return doc
    graph_course = GRAPH_COURSES.get(profile.name.split("+")[0])
    if graph_course is not None and isinstance(derivation, GraphDerivation):
        doc.sections = graph_course(derivation, profile)
        return doc
    preamble, sections = fragment_sections(derivation, profile)
    if preamble:
        sections.insert(0, Section("The derivation", preamble))
    doc.sections = sections
    return doc
