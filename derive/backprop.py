"""The backpropagation recursion of seed 003 at concrete sizes, as a :class:`MLPDerivation`.

For a network of L layers f^j = Φ(ψ(a^{j-1}, W^j, b^j)) and a per-sample cost C(a^L, y), in
numerator layout (row signals, as seed 003):

    P^{L+1} = ∂C/∂a^L
    P^j     = P^{j+1} · ∂f^j/∂a^{j-1}
    ∂E/∂w_k^j = P^{j+1} · ∂f^j/∂w_k^j          ∂E/∂b^j = P^{j+1} · ∂f^j/∂b^j

and from it the column-signal form the algorithm uses:

    B^L = Φ'(ζ^L) ⊙ ∇_{a^L} C        B^j = Φ'(ζ^j) ⊙ (Ω^{j+1} B^{j+1})
    ∇_{W^j} E = α^{j-1} [B^j]ᵀ  (columns)    ∇_{b^j} E = B^j

Every local Jacobian comes from differentiating the layer's own expressions (fresh input
symbols, never the whole network expanded) term by term with a
:class:`~derive.calculus.concrete.TermIndex`: ``sympy.diff``, except that a term c·v with c free
of v gives c directly (what ``sympy.diff`` returns).  The B-form is *derived* from the P-form:
each B^j and each gradient is checked equal to its P-form counterpart, exactly (structurally
identical entries, else an expanded difference of zero).  At the output,
∂C/∂ζ^L = P^{L+1} · ∂Φ/∂ζ^L is simplified with Φ' written in Φ's outputs (σ' = a(1 − a)) where
the activation has such a form; otherwise the product, written out in ζ^L, is tested for being
a^L − y.  sigmoid+bce, softmax+cross_entropy and identity+mse (however the user spells the
activation: ``1/(1+exp(-x))`` is recognised as sigmoid is) come out as ŷ − y because the algebra
says so, and the step records the check.

In denominator layout every derivative step is the transpose of its numerator form, and its
printed form says so: the same factors in reversed order (∂E/∂w_k^j = ∂f^j/∂w_k^j · P^{j+1}).
Results (:attr:`MLPDerivation.gradients`, :meth:`MLPDerivation.evaluate`) follow the network's
parameter order W1, b1, W2, b2, ….

Cost: the local Jacobians are sparse (∂ψ/∂w_k has one nonzero row) and ∂Φ/∂ζ is diagonal for an
elementwise Φ, so products skip structural zeros; the work grows with the number of nonzero
entries the steps record, about (number of weights) × (a few) SymPy products.

>>> from derive.network import mlp
>>> d = backprop(mlp([2, 3, 1], activation="sigmoid", loss="bce"))
>>> d.gradient("b2")
Matrix([[B2_1]])
>>> d.program.lookup()[sp.Symbol("B2_1", real=True)]
a2_1 - y_1
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .calculus.concrete import add_terms, jacobian_matrix
from .calculus.result import check_layout
from .derivation import DerivationBase, Label, Program
from .errors import BadInput, CheckFailed
from .network import Dense, Network
from .registry import equal_everywhere

#: Plain-text forms of the forward definitions, per convention.
FORWARD_FORMS = {
    "rows": "z^{j} = W^{j} a^{jm} + b^{j}",
    "columns": "z^{j} = [W^{j}]^T a^{jm} + b^{j}",
    "augmented": "z^{j} = W~^{j} [1; a^{jm}]",
}
SIGNAL_GRADIENT_FORMS = {
    "rows": "grad_W{j} E = B^{j} [a^{jm}]^T",
    "columns": "grad_W{j} E = a^{jm} [B^{j}]^T",
    "augmented": "grad_W{j} E = B^{j} [1; a^{jm}]^T",
}
#: Plain-text forms of the backward steps, (numerator layout, denominator layout).  Every
#: derivative in a form is stated in the derivation's layout, so the denominator form is the
#: transpose of the numerator one: the same factors in reversed order ((AB)ᵀ = BᵀAᵀ).
BACKWARD_FORMS = {
    "df/da": ("df^{j}/da^{jm} = dPhi^{j}/dz^{j} . dpsi^{j}/da^{jm}",
              "df^{j}/da^{jm} = dpsi^{j}/da^{jm} . dPhi^{j}/dz^{j}"),
    "df/dw": ("df^{j}/dw_k^{j} = dPhi^{j}/dz^{j} . dpsi^{j}/dw_k^{j}",
              "df^{j}/dw_k^{j} = dpsi^{j}/dw_k^{j} . dPhi^{j}/dz^{j}"),
    "df/db": ("df^{j}/db^{j} = dPhi^{j}/dz^{j} . dpsi^{j}/db^{j}",
              "df^{j}/db^{j} = dpsi^{j}/db^{j} . dPhi^{j}/dz^{j}"),
    "dE/dw": ("dE/dw_k^{j} = P^{jp} . df^{j}/dw_k^{j}",
              "dE/dw_k^{j} = df^{j}/dw_k^{j} . P^{jp}"),
    "dE/db": ("dE/db^{j} = P^{jp} . df^{j}/db^{j}",
              "dE/db^{j} = df^{j}/db^{j} . P^{jp}"),
    "P": ("P^{j} = P^{jp} . df^{j}/da^{jm}",
          "P^{j} = df^{j}/da^{jm} . P^{jp}"),
    "grad_w": ("grad_{{w_k}} E = [dE/dw_k]^T, one per neuron, laid out as W",
               "grad_{{w_k}} E = dE/dw_k, one per neuron, laid out as W"),
    "grad_b": ("grad_b{j} E = [dE/db^{j}]^T", "grad_b{j} E = dE/db^{j}"),
    "dC/dz": ("dC/dz^{j} = dC/da^{j} . dPhi^{j}/dz^{j}",
              "dC/dz^{j} = dPhi^{j}/dz^{j} . dC/da^{j}"),
}
SIGNAL_RECURSION_FORMS = {
    "rows": "B^{j} = Phi'(z^{j}) (.) ([W^{jp}]^T B^{jp})",
    "columns": "B^{j} = Phi'(z^{j}) (.) (W^{jp} B^{jp})",
    "augmented": "B^{j} = Phi'(z^{j}) (.) ([W^{jp} without its bias column]^T B^{jp})",
}


def _fmt(form: str, j: int) -> str:
    return form.format(j=j, jm=j - 1, jp=j + 1)


def _backward_form(d: "MLPDerivation", kind: str, j: int) -> str:
    """The form of a backward step of layer ``j`` in the derivation's layout."""
    numerator, denominator = BACKWARD_FORMS[kind]
    return _fmt(numerator if d.layout == "numerator" else denominator, j)


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
class MLPDerivation(DerivationBase):
    """The derivation of every gradient of an MLP (SPEC §5a ``Derivation``).

    Attributes
    ----------
    network : Network
    layout : str
        Layout of the derivative steps ("numerator": rows as seed 003; "denominator":
        the transpose of each derivative).
    gradients : dict
        name → ∇_θ C as a Matrix of the parameter's shape, over intermediate symbols
        (``B{j}_i``, ``a{j}_i``); :meth:`gradient` with ``explicit=True`` expands them.
    p_form : dict
        name → the same gradient from the P recursion (over ``P{j}_i`` symbols).
    simplification : str or None
        The recognised output simplification, e.g. ``"dC/dz^L = yhat - y"``.
    """

    network: Network | None = None
    layout: str = "numerator"
    gradients: dict = field(default_factory=dict)
    p_form: dict = field(default_factory=dict)
    simplification: str | None = None
    _compiled: object = field(default=None, repr=False)

    def add(self, lhs, rhs, rule, check="", form=""):
        """Record a step; derivatives are stored in the derivation's layout."""
        if self.layout == "denominator" and lhs.kind in _DERIVATIVE_KINDS:
            rhs = rhs.T
        return super().add(lhs, rhs, rule, check, form)

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
        net = self.network
        X, Y = _check_batch(net, params, X, Y)
        program, outputs, cost_symbol = self._batch_program()
        values = {}
        for name, symbols in net.params().items():
            values.update(zip(symbols, np.asarray(params[name], dtype=float).ravel()))
        values.update(zip(net.x, X))
        values.update(zip(net.y, Y))
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
            program = Program(self.program.definitions + ((cost_symbol, self.network.cost()),)
                              + tuple(zip(outputs, flat)))
            self._compiled = (program, outputs, cost_symbol)
        return self._compiled


