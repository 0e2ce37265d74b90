r"""The Durham lecture of a network: the Jacobian J_f of a map f: Rⁿ → Rᵐ (the m × n matrix of
∂f_i/∂x_j), the multilinear map x, W, b ↦ Wx + b and its Jacobians in x, W and b, the chain rule
h'(x) = f'(g(x)) g'(x) — in Jacobians J_h(x) = J_f(g(x)) J_g(x) — applied to the first layer
y_1 = f(W_1 x + b_1), whose Jacobian is diag(f'(W_1 x + b_1)) W_1, and to the whole network,
then the gradients of the cost by the same chain rule, as the Durham lecture builds them.

Durham's Jacobians are m × n, outputs by inputs: the Jacobian sections are in numerator layout
whatever the derivation's layout; the backward pass is in the derivation's layout.  Every line
is checked (:mod:`reports.lectures.lines`): a Jacobian against ``sympy.diff`` of the layer's
formula, a derivative of the cost against the engine's value.

>>> import derive
>>> from reports.lectures import lecture
>>> net = derive.mlp([3, 2], activation="sigmoid", loss="mse", notation="durham")
>>> doc = lecture(derive.backprop(net, form="matrix"))
>>> [section.title for section in doc.sections][:3]
['The network', 'The Jacobian', 'The multilinear map $Wx + b$']
"""

from __future__ import annotations


import sympy as sp

from derive.calculus.constructors import mm
from derive.calculus.explicit import explicit_value
from derive.derivation import Check
from derive.jacobians import jacobian
from verify.claim_points import evaluate, same

from .document import Algorithm, Group, Section, Text
from .lines import POINTS, LineMismatch
from .network import NetworkLecture

__all__ = ["durham_sections"]

#: Durham's Jacobians: outputs by inputs.
JACOBIAN_LAYOUT = "numerator"


def _sized(lec: NetworkLecture, expr):
    sizes = getattr(lec.w.checker, "sizes", None)
    return expr.xreplace(sizes) if sizes else expr


def _space(lec: NetworkLecture, *sizes) -> str:
    r"""``\mathbb{R}^{3}`` or ``\mathbb{R}^{2 \times 3}`` for the given sizes."""
    text = r" \times ".join(sp.latex(sp.sympify(n)) for n in sizes)
    return rf"\mathbb{{R}}^{{{text}}}"


def _jacobian_line(lec: NetworkLecture, lhs: str, shown, of, wrt, what: str, text=None):
    """A line ``lhs = shown`` checked as the Jacobian of ``of`` in ``wrt`` (Durham: m × n)."""
    return lec.w.jacobian_line(lhs, shown, of, wrt, JACOBIAN_LAYOUT, what, shown=text)


def _vec_jacobian_check(lec: NetworkLecture, shown, of, W, what: str) -> Check:
    """The check that ``shown(point)`` (a function of the point's values) is d of/d vec(W),
    vec stacking the columns of W, by sympy.diff at every point of the lecture's checker."""
    checker = lec.w.checker
    if checker.generic:
        return lec.d.check
    W = _sized(lec, W)
    rows, cols = (int(n) for n in W.shape)
    entries = sp.Matrix(rows, cols, sp.symbols(f"t0:{rows * cols}", real=True))
    column_major = [entries[i, j] for j in range(cols) for i in range(rows)]
    for k in range(POINTS):
        point = dict(checker.points[k])
        here = dict(zip(entries, point[W]))
        point[W] = sp.ImmutableMatrix(entries)
        value = sp.Matrix(explicit_value(_sized(lec, of), point))
        jac = value.reshape(len(value), 1).jacobian(column_major)
        jac = evaluate(sp.ImmutableMatrix(jac.xreplace(here)), {})
        if not same(evaluate(shown(k), {}), jac):
            raise LineMismatch(f"the Jacobian line for {what} differs from sympy.diff")
    return Check("rational_points", "sympy_diff", points=POINTS, digits=50,
                 sizes=checker.check.sizes)


def _input(lec: NetworkLecture, layer) -> str:
    """The input of ``layer`` as printed: x for the first layer."""
    return lec.s("x") if layer == 1 else lec.s("a", layer - 1)


def _entry(vector: str, index: str) -> str:
    """Entry ``index`` of a printed vector: ``x_k``, or ``(y_{1})_k`` for a subscripted one."""
    if vector.isalpha() or (vector.startswith("\\") and vector[1:].isalpha()):
        return f"{vector}_{index}"
    return f"({vector})_{index}"


# --- sections ------------------------------------------------------------------------------------

