r"""The Mines lecture: one layer with the augmented bias (x̃ = [1; x], ṽ^{(l)} = [1; v^{(l)}],
W̃^{(l)} with its bias column ω_{i,0}), s^{(l)} = W̃^{(l)} ṽ^{(l-1)}; back-propagation with the
row E^{(l)} (1 × n_l) as the notes write it, E^{(L)} = dδ/dv^{(L)} dv^{(L)}/ds^{(L)} and
E^{(l-1)} = (E^{(l)} W^{(l)}) ⊙ h'_{(l-1)}(s^{(l-1)})^t with the shapes under the factors and
W^{(l)} = W̃^{(l)} without its bias column; softmax + cross-entropy giving (v^{(L)} − y)^t; the
gradient E^{(l)t} ṽ^{(l-1)t}; back-propagation for multiple inputs (the rows of 𝐄^{(l)} are the
samples); and the optimisers of the notes, momentum and Adam — in the Mines notation.

Derivatives of δ are rows here whatever the layout of the derivation (the notes' Jacobians
are m × n): the engine's column signal is the transpose of E^{(l)}, and the gradients have the
shape of their parameter.

>>> import derive
>>> from reports.lectures import lecture
>>> net = derive.mlp([3, 4, 3], activations=["tanh", "softmax"], loss="cross_entropy",
...                  convention="augmented", notation="mines")
>>> doc = lecture(derive.backprop(net, form="matrix"), "mines")
>>> [section.title for section in doc.sections][:2]
['One layer', 'The output layer']
"""

from __future__ import annotations


from sympy.matrices.expressions.diagonal import DiagMatrix

from derive.calculus.constructors import hadamard, madd, mm, transpose
from derive.calculus.matrix_nodes import elementwise_derivative
from derive.jacobians import jacobian
from derive.layers.dense import Augment, DropBias

from .document import Algorithm, Group, Section, Text
from .network import NetworkLecture

__all__ = ["mines_sections"]


# --- notation -------------------------------------------------------------------------------
def _d(of: str, wrt: str) -> str:
    """The notes' Leibniz derivative d(of)/d(wrt)."""
    return rf"\frac{{d{of}}}{{d{wrt}}}"


def _tilde(lec, kind: str, layer) -> str:
    r"""ṽ^{(l)} (kind ``a``), Ṽ^{(l)} (``A``); x̃, X̃ for layer 0."""
    if layer == 0:
        return rf"\tilde{{{lec.s('X' if kind == 'A' else 'x')}}}"
    return rf"\tilde{{{lec.s(kind)}}}{lec.profile.layer_index(layer)}"


def _augmented(lec, layer) -> bool:
    return bool(lec.pre_activation(layer).atoms(Augment))


def _num(expr, wrt):
    """∂expr/∂wrt in numerator layout (the notes' Jacobians)."""
    return jacobian(expr, wrt=wrt, layout="numerator").expr


def _row(lec, value):
    return value if lec.layout == "numerator" else transpose(value)


def _dcda(d, layer):
    return next((step.rhs for step in d.steps
                 if step.lhs.kind == "dC/da" and step.lhs.layer == layer), None)


def _prime(expr):
    """h'(s) of an entrywise activation h(s), or ``None``."""
    try:
        return elementwise_derivative(expr)
    except (AttributeError, TypeError, ValueError):
        return None