_DERIVATIVE_KINDS = {"dphi/dz", "df/da", "df/dw", "df/db", "dC/da", "dC/dz", "P", "dE/dw",
                     "dE/db"}


def _check_batch(net: Network, params, X, Y):
    expected = net.param_shapes()
    if set(params) != set(expected):
        raise BadInput(f"params have keys {sorted(params)}; expected {list(expected)}")
    for name, shape in expected.items():
        if np.shape(params[name]) != shape:
            raise BadInput(f"params[{name!r}] has shape {np.shape(params[name])}; "
                           f"expected {shape}")
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    if X.ndim != 2 or X.shape[0] != net.sizes[0]:
        raise BadInput(f"X has shape {X.shape}; expected ({net.sizes[0]}, N), samples as columns")
    if Y.ndim != 2 or Y.shape != (net.sizes[-1], X.shape[1]):
        raise BadInput(f"Y has shape {Y.shape}; expected ({net.sizes[-1]}, {X.shape[1]})")
    return X, Y


# --- the derivation ------------------------------------------------------------------------

def backprop(net: Network, layout: str = "numerator") -> MLPDerivation:
    """Derive every gradient of ``net`` (SPEC §5a ``derive.backprop``).

    Parameters
    ----------
    net : Network
        From :func:`derive.mlp` or :func:`derive.load_spec`.
    layout : {"numerator", "denominator"}
        Layout in which derivative steps are stated; gradients always have the parameter's shape.

    Returns
    -------
    MLPDerivation
    """
    check_layout(layout)
    d = MLPDerivation(network=net, layout=layout)
    definitions: list[tuple[sp.Symbol, sp.Expr]] = []
    L = net.depth

    for layer in net.layers:
        j = layer.index
        d.add(Label("z", j), layer.psi, "layer", form=_fmt(FORWARD_FORMS[net.convention], j))
        d.add(Label("a", j), layer.phi, "layer", form=_fmt("a^{j} = Phi(z^{j})", j))
        definitions += list(zip(layer.z, layer.psi)) + list(zip(layer.a, layer.phi))
    cost = net.cost()
    d.add(Label("C"), sp.Matrix([[cost]]), "loss", form="C = sum_k l(a^L_k, y_k)")

    output = net.layers[-1]
    dC_da = jacobian_matrix([cost], list(output.a))
    P_next = _row(f"P{L + 1}", output.n_out)
    d.add(Label("P", L + 1), dC_da, "recursion_start", check="sympy.diff",
          form=f"P^{L + 1} = dC/da^{L}")
    definitions += list(zip(P_next, dC_da))

    jacobians: dict[int, tuple] = {}                # j → (rows of ∂Φ/∂ζ, its diagonal)
    for layer in reversed(net.layers):
        P_next = _derive_layer(d, layer, P_next, definitions, jacobians)

    _derive_signals(d, net, dC_da, definitions, jacobians)
    # The recursion runs from layer L down; results follow the network's parameter order.
    order = list(net.params())
    d.gradients = {name: d.gradients[name] for name in order}
    d.p_form = {name: d.p_form[name] for name in order}
    _batch_step(d, net)
    d.program = Program(tuple(definitions))
    return d


