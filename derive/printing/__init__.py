"""Printers: one module per output format, each choosing a derivation's document by class name.

As SymPy's ``Printer`` dispatches ``_print_<Class>``, a printer here keeps a table from class
names to documents and walks ``type(d).__mro__``: printers import the data model
(:mod:`derive.derivation`), never an engine, and no derivation imports a printer.  The table of
formats is :data:`derive.render.FORMATS`.
"""

from __future__ import annotations

import inspect

from ..errors import BadInput

__all__ = ["call_with", "printer_for"]


def printer_for(table: dict, obj, what: str):
    """The entry of ``table`` (class name → printer) for ``obj``'s class or nearest base.

    Raises
    ------
    BadInput
        No class of ``obj`` is in the table (the message lists the ones that are).
    """
    for cls in type(obj).__mro__:
        if cls.__name__ in table:
            return table[cls.__name__]
    raise BadInput(f"cannot render a {type(obj).__name__} as {what}; known: "
                   f"{', '.join(table)}")


def call_with(printer, obj, options: dict):
    """``printer(obj, **options)`` with only the options it takes (a graph's ``explicit`` means
    nothing to a LaTeX document); options set to ``None`` are left to the printer's defaults."""
    parameters = inspect.signature(printer).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    return printer(obj, **{name: value for name, value in options.items()
                           if (takes_any or name in parameters) and value is not None})