# --- sections --------------------------------------------------------------------------------
def _layer(lec: NetworkLecture) -> Section:
    w, sym = lec.w, lec.sym
    lines = []
    tilde = {}
    for layer in lec.layers():
        z = lec.pre_activation(layer)
        shown = None
        if _augmented(lec, layer):
            below = sym.a(layer - 1)
            tilde[layer - 1] = lec.alias(f"vtilde{layer - 1}", _tilde(lec, "a", layer - 1),
                                         Augment(below))
            lines.append(lec.named_line(_tilde(lec, "a", layer - 1), Augment(below)))
            shown = w.braced(z.xreplace({Augment(below): tilde[layer - 1]}))
        else:
            shown = w.braced(z)
        lines.append(w.line(w.underbrace(sym.z(layer)), z, shown=shown))
        weights = lec.param(layer, "W")
        if _augmented(lec, layer) and weights is not None:
            bias = lec.alias(f"bias{layer}", lec.s("b", layer), weights[:, 0])
            split = madd(bias, mm(DropBias(weights), sym.a(layer - 1)))
            lines.append(lec.named_line("", split, z, what=f"s^{layer}"))
        lines.append(w.line(lec.s("a", layer), lec.activation(layer)))
    lines.append(w.line(lec.s("C"), lec.d.cost))
    x, W, v = lec.s("x"), lec.s("W", "l"), lec.s("a", "l-1")
    if any(_augmented(lec, layer) for layer in lec.layers()):
        text = Text(
            rf"Three steps: stack a 1 to the input, ${_tilde(lec, 'a', 0)} = "
            rf"\begin{{bmatrix}} 1 \\ {x} \end{{bmatrix}}$ and "
            rf"${_tilde(lec, 'a', 'l-1')} = \begin{{bmatrix}} 1 \\ {v} \end{{bmatrix}}$; "
            rf"compute ${lec.s('z', 'l')} = {W} {_tilde(lec, 'a', 'l-1')}$, where ${W}$ holds "
            rf"the weights $\omega_{{i,j}}$ of neuron $i$ in its row $i$ and its bias "
            rf"$\omega_{{i,0}}$ in column 0, so that $s_i = \omega_{{i,0}} \cdot 1 + "
            rf"\sum_{{j=1}}^{{n_{{l-1}}}} \omega_{{i,j}} v_j$; return "
            rf"${lec.s('a', 'l')} = {{{lec.s('phi')}}}_{{(l)}}({lec.s('z', 'l')})$. "
            rf"${lec.s('Wbar', 'l')}$ is ${W}$ without its bias column.")
    else:
        text = Text(rf"Each layer computes ${lec.s('z', 'l')}$ from ${v}$, then "
                    rf"${lec.s('a', 'l')} = {{{lec.s('phi')}}}_{{(l)}}({lec.s('z', 'l')})$.")
    note = "The layers of this network, the shape of each factor under it."
    if any(_augmented(lec, layer) for layer in lec.layers()):
        note = ("The layers of this network, the shape of each factor under it; the bias "
                "column split off, checked against the engine's forward pass.")
    return Section("One layer", [text, Group(note, tuple(lines))])


def _output(lec: NetworkLecture) -> tuple[Section, dict]:
    """E^{(L)}; returns the section and the aliases E^{(l)} (rows) defined so far."""
    w, sym, L = lec.w, lec.sym, lec.depth
    v, s, delta = lec.s("a", L), lec.s("z", L), lec.s("C")
    E = {L: lec.alias(f"Erow{L}", lec.s("B", L), transpose(sym.signal(L)))}
    truth = transpose(sym.signal(L))
    upstream = _row(lec, _dcda(lec.d, L))
    jac = _num(lec.activation(L), sym.z(L))
    product = mm(upstream, jac)
    what = "E^L"
    blocks = _softmax(lec)
    lines = [w.line(lec.s("B", L), product, truth,
                    shown=f"{_d(delta, v)} {_d(v, s)}", what=what),
             w.line("", product, truth, shown=w.braced(product), what=what)]
    if isinstance(jac, DiagMatrix):
        entrywise = hadamard(upstream, transpose(jac.args[0]))
        lines.append(w.line("", entrywise, truth, shown=w.underbrace(entrywise, bare=True),
                            what=what))
    fused = lec.fusion()
    if fused is not None:
        value = transpose(fused.matrix(sym.a(L), sym.y()))
        lines.append(w.line("", value, truth, shown=w.underbrace(value, bare=True), what=what))
    init = Group(rf"Initialisation: ${lec.s('B', L)}$ groups the first two factors of the "
                 rf"chain, ${_d(delta, v)}$ a $1 \times n_L$ row and ${_d(v, s)}$ the "
                 r"$n_L \times n_L$ Jacobian of the output activation.", tuple(lines))
    blocks.append(init)
    if fused is not None and fused.recognised:
        blocks.append(Text(rf"Here ${lec.s('B', L)} = ({v} - {lec.s('y')}){lec.profile.transpose}$: prediction "
                           "minus target, as a row."))
    return Section("The output layer", blocks), E