def _batch_step(d: MLPDerivation, net: Network) -> None:
    """E over a batch of N samples (columns of X), and its gradient (SPEC §3.3)."""
    N, n = sp.symbols("N n", integer=True, positive=True)
    C = sp.IndexedBase("C")
    total = sp.Sum(C[n], (n, 1, N))
    value = total / N if net.reduction == "mean" else total
    d.add(Label("E"), sp.Matrix([[value]]), "reduction",
          form=("E = (1/N) sum_n C^(n);  grad E = (1/N) sum_n grad C^(n)"
                if net.reduction == "mean" else "E = sum_n C^(n);  grad E = sum_n grad C^(n)"))


def _derive_layer(d: MLPDerivation, layer: Dense, P_next: sp.Matrix,
                  definitions: list, jacobians: dict) -> sp.Matrix:
    """Steps of seed 003 for layer j; returns the row of symbols P^j."""
    j, act = layer.index, layer.activation
    J_phi = act.jacobian(layer.z)
    jac = _rows(J_phi)
    diagonal = _diagonal(jac)
    jacobians[j] = (jac, diagonal)
    d.add(Label("dphi/dz", j), J_phi, "activation_derivative", check=act.check,
          form=_fmt("dPhi^{j}/dz^{j} = diag(Phi'(z^{j}))", j) if not act.vector_valued
          else _fmt("dPhi^{j}/dz^{j} = diag(s) - s s^T", j))

    psi = layer.psi_index
    P_row = [list(P_next)]
    df_da = _product(jac, psi.jacobian_rows(layer.inputs), diagonal)
    d.add(Label("df/da", j), _matrix(df_da), "chain_rule",
          check="sympy.diff on the layer's expressions",
          form=_backward_form(d, "df/da", j))

    rows = []
    for k in range(1, layer.n_out + 1):
        df_dwk = _product(jac, psi.jacobian_rows(layer.neuron_weights(k)), diagonal)
        d.add(Label("df/dw", j, k), _matrix(df_dwk), "chain_rule", check="sympy.diff",
              form=_backward_form(d, "df/dw", j))
        dE_dwk = _product(P_row, df_dwk)
        d.add(Label("dE/dw", j, k), _matrix(dE_dwk), "weight_gradient",
              form=_backward_form(d, "dE/dw", j))
        rows.append(dE_dwk[0])
    # ∇_{w_k} E = [∂E/∂w_k]ᵀ; stacked as W^j stores its neurons (SPEC §3.1).
    stacked = _matrix(rows)
    grad_W = stacked.T if layer.convention == "columns" else stacked
    d.p_form[f"W{j}"] = grad_W
    d.add(Label("grad", j, wrt=f"W{j}"), grad_W, "gradient_transpose",
          form=_backward_form(d, "grad_w", j))

    if layer.b is not None:
        df_db = _product(jac, psi.jacobian_rows(layer.b), diagonal)
        d.add(Label("df/db", j), _matrix(df_db), "chain_rule", check="sympy.diff",
              form=_backward_form(d, "df/db", j))
        dE_db = _matrix(_product(P_row, df_db))
        d.add(Label("dE/db", j), dE_db, "bias_gradient",
              form=_backward_form(d, "dE/db", j))
        d.p_form[f"b{j}"] = dE_db.T
        d.add(Label("grad", j, wrt=f"b{j}"), dE_db.T, "gradient_transpose",
              form=_backward_form(d, "grad_b", j))

    if j == 1:
        return P_next
    P_here = _row(f"P{j}", layer.n_in)
    value = _product(P_row, df_da)
    d.add(Label("P", j), _matrix(value), "recursion",
          form=_backward_form(d, "P", j))
    definitions.extend(zip(P_here, value[0]))
    return P_here


