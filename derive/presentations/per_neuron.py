"""The Ensimag per-neuron form of backprop (f^j, P^j, ∂f^j/∂w_k^j, B^j) at integer sizes.

A *presentation* of the engine's derivation (:mod:`derive.engine`), built from the same layer
objects: each layer written entry by entry (:meth:`derive.layers.dense.Dense.explicit`), its
local Jacobians from the calculus (:class:`~derive.calculus.concrete.TermIndex`), and the
output signal fused by the engine's own :func:`derive.fusion.fuse_output`.  For a network of L
layers f^j = Φ(ψ(a^{j-1}, W^j, b^j)) and a per-sample cost C(a^L, y), in numerator layout (row
signals, as the Ensimag notes write them):

    P^{L+1} = ∂C/∂a^L
    P^j     = P^{j+1} · ∂f^j/∂a^{j-1}
    ∂E/∂w_k^j = P^{j+1} · ∂f^j/∂w_k^j          ∂E/∂b^j = P^{j+1} · ∂f^j/∂b^j

and from it the column-signal form the algorithm uses:

    B^L = Φ'(ζ^L) ⊙ ∇_{a^L} C        B^j = Φ'(ζ^j) ⊙ (Ω^{j+1} B^{j+1})
    ∇_{W^j} E = α^{j-1} [B^j]ᵀ  (columns)    ∇_{b^j} E = B^j

The B-form is derived from the P-form: each B^j and each gradient is checked equal to its
P-form counterpart, exactly.  Then every signal and gradient is checked equal, entry by entry,
to the engine's matrix-form derivation instantiated at these sizes (the derivation's
``check``), which is itself checked against central differences.

In denominator layout every derivative step is the transpose of its numerator form.  Results
(:attr:`PerNeuronDerivation.gradients`, :meth:`PerNeuronDerivation.evaluate`) follow the
network's parameter order W1, b1, W2, b2, ….

Cost: the local Jacobians are sparse (∂ψ/∂w_k has one nonzero row) and ∂Φ/∂ζ is diagonal for an
elementwise Φ, so products skip structural zeros; the work grows with the number of nonzero
entries the steps record, about (number of weights) × (a few) SymPy products.

>>> from derive.network import mlp
>>> d = derive_per_neuron(mlp([2, 3, 1], activation="sigmoid", loss="bce"))
>>> d.gradient("b2")
Matrix([[B2_1]])
>>> d.program.lookup()[sp.Symbol("B2_1", real=True)]
a2_1 - y_1
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..activations import expand_activations
from ..calculus.concrete import add_terms, jacobian_matrix
from ..calculus.explicit import explicit_value
from ..calculus.result import check_layout
from ..derivation import Check, Derivation, Label, combine
from ..engine import MatrixDerivation, derive_matrix
from ..errors import BadInput, CheckFailed
from ..fusion import fuse_output
from ..program import Program
from ..registry import decide_equal
from ..render import Rendered


def _row(prefix: str, n: int) -> sp.Matrix:
    return sp.Matrix(1, n, [sp.Symbol(f"{prefix}_{i + 1}", real=True) for i in range(n)])


# --- products of concrete Jacobians, as lists of rows -----------------------------------------
# The local Jacobians are sparse (∂ψ/∂w_k has one nonzero row) and ∂Φ/∂ζ is diagonal for an
# elementwise Φ, so products are formed on lists of rows, skipping structural zeros, and turned
# into a Matrix once, for the step that records them.

_ZERO = sp.S.Zero


def _is_zero(entry) -> bool:
    return entry is _ZERO or (entry.is_Number and entry == 0)


def _rows(matrix: sp.Matrix) -> list[list]:
    return matrix.tolist()


def _matrix(rows: list[list]) -> sp.Matrix:
    """A Matrix from a non-empty list of rows."""
    return sp.Matrix(len(rows), len(rows[0]), [e for row in rows for e in row])


def _transpose(rows: list[list]) -> list[list]:
    return [list(column) for column in zip(*rows)]


def _diagonal(rows: list[list]) -> list | None:
    """The diagonal of a square matrix whose off-diagonal entries are all zero, else None."""
    n = len(rows)
    if any(len(row) != n for row in rows):
        return None
    for i, row in enumerate(rows):
        if any(not _is_zero(e) for k, e in enumerate(row) if k != i):
            return None
    return [rows[i][i] for i in range(n)]


def _product(left: list[list], right: list[list], diagonal: list | None = None) -> list[list]:
    """left · right, skipping structural zeros; ``diagonal`` says left = diag(diagonal)."""
    if diagonal is not None:
        return [[d * e if not _is_zero(e) else _ZERO for e in row]
                for d, row in zip(diagonal, right)]
    if not right:
        return [[] for _ in left]
    nonzero = [[k for k, row in enumerate(right) if not _is_zero(row[c])]
               for c in range(len(right[0]))]
    return [[add_terms([row[k] * right[k][c] for k in nonzero[c] if not _is_zero(row[k])])
             for c in range(len(right[0]))] for row in left]



def _same_values(lhs, rhs) -> bool:
    """Exact check that two lists of expressions are equal entry by entry.

    Structurally identical entries are equal; any other pair must have an expanded difference
    of zero.
    """
    return all(a == b or sp.expand(a - b) == 0 for a, b in zip(lhs, rhs, strict=True))


@dataclass
class PerNeuronDerivation(Derivation, Rendered):
    """The per-neuron derivation of every gradient of a network at integer sizes.

    Attributes
    ----------
    network : Network
    explicit : ExplicitNetwork
        The network entry by entry: the symbols every step is written in.
    layout : str
        Layout of the derivative steps ("numerator": rows, as the Ensimag notes;
        "denominator": the transpose of each derivative).
    gradients : dict
        name → ∇_θ C as a Matrix of the parameter's shape, over intermediate symbols
        (``B{j}_i``, ``a{j}_i``); :meth:`gradient` with ``explicit=True`` expands them.
    p_form : dict
        name → the same gradient from the P recursion (over ``P{j}_i`` symbols).
    simplification : str or None
        The recognised output simplification, ``"dC/dz^L = yhat - y"``.
    matrix : MatrixDerivation
        The engine's derivation this one was checked against.
    check : Check
        How it was checked against the engine (exactly, entry by entry), with the engine's own
        check as its part.
    """

    network: object = None
    explicit_network: object = None
    program: Program = field(default_factory=lambda: Program(()))
    gradients: dict = field(default_factory=dict)
    p_form: dict = field(default_factory=dict)
    simplification: str | None = None
    matrix: MatrixDerivation | None = None
    check: Check | None = None
    _compiled: object = field(default=None, repr=False)

    def add(self, lhs, rhs, rule, check=None, uses=()):
        """Record a step; derivatives are stored in the derivation's layout."""
        if self.layout == "denominator" and lhs.kind in _DERIVATIVE_KINDS:
            rhs = rhs.T
        return super().add(lhs, rhs, rule, check, uses)

    def explicit(self, expr: sp.Basic) -> sp.Basic:
        """``expr`` with every intermediate symbol replaced by its definition."""
        return self.program.expand(expr)

    @property
    def layers(self):
        """The explicit layers (entry symbols of each layer)."""
        return self.explicit_network.layers

    # --- results -------------------------------------------------------------------------
    def gradient(self, name: str, explicit: bool = False) -> sp.Matrix:
        """∇_θ C for one sample, in the shape of parameter ``name`` (``W1``, ``b1``, …)."""
        if name not in self.gradients:
            raise BadInput(f"no parameter named {name!r}; known: {', '.join(self.gradients)}")
        value = self.gradients[name]
        return self.explicit(value) if explicit else value

    def derivative(self, name: str, explicit: bool = False) -> sp.Matrix:
        """∂C/∂θ in the derivation's layout (numerator: the transpose of the gradient)."""
        value = self.gradient(name, explicit)
        return value.T if self.layout == "numerator" else value

    def batch_form(self) -> MatrixDerivation:
        """The engine's batch-form derivation of this network."""
        return self.matrix.batch_form()

    def evaluate(self, params: dict, X, Y) -> dict[str, np.ndarray]:
        """Gradient of the batch cost E at ``params`` for samples ``X`` (n_0 × N), ``Y`` (n_L × N).

        Returns name → ndarray of the parameter's shape (SPEC §6), with the network's reduction
        (mean or sum over the batch).
        """
        per_sample, _ = self._run(params, X, Y)
        return per_sample

    def loss_value(self, params: dict, X, Y) -> float:
        """The batch cost E at ``params``."""
        _, cost = self._run(params, X, Y)
        return cost

    def _run(self, params, X, Y):
        net, explicit = self.network, self.explicit_network
        X, Y = net.check_batch(params, X, Y)
        program, outputs, cost_symbol = self._batch_program()
        values = {}
        for name, symbols in explicit.params().items():
            values.update(zip(symbols, np.asarray(params[name], dtype=float).ravel()))
        values.update(zip(explicit.x, X))
        values.update(zip(explicit.y, Y))
        result = program.evaluate(values, outputs + [cost_symbol])
        reduce = np.mean if net.reduction == "mean" else np.sum
        N = X.shape[1]
        table = np.empty((len(outputs), N))
        for row, symbol in enumerate(outputs):
            table[row] = result[symbol]                      # broadcasts constant entries
        reduced = reduce(table, axis=1)
        grads, position = {}, 0
        for name, matrix in self.gradients.items():
            grads[name] = reduced[position:position + len(matrix)].reshape(matrix.shape)
            position += len(matrix)
        return grads, float(reduce(np.broadcast_to(result[cost_symbol], (N,))))

    def _batch_program(self):
        """The program extended by the cost C and every gradient entry (built once)."""
        if self._compiled is None:
            cost_symbol = sp.Symbol("C", real=True)
            flat = [e for matrix in self.gradients.values() for e in matrix]
            outputs = [sp.Symbol(f"_g{i}", real=True) for i in range(len(flat))]
            program = Program(self.program.definitions
                              + ((cost_symbol, self.explicit_network.cost()),)
                              + tuple(zip(outputs, flat)))
            self._compiled = (program, outputs, cost_symbol)
        return self._compiled