def _network(lec: NetworkLecture) -> Section:
    w = lec.w
    lines = []
    for layer in lec.layers():
        lines.append(w.line(lec.s("z", layer), lec.pre_activation(layer)))
        lines.append(w.line(lec.s("a", layer), lec.activation(layer)))
    lines.append(w.line(lec.s("C"), lec.d.cost))
    phi, x = lec.s("phi"), lec.s("x")
    text = Text(rf"With ${x} = {lec.s('a', 0)}$, each layer is the multilinear map "
                rf"${lec.s('W', 'l')} {lec.s('a', 'l-1')} + {lec.s('b', 'l')}$ followed by "
                rf"the activation ${phi}$; the cost ${lec.s('C')}$ compares the output "
                rf"${lec.s('a', lec.depth)}$ with the target ${lec.s('y')}$.")
    return Section("The network", [text, Group("Definition of the network.", tuple(lines))])


def _jacobian(lec: NetworkLecture) -> Section:
    sym = lec.sym
    general = Text(r"A function $f: \mathbb{R}^n \rightarrow \mathbb{R}^m$, "
                   r"$x_1, \dots, x_n \mapsto (y_1, \dots, y_m) = f(x_1, \dots, x_n)$, has as "
                   r"derivative its Jacobian $J_f = \frac{df}{d\mathbf{x}}$, the $m \times n$ "
                   r"matrix whose entry $(i, j)$ is $\frac{\partial f_i}{\partial x_j}$: one row "
                   "per output, one column per input.")
    first = lec.layers()[0]
    phi, u, y = lec.s("phi"), lec.s("z", first), lec.s("a", first)
    n = lec.net.size(first) if not lec.generic else None
    jac = jacobian(lec.activation(first), wrt=sym.z(first), layout=JACOBIAN_LAYOUT).expr
    lhs = rf"J_{{{phi}}}({u})"
    line = _jacobian_line(lec, lhs, jac, lec.activation(first), sym.z(first),
                          f"the Jacobian of the activation of layer {first}")
    size = rf"${_space(lec, n)} \rightarrow {_space(lec, n)}$" if n is not None else "a map"
    if lec.entrywise(first):
        note = (rf"The activation of layer {first}, ${u} \mapsto {y} = {phi}({u})$, is "
                rf"{size}; output $i$ depends on input $i$ only, so its Jacobian is diagonal.")
    else:
        note = (rf"The activation of layer {first}, ${u} \mapsto {y}$, is {size}; every "
                "output depends on every input, so its Jacobian is full.")
    return Section("The Jacobian", [general, Group(note, (line,))])


def _multilinear(lec: NetworkLecture) -> Section:
    w, sym = lec.w, lec.sym
    first = lec.layers()[0]
    u_expr = lec.pre_activation(first)
    x, u = _input(lec, first), lec.s("z", first)
    W, b = lec.param(first, "W"), lec.param(first, "b")
    bt = lec.s("b", first)
    n, m = lec.net.size(first - 1), lec.net.size(first)
    if b is not None and lec.net.convention == "rows":
        domain = rf"{_space(lec, n)} \times {_space(lec, m, n)} \times {_space(lec, m)}"
        general = Text(rf"The layer's affine part is the multilinear map $g: {domain} "
                       rf"\rightarrow {_space(lec, m)}$, $x, W, b \mapsto Wx + b$: linear in "
                       "each argument when the others are held fixed, so each Jacobian is "
                       "the matrix that multiplies that argument.")
    else:
        general = Text(rf"The layer's affine part ${u} = {w.tex(u_expr)}$ is linear in each "
                       "of its arguments when the others are held fixed, so each Jacobian is "
                       "the matrix that multiplies that argument.")
    lines = [_jacobian_line(lec, w.frac(u, x), jacobian(u_expr, wrt=sym.a(first - 1),
                                                          layout=JACOBIAN_LAYOUT).expr,
                            u_expr, sym.a(first - 1), f"du/dx of layer {first}")]
    if b is not None:
        lines.append(_jacobian_line(lec, w.frac(u, bt),
                                    jacobian(u_expr, wrt=b, layout=JACOBIAN_LAYOUT).expr,
                                    u_expr, b, f"du/db of layer {first}"))
    blocks = [general, Group(f"Layer {first}: its Jacobians in the input and the bias.",
                             tuple(lines))]
    if W is not None and not lec.generic:
        blocks += _weights(lec, first, u_expr, W)
    return Section("The multilinear map $Wx + b$", blocks)