def _derive_signals(d: MLPDerivation, net: Network, dC_da: sp.Matrix, definitions: list,
                    jacobians: dict) -> None:
    """Derive the B-form from the P-form; check each B^j and gradient against it."""
    L = net.depth
    B_next = None
    for layer in reversed(net.layers):
        j = layer.index
        B = [sp.Symbol(f"B{j}_{i + 1}", real=True) for i in range(layer.n_out)]
        P_next = list(_row(f"P{j + 1}", layer.n_out))
        jac, diagonal = jacobians[j]
        from_p = _product([P_next], jac)[0]                 # [P^{j+1} ∂Φ/∂ζ]ᵀ
        if j == L:
            value = list(_output_signal(d, net, dC_da, _matrix([[e] for e in from_p])))
        else:
            upper = net.layers[j]                           # layer j+1
            W_up = upper.psi_index.jacobian_rows(upper.inputs)   # ∂ψ^{j+1}/∂a^j
            pulled = _product(_transpose(W_up), [[b] for b in B_next])  # Ω^{j+1} B^{j+1}
            value = [row[0] for row in _product(_transpose(jac), pulled, diagonal)]
            # Check: with P^{j+1} = [Ω^{j+1} B^{j+1}]ᵀ (its definition), B^j = [P^{j+1} ∂Φ/∂ζ]ᵀ.
            as_p = dict(zip(P_next, (row[0] for row in pulled)))
            if not _same_values(value, [e.xreplace(as_p) for e in from_p]):
                raise CheckFailed(f"B^{j} disagrees with the P recursion")
            d.add(Label("B", j), _matrix([[e] for e in value]), "signal_recursion",
                  check="exact: equals [P^{j+1} dPhi/dz]^T with P^{j+1} = [Omega B]^T",
                  form=_fmt(SIGNAL_RECURSION_FORMS[net.convention], j))
        definitions.extend(zip(B, value))
        _signal_gradients(d, layer, B, from_p)
        B_next = B