_DERIVATIVE_KINDS = {"dphi/dz", "df/da", "df/dw", "df/db", "dC/da", "dC/dz", "P", "dE/dw",
                     "dE/db"}


# --- the derivation ------------------------------------------------------------------------

def derive_per_neuron(net, layout: str = "numerator") -> PerNeuronDerivation:
    """Derive every gradient of ``net`` in the Ensimag per-neuron form.

    Parameters
    ----------
    net : Network
        Integer sizes (at most :data:`derive.network.MAX_CONCRETE_PARAMETERS` parameters).
    layout : {"numerator", "denominator"}
        Layout in which derivative steps are stated; gradients always have the parameter's shape.

    Returns
    -------
    PerNeuronDerivation
    """
    check_layout(layout)
    explicit = net.explicit()
    d = PerNeuronDerivation(network=net, explicit_network=explicit, layout=layout)
    definitions: list[tuple[sp.Symbol, sp.Expr]] = []
    L = net.depth

    for layer in explicit.layers:
        d.add(Label("z", layer.index), layer.psi, "layer")
        d.add(Label("a", layer.index), layer.phi, "layer")
        definitions += list(zip(layer.z, layer.psi)) + list(zip(layer.a, layer.phi))
    cost = explicit.cost()
    d.add(Label("C"), sp.Matrix([[cost]]), "loss")

    output = explicit.layers[-1]
    dC_da = jacobian_matrix([cost], list(output.a))
    P_next = _row(f"P{L + 1}", output.n_out)
    d.add(Label("P", L + 1), dC_da, "recursion_start", check=Check("sympy_diff"))
    definitions += list(zip(P_next, dC_da))

    jacobians: dict[int, tuple] = {}                # j → (rows of ∂Φ/∂ζ, its diagonal)
    for layer in reversed(explicit.layers):
        P_next = _derive_layer(d, layer, P_next, definitions, jacobians)

    _derive_signals(d, explicit, dC_da, definitions, jacobians)
    # The recursion runs from layer L down; results follow the network's parameter order.
    order = list(explicit.params())
    d.gradients = {name: d.gradients[name] for name in order}
    d.p_form = {name: d.p_form[name] for name in order}
    _batch_step(d, net)
    d.program = Program(tuple(definitions))
    # The engine's own numerical check is not needed here: every entry is checked exactly
    # against its derivation instead.
    d.matrix = derive_matrix(net, layout=layout, check=False)
    d.check = _check_against_engine(d)
    return d