def _softmax(lec: NetworkLecture) -> list:
    """The factors of E^{(L)} for a softmax output, each differentiated by sympy.diff."""
    w, sym, L = lec.w, lec.sym, lec.depth
    v, s, delta = lec.s("a", L), lec.s("z", L), lec.s("C")
    upstream = _row(lec, _dcda(lec.d, L))
    jac = _num(lec.activation(L), sym.z(L))
    blocks = []
    if lec.net.activation(L).vector_valued:
        checked = [
            w.jacobian_line(_d(delta, v), upstream, lec.d.cost, sym.a(L), "numerator",
                            "d delta / d v^L"),
            w.jacobian_line(_d(v, s), jac, lec.activation(L), sym.z(L), "numerator",
                            "d v^L / d s^L")]
        k = r"\sum_{i=1}^{n_L} e^{s_i}"
        blocks.append(Text(
            rf"Softmax on the last layer: ${v} = \mathrm{{Softmax}}({s}) = \frac{{1}}{{{k}}}"
            r"\begin{bmatrix} e^{s_1} \\ \vdots \\ e^{s_{n_L}} \end{bmatrix}$, an element of "
            rf"the simplex; with the cross-entropy $\delta = -\sum_k y_k \log v_k$ "
            "simplifications occur (the targets sum to 1)."
            if lec.net.loss.name == "cross_entropy" else
            rf"Softmax on the last layer: ${v} = \mathrm{{Softmax}}({s})$."))
        blocks.append(Group("The two factors, each differentiated by sympy.diff.",
                            tuple(checked)))
    return blocks


