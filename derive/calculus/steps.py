"""What the calculus reports besides its result: the steps it applied, or that it found no form.

Every rule and identity applied (a chain-rule step of :mod:`.vjp_rules`, a rewriting of
:mod:`.tidy`, a vec rule of :mod:`.vec`) is recorded as a :class:`Rewrite` ``(rule, before,
after)``.  For a chain-rule step ``before`` is the sub-expression differentiated through and
``after`` the cotangent it hands to its argument; for an identity the two sides are equal
expressions.
"""

from __future__ import annotations

from typing import NamedTuple

import sympy as sp

from ..errors import BadInput


class Rewrite(NamedTuple):
    """One rule or identity applied: ``(rule, before, after)``."""

    rule: str
    before: sp.Basic
    after: sp.Basic


class NoClosedForm(BadInput):
    """The derivative exists but the engine cannot write it as a matrix expression."""


__all__ = ["Rewrite", "NoClosedForm"]