def _weights(lec: NetworkLecture, layer, u_expr, W) -> list:
    """The Jacobian in W over vec(W) (columns stacked): a Kronecker product with the input."""
    w = lec.w
    if lec.net.convention == "augmented":      # u = W̃ [1; x]: the augmented input
        factor = next((arg for arg in u_expr.args if arg != W), None)
        if factor is None or factor.shape[1] != 1:
            return []
    else:
        factor = lec.sym.a(layer - 1)
    m = int(_sized(lec, u_expr).shape[0])
    size = sp.latex(sp.sympify(lec.net.size(layer)))
    Wt, u, v = lec.s("W", layer), lec.s("z", layer), w.tex(factor)
    tr = lec.profile.transpose
    if lec.net.convention == "columns":       # u = Wᵀ x: row i of vec picks column i of W
        text = rf"I_{{{size}}} \otimes {v}{tr}"
        def value(k):
            return sp.Matrix(sp.kronecker_product(sp.eye(m), lec.w.checker.value(factor, k).T))
        entry = rf"\frac{{\partial ({u})_i}}{{\partial ({Wt})_{{ji}}}} = {_entry(v, 'j')}"
    else:                                      # u = W v: entry (i, j) of W multiplies v_j
        text = rf"{v}{tr} \otimes I_{{{size}}}"
        def value(k):
            return sp.Matrix(sp.kronecker_product(lec.w.checker.value(factor, k).T, sp.eye(m)))
        entry = (rf"\frac{{\partial ({u})_i}}{{\partial ({Wt})_{{jk}}}} = \delta_{{ij}}\, "
                 rf"{_entry(v, 'k')}")
    lhs = w.frac(u, rf"\operatorname{{vec}}({Wt})")
    check = _vec_jacobian_check(lec, value, u_expr, W, f"du/dvec(W) of layer {layer}")
    line = w.same_as(lhs, None, check, shown=text)
    note = (rf"In the weights the Jacobian would have three indices, ${entry}$; stacking the "
            rf"columns of ${Wt}$ into $\operatorname{{vec}}({Wt})$ makes it a matrix, "
            "a Kronecker product with the input.")
    return [Group(note, (line,))]


def _chain_rule(lec: NetworkLecture) -> Section:
    w, sym = lec.w, lec.sym
    first = lec.layers()[0]
    phi, u, y = lec.s("phi"), lec.s("z", first), lec.s("a", first)
    x = _input(lec, first)
    general = Text(r"Given $h(x) = f(g(x))$, $h'(x) = f'(g(x)) \times g'(x)$. For maps "
                   r"between vectors the derivatives are Jacobians and the product is the "
                   r"matrix product: $J_h(x) = J_f(g(x))\, J_g(x)$.")
    u_expr = lec.pre_activation(first)
    a_expr = lec.activation(first)
    of = a_expr.xreplace({sym.z(first): u_expr})
    jf = jacobian(a_expr, wrt=sym.z(first), layout=JACOBIAN_LAYOUT).expr
    jg = jacobian(u_expr, wrt=sym.a(first - 1), layout=JACOBIAN_LAYOUT).expr
    product = jf * jg
    what = f"the Jacobian of layer {first}"
    lines = [_jacobian_line(lec, rf"J_h({x}) = \frac{{\partial {y}}}{{\partial {x}}}", product,
                            of, sym.a(first - 1), what,
                            text=rf"J_{{{phi}}}({u})\, J_g({x})"),
             _jacobian_line(lec, "", product, of, sym.a(first - 1), what)]
    written = product.xreplace({sym.z(first): u_expr})
    # (diag(Φ'(W̃ [1; x])) is evaluated wrongly by the line checker: not written out)
    if lec.net.convention != "augmented" and w.tex(written) != w.tex(product):
        lines.append(_jacobian_line(lec, "", written, of, sym.a(first - 1), what))
    note = (rf"Layer {first} is such a composition: ${y} = h({x}) = {phi}(g({x}))$ with "
            rf"$g({x}) = {w.tex(u_expr)}$, the multilinear map above.")
    blocks = [general, Group(note, tuple(lines))]
    if not lec.generic and lec.depth > 1:
        L = lec.depth
        factors = []
        for layer in reversed(lec.layers()):
            factors += [jacobian(lec.activation(layer), wrt=sym.z(layer),
                                 layout=JACOBIAN_LAYOUT).expr,
                        jacobian(lec.pre_activation(layer), wrt=sym.a(layer - 1),
                                 layout=JACOBIAN_LAYOUT).expr]
        whole = mm(*factors)
        shown = r"\, ".join(rf"J_{{{phi}}}({lec.s('z', layer)})\, J_{{g_{{{layer}}}}}"
                            rf"({_input(lec, layer)})" for layer in reversed(lec.layers()))
        of = lec.composed(sym.a(L), 0)
        line1 = _jacobian_line(lec, w.frac(lec.s("a", L), lec.s("x")), whole, of, sym.a(0),
                               "the Jacobian of the network", text=shown)
        line2 = _jacobian_line(lec, "", whole, of, sym.a(0), "the Jacobian of the network")
        blocks.append(Group(rf"The network is the composition of its {L} layers: the chain "
                            "rule multiplies their Jacobians, from the output down "
                            rf"(${lec.s('z', 'l')}$ and ${lec.s('a', 'l')}$ the forward values).",
                            (line1, line2)))
    return Section("The chain rule", blocks)