def _backward(lec: NetworkLecture, E: dict) -> Section:
    w, sym, L = lec.w, lec.sym, lec.depth
    delta = lec.s("C")
    bars, recursion = [], []
    for layer in range(L, 1, -1):
        below = layer - 1
        dzda = _num(lec.pre_activation(layer), sym.a(below))
        bars.append(w.jacobian_line(_d(lec.s("z", layer), lec.s("a", below)), dzda,
                                    lec.pre_activation(layer), sym.a(below), "numerator",
                                    f"d s^{layer} / d v^{below}"))
    for layer in range(L, 1, -1):
        below = layer - 1
        dzda = _num(lec.pre_activation(layer), sym.a(below))
        jac = _num(lec.activation(below), sym.z(below))
        truth = transpose(sym.signal(below))
        product = mm(E[layer], dzda, jac)
        what = f"E^{below}"
        shown = " ".join([lec.s("B", layer), _d(lec.s("z", layer), lec.s("a", below)),
                          _d(lec.s("a", below), lec.s("z", below))])
        recursion.append(lec.named_line(lec.s("B", below), product, truth, shown=shown,
                                        what=what))
        recursion.append(lec.named_line("", product, truth, shown=w.braced(product),
                                        what=what))
        if isinstance(jac, DiagMatrix):
            entrywise = hadamard(mm(E[layer], dzda), transpose(jac.args[0]))
            recursion.append(lec.named_line("", entrywise, truth,
                                            shown=w.underbrace(entrywise, bare=True),
                                            what=what))
        E[below] = lec.alias(f"Erow{below}", lec.s("B", below), truth)
    gradients = []
    for layer in reversed(lec.layers()):
        for kind in ("W", "b"):
            name = lec.param_name(layer, kind)
            if name is None:
                continue
            value = lec.d.gradient(name)
            shown_expr = _rows_for(value, {sym.signal(layer): E[layer]})
            for node in shown_expr.atoms(Augment):
                below = node.args[0]
                index = 0 if below == sym.a(0) else sym.table[below][1]
                shown_expr = shown_expr.xreplace({node: lec.alias(
                    f"vtilde{index}", _tilde(lec, "a", index), node)})
            lhs = rf"\left[{_d(delta, lec.s(kind, layer))}\right]"
            gradients.append(lec.named_line(lhs, shown_expr, value,
                                            shown=w.braced(shown_expr),
                                            what=f"the gradient of {name}"))
    blocks = []
    if bars:
        blocks.append(Group(rf"The affine map's Jacobian in its input: "
                            rf"${lec.s('Wbar', 'l')}$, the weights matrix without the first "
                            "column (bias term), each differentiated by sympy.diff."
                            if _augmented(lec, L) else
                            "The affine map's Jacobian in its input, differentiated by "
                            "sympy.diff.", tuple(bars)))
        blocks.append(Group(
            rf"For $l$ from $L$ to 1: ${lec.s('B', 'l-1')} = {lec.s('B', 'l')} "
            rf"{_d(lec.s('z', 'l'), lec.s('a', 'l-1'))} "
            rf"{_d(lec.s('a', 'l-1'), lec.s('z', 'l-1'))}$, a row $1 \times n_{{l-1}}$; "
            r"a diagonal matrix on the right multiplies each column: a pointwise product.",
            tuple(recursion)))
    blocks.append(Group(
        rf"Matrix of derivatives: $\frac{{d{delta}}}{{d\omega_{{i,j}}}} = E_i "
        rf"\tilde{{v}}_j$, the derivative of $s_i$ in $\omega_{{i,j}}$ being "
        rf"$\tilde{{v}}_j$ (1 for the bias column); each has the shape of its parameter."
        if _augmented(lec, L) else
        "Matrix of derivatives: each has the shape of its parameter.", tuple(gradients)))
    return Section("Back-propagation", blocks)


def _rows_for(expr, rows: dict):
    """``expr`` with each column signal B written as the transpose of its row E (Bᵀ as E)."""
    mapping = {transpose(column): row for column, row in rows.items()}
    mapping.update({column: transpose(row) for column, row in rows.items()})
    return expr.xreplace(mapping)


def _as_rows(lec, expr, E: dict, sym, writer):
    """``expr`` with the engine's column signals as the transposed rows ``E`` and the
    augmented inputs [1ᵀ; V] as their aliases Ṽ (printed by ``writer``)."""
    expr = _rows_for(expr, {sym.signal(layer): row for layer, row in E.items()})
    for node in expr.atoms(Augment):
        below = node.args[0]
        index = 0 if below == sym.a(0) else sym.table[below][1]
        expr = expr.xreplace({node: lec.alias(f"Vt{index}", _tilde(lec, "A", index), node,
                                              writer)})
    return expr