def _batch_step(d: PerNeuronDerivation, net) -> None:
    """E over a batch of N samples (columns of X), and its gradient (SPEC §3.3)."""
    N, n = sp.symbols("N n", integer=True, positive=True)
    C = sp.IndexedBase("C")
    total = sp.Sum(C[n], (n, 1, N))
    value = total / N if net.reduction == "mean" else total
    d.add(Label("E"), sp.Matrix([[value]]), "reduction")


def _derive_layer(d: PerNeuronDerivation, layer, P_next: sp.Matrix,
                  definitions: list, jacobians: dict) -> sp.Matrix:
    """The steps of layer j; returns the row of symbols P^j."""
    j, act = layer.index, layer.activation
    J_phi = act.jacobian(layer.z)
    jac = _rows(J_phi)
    diagonal = _diagonal(jac)
    jacobians[j] = (jac, diagonal)
    d.add(Label("dphi/dz", j), J_phi, "activation_derivative", check=act.check)

    psi = layer.psi_index
    P_row = [list(P_next)]
    df_da = _product(jac, psi.jacobian_rows(layer.inputs), diagonal)
    d.add(Label("df/da", j), _matrix(df_da), "chain_rule", check=Check("sympy_diff"))

    rows = []
    for k in range(1, layer.n_out + 1):
        df_dwk = _product(jac, psi.jacobian_rows(layer.neuron_weights(k)), diagonal)
        d.add(Label("df/dw", j, k), _matrix(df_dwk), "chain_rule", check=Check("sympy_diff"))
        dE_dwk = _product(P_row, df_dwk)
        d.add(Label("dE/dw", j, k), _matrix(dE_dwk), "weight_gradient")
        rows.append(dE_dwk[0])
    # ∇_{w_k} E = [∂E/∂w_k]ᵀ; stacked as W^j stores its neurons (SPEC §3.1).
    stacked = _matrix(rows)
    names = layer.layer.names()
    grad_W = stacked.T if layer.layer.variant.neurons_in_columns else stacked
    d.p_form[names["weights"]] = grad_W
    d.add(Label("grad", j, wrt=names["weights"]), grad_W, "gradient_transpose")

    if layer.b is not None:
        df_db = _product(jac, psi.jacobian_rows(layer.b), diagonal)
        d.add(Label("df/db", j), _matrix(df_db), "chain_rule", check=Check("sympy_diff"))
        dE_db = _matrix(_product(P_row, df_db))
        d.add(Label("dE/db", j), dE_db, "bias_gradient")
        d.p_form[names["bias"]] = dE_db.T
        d.add(Label("grad", j, wrt=names["bias"]), dE_db.T, "gradient_transpose")

    if j == 1:
        return P_next
    P_here = _row(f"P{j}", layer.n_in)
    value = _product(P_row, df_da)
    d.add(Label("P", j), _matrix(value), "recursion")
    definitions.extend(zip(P_here, value[0]))
    return P_here