def _backward(lec: NetworkLecture) -> Section:
    w, sym, L = lec.w, lec.sym, lec.depth
    upstream = next((step.rhs for step in lec.d.steps
                     if step.lhs.kind == "dC/da" and step.lhs.layer == L), None)
    blocks = []
    lines = []
    truth = lec.in_layout(lec.d.signal(L))
    if upstream is not None:
        product = lec.chain(upstream, lec.dadz(L))
        jf = rf"J_{{{lec.s('phi')}}}({lec.s('z', L)})"
        shown = (f"{lec.dcost(lec.s('a', L))}\\, {jf}" if lec.layout == "numerator"
                 else f"{jf}{lec.profile.transpose}\\, {lec.dcost(lec.s('a', L))}")
        lines += [w.line(lec.dcost(lec.s("z", L)), product, truth, shown=shown,
                         what="dC/du^L"),
                  w.line("", product, truth, what="dC/du^L")]
    fused = lec.fusion()
    if fused is not None and not lec.generic:
        lines.append(w.line("" if lines else lec.dcost(lec.s("z", L)),
                            lec.in_layout(fused.matrix(sym.a(L), sym.y())), truth,
                            what="the fused output derivative"))
    lines.append(lec.signal_line(L))
    orientation = "a row" if lec.layout == "numerator" else "a column"
    blocks.append(Group(rf"The cost by the chain rule through the output activation "
                        rf"(${lec.s('B', L)}$ names the derivative as a column; in "
                        f"{lec.layout} layout it is {orientation}).", tuple(lines)))
    if fused is not None and fused.recognised and not lec.generic:
        blocks.append(Text(rf"The output activation and the loss cancel: the derivative is "
                           rf"${lec.s('a', L)} - {lec.s('y')}$, output minus target."))
    hidden = [layer for layer in reversed(lec.layers()) if layer != L]
    chain = []
    for layer in hidden:
        signal = sym.signal(layer + 1)
        symbolic = lec.chain(lec.in_layout(signal), lec.dzda(layer + 1), lec.dadz(layer))
        chain.append(w.line(lec.dcost(lec.s("z", layer)), symbolic,
                            lec.in_layout(lec.d.signal(layer)), what=f"dC/du^{layer}"))
        chain.append(lec.signal_line(layer))
    if chain:
        blocks.append(Group("The chain rule one layer down at a time: the Jacobian of the "
                            "multilinear map in its input, then that of the activation.",
                            tuple(chain)))
    grads = [line for layer in reversed(lec.layers()) for line in lec.gradient_lines(layer)]
    blocks.append(Group(rf"The gradients of the parameters, from the Jacobians of "
                        rf"${lec.s('W', 'l')} {lec.s('a', 'l-1')} + {lec.s('b', 'l')}$ in "
                        "the weights and the bias; each has the shape of its parameter.",
                        tuple(grads)))
    return Section("Backpropagation", blocks)


def _minimisation(lec: NetworkLecture) -> Section:
    """Gradient descent on the cost (the step counter is k: Durham's t is the target)."""
    cost = lec.s("C")
    lines = [(0, r"\textbf{for} $k = 0, 1, 2, \dots$ \textbf{do}"),
             (1, r"\textbf{for} $l = 1, \dots, L$ \textbf{do}")]
    for kind in ("W", "b"):
        if lec.param(lec.layers()[0], kind) is not None:
            symbol = lec.s(kind, "l")
            lines.append((2, rf"${symbol} := {symbol} - \alpha\, \nabla_{{{symbol}}} {cost}$"))
    return Section("Function minimisation", [
        Text("Training minimises the cost as a function of the parameters: each step moves "
             "every parameter against its gradient, computed above."),
        Algorithm("Gradient descent, learning rate $\\alpha$", tuple(lines))])


def durham_sections(lec: NetworkLecture) -> list:
    """The sections of the Durham lecture of ``lec``'s network."""
    if lec.generic:
        return [_network(lec), _backward(lec), _minimisation(lec)]
    return [_network(lec), _jacobian(lec), _multilinear(lec), _chain_rule(lec), _backward(lec),
            _minimisation(lec)]