def _batch(lec: NetworkLecture) -> Section:
    b, bw = lec.batch
    sym, L = b.symbols, lec.depth
    forward = []
    for step in b.steps:
        if step.lhs.kind in ("z", "a", "E"):
            lhs = bw.renderer.lhs(step.lhs)
            shown = None
            if step.lhs.kind == "z":
                z = step.rhs
                for node in z.atoms(Augment):
                    layer = 0 if node.args[0] == sym.a(0) else sym.table[node.args[0]][1]
                    alias = lec.alias(f"Vtilde{layer}", _tilde(lec, "A", layer), node, bw)
                    z = z.xreplace({node: alias})
                shown = bw.braced(z)
                lhs = bw.underbrace(sym.z(step.lhs.layer))
            forward.append(bw.line(lhs, step.rhs, shown=shown))
    E = {}
    lines = []
    signal = next(step.rhs for step in reversed(b.steps)
                  if step.lhs.kind == "D" and step.lhs.layer == L)
    E[L] = lec.alias(f"Ebatch{L}", lec.s("D", L), transpose(sym.signal(L)), bw)
    lines.append(bw.line(lec.s("D", L), transpose(signal), transpose(sym.signal(L)),
                         shown=bw.underbrace(transpose(signal), bare=True), what="E^L batch"))
    for layer in range(L, 1, -1):
        below = layer - 1
        dzda = _num(lec.pre_activation(layer), lec.sym.a(below))
        activation = b.definitions[sym.a(below)]
        prime = _prime(activation) if not lec.net.activation(below).vector_valued else None
        truth = transpose(sym.signal(below))
        if prime is None:
            step = next(s.rhs for s in b.steps if s.lhs.kind == "D" and s.lhs.layer == below)
            lines.append(lec.named_line(lec.s("D", below), _as_rows(lec, transpose(step), E,
                                                                 sym, bw),
                                        truth, writer=bw, what=f"E^{below} batch"))
        else:
            value = hadamard(mm(E[layer], dzda), transpose(prime))
            lines.append(lec.named_line(lec.s("D", below), value, truth, writer=bw,
                                        shown=bw.underbrace(value, bare=True),
                                        what=f"E^{below} batch"))
        E[below] = lec.alias(f"Ebatch{below}", lec.s("D", below), truth, bw)
    for layer in reversed(lec.layers()):
        for kind in ("W", "b"):
            name = lec.param_name(layer, kind)
            if name is None:
                continue
            value = b.gradient(name)
            lhs = rf"\left[{_d(lec.s('E'), lec.s(kind, layer))}\right]"
            shown = _as_rows(lec, value, E, sym, bw)
            lines.append(lec.named_line(lhs, shown, value, writer=bw, shown=bw.braced(shown),
                                        what=f"the batch gradient of {name}"))
    scale = r"\frac{1}{N} " if lec.net.reduction == "mean" else ""
    text = Text(rf"For $N$ inputs, the columns of ${lec.s('X')}$, "
                rf"$\frac{{d{lec.s('E')}}}{{d\omega_{{i,j}}}} = {scale}\sum_{{u=1}}^{{N}} "
                rf"\frac{{d{{{lec.s('C')}}}_u}}{{d\omega_{{i,j}}}}$: we just stack the "
                rf"derivatives of the individual losses, row $u$ of ${lec.s('D', 'l')}$ "
                rf"($N \times n_l$) being the row ${lec.s('B', 'l')}$ of sample $u$. The "
                "quantities of the forward pass are computed and stored during the forward "
                "propagation.")
    return Section("Back-propagation for multiple inputs", [
        text, Group("The forward pass of the batch, the shape of each factor under it.",
                    tuple(forward)),
        Group(r"The rows of the samples, stacked (the engine's columns, transposed); the "
              "gradients of the batch cost from them.", tuple(lines))])