def _derive_signals(d: PerNeuronDerivation, explicit, dC_da: sp.Matrix, definitions: list,
                    jacobians: dict) -> None:
    """Derive the B-form from the P-form; check each B^j and gradient against it."""
    L = len(explicit.layers)
    B_next = None
    for layer in reversed(explicit.layers):
        j = layer.index
        B = [sp.Symbol(f"B{j}_{i + 1}", real=True) for i in range(layer.n_out)]
        P_next = list(_row(f"P{j + 1}", layer.n_out))
        jac, diagonal = jacobians[j]
        from_p = _product([P_next], jac)[0]                 # [P^{j+1} ∂Φ/∂ζ]ᵀ
        if j == L:
            value = list(_output_signal(d, explicit, _matrix([[e] for e in from_p])))
        else:
            upper = explicit.layers[j]                      # layer j+1
            W_up = upper.psi_index.jacobian_rows(upper.inputs)   # ∂ψ^{j+1}/∂a^j
            pulled = _product(_transpose(W_up), [[b] for b in B_next])  # Ω^{j+1} B^{j+1}
            value = [row[0] for row in _product(_transpose(jac), pulled, diagonal)]
            # Check: with P^{j+1} = [Ω^{j+1} B^{j+1}]ᵀ (its definition), B^j = [P^{j+1} ∂Φ/∂ζ]ᵀ.
            as_p = dict(zip(P_next, (row[0] for row in pulled)))
            if not _same_values(value, [e.xreplace(as_p) for e in from_p]):
                raise CheckFailed(f"B^{j} disagrees with the P recursion")
            d.add(Label("B", j), _matrix([[e] for e in value]), "signal_recursion",
                  check=Check("exact", "p_form"))
        definitions.extend(zip(B, value))
        _signal_gradients(d, layer, B, from_p)
        B_next = B


def _signal_gradients(d: PerNeuronDerivation, layer, B: list, from_p: list) -> None:
    """∇W^j and ∇b^j from B^j; each checked equal to the P-form gradient."""
    j = layer.index
    replace_b = dict(zip(B, from_p))                        # B^j_i = [P^{j+1} ∂Φ/∂ζ]_i
    psi = layer.psi_index
    for name, symbols in layer.params().items():
        # ∇_θ C = (∂ψ/∂θ)ᵀ B, entry by entry (only the outputs that contain θ contribute).
        entries = [add_terms([B[i] * psi.derivative(i, theta) for i in psi.occurrences(theta)])
                   for theta in symbols]
        if not _same_values([e.xreplace(replace_b) for e in entries], list(d.p_form[name])):
            raise CheckFailed(f"B-form gradient of {name} disagrees with the P-form")
        grad = sp.Matrix(symbols.rows, symbols.cols, entries)
        d.add(Label("grad", j, wrt=name), grad, "signal_gradient",
              check=Check("exact", "p_form"))
        d.gradients[name] = grad


