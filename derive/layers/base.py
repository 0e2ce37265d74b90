"""What every layer kind provides to the engine, the presentations and the code generator.

A layer is a frozen object placed in a network at a position l (an int, or ``j``/``L`` for a
network of symbolic depth) with an input size n_{l-1} and an output size n_l (ints or size
symbols).  It gives

- its **parameters**: name (``W{l}``, ``b{l}``…) → MatrixSymbol with its shape;
- its **forward map** as :class:`Stage` s: matrix expressions of the layer's input (the
  previous stage's value) and its parameters, each with the notation kind of the value
  (``z``, ``a``) and, where the derivation names the cotangent of that value (B^l = ∇_{z^l} C),
  the kind of that signal;
- its **initialisation** (NumPy arrays of the parameters' shapes);
- the **notation kinds** a profile must know to print it.

The differentiation rules of any matrix-expression node a layer introduces live in its own
module and are registered there, explicitly, in the calculus's rule table.

Glossary: l the layer's position; n_in = n_{l-1}, n_out = n_l; ``symbols`` the derivation's
symbol table (:class:`derive.engine.Symbols`), which makes a MatrixSymbol for a (kind, layer).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import sympy as sp


@dataclass(frozen=True)
class Stage:
    """One value of a layer's forward map.

    Attributes
    ----------
    kind : str
        Notation kind of the value (``z``: pre-activation, ``a``: activation).
    value : sympy.MatrixExpr
        The value as a matrix expression of the stage before (the layer's input for the first
        stage) and of the layer's parameters.
    signal : str or None
        Notation kind of the cotangent of this value when the derivation names it
        (``B``: B^l = ∇_{z^l} C), else ``None``.
    rule : str
        The rule (a key of :data:`derive.derivation.RULES`) that defines the value.
    """

    kind: str
    value: sp.Basic
    signal: str | None = None
    rule: str = "layer"


@dataclass(frozen=True, kw_only=True)
class Layer:
    """Base of every layer kind (see the module docstring).

    Attributes
    ----------
    index : int, sympy.Symbol or None
        The position l, set when the network places the layer.
    n_in, n_out : int, sympy.Symbol or None
        n_{l-1} and n_l, set when placed.
    """

    kind: ClassVar[str] = ""
    #: Notation kinds this layer's steps use.
    notation_kinds: ClassVar[tuple] = ()

    index: object = None
    n_in: object = None
    n_out: object = None

    def place(self, index, n_in, n_out) -> "Layer":
        """This layer at position ``index`` between sizes ``n_in`` and ``n_out``."""
        return replace(self, index=index, n_in=n_in, n_out=n_out)

    @property
    def placed(self) -> bool:
        return self.index is not None

    # --- what each kind defines ------------------------------------------------------------
    def parameter_shapes(self) -> dict[str, tuple]:
        """name → (rows, cols), in the order of SPEC §5a (``W{l}`` before ``b{l}``)."""
        raise NotImplementedError

    def parameters(self, symbols) -> dict[str, sp.MatrixSymbol]:
        """name → the MatrixSymbol of each parameter, made by ``symbols``."""
        raise NotImplementedError

    def stages(self, symbols, inputs) -> tuple[Stage, ...]:
        """The forward map of ``inputs`` (a^{l-1}, or A^{l-1} in batch form)."""
        raise NotImplementedError

    def init_params(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Initial values of the parameters (integer sizes)."""
        raise NotImplementedError

    def describe(self) -> str:
        return self.kind

    def explicit(self):
        """The layer entry by entry at integer sizes (fresh symbols per entry), for the
        presentations that show entries and for the tests' independent check of
        :meth:`stages`."""
        raise NotImplementedError

    @classmethod
    def examples(cls) -> list["Layer"]:
        """Unplaced instances covering every variant of this kind, for the tests that every
        layer kind gets (forward map, vector-Jacobian products, initialisation)."""
        raise NotImplementedError


def concrete_shape(shape) -> tuple[int, int]:
    """``shape`` as ints, or a ValueError naming the symbol that is not an integer."""
    out = []
    for n in shape:
        value = sp.sympify(n)
        if not value.is_Integer:
            raise ValueError(f"size {value} is symbolic: no concrete shape")
        out.append(int(value))
    return tuple(out)


__all__ = ["Layer", "Stage", "concrete_shape"]