def _optimisers(lec: NetworkLecture) -> Section:
    kinds = [kind for kind in ("W", "b") if lec.param(1, kind) is not None]
    cost = lec.s("E")
    params = ", ".join(lec.s(kind, "l") for kind in kinds)
    # A symbol given a subscript is braced first: it may carry one (\omega_{\cdot,0}^{(l)}).
    grad = lambda kind: rf"\nabla_{{{lec.s(kind, 'l')}}} {{{cost}}}_{{n_b}}"  # noqa: E731
    at = lambda kind, t: rf"{{{lec.s(kind, 'l')}}}_{{({t})}}"              # noqa: E731
    sgd = [(0, r"\textbf{for} each epoch \textbf{do}"),
           (1, r"shuffle the data set; \textbf{for} each mini-batch of $n_b$ samples "
               r"\textbf{do}"),
           (2, r"\textbf{for} $l = 1, \dots, L$ \textbf{do}")]
    momentum = [(0, r"$m_{(0)} = \mathbf{0}$, $\beta \in [0, 1]$, e.g. $\beta = 0.9$"),
                (0, r"\textbf{for} $t = 0, 1, \dots$ \textbf{do}"),
                (1, r"\textbf{for} $l = 1, \dots, L$ \textbf{do}")]
    adam = [(0, r"$m_{(0)} = v_{(0)} = \mathbf{0}$, $\beta_1, \beta_2 \in [0, 1)$, e.g. "
                r"$\beta_1 = 0.9$, $\beta_2 = 0.999$"),
            (0, r"\textbf{for} $t \geq 1$ \textbf{do}"),
            (1, r"\textbf{for} $l = 1, \dots, L$ \textbf{do}")]
    for kind in kinds:
        g = grad(kind)
        sgd.append((3, rf"${at(kind, 't+1')} = {at(kind, 't')} - \eta\, {g}"
                       rf"({at(kind, 't')})$"))
        momentum += [(2, rf"$m_{{(t+1)}} = \beta m_{{(t)}} + (1 - \beta)\, {g}"
                         rf"({at(kind, 't')})$"),
                     (2, rf"${at(kind, 't+1')} = {at(kind, 't')} - \eta\, m_{{(t+1)}}$")]
        adam += [(2, rf"$m_{{(t+1)}} = \beta_1 m_{{(t)}} + (1 - \beta_1)\, {g}"
                     rf"({at(kind, 't')})$"),
                 (2, rf"$v_{{(t+1)}} = \beta_2 v_{{(t)}} + (1 - \beta_2) \left({g}"
                     rf"({at(kind, 't')})\right)^{{\odot 2}}$"),
                 (2, r"$\hat{m}_{(t+1)} = \frac{m_{(t+1)}}{1 - \beta_1^t}$, "
                     r"$\hat{v}_{(t+1)} = \frac{v_{(t+1)}}{1 - \beta_2^t}$"),
                 (2, rf"${at(kind, 't+1')} = {at(kind, 't')} - \eta "
                     r"\frac{\hat{m}_{(t+1)}}{\sqrt{\hat{v}_{(t+1)}} + \varepsilon}$")]
    text = Text(rf"The gradient is computed on mini-batches of moderate size $n_b$ "
                rf"(${{{cost}}}_{{n_b}}$: the cost of a mini-batch, divided by $n_b$, so that the "
                r"learning rate $\eta$ does not depend on $n_b$); one moment $m$ (and $v$ for "
                rf"Adam) per parameter ${params}$, the operations entrywise.")
    return Section("Stochastic gradient and variants", [
        text,
        Algorithm(r"Stochastic gradient on mini-batches, learning rate $\eta$", tuple(sgd)),
        Algorithm("Stochastic gradient with momentum", tuple(momentum)),
        Algorithm("Adaptive Moment Estimation (Adam; Kingma and Ba, 2014)", tuple(adam))])


def _generic(lec: NetworkLecture) -> list:
    """A symbolic depth L: the general layer j as the engine derives it (signals as columns,
    the transposes of the notes' rows), each line checked by instantiation."""
    w, steps = lec.w, lec.d.steps
    forward = [w.line(w.renderer.lhs(step.lhs), step.rhs) for step in steps
               if step.lhs.kind in ("z", "a", "C")]
    backward = [w.line(w.renderer.lhs(step.lhs), step.rhs, step.rhs,
                       what=w.renderer.lhs(step.lhs))
                for step in steps if step.lhs.kind in ("dC/da", "B", "grad")]
    return [Section("One layer", [Group("The layers $j$ and $L$ of the network.",
                                        tuple(forward))]),
            Section("Back-propagation", [Group(
                rf"For any depth, the engine's rules of the general layer; "
                rf"${lec.s('B', 'l')}$ is written here as a column, the transpose of the "
                "notes' row.", tuple(backward))]),
            _optimisers(lec)]


def mines_sections(lec: NetworkLecture) -> list:
    """The sections of the Mines lecture of ``lec``'s network."""
    if lec.generic:
        return _generic(lec)
    sections = [_layer(lec)]
    output, E = _output(lec)
    sections += [output, _backward(lec, E), _batch(lec), _optimisers(lec)]
    return sections
