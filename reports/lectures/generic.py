r"""The document of any derivation as the engine prints it: its LaTeX fragment's sections, each
run of lines under one note a group, each line's check that of its step.

Used for what has no course structure of its own: computation graphs printed in a network
profile, per-neuron (concrete) derivations, a spec's profile derived from none of the courses.
"""

from __future__ import annotations

from derive.derivation import RULES
from derive.render import render

from derive.printing.fragment import Raw, read_fragment
from .document import Eq, Group, Section, Text

__all__ = ["fragment_sections"]


def _step(derivation, tag: str):
    steps = getattr(derivation, "steps", [])
    if tag.isdigit() and 0 < int(tag) <= len(steps):
        return steps[int(tag) - 1]
    return None


def _eq(derivation, line) -> Eq:
    step = _step(derivation, line.tag)
    definition = step is not None and RULES.get(step.rule) is not None and \
        RULES[step.rule].definition
    return Eq(line.lhs, line.rhs, line.tag, check=step.check if step else None,
              definition=definition or step is None)


def _paragraph(text):
    return Raw(text) if isinstance(text, Raw) else Text(text)


def fragment_sections(derivation, profile) -> tuple[list, list]:
    """The preamble's blocks and the sections of ``derivation`` printed in ``profile``."""
    fragment = read_fragment(render(derivation, "latex", notation=profile))
    sections = []
    for part in fragment.sections:
        blocks = [Text(part.intro)] if part.intro and part.lines else []
        if not part.lines and part.intro:
            blocks.append(Text(part.intro))
        group_note, group = "", []
        for line in part.lines:
            if line.note and group:
                blocks.append(Group(group_note, tuple(group)))
                group = []
            if line.note or not group:
                group_note = line.note if line.note else group_note
            group.append(_eq(derivation, line))
        if group:
            blocks.append(Group(group_note, tuple(group)))
        blocks += [_paragraph(text) for text in part.after]
        sections.append(Section(part.title.rstrip(":") or "Derivation", blocks))
    return [_paragraph(text) for text in fragment.preamble], sections