def _signal_gradients(d: MLPDerivation, layer: Dense, B: list, from_p: list) -> None:
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
        form = (_fmt(SIGNAL_GRADIENT_FORMS[layer.convention], j) if name.startswith("W")
                else _fmt("grad_b{j} E = B^{j}", j))
        d.add(Label("grad", j, wrt=name), grad, "signal_gradient",
              check="exact: equals the P-form gradient", form=form)
        d.gradients[name] = grad


def _output_signal(d: MLPDerivation, net: Network, dC_da: sp.Matrix,
                   seed_form: sp.Matrix) -> sp.Matrix:
    """B^L = [∂C/∂ζ^L]ᵀ, simplified when the algebra allows it.

    ``seed_form`` is Φ'(ζ^L) ⊙ [P^{L+1}]ᵀ as a column.  When Φ' can be written in Φ's outputs
    (σ' = a(1 − a)), ∂C/∂a · ∂Φ/∂ζ is simplified in a^L; otherwise (a user's activation, a
    derivative that needs ζ) it is tested, written out in ζ^L, for being a^L − y
    (:func:`_residual_in_z`).  Nothing depends on the activation's or the loss's name.
    """
    L, output, loss = net.depth, net.layers[-1], net.loss
    d.add(Label("B", L), seed_form, "signal_definition",
          form=f"B^{L} = Phi'(z^{L}) (.) grad_a{L} C")
    rule_note = f" using {loss.targets} targets: sum_k y_k = 1" if loss.targets == "simplex" else ""
    recognised_note = "  =>  yhat - y (recognised)"
    J_out = _jacobian_in_outputs(output)
    if J_out is None:
        check = _residual_in_z(dC_da, output, net)
        if check is None:
            return seed_form
        residual = _matrix([[a - t for a, t in zip(output.a, net.y)]])
        d.simplification = f"dC/dz^{L} = yhat - y"
        d.add(Label("dC/dz", L), residual, "simplify", check=check,
              form=(_backward_form(d, "dC/dz", L) + f" with a^{L} = Phi(z^{L}) written out"
                    + rule_note + recognised_note))
        return residual.T
    raw = _product(_rows(dC_da), _rows(J_out))[0]           # in a^L and y
    simplified = [_simplify(e, output, net) for e in raw]
    before = sum(sp.count_ops(e) for e in raw)
    recognised = all(_is_residual(s, a, t) for s, a, t in zip(simplified, output.a, net.y))
    if not recognised and sum(sp.count_ops(e) for e in simplified) >= before:
        return seed_form
    check = _check_output_signal(raw, simplified, output, net)
    if recognised:
        d.simplification = f"dC/dz^{L} = yhat - y"
    simplified = _matrix([simplified])
    d.add(Label("dC/dz", L), simplified, "simplify", check=check,
          form=(_backward_form(d, "dC/dz", L) + f" with Phi' written in a^{L}"
                + rule_note + (recognised_note if recognised else "")))
    return simplified.T


def _simplex_substitution(net: Network) -> dict:
    """y_n = 1 − Σ_{k<n} y_k for simplex targets (cross_entropy), else nothing."""
    if net.loss.targets != "simplex":
        return {}
    *head, last = net.y
    return {last: 1 - sp.Add(*head)}