def _output_signal(d: PerNeuronDerivation, explicit, seed_form: sp.Matrix) -> sp.Matrix:
    """B^L = [∂C/∂ζ^L]ᵀ: ``seed_form`` (Φ'(ζ^L) ⊙ [P^{L+1}]ᵀ, a column), or the engine's fused
    form entry by entry (σ + bce: a^L − y) where the algebra gives one."""
    L, output, loss = len(explicit.layers), explicit.layers[-1], explicit.network.loss
    d.add(Label("B", L), seed_form, "signal_definition")
    fusion = fuse_output(output.activation, loss)
    if fusion is None:
        return seed_form
    fused = _matrix([fusion.entries(output.a, explicit.y)])
    if fusion.recognised:
        d.simplification = f"dC/dz^{L} = yhat - y"
    d.add(Label("dC/dz", L), fused, fusion.rule, check=fusion.check)
    return fused.T


# --- agreement with the engine ---------------------------------------------------------------------

def _check_against_engine(d: PerNeuronDerivation) -> Check:
    """Check every signal and gradient against the engine's, instantiated at these sizes,
    entry by entry: exactly (an expanded difference of zero, activation derivatives written
    out), else with the activations written out in z at random rational points (50 digits).

    Returns the check, with the engine's own check as its part.
    """
    m, explicit = d.matrix, d.explicit_network
    sym = m.symbols
    mapping = {sym.a(0): sp.ImmutableMatrix(explicit.x), sym.y(): sp.ImmutableMatrix(explicit.y)}
    written_out = {}
    for layer in explicit.layers:
        j = layer.index
        mapping[sym.a(j)] = sp.ImmutableMatrix(layer.a)
        mapping[sym.z(j)] = sp.ImmutableMatrix(layer.z)
        mapping[sym.signal(j)] = sp.ImmutableMatrix(
            [sp.Symbol(f"B{j}_{i + 1}", real=True) for i in range(layer.n_out)])
        for name, symbol in sym.params(j).items():
            mapping[symbol] = sp.ImmutableMatrix(layer.params()[name])
        written_out.update(zip(layer.a, expand_activations(layer.phi)))
    lookup = d.program.lookup()
    # B^L may be written over P^{L+1} = ∂C/∂a^L, which the engine writes out.
    start = {s: lookup[s] for s in _row(f"P{len(explicit.layers) + 1}",
                                        explicit.layers[-1].n_out)}
    pairs = [(f"B^{layer.index}", m.signal(layer.index),
              [lookup[s].xreplace(start) for s in mapping[sym.signal(layer.index)]])
             for layer in explicit.layers]
    pairs += [(f"the gradient of {name}", m.gradient(name), list(d.gradients[name]))
              for name in d.gradients]
    checks = []
    for what, matrix_form, entries in pairs:
        instance = explicit_entries(matrix_form, mapping)
        for a, b in zip(instance, entries, strict=True):
            check = _same_entry(a, b, written_out)
            if check is None:
                raise CheckFailed(f"per-neuron {what} disagrees with the matrix-form "
                                  f"derivation: {b} against {a}")
            checks.append(check)
    method = combine(checks)
    return Check(method.method if method else "exact", "engine", points=method.points
                 if method else None, digits=method.digits if method else None,
                 parts=(m.check,) if m.check else ())


def explicit_entries(expr, mapping: dict) -> list:
    """The entries of a matrix expression, its MatrixSymbols replaced by the explicit matrices
    of ``mapping``, in row-major order, with every activation derivative node written out."""
    return list(explicit_value(expr, mapping))


def _same_entry(a, b, written_out: dict) -> Check | None:
    if a == b or sp.expand(a - b) == 0:
        return Check("exact", "engine")
    a, b = expand_activations(a), expand_activations(b)
    if sp.expand(a - b) == 0:
        return Check("exact", "engine")
    a, b = a.xreplace(written_out), b.xreplace(written_out)
    return decide_equal(a, b, a.free_symbols | b.free_symbols, simplify=False, trials=3,
                        against="engine")


__all__ = ["PerNeuronDerivation", "derive_per_neuron", "explicit_entries"]
