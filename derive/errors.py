"""User-facing errors.

Every error a user can cause (a bad spec, an unknown activation, a shape mismatch, an expression
that does not parse) is a :class:`BadInput`.  The command-line front ends print its message on
stderr and exit with status 2, with no traceback.  Anything else that escapes is a bug.
"""

from __future__ import annotations


class BadInput(ValueError):
    """Input the toolkit cannot use; ``where`` says where it came from (file:line, key, flag)."""

    def __init__(self, message: str, where: str | None = None):
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class CheckFailed(AssertionError):
    """A result of the engine failed the engine's own check (a derived rule or generated code
    disagrees with central differences or with another derivation).  Never the user's fault:
    the commands report it with exit status 1 and write nothing."""


class UnknownName(BadInput):
    """A name looked up in a registry that does not hold it."""

    def __init__(self, kind: str, name: str, known, where: str | None = None):
        listing = ", ".join(sorted(known))
        super().__init__(f"no {kind} named {name!r}; known: {listing}", where)