def _residual_in_z(dC_da: sp.Matrix, output: Dense, net: Network) -> str | None:
    """How ∂C/∂ζ^L = ∂C/∂a^L · ∂Φ/∂ζ^L was shown to be a^L − y, or ``None`` if it is not.

    Everything is written out in ζ^L and y: a^L = Φ(ζ^L) and ∂Φ/∂ζ (the full Jacobian for a
    vector activation) from the activation's own formula, on the simplex for simplex targets.
    A cheap comparison at a few random rational points rejects most cells first; the
    equality is then decided by :func:`derive.registry.equal_everywhere` (exact
    simplification, else random exact rational points at 50 digits).
    """
    from .activations import expand_activations

    simplex = _simplex_substitution(net)
    outputs = expand_activations(output.phi)
    substitution = {**dict(zip(output.a, outputs)), **simplex}
    jacobian = expand_activations(output.activation.jacobian(output.z)).xreplace(simplex)
    grad_a = [e.xreplace(substitution) for e in dC_da]
    raw = _product([grad_a], _rows(jacobian))[0]
    residual = [(a - t).xreplace(simplex) for a, t in zip(outputs, net.y)]
    variables = list(output.z) + [t for t in net.y if t not in simplex]
    if any(equal_everywhere(r, s, variables, simplify=False, trials=3) is None
           for r, s in zip(raw, residual)):
        return None
    methods = []
    for r, s in zip(raw, residual):
        method = equal_everywhere(r, s, variables)
        if method is None:
            return None
        methods.append(method)
    domain = " on the simplex sum_k y_k = 1" if simplex else ""
    method = "exact simplification" if set(methods) == {"exact simplification"} \
        else "; ".join(sorted(set(methods)))
    return (f"dC/da . dPhi/dz, written out in z with a = Phi(z){domain}, equals a - y "
            f"({method})")


def _is_residual(expr: sp.Expr, a: sp.Symbol, y: sp.Symbol) -> bool:
    """Whether ``expr`` is a − y identically (expansion first, simplification if needed).

    A comparison at a few random rational points rejects the usual case (no fusion) before
    ``sympy.simplify``, which can take seconds on a piecewise loss derivative (huber).
    """
    difference = expr - (a - y)
    if sp.expand(difference) == 0:
        return True
    if equal_everywhere(expr, a - y, difference.free_symbols | {a, y}, simplify=False,
                        trials=3) is None:
        return False
    return sp.simplify(difference) == 0


def _jacobian_in_outputs(layer: Dense) -> sp.Matrix | None:
    act = layer.activation
    if act.vector_valued:
        return act.jacobian_in_output(layer.a)
    forms = [act.derivative_in_output(a) for a in layer.a]
    return None if any(f is None for f in forms) else sp.diag(*forms)


def _simplify(expr: sp.Expr, output: Dense, net: Network) -> sp.Expr:
    expr = sp.cancel(sp.together(expr))
    if net.loss.targets == "simplex":
        # Σ_k y_k = 1: collect over the outputs so the sum of targets appears, then use it.
        expr = sp.collect(sp.expand(expr), list(output.a)).subs(sp.Add(*net.y), 1)
        expr = sp.cancel(expr)
    return sp.factor_terms(expr)


def _check_output_signal(raw, simplified, output: Dense, net: Network) -> str:
    """Check the simplified ∂C/∂ζ^L against the unsimplified product, with a^L = Φ(ζ^L).

    Both sides are expressions of a^L and y.  When their difference, brought over a common
    denominator, has a numerator that expands to zero (on the simplex for simplex targets),
    they are equal for every a^L where defined, so in particular for a^L = Φ(ζ^L); otherwise
    a^L = Φ(ζ^L) is substituted and the two are compared by
    :func:`derive.registry.equal_everywhere`.
    """
    from .activations import expand_activations

    simplex = _simplex_substitution(net)
    domain = " on the simplex sum_k y_k = 1" if simplex else ""
    if all(sp.expand(sp.numer(sp.together((r - s).xreplace(simplex)))) == 0
           for r, s in zip(raw, simplified)):
        return (f"equal to dC/da . dPhi/dz for every a, so with a = Phi(z){domain} "
                "(exact: over a common denominator the difference expands to zero)")
    outputs = expand_activations(output.phi)
    substitution = {**dict(zip(output.a, outputs)), **simplex}
    variables = list(output.z) + list(net.y)
    for r, s in zip(raw, simplified):
        lhs, rhs = r.xreplace(substitution), s.xreplace(substitution)
        method = equal_everywhere(lhs, rhs, variables, simplify=False)
        if method is None:
            raise CheckFailed(f"output simplification failed its check: {r} vs {s}")
    return f"equal to dC/da . dPhi/dz with a = Phi(z){domain} ({method})"
